/// What /proc says about a thread of a traced process that may be on its way out.
package enum ThreadDeparture {
    /// PF_EXITING in /proc/TID/stat's flags: the thread is past the point of its
    /// PTRACE_EVENT_EXIT stop, whether it stopped there or not.
    package static let exitingFlag: UInt64 = 0x4
    package static let sigkill: UInt64 = 1 << (9 - 1)

    /// Whether thread `tid` is gone or killed: no longer in /proc, a zombie, past its exit point,
    /// or with SIGKILL pending (a group exit or exec in another thread zaps every other thread
    /// that way). Such a thread may leave without an exit stop: Linux 6.x does not stop a task
    /// with a fatal signal pending in ptrace_stop, and threads killed by a group exit were seen to
    /// go without one.
    package static func isLeaving(_ tid: Int32) -> Bool {
        guard let status = ProcFile.read("/proc/\(tid)/status"), let stat = ProcFile.read("/proc/\(tid)/stat") else {
            return true
        }
        return hasPendingKill(status: status) || isExiting(stat: stat)
    }

    /// SigPnd (the thread's own pending signals) holds SIGKILL.
    package static func hasPendingKill(status: String) -> Bool {
        ProcFile.statusField(status, "SigPnd").flatMap { UInt64($0, radix: 16) }.map { $0 & sigkill != 0 } ?? false
    }

    /// State Z or X, or PF_EXITING in the flags (the fields after the command, which is in
    /// parentheses and may contain anything: state is the 1st, flags the 7th).
    package static func isExiting(stat: String) -> Bool {
        guard let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 6 else { return false }
        if fields[0] == "Z" || fields[0] == "X" { return true }
        return UInt64(fields[6]).map { $0 & exitingFlag != 0 } ?? false
    }
}
