import Glibc

extension OutputFile {
    /// Writes `bytes` (a binary output: the pprof profile) to the output named `name`, completely or
    /// not at all, as `write(_:to:)` writes text.
    public static func write(bytes: [UInt8], to name: String) throws(OutputError) {
        let output = try open(name)
        do throws(OutputError) {
            try output.write(bytes)
            try output.finish()
        } catch {
            output.discard()
            throw error
        }
    }

    /// Whether `name` is a terminal (`-` when standard output is one): no place for binary output.
    /// Only a character device is opened to ask (opening and closing a FIFO would end its
    /// reader's input).
    public static func isTerminal(_ name: String) -> Bool {
        if name == "-" { return isatty(STDOUT_FILENO) == 1 }
        var st = stat()
        guard stat(name, &st) == 0, st.st_mode & S_IFMT == S_IFCHR else { return false }
        let fd = Glibc.open(name, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return isatty(fd) == 1
    }
}
