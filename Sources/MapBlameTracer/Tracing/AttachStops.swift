import CShims
import Glibc
import MapBlameModel

/// `attach`: every syscall stops at its entry and exit (PTRACE_SYSCALL); mapping and clone-family
/// calls go the way seccomp stops go under `run`. On SIGINT/SIGTERM/SIGHUP (the shim's stop
/// signals) or at the deadline the session drains: every thread is held at its next stop, then
/// the surviving processes are snapshotted and every thread is detached.
package final class AttachStops: StopPolicy {
    /// How long the session lasts (`--duration`), counted from the loop's start (after the seize);
    /// nil: until a stop signal or the process's exit.
    private let duration: Double?
    private var deadline: Double?
    /// The session is ending: every stop holds its thread for the detach.
    private var draining = false
    /// When waiting for every thread to stop for the detach gives up.
    private var drainDeadline = 0.0

    package init(duration: Double?) {
        self.duration = duration
    }

    package var inheritsAffinity: Bool { false }
    /// Every syscall has its exit stop anyway: the real result is read there.
    package var predictsResults: Bool { false }

    /// Every syscall stops, so only the kernel can tell the ABI (PTRACE_GET_SYSCALL_INFO).
    package func abi(fromRegisters regs: cshims_regs) -> SyscallABI? { nil }

    package func sessionOver(_ tracer: Tracer) -> Bool {
        if deadline == nil, let duration { deadline = Tracer.now() + duration }  // the first wait
        if !draining && (cshims_stop_requested() != 0 || deadline.map({ Tracer.now() >= $0 }) == true) {
            beginDrain(tracer)
        }
        guard draining, tracer.tasks.values.allSatisfy(\.held) || Tracer.now() >= drainDeadline else { return false }
        finish(tracer)
        return true
    }

    /// At an entry, traced calls go through `syscallEntry` (unless draining: the thread is held
    /// there and its call runs after the detach, untraced); every other call just continues.
    package func syscallStop(_ task: TaskState, tracer: Tracer) {
        switch Ptrace.syscallStop(task.tid) {
        case .entry(let number, let arch):
            if !draining, let abi = SyscallABI(auditArch: arch), TracedSyscall.lookup(number, abi: abi) != nil {
                tracer.syscallEntry(task)
            } else {
                resume(task, signal: 0)
            }
        case .exit:
            tracer.syscallExit(task)
        case .unknown:
            resume(task, signal: 0)
        }
    }

    package func groupStop(_ task: TaskState) {
        if draining {
            resume(task, signal: 0)  // held: stopped already, and detached as such
        } else {
            Ptrace.listen(task.tid)
        }
    }

    /// To the next syscall stop; while draining, the thread is held for the detach instead, which
    /// hands it `signal`.
    package func resume(_ task: TaskState, signal: Int32) {
        if draining {
            task.held = true
            task.detachSignal = signal
        } else {
            Ptrace.toSyscallExit(task.tid, signal: signal)
        }
    }

    /// The session ends: threads waiting for the address space are already stopped; every other
    /// one is interrupted, and each is held at its next stop (a call in flight completes first).
    private func beginDrain(_ tracer: Tracer) {
        draining = true
        drainDeadline = Tracer.now() + Tracer.drainSeconds
        for task in tracer.tasks.values {
            for waiting in task.process.space.calls.removeAllWaiting() { waiting.held = true }
        }
        for task in tracer.tasks.values where !task.held {
            _ = cshims_ptrace(ProcessFreeze.PTRACE_INTERRUPT, task.tid, 0, 0)
        }
    }

    /// Every thread is held (or the drain timed out): snapshot each process that is still alive,
    /// then detach from every thread, handing back the signals they were stopped with.
    private func finish(_ tracer: Tracer) {
        var seen = Set<Int32>()
        for task in tracer.tasks.values where task.held && !task.departed && !task.process.liveTids.isEmpty {
            let process = task.process
            guard seen.insert(process.pid).inserted else { continue }
            let held = tracer.tasks.values.filter { $0.process === process && $0.held && !$0.departed }.map(\.tid)
            tracer.appendSnapshot(pid: process.pid, from: "/proc/\(process.pid)/task/\(task.tid)",
                                  threads: [task.tid] + held.filter { $0 != task.tid })
            tracer.writer.append(.detach(pid: process.pid))
        }
        for task in tracer.tasks.values {
            if !task.held {
                // Never seen stopped since the drain began: PTRACE_DETACH needs a stop. Try once
                // more; if it still runs, mapblame's exit detaches it.
                _ = cshims_ptrace(ProcessFreeze.PTRACE_INTERRUPT, task.tid, 0, 0)
            }
            _ = cshims_ptrace(cshims_PTRACE_DETACH, task.tid, 0, UInt64(task.detachSignal))
        }
        for tid in tracer.unclaimedStops { _ = cshims_ptrace(cshims_PTRACE_DETACH, tid, 0, 0) }
        tracer.tasks.removeAll()
        tracer.unclaimedStops.removeAll()
        tracer.writer.flush()
    }
}
