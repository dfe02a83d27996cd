import Foundation
import Testing

/// Options of `run`/`record` that change how the program is traced, checked on what the program
/// itself sees or on what the report contains.
@Suite("tracing options")
struct CLIOptionTests {
    @Test func cpuPinsTheProgram() throws {
        let run = try TracedRun(["/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"], options: ["--cpu", "0"])
        #expect(run.finished.status == 0)
        #expect(run.finished.stdout.contains("Cpus_allowed_list:\t0\n"), "\(run.finished.stdout)")
    }

    @Test func noASLRSetsThePersonality() throws {
        let run = try TracedRun(["/bin/cat", "/proc/self/personality"], options: ["--no-aslr"])
        #expect(run.finished.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "00040000")  // ADDR_NO_RANDOMIZE
    }

    @Test func framesBoundsEveryBacktrace() throws {
        for frames in [0, 3] {
            let run = try TracedRun([Build.fixture, "mmap"], options: ["--frames", "\(frames)", "--all-events"])
            let events = run.root["events"] as? [[String: Any]] ?? []
            let stacks = events.filter { $0["syscall"] as? String != "execve" }.map { ($0["stack"] as? [[String: Any]] ?? []) }
            #expect(!stacks.isEmpty)
            // Inlined calls add frames of their own at the same ip: count distinct ips.
            #expect(stacks.allSatisfy { Set($0.compactMap { $0["ip"] as? String }).count <= frames })
            if frames > 0 { #expect(stacks.contains { !$0.isEmpty }) }
        }
    }

    /// The live progress line appears only on a terminal, and not with --quiet.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) is not installed"))
    func progressLineOnlyOnATerminal() throws {
        let command = "\(Build.mapblame) run -o /dev/null -- \(Build.fixture) loop 5000"
        let terminal = try runCommand(["/usr/bin/script", "-qec", command, "/dev/null"])
        #expect(terminal.stdout.contains(" events, 1 process, "), "\(terminal.stdout.suffix(300))")
        let quiet = try runCommand(["/usr/bin/script", "-qec", command.replacingOccurrences(of: "run -o", with: "run -q -o"), "/dev/null"])
        #expect(!quiet.stdout.contains(" events, "))
        let piped = try runCommand([Build.mapblame, "run", "-o", "/dev/null", "--", Build.fixture, "loop", "5000"])
        #expect(!piped.stderr.contains(" events, "))
    }
}
