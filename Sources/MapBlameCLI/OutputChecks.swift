import ArgumentParser
import Glibc
import MapBlame

enum FileChecks {
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }
}

/// A command's output options, checked before anything runs (`OutputFile`'s rules): each can be
/// written, and at most one of them goes to standard output.
enum OutputChecks {
    /// `outputs`: each option's name and value (nil: not given). `standardOutput`: what already
    /// goes to standard output when no option says otherwise (attach's text report), if anything.
    static func validate(_ outputs: [(option: String, value: String?)], standardOutput: String? = nil) throws {
        var toStandardOutput = standardOutput.map { [$0] } ?? []
        for case let (option, value?) in outputs {
            if value == "-" {
                toStandardOutput.append("\(option) -")
            } else if let problem = OutputFile.problem(value) {
                throw ValidationError("\(option): \(problem)")
            }
        }
        if toStandardOutput.count > 1 {
            throw ValidationError("\(toStandardOutput.joined(separator: " and ")) would all go to standard output: "
                + "give a file name to all but one")
        }
    }
}
