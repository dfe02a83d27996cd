import Foundation
import Glibc
@testable import MapBlame
import Testing

/// The i386 ABI: a `gcc -m32` program (Sources/Fixtures/mbfixture32, compiled here) under `run`
/// and `attach`, and `int 0x80` calls from 64-bit code (mbfixture int80). The model must agree
/// with the kernel page for page, and the regions must be named after the program's own functions.
@Suite("i386 ABI")
struct I386Tests {
    /// mbfixture32 built once per test run with debug info, in a temporary directory.
    static let fixture32: Result<String, CompileError> = {
        let dir = NSTemporaryDirectory() + "mapblame-i386-\(UUID().uuidString)"
        let binary = dir + "/mbfixture32"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let source = Build.packageRoot + "/Sources/Fixtures/mbfixture32/main.c"
            let gcc = try runCommand(["/usr/bin/gcc", "-m32", "-g", "-O0", "-pthread", "-o", binary, source])
            guard gcc.status == 0 else { return .failure(CompileError(output: gcc.stderr)) }
        } catch {
            return .failure(CompileError(output: "\(error)"))
        }
        return .success(binary)
    }()

    struct CompileError: Error, CustomStringConvertible {
        var output: String
        var description: String { "gcc -m32 failed (gcc-multilib installed? `make deps`): \(output)" }
    }

    static func expectAgreement(_ process: [String: Any], _ context: String) throws {
        let verify = try #require(process["verify"] as? [String: Any], "no verification: \(context)")
        #expect(verify["mismatched_pages"] as? Int == 0, "\(context)\n\(verify["mismatches"] ?? "")")
        #expect(verify["attributed_anonymous_bytes"] as? Int == verify["anonymous_bytes"] as? Int, "\(context)")
    }

    /// The site of the origin at `name`'s address is `function` at the line of `marker` in `file`.
    static func expectSite(_ run: TracedRun, _ name: String, category: String, function: String, marker: String,
                           file: String) {
        let origin = run.origin(name)
        #expect(origin?["category"] as? String == category, "\(name): \(origin ?? [:])")
        let site = run.site(of: origin)
        #expect(site.function == function, "\(name): \(origin ?? [:])")
        #expect(site.file?.hasSuffix(file) == true, "\(name): \(origin ?? [:])")
        #expect(site.line != nil && site.line == SiteMarkers.lines[marker], "\(name): \(origin ?? [:])")
    }

    @Test func thirtyTwoBitProgramAgreesWithTheKernelAndIsNamedByItsFunctions() throws {
        let binary = try Self.fixture32.get()
        let run = try TracedRun([binary], options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(run.report.processes.count == 1)
        try Self.expectAgreement(run.root, run.textReport)
        #expect(unattributedAnonymousBytes(run.report).isEmpty, "\(unattributedAnonymousBytes(run.report))")
        let file = "mbfixture32/main.c"
        Self.expectSite(run, "malloc", category: "malloc", function: "big_malloc", marker: "malloc32", file: file)
        Self.expectSite(run, "mmap", category: "mmap", function: "map_calls", marker: "mmap32", file: file)
        Self.expectSite(run, "mremap", category: "mmap", function: "map_calls", marker: "mremap32", file: file)
        Self.expectSite(run, "oldmmap", category: "mmap", function: "old_mmap", marker: "oldmmap32", file: file)
        Self.expectSite(run, "brk", category: "heap", function: "grow_break", marker: "brk32", file: file)
        Self.expectSite(run, "arena", category: "malloc-arena", function: "worker", marker: "arena32", file: file)
        Self.expectSite(run, "ipcshm", category: "shm", function: "shared_memory", marker: "ipcshmat32", file: file)
        Self.expectSite(run, "shm", category: "shm", function: "shared_memory", marker: "shmat32", file: file)
        #expect(run.origin("threadstack")?["category"] as? String == "thread-stack", "\(run.origin("threadstack") ?? [:])")
        // Sealed by mseal, so its munmap failed: the model must not have predicted that munmap.
        if run.finished.values["sealed"] != nil {
            Self.expectSite(run, "sealed", category: "mmap", function: "sealed", marker: "seal32", file: file)
        }
        // The old mmap's arguments were read from memory: 5 pages, anonymous, private.
        let event = try #require(run.origin("oldmmap")?["event"] as? Int)
        let args = ReportJSON.event(run.root, id: event)?["args"] as? [String]
        #expect(args?[1] == "0x5000" && args?[3] == "0x22", "\(args ?? [])")
    }

    @Test func int0x80FromSixtyFourBitCodeIsDecodedAsI386() throws {
        let run = try TracedRun([Build.fixture, "int80"], options: ["--verify", "--all-events"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        try Self.expectAgreement(run.root, run.textReport)
        let address = run.address("int80")
        #expect(address > 0 && address < 1 << 32)
        Self.expectSite(run, "int80", category: "mmap", function: "int80", marker: "int80", file: "mbfixture/int80.c")
        let origin = try #require(run.origin("int80"))
        #expect((origin["label"] as? String)?.hasPrefix("mmap(65536)") == true, "\(origin)")
    }

    @Test func attachDecodesI386CallsTheSameWay() throws {
        let binary = try Self.fixture32.get()
        let dir = NSTemporaryDirectory() + "mapblame-i386-attach-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid = try spawnClean([binary, "serve"], stdout: dir + "/out")
        var status: Int32 = 0
        defer {
            kill(pid, SIGUSR1)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        var ready = false
        for _ in 0..<500 where !ready {
            ready = ((try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "").contains("ready=1\n")
            if !ready { usleep(10_000) }
        }
        try #require(ready, "mbfixture32 serve did not start")
        let run = try runCommand([Build.mapblame, "attach", "\(pid)", "--duration", "1", "--verify", "--all-events",
                                  "--json", dir + "/r.json", "-o", dir + "/r.txt"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try ReportJSON(path: dir + "/r.json")
        let process = try #require(report.process(pid: Int(pid)))
        let verify = try #require(process["verify"] as? [String: Any])
        #expect(verify["mismatched_pages"] as? Int == 0, "\(verify["mismatches"] ?? "")")
        let events = process["events"] as? [[String: Any]] ?? []
        for call in ["mmap", "munmap", "mprotect", "mremap"] {
            #expect(events.contains { $0["syscall"] as? String == call }, "no \(call) recorded")
        }
        let fromServe = events.filter { event in
            (event["stack"] as? [[String: Any]] ?? []).contains {
                $0["function"] as? String == "serve_step" && $0["line"] as? Int == SiteMarkers.lines["serve32"]
            }
        }
        #expect(fromServe.count > 10, "mmaps named serve_step: \(fromServe.count) of \(events.count) events")
    }

    /// x32 programs are told apart from i386 and x86_64 ones (mapblame says it does not trace them).
    @Test func executableClassesAreToldApart() throws {
        let dir = NSTemporaryDirectory() + "mapblame-abi-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "int main(void) { return 0; }\n".write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        for (flag, expected) in [("-m64", ExecutableClass.x86_64), ("-m32", .i386), ("-mx32", .x32)] {
            let gcc = try runCommand(["/usr/bin/gcc", flag, "-o", dir + "/a" + flag, dir + "/main.c"])
            try #require(gcc.status == 0, "gcc \(flag): \(gcc.stderr)")
            #expect(ExecutableClass.of(dir + "/a" + flag) == expected, "\(flag)")
        }
        #expect(ExecutableClass.of(dir + "/main.c") == nil)
    }

    /// Every row of the table has the number the kernel headers give its name.
    @Test func syscallTableMatchesTheKernelHeaders() throws {
        let headers: [SyscallABI: String] = [.x86_64: "unistd_64.h", .i386: "unistd_32.h"]
        for (abi, header) in headers {
            let text = try String(contentsOfFile: "/usr/include/x86_64-linux-gnu/asm/" + header, encoding: .utf8)
            var numbers: [String: UInt64] = [:]
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ")
                if f.count == 3, f[0] == "#define", f[1].hasPrefix("__NR_"), let n = UInt64(f[2]) {
                    numbers[String(f[1].dropFirst(5))] = n
                }
            }
            for row in TracedSyscall.all where row.abi == abi {
                // mseal (Linux 6.10) is newer than some headers: only checked where they name it.
                if row.name == "mseal" && numbers["mseal"] == nil { continue }
                #expect(numbers[row.name] == row.number, "\(abi) \(row.name)")
            }
        }
    }
}
