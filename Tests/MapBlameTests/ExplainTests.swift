import Foundation
import Glibc
import Testing
@testable import MapBlame

/// `mapblame explain PID` on real, running processes: a C program compiled at test time that keeps
/// a .bss, a thread (stack + guard), a malloc arena and a 1 MiB mmapped malloc alive while it sleeps.
@Suite(.serialized)
struct ExplainTests {
    static let source = #"""
        #define _GNU_SOURCE
        #include <malloc.h>
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/syscall.h>
        #include <unistd.h>

        static char big_bss[16 << 20];
        static pthread_barrier_t ready;
        static void *volatile thread_arena;
        static void *volatile thread_stack;
        static volatile pid_t thread_tid;

        static void *worker(void *arg) {
            (void)arg;
            int local = 0;
            thread_stack = (void *)&local;
            thread_tid = (pid_t)syscall(SYS_gettid);
            thread_arena = malloc(1000);
            pthread_barrier_wait(&ready);
            for (;;) pause();
            return NULL;
        }

        int main(int argc, char **argv) {
            mallopt(M_MMAP_THRESHOLD, 128 * 1024);
            big_bss[0] = 1;
            big_bss[sizeof big_bss - 1] = 1;
            char *big = malloc(1 << 20);
            memset(big, 1, 8192);
            pthread_barrier_init(&ready, NULL, 2);
            pthread_t t;
            pthread_create(&t, NULL, worker, NULL);
            pthread_barrier_wait(&ready);
            printf("pid=%d\nbss=%p\nbig=%p\nthread_tid=%d\nthread_stack=%p\narena=%p\nready=1\n", getpid(),
                   (void *)big_bss, (void *)big, (int)thread_tid, thread_stack, thread_arena);
            fflush(stdout);
            if (argc > 1 && strcmp(argv[1], "exit-main") == 0) pthread_exit(NULL);  /* leaves a zombie main thread */
            sleep(30);
            return 0;
        }
        """#

    /// Threads that come and go all the time, while main and four spawners stay.
    static let churnSource = #"""
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        static void *brief(void *a) { void *p = malloc(100); usleep(100); free(p); return a; }
        static void *spawner(void *a) {
            for (;;) {
                pthread_t t[8];
                for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, brief, NULL);
                for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
            }
            return a;
        }
        int main(void) {
            pthread_t s[4];
            for (int i = 0; i < 4; i++) pthread_create(&s[i], NULL, spawner, NULL);
            printf("pid=%d\nready=1\n", getpid());
            fflush(stdout);
            sleep(30);
            return 0;
        }
        """#

    /// A started scenario program and what it printed.
    struct Scenario {
        var process: Process
        var values: [String: String]
        var executable: String
        var directory: URL

        func address(_ name: String) -> UInt64 { hex(values[name]) }
        var pid: Int32 { Int32(values["pid"] ?? "") ?? process.processIdentifier }

        func stop() {
            // Behind `mapblame run`, mapblame reaps the program and exits with it (killing mapblame
            // first would leave the program to init, a zombie).
            kill(pid, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Compiles and starts the scenario (behind `prefix`, e.g. `mapblame run --`), waits for its addresses.
    static func startScenario(prefix: [String] = [], arguments: [String] = [], source: String = source) throws -> Scenario {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let src = dir.appendingPathComponent("scenario.c"), exe = dir.appendingPathComponent("scenario")
        try source.write(to: src, atomically: true, encoding: .utf8)
        let cc = try runCommand(["/usr/bin/env", "cc", "-g", "-O0", "-pthread", "-o", exe.path, src.path])
        guard cc.status == 0 else { throw ScenarioError(message: "cc failed: \(cc.stderr)") }
        let out = dir.appendingPathComponent("out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let process = Process()
        let command = prefix + [exe.path] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardError = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var values: [String: String] = [:]
        for _ in 0..<1000 {
            let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if text.contains("ready=1\n") {
                values = Finished(status: 0, stdout: text, stderr: "").values
                break
            }
            usleep(10_000)
        }
        let scenario = Scenario(process: process, values: values, executable: exe.path, directory: dir)
        guard values["ready"] == "1" else {
            scenario.stop()
            throw ScenarioError(message: "the scenario program did not start")
        }
        return scenario
    }

    struct ScenarioError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func state(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(close, offsetBy: 2)...].first
    }

    static func tasks(_ pid: Int32) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).sorted()
    }

    @Test func classifiesARunningProcessAndLeavesItRunning() throws {
        let scenario = try Self.startScenario()
        defer { scenario.stop() }
        let pid = scenario.pid
        let threadsBefore = Self.tasks(pid)
        #expect(threadsBefore.count == 2)
        let json = scenario.directory.appendingPathComponent("report.json").path
        let result = try runCommand([Build.mapblame, "explain", "\(pid)", "--format", "json", "-o", json])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)

        // The process runs on, untouched: not stopped, same threads.
        usleep(50_000)
        let state = Self.state(pid)
        #expect(state == "S" || state == "R", "state \(String(describing: state))")
        #expect(Self.tasks(pid) == threadsBefore)
        #expect(scenario.process.isRunning)

        let report = try ReportJSON(path: json)
        let process = try #require(report.process(pid: Int(pid)))
        let regions = ReportJSON.regions(process)
        #expect(!regions.isEmpty)
        for r in regions {
            #expect(r["evidence"] is String, "\(r)")
            #expect(["certain", "likely"].contains(r["confidence"] as? String), "\(r)")
            let origins = r["origins"] as? [[String: Any]] ?? []
            #expect(!origins.isEmpty)
            #expect(origins.allSatisfy { $0["event"] is NSNull && $0["syscall"] is NSNull })
        }
        func region(_ address: UInt64) throws -> [String: Any] {
            try #require(ReportJSON.region(process, containing: address), "no region holds 0x\(String(address, radix: 16))")
        }

        // big_bss begins in the last page of the file-backed data mapping; its middle is in the bss region.
        let bss = try region(scenario.address("bss") + (8 << 20))
        #expect(bss["category"] as? String == "bss")
        #expect(bss["label"] as? String == "bss of \(scenario.executable)")
        #expect(bss["confidence"] as? String == "certain")
        #expect((bss["evidence"] as? String)?.contains("PT_LOAD memsz") == true)

        let tid = scenario.values["thread_tid"] ?? "?"
        let stack = try region(scenario.address("thread_stack"))
        #expect(stack["category"] as? String == "thread-stack")
        #expect((stack["label"] as? String)?.contains("stack of thread \(tid)") == true, "\(stack)")
        #expect(stack["confidence"] as? String == "certain")
        let guardPage = try region(hex(stack["start"]) - 1)
        #expect(guardPage["category"] as? String == "guard")
        #expect(guardPage["label"] as? String == "guard page of the stack of thread \(tid)")
        #expect(guardPage["perms"] as? String == "---p")

        let arena = try region(scenario.address("arena"))
        #expect(arena["category"] as? String == "malloc-arena", "\(arena)")
        #expect(arena["confidence"] as? String == "certain")
        #expect(hex(arena["start"]) % (64 << 20) == 0)
        if let tail = ReportJSON.region(process, containing: hex(arena["end"])), tail["perms"] as? String == "---p" {
            #expect(tail["category"] as? String == "malloc-arena")
        }

        let big = try region(scenario.address("big"))
        #expect(big["category"] as? String == "malloc", "\(big)")
        #expect(big["confidence"] as? String == "likely")
        #expect((big["label"] as? String)?.contains("served by mmap") == true)

        func named(_ path: String) -> [String: Any]? { regions.first { $0["path"] as? String == path } }
        #expect(named("[heap]")?["category"] as? String == "heap")
        #expect(named("[stack]")?["category"] as? String == "stack")
        #expect(named("[stack]")?["label"] as? String == "stack of the main thread")
        #expect(named("[vdso]")?["category"] as? String == "vdso")
        let libc = regions.first { ($0["path"] as? String)?.contains("libc.so") == true }
        #expect(libc?["category"] as? String == "file")
    }

    @Test func textReportShowsEvidence() throws {
        let scenario = try Self.startScenario()
        defer { scenario.stop() }
        let result = try runCommand([Build.mapblame, "explain", "\(scenario.pid)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("== process \(scenario.pid) "))
        // The text shortens paths to fit 120 columns: the last two components stay, or the last.
        let parts = URL(fileURLWithPath: scenario.executable).pathComponents
        #expect(result.stdout.contains("bss: bss of \(scenario.executable)")
                || result.stdout.contains("bss: bss of …/\(parts.suffix(2).joined(separator: "/"))")
                || result.stdout.contains("bss: bss of …/\(parts.last ?? "")\n"), "\(result.stdout)")
        #expect(result.stdout.contains("evidence (certain): PT_LOAD memsz"))
        #expect(result.stdout.contains("thread-stack: stack of thread \(scenario.values["thread_tid"] ?? "?")"))
        let state = Self.state(scenario.pid)
        #expect(state == "S" || state == "R")
    }

    @Test func aStoppedProcessStaysStopped() throws {
        let scenario = try Self.startScenario()
        defer { scenario.stop() }
        kill(scenario.pid, SIGSTOP)
        for _ in 0..<200 where Self.state(scenario.pid) != "T" { usleep(5000) }
        #expect(Self.state(scenario.pid) == "T")
        let result = try runCommand([Build.mapblame, "explain", "\(scenario.pid)", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        usleep(50_000)
        #expect(Self.state(scenario.pid) == "T")
        kill(scenario.pid, SIGCONT)
        for _ in 0..<200 where Self.state(scenario.pid) == "T" { usleep(5000) }
        let state = Self.state(scenario.pid)
        #expect(state == "S" || state == "R", "state \(String(describing: state))")
    }

    @Test func nonexistentPidIsOneLineAndStatus1() throws {
        let pidMax = Int32((try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 32768
        var pid = pidMax - 1
        while kill(pid, 0) == 0 || errno != ESRCH { pid -= 1 }
        let result = try runCommand([Build.mapblame, "explain", "\(pid)"])
        #expect(result.status == 1)
        #expect(result.stderr == "mapblame: no such process: \(pid)\n")
        #expect(result.stdout.isEmpty)
    }

    @Test func nonNumericPidIsAUsageError() throws {
        let result = try runCommand([Build.mapblame, "explain", "abc"])
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("abc"))
    }

    @Test func helpSaysItStopsTheProcessBriefly() throws {
        let result = try runCommand([Build.mapblame, "explain", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("stops them"))
        #expect(result.stdout.contains("--format"))
    }

    @Test func aProcessWithAnExitedMainThreadIsExplained() throws {
        let scenario = try Self.startScenario(arguments: ["exit-main"])
        defer { scenario.stop() }
        for _ in 0..<200 where Self.state(scenario.pid) != "Z" { usleep(5000) }
        let json = scenario.directory.appendingPathComponent("report.json").path
        let result = try runCommand([Build.mapblame, "explain", "\(scenario.pid)", "--format", "json", "-o", json])
        #expect(result.status == 0, "\(result.stderr)")
        let process = try #require(try ReportJSON(path: json).process(pid: Int(scenario.pid)))
        let stack = ReportJSON.region(process, containing: scenario.address("thread_stack"))
        #expect(stack?["category"] as? String == "thread-stack")
        let tid = Int32(scenario.values["thread_tid"] ?? "") ?? 0
        let state = Self.state(tid)
        #expect(state == "S" || state == "R", "worker thread state \(String(describing: state))")
    }

    @Test func aProcessTracedByAnotherTracerIsRefusedInOneLine() throws {
        let scenario = try Self.startScenario(prefix: [Build.mapblame, "run", "-o", "/dev/null", "--"])
        defer { scenario.stop() }
        let result = try runCommand([Build.mapblame, "explain", "\(scenario.pid)"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("mapblame: cannot attach to \(scenario.pid): "), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stdout.isEmpty)
    }

    @Test func threadsComingAndGoingDuringExplain() throws {
        let scenario = try Self.startScenario(source: Self.churnSource)
        defer { scenario.stop() }
        for _ in 0..<20 {
            let result = try runCommand([Build.mapblame, "explain", "\(scenario.pid)", "--format", "json"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        usleep(50_000)
        // Main and the four spawners are still there, and no thread was left stopped.
        let tasks = Self.tasks(scenario.pid)
        #expect(tasks.count >= 5)
        let states = tasks.compactMap { tid -> Character? in
            guard let stat = try? String(contentsOfFile: "/proc/\(scenario.pid)/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            return stat[stat.index(close, offsetBy: 2)...].first
        }
        #expect(states.allSatisfy { $0 != "t" && $0 != "T" }, "\(states)")
    }

    /// A plain C daemon: its only anonymous regions that no name explains are ld.so's early
    /// allocations (the libc link_map, the main thread's TLS block and DTV).
    static let daemonSource = #"""
        #include <pthread.h>
        #include <stdio.h>
        #include <unistd.h>
        int main(void) {
            printf("pid=%d\ntp=%p\nready=1\n", getpid(), (void *)pthread_self());
            fflush(stdout);
            sleep(30);
            return 0;
        }
        """#

    @Test("The dynamic loader's own memory is named from r_debug's link maps and the thread pointer")
    func loaderMemoryFromItsOwnPointers() throws {
        let scenario = try Self.startScenario(source: Self.daemonSource)
        defer { scenario.stop() }
        let json = scenario.directory.appendingPathComponent("report.json").path
        let result = try runCommand([Build.mapblame, "explain", "\(scenario.pid)", "--format", "json", "-o", json])
        #expect(result.status == 0, "\(result.stderr)")
        let process = try #require(try ReportJSON(path: json).process(pid: Int(scenario.pid)))
        let regions = ReportJSON.regions(process)
        let unknown = regions.filter { $0["category"] as? String == "unknown" }
        #expect(unknown.isEmpty, "unexplained: \(unknown.map { "\($0["start"]!) \($0["evidence"]!)" })")
        // pthread_self() is the thread pointer: the main thread's TCB, from ld.so's TLS allocation.
        let tcb = try #require(ReportJSON.region(process, containing: scenario.address("tp")))
        #expect(tcb["category"] as? String == "loader", "\(tcb)")
        #expect(tcb["confidence"] as? String == "certain")
        #expect((tcb["label"] as? String)?.contains("TLS block and TCB of the main thread") == true, "\(tcb)")
        let linkMap = regions.filter { ($0["label"] as? String)?.contains("link_map of libc.so.6") == true }
        #expect(linkMap.count == 1, "\(regions.map { $0["label"] ?? "" })")
        #expect(linkMap.first?["category"] as? String == "loader")
        #expect((linkMap.first?["evidence"] as? String)?.contains("DT_DEBUG") == true)
    }

    /// The kernel merged ld.so's minimal-malloc pages into the region after a library's .bss (seen
    /// on vsftpd): the part beyond the .bss is the loader's, from the link_map inside it.
    @Test("A loader allocation merged after a library's .bss is named, not left unexplained")
    func loaderMemoryMergedAfterABss() throws {
        let maps = """
            7f0000000000-7f0000001000 r--p 00000000 fe:00 42                         /usr/lib/libfoo.so.1
            7f0000001000-7f0000002000 rw-p 00001000 fe:00 42                         /usr/lib/libfoo.so.1
            7f0000002000-7f0000006000 rw-p 00000000 00:00 0

            """
        let entries = try MapsEntry.parseMaps(maps)
        var snapshot = ExplainSnapshot(pid: 1, executable: nil, threads: [], maps: entries, mapsText: maps, smapsText: nil,
                                       usage: [:], malloc: [:], stoppedMicroseconds: 0)
        snapshot.loader.marks = [.init(address: 0x7f0000004200, what: "link_map of libbar.so.2", certain: true)]
        // .bss of libfoo: memsz reaches 0x4000 past the file part, so 0x7f0000002000-0x7f0000004000.
        let elf = ElfLoadSegments(segments: [.init(offset: 0x1000, vaddr: 0x1000, filesz: 0x800, memsz: 0x3000)])
        let regions = EvidenceClassifier(snapshot: snapshot) { _ in elf }.classify()
        let merged = try #require(regions.first { $0.entry.start == 0x7f0000002000 })
        #expect(merged.origins.map(\.category) == [.bss, .loader], "\(merged.origins)")
        #expect(merged.origins.last?.range == 0x7f0000004000..<0x7f0000006000)
        #expect(merged.origins.last?.label.contains("link_map of libbar.so.2") == true)
        #expect(merged.evidence?.contains("link_map of libbar.so.2 at 0x7f0000004200") == true, "\(String(describing: merged.evidence))")
    }
}
