import Glibc

/// Messages to stderr (fd 2 directly: the Glibc `stderr` global is not concurrency-safe).
enum Diagnostics {
    static func writeStderr(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(n)
        }
    }

    /// One line naming the problem, then exit with `status`.
    static func fail(_ message: String, status: Int32) -> Never {
        writeStderr("mapblame: \(message)\n")
        exitNow(status)
    }

    static func exitNow(_ status: Int32) -> Never {
        exit(status)
    }
}
