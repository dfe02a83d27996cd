import Foundation
import Glibc
import Testing

/// `mapblame attach PID` against `mbfixture serve`, a daemon-like process that keeps mapping and
/// logs every mmap it makes: the log is the ground truth the recorded events are held against.
@Suite(.serialized)
struct AttachTests {
    /// A started `mbfixture serve` (our child) and what it printed.
    final class Served {
        let pid: pid_t
        let dir: String
        let values: [String: String]
        var log: String { dir + "/log" }
        /// Set once the fixture was stopped and reaped (its pid may belong to another process then).
        private var ending: (status: Int32, values: [String: String])?

        init(pid: pid_t, dir: String, values: [String: String]) {
            self.pid = pid
            self.dir = dir
            self.values = values
        }

        static func start(forking: Bool = false) throws -> Served {
            let dir = NSTemporaryDirectory() + "mapblame-attach-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let pid = try spawnClean([Build.fixture, "serve", dir + "/log"] + (forking ? ["1"] : []), stdout: dir + "/out")
            for _ in 0..<500 {
                let text = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
                if text.contains("ready=1\n") {
                    return Served(pid: pid, dir: dir, values: Finished(status: 0, stdout: text, stderr: "").values)
                }
                usleep(10_000)
            }
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
            throw SpawnError(errno: ETIMEDOUT)
        }

        func address(_ name: String) -> UInt64 { UInt64((values[name] ?? "").dropFirst(2), radix: 16) ?? 0 }
        var workers: [Int] { ["worker0", "worker1"].compactMap { values[$0].flatMap { Int($0) } } }

        /// SIGUSR1: the fixture checks its mappings and exits; its status and final lines.
        @discardableResult
        func finish() -> (status: Int32, values: [String: String]) {
            if let ending { return ending }
            kill(pid, SIGCONT)  // a test that stopped it and failed before SIGCONT
            kill(pid, SIGUSR1)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let text = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: dir)
            let result = (status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f),
                          Finished(status: 0, stdout: text, stderr: "").values)
            ending = result
            return result
        }

        /// Every mmap the fixture logged, per thread, in its order.
        func logged() -> [Int: [UInt64]] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            var result: [Int: [UInt64]] = [:]
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ")
                guard f.count == 3, let tid = Int(f[0]) else { continue }
                result[tid, default: []].append(hex(String(f[2])))
            }
            return result
        }

        /// How many lines the log has, counted from where the last count stopped: the fixture logs
        /// megabytes per minute, and counting the whole file at every poll grew quadratic (under
        /// ThreadSanitizer on a loaded machine, one wait took longer than the whole suite).
        var logLines: Int {
            guard let handle = FileHandle(forReadingAtPath: log) else { return countedLines }
            defer { try? handle.close() }
            guard (try? handle.seek(toOffset: countedBytes)) != nil, let data = try? handle.readToEnd() else { return countedLines }
            countedBytes += UInt64(data.count)
            countedLines += data.withUnsafeBytes { bytes in bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } }
            return countedLines
        }
        private var countedBytes: UInt64 = 0
        private var countedLines = 0
    }

    /// The state letter and TracerPid of a process.
    static func status(_ pid: pid_t) -> (state: String, tracer: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
                $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
            } ?? ""
        }
        return (String(field("State").prefix(1)), Int(field("TracerPid")) ?? -1)
    }

    /// Waits (10 s at most) until `tracer` has seized the served process and the process has made
    /// `mappings` more mappings since: instead of a fixed sleep that a loaded machine outlasts.
    static func waitUntilTraced(_ served: Served, by tracer: pid_t, mappings: Int = 20) {
        for _ in 0..<1000 where status(served.pid).tracer != Int(tracer) { usleep(10_000) }
        waitForMappings(served, mappings)
    }

    /// Waits (10 s at most) until the served process logs `count` more mappings; whether it did.
    @discardableResult
    static func waitForMappings(_ served: Served, _ count: Int) -> Bool {
        let start = served.logLines
        for _ in 0..<1000 where served.logLines < start + count { usleep(10_000) }
        return served.logLines >= start + count
    }

    /// Runs `mapblame attach` with a JSON report; returns the run and the report.
    static func attach(_ pid: pid_t, _ options: [String]) throws -> (Finished, ReportJSON?, String) {
        let dir = NSTemporaryDirectory() + "mapblame-attach-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try runCommand([Build.mapblame, "attach", "\(pid)", "--json", dir + "/r.json", "-o", dir + "/r.txt"] + options)
        return (run, try? ReportJSON(path: dir + "/r.json"), (try? String(contentsOfFile: dir + "/r.txt", encoding: .utf8)) ?? "")
    }

    static func frames(_ event: [String: Any]) -> [[String: Any]] { event["stack"] as? [[String: Any]] ?? [] }

    static func fromSite(_ event: [String: Any], _ marker: String) -> Bool {
        frames(event).contains { ($0["file"] as? String)?.hasSuffix("serve.c") == true && $0["line"] as? Int == SiteMarkers.lines[marker] }
    }

    @Test func attributesEveryMappingMadeWhileAttachedAndLetsTheProcessGoOn() throws {
        let served = try Served.start()
        defer { served.finish() }
        Self.waitForMappings(served, 20)  // its workers are mapping before the attach
        let (run, report, text) = try Self.attach(served.pid, ["--duration", "1.5", "--verify", "--all-events"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")

        // Detached: not stopped, not traced, still mapping.
        let after = Self.status(served.pid)
        #expect(after.tracer == 0 && (after.state == "S" || after.state == "R"), "\(after)")
        #expect(Self.waitForMappings(served, 1), "the process stopped mapping after the detach")
        let logged = served.logged()
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "\(end)")

        let json = try #require(report)
        #expect(json.root["attached"] as? Bool == true)
        let process = try #require(json.process(pid: Int(served.pid)))
        #expect(process["detached"] as? Bool == true)
        #expect(process["exit"] is NSNull)
        #expect((process["verify"] as? [String: Any])?["mismatched_pages"] as? Int == 0, "\(process["verify"] ?? "")")
        #expect(text.contains("still running (mapblame detached)"))

        // Regions older than the attach: explain's evidence.
        func region(_ address: UInt64) throws -> [String: Any] {
            try #require(ReportJSON.region(process, containing: address), "no region holds 0x\(String(address, radix: 16))")
        }
        let bss = try region(served.address("bss"))
        #expect(bss["category"] as? String == "bss" && bss["label"] as? String == "bss of \(Build.fixture)", "\(bss)")
        #expect(bss["evidence"] is String)
        let libbss = try region(served.address("libbss"))
        #expect(libbss["category"] as? String == "bss", "\(libbss)")
        #expect((libbss["label"] as? String)?.hasSuffix("libmbfixturelib.so") == true, "\(libbss)")
        for key in ["arena0", "arena1"] {
            let arena = try region(served.address(key))
            #expect(arena["category"] as? String == "malloc-arena", "\(key): \(arena)")
        }
        let regions = ReportJSON.regions(process)
        // The snapshot at detach read pagemap: per anonymous region, the origins' exact resident
        // bytes are smaps' Rss.
        let anonymous = regions.filter { $0["origin_residency"] as? String == "pagemap" }
        #expect(anonymous.count > 3)
        for r in anonymous {
            let origins = r["origins"] as? [[String: Any]] ?? []
            #expect(origins.reduce(0) { $0 + ($1["rss_bytes"] as? Int ?? -1) } == r["rss_bytes"] as? Int, "\(r)")
        }
        for tid in served.workers {
            #expect(regions.contains { $0["category"] as? String == "thread-stack"
                && ($0["label"] as? String)?.contains("stack of thread \(tid)") == true }, "no stack for thread \(tid)")
        }

        // Every mmap of each worker during the window was recorded: the recorded ones are an
        // unbroken run of that worker's own log.
        let events = process["events"] as? [[String: Any]] ?? []
        for tid in served.workers {
            let recorded = events.filter { $0["tid"] as? Int == tid && $0["syscall"] as? String == "mmap" && Self.fromSite($0, "serve_map") }
                .map { hex($0["result"]) }
            let mine = logged[tid] ?? []
            #expect(recorded.count >= 20, "thread \(tid): only \(recorded.count) mmaps recorded")
            let starts = mine.indices.filter { mine[$0] == recorded.first }
            #expect(starts.contains { i in i + recorded.count <= mine.count && Array(mine[i..<i + recorded.count]) == recorded },
                    "thread \(tid): recorded mmaps are not an unbroken run of the logged ones")
        }

        // Every mapping made during the window and still there at the detach names its event.
        var lastUnmap: [UInt64: Int] = [:]  // address -> id of its last munmap
        for e in events where e["syscall"] as? String == "munmap" {
            lastUnmap[(e["args"] as? [Any])?.first.map { hex($0) } ?? 0] = e["id"] as? Int ?? 0
        }
        let live = events.filter { e in
            e["syscall"] as? String == "mmap" && Self.fromSite(e, "serve_map")
                && (lastUnmap[hex(e["result"])] ?? -1) < e["id"] as? Int ?? 0
        }
        #expect(!live.isEmpty)
        for event in live {
            let origin = ReportJSON.origin(process, containing: hex(event["result"]))
            #expect(origin?["event"] as? Int == event["id"] as? Int, "\(event["result"] ?? ""): \(String(describing: origin))")
            #expect((origin?["label"] as? String)?.contains("serve.c:\(SiteMarkers.lines["serve_map"]!)") == true)
        }
    }

    @Test func followsTheChildrenItForksUnlessNoFollow() throws {
        let served = try Served.start(forking: true)
        defer { served.finish() }
        let (run, report, _) = try Self.attach(served.pid, ["--duration", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(report)
        let children = json.processes.filter { $0["parent_pid"] as? Int == Int(served.pid) }
        #expect(children.count >= 3, "\(children.count) children")
        let exited = children.filter { ($0["exit"] as? [String: Any])?["code"] as? Int == 0 }
        #expect(exited.count >= children.count - 1, "children that exited 0: \(exited.count) of \(children.count)")
        #expect(exited.contains { child in
            (child["events"] as? [[String: Any]] ?? []).contains { Self.fromSite($0, "serve_child") }
        }, "no child's mapping names serve_child")

        let (single, singleReport, _) = try Self.attach(served.pid, ["--duration", "0.5", "--no-follow"])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(singleReport?.processes.count == 1)
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "\(end)")
        #expect(Int(end.values["children"] ?? "") ?? 0 > 0)
    }

    @Test func endsWhenTheProcessExitsWithItsStatusUntouched() throws {
        let served = try Served.start()
        defer { served.finish() }
        let dir = served.dir
        let tracer = try spawnClean([Build.mapblame, "attach", "\(served.pid)", "-q", "--json", dir + "/r.json"],
                                    stdout: dir + "/r.txt", stderr: dir + "/r.err")
        Self.waitUntilTraced(served, by: tracer)
        let report = dir + "/r.json", err = dir + "/r.err"
        kill(served.pid, SIGUSR1)
        var status: Int32 = 0
        while waitpid(tracer, &status, 0) < 0 && errno == EINTR {}
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(status == 0, "mapblame status \(status): \(stderr)")
        let json = try ReportJSON(path: report)
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "\(end)")
        let process = try #require(json.process(pid: Int(served.pid)))
        #expect((process["exit"] as? [String: Any])?["code"] as? Int == 0, "\(process["exit"] ?? "")")
        #expect(process["detached"] == nil)
        #expect(!ReportJSON.regions(process).isEmpty)
    }

    @Test func ctrlCEndsTheSessionAndTheProcessRunsOn() throws {
        let served = try Served.start()
        defer { served.finish() }
        let dir = served.dir
        let tracer = try spawnClean([Build.mapblame, "attach", "\(served.pid)", "-q"], stdout: dir + "/r.txt", stderr: dir + "/r.err")
        Self.waitUntilTraced(served, by: tracer)
        kill(tracer, SIGINT)
        var status: Int32 = 0
        while waitpid(tracer, &status, 0) < 0 && errno == EINTR {}
        #expect(status == 0, "mapblame status \(status): \((try? String(contentsOfFile: dir + "/r.err", encoding: .utf8)) ?? "")")
        // The text report goes to stderr, like run's.
        let text = (try? String(contentsOfFile: dir + "/r.err", encoding: .utf8)) ?? ""
        #expect(text.contains("still running (mapblame detached)"), "\(text.prefix(300))")
        #expect(text.contains("serve.c:\(SiteMarkers.lines["serve_map"]!)"))
        let after = Self.status(served.pid)
        #expect(after.tracer == 0 && after.state != "t", "\(after)")
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "\(end)")
    }

    @Test func aKilledTracerLeavesTheProcessRunning() throws {
        let served = try Served.start()
        defer { served.finish() }
        let trace = served.dir + "/kept.trace"
        let tracer = try spawnClean([Build.mapblame, "attach", "\(served.pid)", "-q", "--trace", trace])
        Self.waitUntilTraced(served, by: tracer)
        kill(tracer, SIGKILL)
        waitpid(tracer, nil, 0)
        // What was recorded until then reports (the trace is flushed whenever the tracer waits).
        let report = try runCommand([Build.mapblame, "report", trace])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("serve.c:\(SiteMarkers.lines["serve_map"]!)"), "\(report.stdout.prefix(400))")
        var after = Self.status(served.pid)
        for _ in 0..<100 where after.tracer != 0 {
            usleep(10_000)
            after = Self.status(served.pid)
        }
        #expect(after.tracer == 0 && after.state != "t", "\(after)")
        #expect(Self.waitForMappings(served, 1), "the process no longer maps after its tracer died")
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "\(end)")
    }

    @Test func aStoppedProcessStaysStopped() throws {
        let served = try Served.start()
        defer { served.finish() }
        kill(served.pid, SIGSTOP)
        for _ in 0..<100 where Self.status(served.pid).state != "T" { usleep(10_000) }
        let (run, report, _) = try Self.attach(served.pid, ["--duration", "0.3"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(report?.process(pid: Int(served.pid))?["detached"] as? Bool == true)
        usleep(100_000)
        #expect(Self.status(served.pid) == ("T", 0))
        let lines = served.logLines
        usleep(100_000)
        #expect(served.logLines == lines, "a stopped process mapped")
        kill(served.pid, SIGCONT)
        #expect(Self.waitForMappings(served, 1), "SIGCONT did not wake the process")
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "\(end)")
    }

    @Test func explainLeavesTheProcessWorkingAndItsChecksPass() throws {
        let served = try Served.start(forking: true)
        defer { served.finish() }
        for _ in 0..<5 {
            let r = try runCommand([Build.mapblame, "explain", "\(served.pid)", "--format", "json", "-o", "/dev/null"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(Self.status(served.pid).tracer == 0)
        #expect(Self.waitForMappings(served, 1), "the process stopped mapping after explain")
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "\(end)")
    }

    /// A real multi-threaded program that allocates all the time and then execs: the model agrees
    /// with the kernel page by page, through the exec, until the new image exits.
    @Test func pythonThreadsThenExecAgreeWithTheKernel() throws {
        let script = """
            import os, sys, threading, time
            def work():
                kept = []
                for i in range(200000):
                    kept.append(bytearray(300000) if i % 40 == 0 else [i] * 8)
                    if len(kept) > 200: kept = kept[100:]
                    if i % 2000 == 0: time.sleep(0.005)
            threads = [threading.Thread(target=work) for _ in range(3)]
            for t in threads: t.start()
            print("ready=1", flush=True)
            time.sleep(1.2)
            os.execv("/bin/sleep", ["sleep", "0.3"])
            """
        let dir = NSTemporaryDirectory() + "mapblame-attach-py-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let python = try spawnClean(["/usr/bin/env", "python3", "-c", script], stdout: dir + "/out")
        for _ in 0..<500 where !((try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "").contains("ready=1") {
            usleep(10_000)
        }
        let (run, report, _) = try Self.attach(python, ["--verify"])
        var status: Int32 = 0
        while waitpid(python, &status, 0) < 0 && errno == EINTR {}
        #expect(status == 0, "python3 ended with status \(status)")
        #expect(run.status == 0, "\(run.stderr)")
        let process = try #require(report?.process(pid: Int(python)))
        #expect(process["executable"] as? String == "/usr/bin/sleep")
        #expect((process["exit"] as? [String: Any])?["code"] as? Int == 0)
        let verify = process["verify"] as? [String: Any]
        #expect(verify?["mismatched_pages"] as? Int == 0, "\(verify ?? [:])")
        #expect(process["events_recorded"] as? Int ?? 0 > 10)
    }

    @Test func refusalsAreOneLine() throws {
        // A process that is gone.
        let gone = try spawnClean(["/bin/true"])
        waitpid(gone, nil, 0)
        let vanished = try runCommand([Build.mapblame, "attach", "\(gone)"])
        #expect(vanished.status == 1)
        #expect(vanished.stderr == "mapblame: no such process: \(gone)\n")

        // A process that already has a tracer: mapblame run's program.
        let dir = NSTemporaryDirectory() + "mapblame-attach-traced-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runner = try spawnClean([Build.mapblame, "run", "-q", "-o", "/dev/null", "--", Build.fixture, "serve", dir + "/log"],
                                    stdout: dir + "/out")
        var pid: Int32 = 0
        for _ in 0..<500 where pid == 0 {
            let text = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
            if text.contains("ready=1") { pid = Int32(Finished(status: 0, stdout: text, stderr: "").values["pid"] ?? "") ?? 0 }
            usleep(10_000)
        }
        #expect(pid > 0)
        let traced = try runCommand([Build.mapblame, "attach", "\(pid)", "--duration", "0.2"])
        kill(pid, SIGUSR1)
        var status: Int32 = 0
        while waitpid(runner, &status, 0) < 0 && errno == EINTR {}
        #expect(status == 0, "mapblame run of the fixture: \(status)")
        #expect(traced.status == 1)
        #expect(traced.stderr.hasPrefix("mapblame: cannot attach to \(pid): Operation not permitted: it is already traced by process \(runner)"),
                "\(traced.stderr)")
        #expect(traced.stderr.count { $0 == "\n" } == 1)

        // Usage errors.
        for arguments in [["attach"], ["attach", "abc"], ["attach", "0"], ["attach", "1", "--duration", "-1"],
                          ["attach", "1", "--duration", "0"], ["attach", "1", "--frames", "5000"]] {
            let r = try runCommand([Build.mapblame] + arguments)
            #expect(r.status == 2, "\(arguments): \(r.status)")
            #expect(r.stderr.count { $0 == "\n" } == 1, "\(arguments): \(r.stderr)")
        }
    }

    static let sbrkSource = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>
        int main(void) {
            char *keep = malloc(1000);  /* a [heap] before the attach */
            keep[0] = 1;
            printf("pid=%d\nready=1\n", getpid());
            fflush(stdout);
            for (int i = 0; i < 30000; i++) {
                char *p = sbrk(8192);
                p[0] = 1;
                usleep(1000);
            }
            return 0;
        }
        """#

    /// The model learns the program break from the first brk it sees; the [heap] that was there
    /// before the attach tells where it stood, so the first growth is not lost.
    @Test func aHeapGrowingWhileAttached() throws {
        let scenario = try ExplainTests.startScenario(source: Self.sbrkSource)
        defer { scenario.stop() }
        let r = try runCommand([Build.mapblame, "attach", "\(scenario.pid)", "-q", "--duration", "1", "--verify", "-o", "/dev/null"])
        #expect(r.status == 0, "\(r.stderr)")
    }
}
