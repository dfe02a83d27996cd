import Glibc

/// Why an output could not be written (or read back): one line naming the file.
public struct OutputError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Every file mapblame writes goes through here, with one set of rules (README "Output files"):
/// - `-` is standard output.
/// - A symbolic link is followed: the output goes to its target and the link stays a link.
/// - What is not a regular file (a character or block device, a FIFO, a socket) is written in
///   place, never replaced: `-o /dev/null` throws the report away.
/// - A regular file or a new path is written to a temporary file beside it, created with an
///   unpredictable name and O_EXCL (so no link or file planted in the directory is written
///   through), which takes the old file's permissions and owner, and is renamed over it when
///   complete: a reader sees the old file or the new one, never half of one. A regular file whose
///   directory is not writable (or that has other hard links) is written in place instead.
/// - A read-only file is refused, root or not.
public final class OutputFile {
    /// The name as given (`-`, a path), for messages.
    public let name: String
    /// The descriptor the bytes go to.
    public let fd: Int32
    /// Whether `fd` is a regular file of ours, that may be mapped, truncated and synced (not
    /// standard output, a device, a FIFO or a socket).
    public let isRegularFile: Bool
    public var isStandardOutput: Bool { fd == 1 && name == "-" }
    /// Where the bytes are now: the temporary file until `publish`, then the target (nil for
    /// standard output, devices and sockets, which cannot be read back).
    public private(set) var path: String?
    /// The temporary file and the path it becomes.
    private var pending: (temp: String, target: String, replacing: Bool)?
    /// A file we created that holds only what we wrote (a `temporary` one, or the target a
    /// temporary file became): `discard` removes it.
    private var created: String?
    private var closed = false

    private init(name: String, fd: Int32, isRegularFile: Bool, path: String?,
                 pending: (temp: String, target: String, replacing: Bool)?) {
        self.name = name
        self.fd = fd
        self.isRegularFile = isRegularFile
        self.path = path
        self.pending = pending
    }

    deinit { closeDescriptor() }

    // MARK: deciding where a name leads

    /// Where the output named `name` goes.
    package enum Destination: Equatable {
        case standardOutput
        /// One of mapblame's own open descriptors, named through /dev/stdout, /dev/fd/N or
        /// /proc/self/fd/N: written through a duplicate, at the descriptor's own position (a shell's
        /// `>>` keeps appending, what came before stays).
        case descriptor(Int32)
        /// A device, FIFO or socket, or a regular file that cannot be replaced: written in place.
        case inPlace(path: String, type: mode_t)
        /// A regular file (its stat) or a new path (nil): a temporary file renamed over it.
        case replace(path: String, existing: Existing?)
    }

    package struct Existing: Equatable {
        package var mode: mode_t
        package var uid: uid_t
        package var gid: gid_t
    }

    /// Why `name` cannot be written, checked before tracing starts; nil if it can. Creates nothing.
    public static func problem(_ name: String) -> String? {
        do { _ = try destination(name) } catch { return error.description }
        return nil
    }

    /// Whether the output named `name` is a regular file, that can be read back once written
    /// (false for standard output, devices, FIFOs, sockets and names that cannot be written).
    public static func isRegularFile(_ name: String) -> Bool {
        switch try? destination(name) {
        case .replace?: return true
        case .inPlace(_, let type)?: return type == S_IFREG
        default: return false
        }
    }

    package static func destination(_ name: String) throws(OutputError) -> Destination {
        if name == "-" { return .standardOutput }
        guard !name.isEmpty else { throw OutputError(description: "empty file name") }
        let path = try followLinks(name)
        if let fd = ownDescriptor(path) {
            guard fcntl(fd, F_GETFL) & O_ACCMODE != O_RDONLY else {
                throw OutputError(description: "\(name): descriptor \(fd) is open for reading only")
            }
            return .descriptor(fd)
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            let e = errno
            guard e == ENOENT else { throw failure(name, "cannot write", errno: e) }
            let dir = directory(of: path)
            guard isDirectory(dir) else {
                throw OutputError(description: "\(name): directory \(dir) does not exist")
            }
            guard access(dir, W_OK) == 0 else { throw OutputError(description: "\(name): directory \(dir) is not writable") }
            return .replace(path: path, existing: nil)
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            throw OutputError(description: "\(name): is a directory")
        case S_IFREG:
            guard st.st_mode & 0o222 != 0, access(path, W_OK) == 0 else {
                throw OutputError(description: "\(name): the file is read-only (left untouched)")
            }
            if access(directory(of: path), W_OK) != 0 || st.st_nlink > 1 {
                return .inPlace(path: path, type: S_IFREG)
            }
            return .replace(path: path, existing: Existing(mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid))
        default:
            return .inPlace(path: path, type: st.st_mode & S_IFMT)
        }
    }

    /// `name` with every symbolic link on its last component followed (a link to a link...), the
    /// way open() would follow them; a dangling link leads to the path it names. A link to what is
    /// not a regular file is left for open() to follow: /proc's links to a descriptor
    /// (/dev/stdout, /proc/self/fd/1) name a pipe or socket that has no path.
    private static func followLinks(_ name: String) throws(OutputError) -> String {
        var path = name
        for _ in 0..<40 {
            var st = stat()
            guard ownDescriptor(path) == nil, lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFLNK else { return path }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(path, &buffer, buffer.count - 1)
            guard n > 0 else { throw failure(name, "cannot read the link", errno: errno) }
            let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let next = target.hasPrefix("/") ? target : directory(of: path) + "/" + target
            if ownDescriptor(next) == nil && stat(path, &st) == 0 && st.st_mode & S_IFMT != S_IFREG { return path }
            path = next
        }
        throw OutputError(description: "\(name): too many levels of symbolic links")
    }

    /// N when `path` is /dev/fd/N, /proc/self/fd/N (or thread-self, or our pid) and N is open.
    private static func ownDescriptor(_ path: String) -> Int32? {
        let parts = path.split(separator: "/")
        let names = parts.count == 3 && parts[0] == "dev" && parts[1] == "fd"
            || parts.count == 4 && parts[0] == "proc" && parts[2] == "fd"
                && (parts[1] == "self" || parts[1] == "thread-self" || parts[1] == "\(getpid())")
        guard path.hasPrefix("/"), names, let fd = Int32(parts.last!), fd >= 0, fcntl(fd, F_GETFD) >= 0 else { return nil }
        return fd
    }

    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    private static func failure(_ name: String, _ what: String, errno e: Int32) -> OutputError {
        OutputError(description: "\(what) \(name): \(String(cString: strerror(e)))")
    }

    // MARK: opening

    /// Opens the output named `name` by the rules above. A regular file's bytes go to a temporary
    /// file until `publish` (or `finish`); the target is untouched until then.
    public static func open(_ name: String) throws(OutputError) -> OutputFile {
        switch try destination(name) {
        case .standardOutput:
            return OutputFile(name: name, fd: 1, isRegularFile: false, path: nil, pending: nil)
        case .descriptor(let number):
            let fd = fcntl(number, F_DUPFD_CLOEXEC, 3)
            guard fd >= 0 else { throw failure(name, "cannot write", errno: errno) }
            return OutputFile(name: name, fd: fd, isRegularFile: false, path: nil, pending: nil)
        case .inPlace(let path, let type):
            let fd = type == S_IFSOCK ? connectSocket(path) : openInPlace(path, regular: type == S_IFREG)
            guard fd >= 0 else { throw failure(name, "cannot write", errno: errno) }
            return OutputFile(name: name, fd: fd, isRegularFile: type == S_IFREG,
                              path: type == S_IFREG ? path : nil, pending: nil)
        case .replace(let path, let existing):
            let (fd, temp) = try createTemporary(directory: directory(of: path), prefix: "." + baseName(path) + ".",
                                                 suffix: "", name: name)
            if let existing {
                // The owner first: fchown clears set-id bits, which fchmod then puts back.
                _ = fchown(fd, existing.uid, existing.gid)
                _ = fchmod(fd, existing.mode)
            } else {
                _ = fchmod(fd, 0o666 & ~currentUmask())
            }
            return OutputFile(name: name, fd: fd, isRegularFile: true, path: temp,
                              pending: (temp: temp, target: path, replacing: true))
        }
    }

    /// A new file of mapblame's own naming in `directory`: `prefix` + 6 random characters +
    /// `suffix`, created with O_EXCL, read-write for its owner only unless `shared` (then with the
    /// permissions of any new file, 0666 less the umask). `publish(as:)` links it to its final
    /// name without replacing anything; a file never published is removed by `discard`.
    public static func temporary(directory: String, prefix: String, suffix: String, shared: Bool = false) throws(OutputError) -> OutputFile {
        let (fd, temp) = try createTemporary(directory: directory, prefix: prefix, suffix: suffix, name: "\(directory)/\(prefix)XXXXXX\(suffix)")
        if shared { _ = fchmod(fd, 0o666 & ~currentUmask()) }
        let output = OutputFile(name: temp, fd: fd, isRegularFile: true, path: temp, pending: nil)
        output.created = temp
        return output
    }

    /// The directory for temporary files: $TMPDIR, else /tmp.
    public static var temporaryDirectory: String {
        if let dir = getenv("TMPDIR").map({ String(cString: $0) }), !dir.isEmpty, isDirectory(dir) { return dir }
        return "/tmp"
    }

    private static func createTemporary(directory: String, prefix: String, suffix: String,
                                        name: String) throws(OutputError) -> (Int32, String) {
        // O_CREAT|O_EXCL (mkstemp's way): an existing name, a planted link or file, is never
        // opened; a random name is tried again.
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in 0..<100 {
            let random = String((0..<6).map { _ in letters.randomElement()! })
            let temp = "\(directory)/\(prefix)\(random)\(suffix)"
            let fd = Glibc.open(temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { return (fd, temp) }
            if errno != EEXIST { throw failure(name, "cannot write", errno: errno) }
        }
        throw failure(name, "cannot write", errno: EEXIST)
    }

    private static func openInPlace(_ path: String, regular: Bool) -> Int32 {
        // No O_CREAT: the file exists and is written as it is. A regular file is emptied (O_TRUNC)
        // and opened for reading too where allowed (the trace writer maps it); a FIFO waits for
        // its reader here, as a shell's redirection does.
        let flags = O_NOCTTY | O_CLOEXEC | (regular ? O_TRUNC | O_NOFOLLOW : 0)
        if regular {
            let fd = Glibc.open(path, O_RDWR | flags)
            if fd >= 0 || errno != EACCES { return fd }
        }
        return Glibc.open(path, O_WRONLY | flags)
    }

    private static func connectSocket(_ path: String) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            errno = ENAMETOOLONG
            return -1
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        for type in [Int32(SOCK_STREAM.rawValue), Int32(SOCK_DGRAM.rawValue)] {
            let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return -1 }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc == 0 { return fd }
            let e = errno
            close(fd)
            errno = e
            if e != EPROTOTYPE { return -1 }
        }
        return -1
    }

    private static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The process's umask, read without changing it (umask() would, for every thread).
    private static func currentUmask() -> mode_t {
        ProcFile.read("/proc/self/status").flatMap { ProcFile.statusField($0, "Umask") }.flatMap { mode_t($0, radix: 8) } ?? 0o022
    }

    // MARK: writing and finishing

    /// Writes all of `bytes` at the descriptor's position.
    public func write(_ bytes: [UInt8]) throws(OutputError) {
        let e = FileIO.writeAll(fd, bytes[...])
        if e != 0 { throw Self.failure(name, "cannot write", errno: e) }
    }

    /// Renames the temporary file over its target: from now on the output is at its name.
    public func publish() throws(OutputError) {
        guard let pending else { return }
        guard rename(pending.temp, pending.target) == 0 else {
            let e = errno
            unlink(pending.temp)
            self.pending = nil
            throw Self.failure(name, "cannot write", errno: e)
        }
        path = pending.target
        created = pending.target
        self.pending = nil
    }

    /// Links a `temporary` file to `target` in its directory without replacing anything there;
    /// when the name is taken, `target` with -2, -3... before its extension. Returns the name used
    /// (the temporary one if none could be had).
    @discardableResult
    public func publish(as target: String, extension ext: String) -> String {
        guard let current = path else { return name }
        for n in 1...20 {
            let candidate = n == 1 ? target + ext : "\(target)-\(n)\(ext)"
            if link(current, candidate) == 0 {
                unlink(current)
                path = candidate
                created = candidate
                return candidate
            }
            if errno != EEXIST { break }
        }
        return current
    }

    /// Syncs a regular file to the disk (when `sync`), closes the descriptor and publishes the
    /// temporary file.
    public func finish(sync: Bool = true) throws(OutputError) {
        if sync && isRegularFile && fsync(fd) != 0 {
            let e = errno
            discard()
            throw Self.failure(name, "cannot write", errno: e)
        }
        if !closeDescriptor() {
            let e = errno
            discard()
            throw Self.failure(name, "cannot write", errno: e)
        }
        try publish()
    }

    /// Closes the descriptor (never standard output's); false if close reported a write error.
    @discardableResult
    public func closeDescriptor() -> Bool {
        guard !closed else { return true }
        closed = true
        if fd == 1 && name == "-" { return true }
        return close(fd) == 0
    }

    /// Gives up: closes the descriptor and removes what we created (the temporary file, or the
    /// file it became; a file that was there before and not yet replaced is as it was).
    public func discard() {
        closeDescriptor()
        if let pending { unlink(pending.temp) }
        if let created { unlink(created) }
        pending = nil
        created = nil
    }

    /// Copies the file at `source` to the output named `name`, completely or not at all.
    public static func copy(_ source: String, to name: String) throws(OutputError) {
        let input = Glibc.open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure(source, "cannot read", errno: errno) }
        defer { close(input) }
        let output = try open(name)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        do throws(OutputError) {
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw failure(source, "cannot read", errno: errno) }
                if n == 0 { break }
                try output.write(Array(buffer[..<n]))
            }
            try output.finish()
        } catch {
            output.discard()
            throw error
        }
    }

    /// Writes `text` to the output named `name`, completely or not at all.
    public static func write(_ text: String, to name: String) throws(OutputError) {
        let output = try open(name)
        do throws(OutputError) {
            try output.write(Array(text.utf8))
            try output.finish()
        } catch {
            output.discard()
            throw error
        }
    }
}
