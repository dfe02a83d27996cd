import Glibc
import MapBlame

/// Messages to stderr (fd 2 directly: the Glibc `stderr` global is not concurrency-safe).
enum Diagnostics {
    static func writeStderr(_ text: String) {
        _ = FileIO.writeAll(2, Array(text.utf8)[...])
    }

    /// One line naming the problem, then exit with `status`: only `MapBlameCommand.main` ends the
    /// process; everything else throws a `CommandFailure`.
    static func fail(_ message: String, status: Int32) -> Never {
        writeStderr("mapblame: \(message)\n")
        exitNow(status)
    }

    static func exitNow(_ status: Int32) -> Never {
        exit(status)
    }
}

/// A command that cannot go on: one line for stderr and the exit status, thrown by the helpers
/// and mapped to the process's end in one place (`MapBlameCommand.main`).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var status: Int32

    init(_ message: String, status: Int32) {
        self.message = message
        self.status = status
    }

    var description: String { message }
}
