import Glibc
import MapBlame

/// Messages to stderr (fd 2 directly: the Glibc `stderr` global is not concurrency-safe).
enum Diagnostics {
    static func writeStderr(_ text: String) {
        _ = FileIO.writeAll(2, Array(text.utf8)[...])
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
