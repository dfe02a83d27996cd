import Foundation
import Glibc
import Testing

/// A command started in the background, so a test can act on it while it runs (stop it, signal
/// it, look at /proc); its stdout and stderr go to files that can be read at any time.
final class LiveRun {
    let pid: Int32
    let directory: URL
    private let outPath: String, errPath: String
    private var status: Int32?

    init(_ arguments: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        outPath = directory.appendingPathComponent("out").path
        errPath = directory.appendingPathComponent("err").path
        pid = try spawnClean(arguments, stdout: outPath, stderr: errPath)  // signals unblocked, as from a shell
    }

    deinit {
        if reap(block: false) == nil {
            kill(pid, SIGKILL)
            _ = reap(block: true)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The shell-style status once the command ended, nil while it runs.
    private func reap(block: Bool) -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, block ? 0 : WNOHANG)
        guard r == pid else { return nil }
        status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return status
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// `name=value` lines printed so far.
    var values: [String: String] { Finished(status: 0, stdout: stdout, stderr: "").values }

    /// Waits until stdout has a `name=` line; returns its value.
    func waitForValue(_ name: String, timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let v = values[name] { return v }
            usleep(5000)
        }
        return nil
    }

    /// Waits for the command to end (killing it after `timeout`: a hang is a failure, never a hung
    /// test run). Returns the shell-style status, or nil on timeout.
    func wait(timeout: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while reap(block: false) == nil && Date() < deadline { usleep(5000) }
        if let status { return status }
        kill(pid, SIGKILL)
        _ = reap(block: true)
        return nil
    }
}

/// /proc helpers shared by the signal and exit-path tests.
enum ProcStat {
    /// The state letter of /proc/PID/stat (R, S, t, T, Z...), nil if the process is gone.
    static func state(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(close, offsetBy: 2)...].first
    }

    static func parent(_ pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Pids whose parent is `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { parent($0) == pid }
    }

    /// Waits (up to `timeout`) until /proc/PID is gone: not running, not stopped, not a zombie.
    static func gone(_ pid: Int32, timeout: Double = 3) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if access("/proc/\(pid)", F_OK) != 0 { return true }
            usleep(10000)
        }
        return false
    }

    /// Waits until `body` is true or `timeout` passes.
    static func poll(timeout: Double, _ body: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if body() { return true }
            usleep(5000)
        }
        return body()
    }
}

extension ReportJSON {
    /// `{"code": N}` → "code N", `{"signal": "SIGX"}` → "SIGX", absent → nil.
    static func exit(_ process: [String: Any]) -> String? {
        guard let exit = process["exit"] as? [String: Any] else { return nil }
        if let code = exit["code"] as? Int { return "code \(code)" }
        return exit["signal"] as? String
    }

    var pids: Set<Int> { Set(processes.compactMap { $0["pid"] as? Int }) }
}

@Suite("Signals reach the traced program as if it were untraced", .serialized)
struct SignalTests {
    @Test("a SIGSEGV handler that mprotects the faulting page and retries sees exactly one fault")
    func segvRecover() throws {
        let run = try TracedRun.fixture("segv-recover")
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(run.finished.values["segv_seen"] == "1")
        #expect(run.finished.values["value"] == "42")
        #expect(ReportJSON.exit(run.root) == "code 0")
    }

    @Test("200 SIGUSR1 between threads and 200 queued real-time signals: none lost, none duplicated")
    func signalsNotLostOrDuplicated() throws {
        // In the background with a deadline: this run has been seen to hang (see the known issue).
        let live = try LiveRun([Build.mapblame, "run", "-o", "/dev/null", "--", Build.fixture, "signals", "200"])
        let status = live.wait(timeout: 30)
        #expect(status == 0, "mapblame did not finish in 30 s (killed); stdout: \(live.stdout)")
        guard status == 0 else { return }
        #expect(live.values["usr1_seen"] == "200")
        #expect(live.values["rt_seen"] == "200")
        #expect(live.values["rt_sum"] == "20100")
    }

    @Test("SIGPIPE: `yes | head -1` exits 0 and `yes` is reported killed by SIGPIPE")
    func sigpipe() throws {
        let untraced = try runCommand(["/bin/sh", "-c", "yes | head -1"])
        #expect(untraced.status == 0 && untraced.stdout == "y\n")
        let run = try TracedRun(["/bin/sh", "-c", "yes | head -1"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(run.finished.stdout == "y\n")
        let yes = run.report.processes.filter { ($0["executable"] as? String)?.hasSuffix("/yes") == true }
        #expect(yes.count == 1)
        #expect(yes.first.flatMap(ReportJSON.exit) == "SIGPIPE", "\(yes)")
        let head = run.report.processes.filter { ($0["executable"] as? String)?.hasSuffix("/head") == true }
        #expect(head.first.flatMap(ReportJSON.exit) == "code 0")
    }

    @Test("SIGCHLD: a shell waiting for a background child gets it and the child's status")
    func sigchld() throws {
        let script = "sleep 0.1 & wait $!; echo waited=$?; exit 7"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-chld-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        let live = try LiveRun([Build.mapblame, "run", "--json", json, "-o", "/dev/null", "--", "/bin/sh", "-c", script])
        let status = live.wait(timeout: 20)
        #expect(status == 7, "\(live.stderr)")
        #expect(live.values["waited"] == "0")
        let report = try ReportJSON(path: json)
        #expect(report.processes.count == 2)
        let sleep = report.processes.first { ($0["executable"] as? String)?.hasSuffix("/sleep") == true }
        #expect(sleep.flatMap(ReportJSON.exit) == "code 0")
    }

    @Test("group stop: a program that SIGSTOPs itself stays stopped until SIGCONT, then goes on")
    func groupStopHeld() throws {
        let live = try LiveRun([Build.mapblame, "run", "-o", "/dev/null", "--",
                                "/bin/sh", "-c", "echo pid=$$; kill -STOP $$; echo resumed"])
        let pid = try #require(live.waitForValue("pid").flatMap(Int32.init), "\(live.stderr)")
        #expect(ProcStat.poll(timeout: 5) { ["t", "T"].contains(ProcStat.state(pid)) },
                "state \(String(describing: ProcStat.state(pid)))")
        // Really held: still stopped a while later, and the program printed nothing more.
        usleep(300_000)
        #expect(["t", "T"].contains(ProcStat.state(pid)), "state \(String(describing: ProcStat.state(pid)))")
        #expect(!live.stdout.contains("resumed"))
        kill(pid, SIGCONT)
        let status = live.wait()
        #expect(status == 0, "\(live.stderr)")
        #expect(live.stdout.contains("resumed"))
        #expect(ProcStat.gone(pid))
    }

    /// Ctrl-C in a terminal is SIGINT to the foreground process group: mapblame and the program.
    /// /usr/bin/setsid makes mapblame a group leader (Foundation's child is not one, so setsid
    /// execs in place and the pid we know is mapblame's), so kill(-pgid) reaches both.
    @Test("Ctrl-C: the program dies by SIGINT, mapblame survives to write the report and exits 130")
    func ctrlCKillsProgramNotTracer() throws {
        try #require(access("/usr/bin/setsid", X_OK) == 0, "needs /usr/bin/setsid")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-int-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("r.txt").path, json = dir.appendingPathComponent("r.json").path
        let live = try LiveRun(["/usr/bin/setsid", Build.mapblame, "run", "-o", text, "--json", json, "--",
                                Build.fixture, "wait-kill"])
        let pid = try #require(live.waitForValue("pid").flatMap(Int32.init), "\(live.stderr)")
        #expect(getpgid(live.pid) == live.pid, "mapblame should lead its own process group")
        #expect(getpgid(pid) == live.pid)
        kill(-live.pid, SIGINT)
        let status = live.wait()
        #expect(status == 130, "\(live.stderr)")
        #expect(ProcStat.gone(pid))
        let report = try String(contentsOfFile: text, encoding: .utf8)
        #expect(report.contains("== process \(pid) ") && report.contains("killed by SIGINT"), "\(report.prefix(300))")
        let process = try ReportJSON(path: json).process(pid: Int(pid))
        #expect(process.flatMap(ReportJSON.exit) == "SIGINT")
    }

    @Test("Ctrl-C: a program that handles SIGINT gets to handle it (exit 3)")
    func ctrlCHandledByProgram() throws {
        try #require(access("/usr/bin/setsid", X_OK) == 0, "needs /usr/bin/setsid")
        // The background sleep ignores SIGINT (non-interactive shell): the trap kills it, or
        // mapblame would wait for it.
        let script = "trap 'echo caught; kill $!; exit 3' INT; echo pid=$$; sleep 5 & wait"
        let live = try LiveRun(["/usr/bin/setsid", Build.mapblame, "run", "-o", "/dev/null", "--", "/bin/sh", "-c", script])
        let pid = try #require(live.waitForValue("pid").flatMap(Int32.init), "\(live.stderr)")
        // Give the shell time to reach `wait` (the trap runs when it is interrupted there).
        #expect(ProcStat.poll(timeout: 5) { !ProcStat.children(of: pid).isEmpty })
        usleep(100_000)
        kill(-live.pid, SIGINT)
        let status = live.wait()
        #expect(status == 3, "\(live.stderr)")
        #expect(live.stdout.contains("caught"))
        #expect(ProcStat.gone(pid))
    }
}
