import Glibc

/// Reading /proc files (they report size 0, so read until EOF).
public enum ProcFile {
    public static func read(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The file's bytes (binary files such as /proc/PID/auxv).
    public static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return FileIO.readAll(fd)
    }

    /// The value of field `key` ("Tgid", "Umask", "Uid"...) of a /proc/PID/status text, trimmed
    /// ("1234", "0022", "0\t0\t0\t0"); nil if the field is not there.
    package static func statusField(_ status: String, _ key: String) -> String? {
        if let plain = ProcfsBytes.statusField(status, key) { return plain }  // the kernel's form, by bytes
        let prefix = key + ":"
        return status.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { $0.dropFirst(prefix.count).trimmingWhitespace }
    }

    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// /proc/PID/cmdline as arguments; empty if unreadable (or a kernel thread).
    public static func commandLine(_ pid: Int32) -> [String] {
        read("/proc/\(pid)/cmdline").map { $0.split(separator: "\0").map(String.init) } ?? []
    }

    /// /proc/PID/maps parsed; nil if unreadable or malformed.
    public static func maps(_ tid: Int32) -> [MapsEntry]? {
        read("/proc/\(tid)/maps").flatMap { try? MapsEntry.parseMaps($0) }
    }
}
