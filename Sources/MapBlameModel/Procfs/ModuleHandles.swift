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
    /// A file as the kernel knows it.
    private struct Identity: Equatable {
        package var device: UInt64
        package var inode: UInt64
    }

    private enum Handle {
        /// The file mapped at the path; `fd` is held when the path here leads elsewhere.
        case file(Identity, fd: Int32?)
        case ambiguous
    }

    private var handles: [String: Handle] = [:]
    private var retired: [Int32] = []
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(lock, nil)
    }

    deinit {
        for case .file(_, let fd?) in handles.values { close(fd) }
        retired.forEach { close($0) }
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Notes the file that process `pid` maps at `address` under `path` (a live, stopped process).
    /// Returns where to read it now: `path`, `/proc/self/fd/N`, or nil when its frames must not be
    /// named. A file that cannot be opened as the mapped one leaves the path as it is. `open`
    /// opens the mapped file without reading /proc/PID/maps (the tracer's model knows the
    /// mapping: `/proc/PID/map_files/START-END`); without it, or when it gives nil, the mapping
    /// is looked up in /proc/PID/maps.
    @discardableResult
    public func register(path: String, pid: Int32, address: UInt64,
                         open: ((UInt64) -> (fd: Int32, entry: MapsEntry)?)? = nil) -> String? {
        guard path.hasPrefix("/"), location(of: path) != nil else { return location(of: path) }
        var st = stat()
        if ModuleFile.resolvesPathsAsWeDo(pid) {  // the usual case: no maps to read, nothing to hold
            guard stat(path, &st) == 0 else { return location(of: path) }
            return note(path, Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)), fd: nil)
        }
        guard let (fd, entry) = open?(address) ?? ModuleFile.open(pid: pid, containing: address), entry.path == path,
              fstat(fd, &st) == 0 else { return location(of: path) }
        let identity = Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        var here = stat()
        let samePath = stat(path, &here) == 0 && here.st_dev == st.st_dev && here.st_ino == st.st_ino
        if samePath { close(fd) }
        return note(path, identity, fd: samePath ? nil : fd)
    }

    /// Records the file mapped at `path` (taking `fd`, which is closed unless kept), or marks the
    /// path ambiguous when another file was recorded for it; where to read it now.
    private func note(_ path: String, _ identity: Identity, fd: Int32?) -> String? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        switch handles[path] {
        case nil:
            handles[path] = .file(identity, fd: fd)
        case .file(let known, let held)?:
            if let fd { close(fd) }
            if known != identity {
                // Kept open until the end: another thread may be opening /proc/self/fd/N now.
                if let held { retired.append(held) }
                handles[path] = .ambiguous
            }
        case .ambiguous?:
            if let fd { close(fd) }
        }
        return access(handles[path], path: path)
    }

    /// Where to read the module recorded as `path`: itself when nothing else was registered, the
    /// held descriptor, or nil when its frames must not be named (two files at that path).
    public func location(of path: String) -> String? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return handles[path].map { access($0, path: path) } ?? path
    }

    private func access(_ handle: Handle?, path: String) -> String? {
        switch handle {
        case nil, .file(_, nil)?: return path
        case .file(_, let fd?)?: return "/proc/self/fd/\(fd)"
        case .ambiguous?: return nil
        }
    }
}
