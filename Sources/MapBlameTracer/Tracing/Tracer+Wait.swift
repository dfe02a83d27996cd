import CShims
import Glibc
import MapBlameModel

/// Waiting for the next stop: polled briefly before sleeping when the program runs on another CPU.
extension Tracer {
    /// What a wait brought.
    package enum Wait {
        /// A task stopped or ended, with its wait status.
        case stop(tid: Int32, status: Int32)
        /// A signal came first (attach's tick): the loop looks at its session again.
        case interrupted
        /// No traced task is left.
        case done
    }

    /// Waits for the next stopped or ended task.
    package func nextStop() -> Wait {
        var status: Int32 = 0
        let scope: Int32 = options.ownProcessGroup ? -rootPid : -1
        // Spinning only helps when the program runs on another CPU; on the same one it would
        // steal the CPU the program needs to reach its next stop.
        var tid: Int32 = 0
        if !onOneCPU {
            tid = Tracer.pollWait(scope, &status)
        } else if !writer.isDurable {  // else nothing to flush: no need to know whether we will sleep
            tid = waitpid(scope, &status, cshims_WALL | WNOHANG)
        }
        if tid == 0 {
            writer.flush()  // about to sleep: put what was recorded on disk first
            tid = waitpid(scope, &status, cshims_WALL)
        }
        if tid > 0 { return .stop(tid: tid, status: status) }
        if errno == EINTR { return .interrupted }
        guard scope != -1, !tasks.isEmpty else { return .done }  // ECHILD: every traced task is gone
        tid = waitOutsideGroup(&status)
        return tid < 0 ? .done : .stop(tid: tid, status: status)
    }

    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Polls waitpid for a short while before the caller blocks in it. A tracer asleep in waitpid
    /// lets its vCPU go idle, and waking an idle vCPU through the hypervisor costs tens of µs per
    /// stop (PTRACE-NOTES.md); the tracee's next stop usually comes within a few µs.
    /// Traced tasks that left the program's process group (setsid, setpgid): polled one by one.
    private func waitOutsideGroup(_ status: inout Int32) -> Int32 {
        while !tasks.isEmpty {
            for tid in tasks.keys {
                let r = waitpid(tid, &status, cshims_WALL | WNOHANG)
                if r > 0 { return r }
                if r < 0 && errno == ECHILD { tasks[tid] = nil }
            }
            usleep(1000)
        }
        return -1
    }

    private static func pollWait(_ scope: Int32, _ status: inout Int32) -> Int32 {
        var start = timespec(), now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while true {
            let tid = waitpid(scope, &status, cshims_WALL | WNOHANG)
            if tid != 0 { return tid }
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsed = (now.tv_sec - start.tv_sec) * 1_000_000_000 + (now.tv_nsec - start.tv_nsec)
            if elapsed > pollNanoseconds { return 0 }
        }
    }

    /// How long `pollWait` spins before sleeping: 50 µs halved the time of an unpinned mmap loop
    /// on this machine kind (bench/README.md); MAPBLAME_POLL_NS overrides it for measurements.
    package static let pollNanoseconds: Int = {
        getenv("MAPBLAME_POLL_NS").flatMap { Int(String(cString: $0)) } ?? 50_000
    }()
}
