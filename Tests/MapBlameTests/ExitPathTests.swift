import Foundation
import Glibc
import Testing

/// Every way a traced program can end: mapblame exits with the program's status, reports every
/// process, and leaves nothing behind (no stopped or zombie process: every pid the program printed
/// is gone from /proc afterwards).
@Suite("Exit paths of the traced program", .serialized)
struct ExitPathTests {
    private func expectGone(_ pids: [String?], sourceLocation: SourceLocation = #_sourceLocation) {
        for value in pids {
            guard let pid = value.flatMap(Int32.init) else {
                Issue.record("a pid was not printed", sourceLocation: sourceLocation)
                continue
            }
            #expect(ProcStat.gone(pid), "pid \(pid) left behind in state \(String(describing: ProcStat.state(pid)))",
                    sourceLocation: sourceLocation)
        }
    }

    @Test("normal exit: status and report carry the program's code")
    func normalExit() throws {
        let run = try TracedRun(["/bin/sh", "-c", "echo pid=$$; exit 7"])
        #expect(run.finished.status == 7, "\(run.finished.stderr)")
        #expect(ReportJSON.exit(run.root) == "code 7")
        #expect(run.root["snapshot"] as? Bool == true)
        expectGone([run.finished.values["pid"]])
    }

    @Test("exit from a thread: main calls pthread_exit, the other thread maps memory then exit(4)")
    func exitFromThread() throws {
        let run = try TracedRun.fixture("exit-thread")
        #expect(run.finished.status == 4, "\(run.finished.stderr)")
        #expect(ReportJSON.exit(run.root) == "code 4")
        #expect(run.root["snapshot"] as? Bool == true)
        // The snapshot is taken by the last thread, after the leader is gone: the late mmap is in it.
        let late = run.origin("late_mmap")
        #expect(late?["category"] as? String == "mmap", "\(String(describing: late))")
        expectGone([run.finished.values["pid"]])
    }

    @Test("exit_group with 16 threads parked in pause()")
    func exitGroupManyThreads() throws {
        let run = try TracedRun([Build.fixture, "exit-group", "16"])
        #expect(run.finished.status == 5, "\(run.finished.stderr)")
        #expect(run.finished.values["threads"] == "16")
        #expect(ReportJSON.exit(run.root) == "code 5")
        #expect(run.root["snapshot"] as? Bool == true)
        expectGone([run.finished.values["pid"]])
    }

    @Test("death by signal: abort() is SIGABRT, status 134")
    func deathBySignal() throws {
        let run = try TracedRun.fixture("abort")
        #expect(run.finished.status == 134, "\(run.finished.stderr)")
        #expect(ReportJSON.exit(run.root) == "SIGABRT")
        let exit = run.root["exit"] as? [String: Any]
        #expect(exit?.count == 1 && exit?["signal"] as? String == "SIGABRT")
        #expect(run.textReport.contains("killed by SIGABRT"))
        expectGone([run.finished.values["pid"]])
    }

    @Test("SIGKILL from outside: status 137, the report still lists the process")
    func sigkillFromOutside() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let live = try LiveRun([Build.mapblame, "run", "--json", json, "-o", "/dev/null", "--", Build.fixture, "wait-kill"])
        let pid = try #require(live.waitForValue("pid").flatMap(Int32.init), "\(live.stderr)")
        kill(pid, SIGKILL)
        let status = live.wait()
        #expect(status == 137, "\(live.stderr)")
        let report = try ReportJSON(path: json)
        #expect(report.process(pid: Int(pid)).flatMap(ReportJSON.exit) == "SIGKILL", "\(report.processes)")
        expectGone(["\(pid)"])
    }

    @Test("a parent that exits leaving its child running 1 s: mapblame waits for both, status is the parent's")
    func orphanedChild() throws {
        let start = Date()
        let run = try TracedRun.fixture("orphan")
        let elapsed = Date().timeIntervalSince(start)
        #expect(run.finished.status == 6, "\(run.finished.stderr)")
        #expect(elapsed >= 0.9, "mapblame returned after \(elapsed) s, before the child exited")
        #expect(run.finished.stdout.contains("child_done="))
        let child = run.finished.values["child_pid"].flatMap(Int.init) ?? -1
        #expect(ReportJSON.exit(run.root) == "code 6")
        #expect(run.report.process(pid: child).flatMap(ReportJSON.exit) == "code 9")
        expectGone([run.finished.values["pid"], run.finished.values["child_pid"]])
    }

    @Test("a daemon that double-forks and setsid()s: mapblame waits for the grandchild; all three reported")
    func doubleForkDaemon() throws {
        let start = Date()
        let run = try TracedRun.fixture("daemon")
        let elapsed = Date().timeIntervalSince(start)
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(elapsed >= 0.45, "mapblame returned after \(elapsed) s, before the daemon exited")
        #expect(run.finished.stdout.contains("daemon_done="))
        let v = run.finished.values
        let pids = [v["pid"], v["child_pid"], v["grandchild_pid"]].compactMap { $0.flatMap(Int.init) }
        #expect(pids.count == 3)
        #expect(Set(pids).isSubset(of: run.report.pids), "\(run.report.pids)")
        for pid in pids {
            #expect(run.report.process(pid: pid).flatMap(ReportJSON.exit) == "code 0", "pid \(pid)")
        }
        if pids.count == 3 {
            #expect(run.report.process(pid: pids[2])?["parent_pid"] as? Int == pids[1])
            #expect(run.report.process(pid: pids[1])?["parent_pid"] as? Int == pids[0])
        }
        expectGone([v["pid"], v["child_pid"], v["grandchild_pid"]])
    }
}
