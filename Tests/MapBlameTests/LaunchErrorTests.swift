import Foundation
import Testing

/// Bad commands: one line on stderr naming the problem, a distinct exit status, nothing left behind.
@Suite("launch errors")
struct LaunchErrorTests {
    func expectOneLine(_ f: Finished, status: Int32, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(f.status == status, sourceLocation: sourceLocation)
        let lines = f.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(f.stderr)", sourceLocation: sourceLocation)
        #expect(f.stderr.hasPrefix("mapblame: "), sourceLocation: sourceLocation)
        #expect(f.stderr.contains(text), "stderr: \(f.stderr)", sourceLocation: sourceLocation)
    }

    @Test func missingProgramExits127() throws {
        expectOneLine(try runCommand([Build.mapblame, "run", "--", "/nonexistent/program"]), status: 127, mentioning: "/nonexistent/program: command not found")
        expectOneLine(try runCommand([Build.mapblame, "run", "--", "no-such-command-mapblame"]), status: 127, mentioning: "no-such-command-mapblame: command not found")
    }

    @Test func nonExecutableFilesExit126() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-launch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("plain").path
        try writeExecutable(plain, Array("hello\n".utf8), mode: 0o644)
        expectOneLine(try runCommand([Build.mapblame, "run", "--", plain]), status: 126, mentioning: "Permission denied")
        let garbage = dir.appendingPathComponent("garbage").path
        try writeExecutable(garbage, [0x7f, 0x45, 0x00, 0x01, 0xff])
        expectOneLine(try runCommand([Build.mapblame, "run", "--", garbage]), status: 126, mentioning: "Exec format error")
        expectOneLine(try runCommand([Build.mapblame, "run", "--", dir.path]), status: 126, mentioning: "Is a directory")
    }

    @Test func usageErrorsExit2() throws {
        expectOneLine(try runCommand([Build.mapblame, "run"]), status: 2, mentioning: "no program given")
        expectOneLine(try runCommand([Build.mapblame, "run", "--bogus", "true"]), status: 2, mentioning: "--bogus")
        expectOneLine(try runCommand([Build.mapblame, "run", "--frames", "5000", "--", "true"]), status: 2, mentioning: "--frames")
        expectOneLine(try runCommand([Build.mapblame, "run", "-o", "/nonexistent-dir/x", "--", "true"]), status: 2, mentioning: "/nonexistent-dir")
    }

    /// Under `strace -f` the child is already traced, so PTRACE_SEIZE fails with EPERM: the same
    /// path as a container or yama policy that forbids tracing.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "strace is not installed"))
    func refusedTracingIsOneLine() throws {
        let f = try runCommand(["/usr/bin/strace", "-f", "-o", "/dev/null", Build.mapblame, "run", "--", "/bin/true"])
        expectOneLine(f, status: 1, mentioning: "cannot be traced: ptrace(PTRACE_SEIZE) failed: Operation not permitted")
    }

    @Test func helpIsOnStdout() throws {
        let f = try runCommand([Build.mapblame, "run", "--help"])
        #expect(f.status == 0)
        #expect(f.stdout.contains("--json"))
        #expect(f.stderr.isEmpty)
    }
}
