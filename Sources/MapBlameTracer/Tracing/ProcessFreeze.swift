import CShims
import Glibc
import MapBlameModel

/// Stops every thread of a running process with PTRACE_SEIZE + PTRACE_INTERRUPT, runs a body while
/// they are all stopped, and detaches from every thread again (on every path, errors included), so
/// the process continues exactly as it was: a thread stopped by a pending signal gets that signal
/// back at detach, a process that was in a group-stop (Ctrl-Z) stays stopped.
/// Must be used from one OS thread (ptrace binds to the tracer thread).
package struct ProcessFreeze {
    package static let PTRACE_SEIZE: Int32 = 0x4206
    package static let PTRACE_INTERRUPT: Int32 = 0x4207

    /// A stopped thread and the signal to hand back when detaching (0 for none).
    package struct StoppedThread {
        package var tid: Int32
        package var pendingSignal: Int32
        package var registers: cshims_regs?
        /// It was in a group-stop (SIGSTOP, Ctrl-Z...): it must stay stopped until SIGCONT.
        package var groupStopped = false
    }

    package let pid: Int32
    /// Attached (seized) threads, in attach order.
    private(set) var seized: [Int32] = []
    /// Threads known to be in a ptrace-stop.
    private(set) var stopped: [Int32: StoppedThread] = [:]
    /// Zombie threads: listed, not attachable, not running.
    private(set) var zombies: Set<Int32> = []

    package init(pid: Int32) { self.pid = pid }

    /// Thread ids in /proc/PID/task, nil if the process does not exist (or is gone).
    package static func taskIDs(_ pid: Int32) -> [Int32]? {
        guard let dir = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(dir) }
        var tids: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let tid = Int32(name) { tids.append(tid) }
        }
        // The main thread first: if it cannot be attached, nothing else is tried.
        return tids.sorted { a, b in a == pid ? b != pid : b == pid ? false : a < b }
    }

    package static func isZombie(pid: Int32, tid: Int32) -> Bool {
        // Unreadable: the thread is gone (it was exiting).
        guard let stat = ProcFile.read("/proc/\(pid)/task/\(tid)/stat"), let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state == "Z" || state == "X"
    }

    /// Seizes and stops every thread, retrying the task listing until no new thread appears.
    package mutating func stopAll() throws(ExplainError) {
        var rounds = 0
        while true {
            guard let tids = ProcessFreeze.taskIDs(pid) else {
                if seized.isEmpty { throw ExplainError(description: "no such process: \(pid)") }
                throw ExplainError(description: "process \(pid) exited while being examined")
            }
            let new = tids.filter { !seized.contains($0) && stopped[$0] == nil && !zombies.contains($0) }
            if new.isEmpty { break }
            rounds += 1
            if rounds > 1000 { throw ExplainError(description: "process \(pid) keeps creating threads; cannot stop them all") }
            for tid in new {
                if cshims_ptrace(ProcessFreeze.PTRACE_SEIZE, tid, 0, 0) != 0 {
                    let e = errno
                    // A thread that exited meanwhile (gone, or a zombie while it exits), or a zombie
                    // main thread (it called pthread_exit): nothing to stop, skip it.
                    if e == ESRCH && tid != pid { continue }
                    if e == EPERM && ProcessFreeze.isZombie(pid: pid, tid: tid) {
                        zombies.insert(tid)
                        continue
                    }
                    if e == ESRCH {
                        throw ExplainError(description: seized.isEmpty ? "no such process: \(pid)"
                                                                       : "process \(pid) exited while being examined")
                    }
                    throw ExplainError(description: ProcessFreeze.refusal(pid: pid, tid: tid, errno: e))
                }
                seized.append(tid)
                _ = cshims_ptrace(ProcessFreeze.PTRACE_INTERRUPT, tid, 0, 0)
            }
            for tid in new where seized.contains(tid) {
                try waitForStop(tid)
            }
        }
        if stopped.isEmpty { throw ExplainError(description: "process \(pid) exited while being examined") }
    }

    /// Why PTRACE_SEIZE was refused, with the likely cause and its fix, in one line.
    package static func refusal(pid: Int32, tid: Int32, errno e: Int32) -> String {
        let base = "cannot attach to \(pid): \(String(cString: strerror(e)))"
        guard e == EPERM else { return base }
        if let tracer = ProcFile.read("/proc/\(pid)/task/\(tid)/status").flatMap({ ProcFile.statusField($0, "TracerPid") })
            .flatMap({ Int32($0) }), tracer != 0 {
            let name = ProcFile.read("/proc/\(tracer)/comm").map { " (\($0.trimmingWhitespace))" } ?? ""
            return base + ": it is already traced by process \(tracer)\(name); only one tracer at a time"
        }
        let scope = ProcFile.read("/proc/sys/kernel/yama/ptrace_scope").flatMap { Int($0.trimmingWhitespace) }
        if getuid() != 0, let scope, scope >= 1 {
            return base + ": kernel.yama.ptrace_scope is \(scope); run as root, or `sudo sysctl kernel.yama.ptrace_scope=0`"
        }
        return base + " (a process of another user or a setuid program needs root; or ptrace is restricted here)"
    }

    /// Hands the stopped threads over to a tracer that keeps them (attach): forgets them without
    /// detaching. Returns them main thread first.
    package mutating func handOver() -> [StoppedThread] {
        defer {
            seized.removeAll()
            stopped.removeAll()
        }
        return sortedStopped
    }

    package var sortedStopped: [StoppedThread] {
        stopped.values.sorted { a, b in a.tid == pid ? true : b.tid == pid ? false : a.tid < b.tid }
    }

    /// Waits for the stop of one seized thread: the PTRACE_EVENT_STOP of our interrupt, or a
    /// signal-delivery-stop that came first (its signal is handed back at detach).
    private mutating func waitForStop(_ tid: Int32) throws(ExplainError) {
        while true {
            var status: Int32 = 0
            let r = waitpid(tid, &status, cshims_WALL)
            if r < 0 {
                if errno == EINTR { continue }
                if errno == ECHILD {  // the thread is gone (exec or exit)
                    seized.removeAll { $0 == tid }
                    return
                }
                throw ExplainError(description: "waitpid(\(tid)): \(String(cString: strerror(errno)))")
            }
            if cshims_wifexited(status) != 0 || cshims_wifsignaled(status) != 0 {
                seized.removeAll { $0 == tid }
                return
            }
            guard cshims_wifstopped(status) != 0 else { continue }
            let event = cshims_wptrace_event(status)
            var signal: Int32 = 0
            let groupStopped = event == cshims_PTRACE_EVENT_STOP && Ptrace.isGroupStop(cshims_wstopsig(status))
            if event == 0 {
                // A signal-delivery-stop: the thread is stopped, keep the signal for detach.
                signal = cshims_wstopsig(status)
            } else if event != cshims_PTRACE_EVENT_STOP {
                // Another event (none were asked for); treat it as stopped.
                signal = 0
            }
            var regs = cshims_regs()
            let haveRegs = cshims_getregs(tid, &regs) == 0
            stopped[tid] = StoppedThread(tid: tid, pendingSignal: signal, registers: haveRegs ? regs : nil,
                                         groupStopped: groupStopped)
            return
        }
    }

    /// Detaches from every seized thread. Threads seized but never seen stopped are interrupted
    /// and waited for first (PTRACE_DETACH needs a ptrace-stop); if that fails the kernel detaches
    /// them when mapblame exits.
    package mutating func detachAll() {
        for tid in seized {
            if stopped[tid] == nil {
                _ = cshims_ptrace(ProcessFreeze.PTRACE_INTERRUPT, tid, 0, 0)
                try? waitForStop(tid)
            }
            let signal = stopped[tid]?.pendingSignal ?? 0
            _ = cshims_ptrace(cshims_PTRACE_DETACH, tid, 0, UInt64(signal))
        }
        seized.removeAll()
        stopped.removeAll()
    }

    /// Stops the process, runs `body` with the stopped threads (main thread first), detaches.
    package static func whileStopped<T>(pid: Int32, _ body: ([StoppedThread]) throws(ExplainError) -> T) throws(ExplainError) -> T {
        var freeze = ProcessFreeze(pid: pid)
        defer { freeze.detachAll() }
        try freeze.stopAll()
        return try body(freeze.sortedStopped)
    }
}
