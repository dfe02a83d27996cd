import CShims
import Glibc
import MapBlameModel

/// Set-user-ID, set-group-ID and file capabilities do nothing for a program mapblame runs: its
/// seccomp filter needs PR_SET_NO_NEW_PRIVS, under which execve grants no privileges (the
/// effective ids stay the real ones, file capabilities are not raised). A program that needs them
/// (ping for a normal user) then fails in words that say nothing of mapblame; this says it first,
/// when it matters: a set-user-ID file owned by another user than the real one (for root too: a
/// program set-user-ID nobody would run as root), set-group-ID of another group, or file
/// capabilities for anyone but root (who has every capability anyway).
public enum PrivilegeLoss {
    /// One line saying what the program at `path` loses when a process of real ids `uid` and
    /// `gid` executes it under mapblame, or nil when nothing changes (or it is a script, whose
    /// set-id bits Linux ignores anyway).
    public static func notice(path: String, uid: uid_t, gid: gid_t) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, !isScript(path) else { return nil }
        var lost: [String] = []
        if st.st_mode & S_ISUID != 0 && st.st_uid != uid { lost.append("set-user-ID \(userName(st.st_uid))") }
        if st.st_mode & S_ISGID != 0 && st.st_mode & S_IXGRP != 0 && st.st_gid != gid {
            lost.append("set-group-ID \(groupName(st.st_gid))")
        }
        if uid != 0 && cshims_has_file_capabilities(path) != 0 { lost.append("file capabilities") }
        guard !lost.isEmpty else { return nil }
        return "\(path): \(lost.joined(separator: ", ")) ignored under mapblame (its seccomp filter needs "
            + "no_new_privs): it runs as uid \(uid) gid \(gid) and may fail"
    }

    /// The notice for the program thread `tid` just exec'd, for its real ids (from /proc).
    package static func notice(afterExecOf tid: Int32, path: String) -> String? {
        guard let status = ProcFile.read("/proc/\(tid)/status"),
              let uid = firstID(status, "Uid"), let gid = firstID(status, "Gid") else { return nil }
        return notice(path: path, uid: uid, gid: gid)
    }

    /// The first (real) id of a Uid:/Gid: line of /proc/PID/status.
    private static func firstID(_ status: String, _ key: String) -> UInt32? {
        ProcFile.statusField(status, key)?.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { UInt32($0) }
    }

    private static func isScript(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic: (UInt8, UInt8) = (0, 0)
        return read(fd, &magic, 2) == 2 && magic == (UInt8(ascii: "#"), UInt8(ascii: "!"))
    }

    private static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }

    private static func groupName(_ gid: gid_t) -> String {
        guard let entry = getgrgid(gid), let name = entry.pointee.gr_name else { return "gid \(gid)" }
        return String(cString: name)
    }
}
