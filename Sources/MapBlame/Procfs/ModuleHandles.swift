import Glibc

/// The code files of traced processes, held open while mapblame runs, for those whose path (as
/// /proc/PID/maps writes it) does not name the same file here: a program of another mount namespace
/// (a container, `unshare -m` with a bind mount) maps files whose paths lead elsewhere or nowhere in
/// mapblame's namespace, and the process, with its /proc/PID/root and map_files, may be gone by the
/// time the report is written. So the tracer opens each module while it is mapped (`ModuleFile`)
/// and keeps the descriptor; the trace and the symbolizer then read it through `/proc/self/fd/N`.
/// A module whose path names the same file here (the usual case, and a chroot's files, whose
/// paths are written from mapblame's root) holds nothing.
///
/// Modules are known by path, as everywhere in a trace. Two different files mapped at the same path
/// (the host's libc and a container's, in one `run`) cannot be told apart by their frames: the
/// path is then marked ambiguous and its frames get no names rather than the other file's.
///
/// Shared by the tracing thread (which registers) and the symbol prefetch thread (which reads).
public final class ModuleHandles: @unchecked Sendable {
    private enum Handle {
        case samePath(device: String, inode: UInt64)
        case held(fd: Int32, device: String, inode: UInt64)
        case ambiguous
    }

    private var handles: [String: Handle] = [:]
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(lock, nil)
    }

    deinit {
        for case .held(let fd, _, _) in handles.values { close(fd) }
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Notes the file that process `pid` maps at `address` under `path` (a live, stopped process).
    /// Returns where to read it now: `path`, `/proc/self/fd/N`, or nil when its frames must not be
    /// named. A file that cannot be opened as the mapped one leaves the path as it is.
    @discardableResult
    public func register(path: String, pid: Int32, address: UInt64) -> String? {
        guard path.hasPrefix("/"), location(of: path) != nil,
              let (fd, entry) = ModuleFile.open(pid: pid, containing: address), entry.path == path
        else { return location(of: path) }
        var kept = false
        pthread_mutex_lock(lock)
        switch handles[path] {
        case nil:
            if Self.sameFile(path, as: fd) {
                handles[path] = .samePath(device: entry.device, inode: entry.inode)
            } else {
                handles[path] = .held(fd: fd, device: entry.device, inode: entry.inode)
                kept = true
            }
        case .samePath(let device, let inode)?, .held(_, let device, let inode)?:
            if device != entry.device || inode != entry.inode { mark(path) }
        case .ambiguous?:
            break
        }
        let result = access(handles[path], path: path)
        pthread_mutex_unlock(lock)
        if !kept { close(fd) }
        return result
    }

    /// Where to read the module recorded as `path`: itself when nothing else was registered, the
    /// held descriptor, or nil when its frames must not be named (two files at that path).
    public func location(of path: String) -> String? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return handles[path].map { access($0, path: path) } ?? path
    }

    /// With `lock` held: two files at one path; the descriptor goes.
    private func mark(_ path: String) {
        if case .held(let fd, _, _)? = handles[path] { close(fd) }
        handles[path] = .ambiguous
    }

    private func access(_ handle: Handle?, path: String) -> String? {
        switch handle {
        case .samePath?, nil: return path
        case .held(let fd, _, _)?: return "/proc/self/fd/\(fd)"
        case .ambiguous?: return nil
        }
    }

    /// Whether `path` here is the open file (same device and inode).
    private static func sameFile(_ path: String, as fd: Int32) -> Bool {
        var here = stat(), open = stat()
        return stat(path, &here) == 0 && fstat(fd, &open) == 0 && here.st_dev == open.st_dev && here.st_ino == open.st_ino
    }
}
