import Glibc

struct OutputError: Error, CustomStringConvertible {
    var description: String
}

/// Report files are written to a temporary file beside the target and renamed over it, so an
/// existing report is never left half-overwritten.
enum OutputFile {
    static func write(_ text: String, to path: String) throws(OutputError) {
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let e = errno
                close(fd)
                unlink(temp)
                throw OutputError(description: "cannot write \(path): \(String(cString: strerror(e)))")
            }
            bytes = bytes.dropFirst(n)
        }
        if fsync(fd) != 0 || close(fd) != 0 || rename(temp, path) != 0 {
            let e = errno
            unlink(temp)
            throw OutputError(description: "cannot write \(path): \(String(cString: strerror(e)))")
        }
    }
}

enum FileChecks {
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// Why `path` cannot be an output file, checked before tracing starts; nil if it looks fine.
    static func outputProblem(_ path: String) -> String? {
        if path.isEmpty { return "empty file name" }
        if isDirectory(path) { return "is a directory" }
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        if !isDirectory(dir.isEmpty ? "/" : dir) { return "directory \(dir) does not exist" }
        if access(dir.isEmpty ? "/" : dir, W_OK) != 0 { return "directory \(dir) is not writable" }
        return nil
    }
}
