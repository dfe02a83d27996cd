import CShims
import Glibc
import MapBlameModel

/// Thin Swift spellings of the ptrace requests the tracer makes. All must be called from the
/// thread that launched the tracee (ptrace binds to the tracer thread).
package enum Ptrace {
    /// Resumes a stopped tracee, delivering `signal` (0 for none). ESRCH (the tracee died
    /// meanwhile) is normal: its death is reported through waitpid.
    package static func cont(_ tid: Int32, signal: Int32 = 0) {
        _ = cshims_ptrace(cshims_PTRACE_CONT, tid, 0, UInt64(signal))
    }

    /// Resumes until the next syscall stop (used after a seccomp stop to get the exit stop).
    package static func toSyscallExit(_ tid: Int32, signal: Int32 = 0) {
        _ = cshims_ptrace(cshims_PTRACE_SYSCALL, tid, 0, UInt64(signal))
    }

    /// Leaves a tracee in its group-stop while letting SIGCONT (and other notifications) through.
    package static func listen(_ tid: Int32) {
        _ = cshims_ptrace(cshims_PTRACE_LISTEN, tid, 0, 0)
    }

    /// What a syscall stop is (PTRACE_GET_SYSCALL_INFO, Linux 5.3+): an entry with the syscall
    /// number, or an exit. Without the seccomp filter (attach) entry and exit stops look alike.
    package enum SyscallStop: Equatable {
        case entry(number: UInt64, arch: UInt32)
        case exit
        case unknown
    }

    package static let PTRACE_GET_SYSCALL_INFO: Int32 = 0x420e

    package static func syscallStop(_ tid: Int32) -> SyscallStop {
        guard let info = syscallInfo(tid) else { return .unknown }
        switch info.op {
        case 1: return .entry(number: info.number, arch: info.arch)
        case 2: return .exit
        default: return .unknown
        }
    }

    /// PTRACE_GET_SYSCALL_INFO: the kind of stop (op: 1 entry, 2 exit, 3 seccomp, 0 other), the
    /// ABI of the call (an AUDIT_ARCH_* value, given at every stop) and, at an entry or seccomp
    /// stop, its number.
    package static func syscallInfo(_ tid: Int32) -> (op: UInt8, arch: UInt32, number: UInt64)? {
        // struct ptrace_syscall_info: op (u8), 3 pad bytes, arch (u32), instruction and stack
        // pointers (u64 each), then for an entry or seccomp stop the syscall number (u64).
        var info: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let n = withUnsafeMutableBytes(of: &info) { raw in
            cshims_ptrace(PTRACE_GET_SYSCALL_INFO, tid, UInt64(raw.count), UInt64(UInt(bitPattern: raw.baseAddress!)))
        }
        guard n > 0 else { return nil }
        return (UInt8(info.0 & 0xff), UInt32(truncatingIfNeeded: info.0 >> 32), info.3)
    }

    /// The signals whose PTRACE_EVENT_STOP is a group-stop (the process stops until SIGCONT).
    package static func isGroupStop(_ signal: Int32) -> Bool {
        signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU
    }

    package static func registers(_ tid: Int32) -> cshims_regs? {
        var r = cshims_regs()
        return cshims_getregs(tid, &r) == 0 ? r : nil
    }

    package static func eventMessage(_ tid: Int32) -> UInt64? {
        var msg: UInt64 = 0
        return cshims_geteventmsg(tid, &msg) == 0 ? msg : nil
    }

    /// Reads `count` bytes of tracee memory, nil if unreadable.
    package static func read(_ pid: Int32, at address: UInt64, count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { cshims_read_memory(pid, address, $0.baseAddress!, UInt64(count)) }
        return n == count ? buffer : nil
    }
}
