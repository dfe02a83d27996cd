import CShims
import MapBlameModel

/// How traced threads stop and go on: what `run` and `attach` do differently, and nothing else.
/// The tracer's loop, its model of each address space and its records are the same for both.
///
/// - `LaunchStops` (`run`, `record`): the program starts under mapblame's seccomp filter, so a
///   thread stops only at a mapping or clone-family call (a seccomp stop), and at that call's exit
///   only when its result is needed (PTRACE_SYSCALL once, then PTRACE_CONT); results the model
///   can tell in advance need no exit stop at all (`Tracer.predictsSuccess`).
/// - `AttachStops` (`attach`): a running process cannot be given a filter, so every syscall stops
///   at its entry and exit (PTRACE_SYSCALL always), the kernel tells which call and ABI it is; the
///   session ends on a stop signal or a deadline, and then every thread is held for the detach.
package protocol StopPolicy: AnyObject {
    /// The program was started by mapblame and inherited its CPU affinity: on a single allowed CPU
    /// the two share it (`Tracer.onOneCPU`).
    var inheritsAffinity: Bool { get }
    /// munmap and mprotect results may be predicted at the entry stop (one stop instead of two).
    var predictsResults: Bool { get }
    /// The ABI of a stopped call when the registers alone tell it; nil: ask the kernel.
    func abi(fromRegisters regs: cshims_regs) -> SyscallABI?
    /// Asked before each wait: true ends the loop (the tracer has let every thread go).
    func sessionOver(_ tracer: Tracer) -> Bool
    /// A syscall stop (SIGTRAP|0x80): an entry or an exit.
    func syscallStop(_ task: TaskState, tracer: Tracer)
    /// A group-stop (SIGSTOP, SIGTSTP, ...): the thread stays stopped until SIGCONT, as untraced.
    func groupStop(_ task: TaskState)
    /// Lets a stopped thread go on, delivering `signal` (0: none).
    func resume(_ task: TaskState, signal: Int32)
}

/// `run` and `record`: seccomp stops, an exit stop only for a call whose result is needed.
package final class LaunchStops: StopPolicy {
    package init() {}

    package var inheritsAffinity: Bool { true }
    package var predictsResults: Bool { true }

    package func abi(fromRegisters regs: cshims_regs) -> SyscallABI? {
        TracedSyscall.seccompStopABI(number: regs.orig_rax, codeIs32Bit: regs.cs == Tracer.user32CodeSegment)
    }

    package func sessionOver(_ tracer: Tracer) -> Bool { false }  // the loop ends when every task is gone

    /// Under the filter the only syscall stops are the exits asked for by `resume`.
    package func syscallStop(_ task: TaskState, tracer: Tracer) {
        tracer.syscallExit(task)
    }

    package func groupStop(_ task: TaskState) {
        Ptrace.listen(task.tid)
    }

    /// To the call's exit stop when one is pending, else to the next seccomp stop.
    package func resume(_ task: TaskState, signal: Int32) {
        if task.pending != nil {
            Ptrace.toSyscallExit(task.tid, signal: signal)
        } else {
            Ptrace.cont(task.tid, signal: signal)
        }
    }
}
