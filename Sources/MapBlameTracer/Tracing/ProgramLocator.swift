import Glibc
import MapBlameModel

/// Finds the file to execute the way a shell does: a name with a slash is used as is, others are
/// searched in PATH. Checks done before forking give precise errors (not found vs not executable).
public enum ProgramLocator {
    public static func locate(_ program: String, path: String? = getenv("PATH").map { String(cString: $0) })
        throws(LaunchError) -> String {
        guard !program.isEmpty else { throw .notFound(program) }
        if program.contains("/") {
            try check(program, named: program)
            return program
        }
        var firstDenied: String?
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + program
            var st = stat()
            guard stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            if access(candidate, X_OK) == 0 { return candidate }
            if firstDenied == nil { firstDenied = candidate }
        }
        if let denied = firstDenied { throw .notExecutable(denied, reason: "Permission denied") }
        throw .notFound(program)
    }

    private static func check(_ file: String, named name: String) throws(LaunchError) {
        var st = stat()
        guard stat(file, &st) == 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .notFound(name) }
            throw .notExecutable(name, reason: errnoText(e))
        }
        if st.st_mode & S_IFMT == S_IFDIR { throw .notExecutable(name, reason: "Is a directory") }
        if access(file, X_OK) != 0 { throw .notExecutable(name, reason: errnoText(errno)) }
    }
}
