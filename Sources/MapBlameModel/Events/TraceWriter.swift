import CShims
import Glibc

/// Why a trace file could not be written.
public struct TraceWriteError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    /// Said instead of strerror(errno) when set.
    public var reason: String? = nil
    /// The whole message, when the failure was an output's (`OutputError` already names the file).
    package var message: String? = nil
    public var description: String { message ?? "cannot write trace \(path): \(reason ?? String(cString: strerror(errno)))" }

    public init(path: String, errno: Int32, reason: String? = nil) {
        self.path = path
        self.errno = errno
        self.reason = reason
    }

    /// The trace's output could not be opened or put in place.
    package init(output error: OutputError, path: String) {
        self.init(path: path, errno: 0)
        message = error.description
    }
}

/// Streams records to a trace file as the tracer produces them: memory stays flat however many
/// events there are (only unique stacks and modules are remembered, to write each once).
/// Each record is framed as type, payload length, payload, CRC-32 (docs/trace-format.md), so a
/// file cut short by a crash or a full disk is readable up to its last complete record.
///
/// A regular file is written through a shared memory mapping of a window of it: every record is
/// in the page cache (and survives a kill of the recorder) as soon as it is appended, without a
/// write() per record (one per stop cost several µs on ext4, mostly updating the file's times).
/// The window's blocks are reserved with posix_fallocate before it is mapped, so a full disk is an
/// error there rather than a SIGBUS on a store. Until `finish` truncates the file to its length, it
/// ends with zero bytes, which readers take as the end. Other files (pipes, devices) or file systems
/// that cannot do this are written with write(), flushed whenever the tracer is about to sleep.
/// Standard output is always written with write(), even when it is a regular file: it may have been
/// opened for appending, or hold what came before.
public final class TraceWriter {
    public static let magic: [UInt8] = Array("MBTRACE\n".utf8)
    public static let version = 1

    /// Where the records go (its name is the one given, for messages).
    public let output: OutputFile
    private var fd: Int32 { output.fd }
    public var path: String { output.name }
    private var buffer = ByteWriter()
    /// The payload of the record being framed, reused (no allocation per record).
    private var payload = ByteWriter()
    private var stackIDs: [StackKey: Int] = [StackKey(frames: []): 0]
    private var moduleIDs: [String: Int] = [:]
    public private(set) var eventCount = 0
    public private(set) var bytesWritten = 0
    /// The first write error; later records are dropped (the file keeps what was written).
    public private(set) var failure: TraceWriteError?
    /// The mapped window of the file (nil: write() mode), its file offset and how much of it is used.
    private var window: UnsafeMutableRawPointer?
    private var windowOffset = 0
    private var windowUsed = 0
    package static let windowSize = 1 << 20

    /// Told the frames of every stack written for the first time (the `run` and `attach` symbol
    /// prefetch), on the thread that appends.
    public var onNewStack: (([Frame]) -> Void)?

    /// Opens each module the first time a stack names it, in the process that maps it, so that its
    /// record describes the mapped file even when its path leads elsewhere here (another mount
    /// namespace); nil: modules are read by path.
    public var moduleHandles: ModuleHandles?

    /// `finish` waits for the file to reach the disk (fsync), so that a late write error is
    /// reported; false for a trace that is read once and deleted (`run`'s temporary trace).
    public var syncsOnFinish = true

    /// Whether every appended record is already in the file (no flush needed before sleeping).
    public var isDurable: Bool { window != nil && failure == nil }

    /// CLOCK_MONOTONIC when the trace started: every record's `time` counts from it.
    private let startMonotonic = TraceWriter.monotonicNow()

    /// Nanoseconds since the trace started (CLOCK_MONOTONIC: never steps back when the wall clock
    /// is set; one vDSO call, no syscall), for the time of an event, a process start or an exit.
    public func elapsed() -> UInt64 {
        let now = TraceWriter.monotonicNow()
        return now > startMonotonic ? now - startMonotonic : 0
    }

    private static func monotonicNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Starts the trace in `output` (opened by `OutputFile`, which decides where it goes).
    public init(output: OutputFile, command: [String], maxFrames: Int) {
        self.output = output
        if output.isRegularFile { mapWindow(at: 0) }
        buffer.bytes = TraceWriter.magic
        buffer.bytes.reserveCapacity(TraceWriter.flushSize + 4096)
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        append(.header(version: TraceWriter.version, command: command, maxFrames: maxFrames,
                       startTime: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)))
        append(.stack(id: 0, frames: []))
    }

    deinit {
        if let window { munmap(window, TraceWriter.windowSize) }
    }

    /// Reserves and maps the window at file offset `offset`; stays in (or falls back to) write()
    /// mode if the file system cannot, and records a full disk as the failure.
    private func mapWindow(at offset: Int) {
        if let window { munmap(window, TraceWriter.windowSize) }
        window = nil
        let rc = posix_fallocate(fd, off_t(offset), off_t(TraceWriter.windowSize))
        if rc == ENOSPC || rc == EDQUOT || rc == EFBIG {
            failure = TraceWriteError(path: path, errno: rc)
            return
        }
        let p = rc == 0 ? mmap(nil, TraceWriter.windowSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(offset)) : nil
        guard let p, p != MAP_FAILED else {
            // EOPNOTSUPP, EACCES (a write-only descriptor)...: write() continues at `offset`.
            _ = ftruncate(fd, off_t(offset))
            _ = lseek(fd, off_t(offset), SEEK_SET)
            return
        }
        window = p
        windowOffset = offset
        windowUsed = 0
    }

    /// Frames a record into the buffer; the buffer goes to the file when it is large.
    public func append(_ record: TraceRecord) {
        payload.bytes.removeAll(keepingCapacity: true)
        TraceCodec.encode(record, into: &payload)
        buffer.varint(UInt64(payload.bytes.count))
        buffer.bytes.append(contentsOf: payload.bytes)
        let crc = CRC32.checksum(payload.bytes[...])
        buffer.byte(UInt8(crc & 0xff)); buffer.byte(UInt8((crc >> 8) & 0xff))
        buffer.byte(UInt8((crc >> 16) & 0xff)); buffer.byte(UInt8(crc >> 24))
        if record.takesEventID { eventCount += 1 }
        if window != nil || buffer.bytes.count >= TraceWriter.flushSize { flush() }
    }

    /// The buffer goes to the file when it holds this much.
    package static let flushSize = 1 << 16

    /// The id of a stack of a thread of process `pid` (stopped), writing it (and any module it
    /// names for the first time) if new. `openModule` opens the file mapped at a frame's address as
    /// the process sees it (the tracer's model knows the mapping); nil, or nil from it: found in
    /// /proc/PID/maps (`ModuleHandles.register`).
    public func stackID(_ frames: [Frame], pid: Int32 = 0,
                        openModule: ((UInt64) -> (fd: Int32, entry: MapsEntry)?)? = nil) -> Int {
        let key = StackKey(frames: frames)
        if let id = stackIDs[key] { return id }
        let stored = frames.map { f in
            StackFrame(ip: f.ip, module: f.module.map { moduleID($0, pid: pid, address: f.ip, open: openModule) },
                       fileOffset: f.fileOffset, python: f.python)
        }
        let id = stackIDs.count
        stackIDs[key] = id
        append(.stack(id: id, frames: stored))
        onNewStack?(frames)
        return id
    }

    private func moduleID(_ path: String, pid: Int32, address: UInt64,
                          open: ((UInt64) -> (fd: Int32, entry: MapsEntry)?)?) -> Int {
        if let id = moduleIDs[path] { return id }
        let id = moduleIDs.count
        moduleIDs[path] = id
        let readable = moduleHandles.map { $0.register(path: path, pid: pid, address: address, open: open) } ?? path
        var st = stat()
        let known = readable.map { $0.hasPrefix("/") && stat($0, &st) == 0 } ?? false
        append(.module(id: id, path: path, size: known ? UInt64(st.st_size) : 0,
                       mtime: known ? UInt64(st.st_mtim.tv_sec) * 1_000_000_000 + UInt64(st.st_mtim.tv_nsec) : 0,
                       inode: known ? UInt64(st.st_ino) : 0,
                       buildID: known ? (readable.flatMap { BuildID.read(path: $0) } ?? "") : ""))
        return id
    }

    /// Writes the buffer out (also called at snapshots and exits, so a crash loses little).
    public func flush() {
        defer { buffer.bytes.removeAll(keepingCapacity: true) }
        guard failure == nil, !buffer.bytes.isEmpty else { return }
        if window != nil {
            copyToWindow()
            if window != nil || failure != nil { return }
        }
        let e = FileIO.writeAll(fd, buffer.bytes[...])
        guard e == 0 else {
            failure = TraceWriteError(path: path, errno: e)
            return
        }
        bytesWritten += buffer.bytes.count
    }

    /// Copies the buffer into the mapped window, mapping the next windows as they fill. If one
    /// cannot be mapped, the rest of the buffer stays for write() (the file is cut to its length).
    private func copyToWindow() {
        var from = 0
        let total = buffer.bytes.count
        while from < total {
            if windowUsed == TraceWriter.windowSize {
                mapWindow(at: windowOffset + TraceWriter.windowSize)
                guard window != nil else {
                    buffer.bytes.removeFirst(from)  // what is left goes through write()
                    return
                }
            }
            let n = min(TraceWriter.windowSize - windowUsed, total - from)
            let copied = buffer.bytes.withUnsafeBytes { src in
                cshims_copy_guarded(window! + windowUsed, src.baseAddress! + from, UInt64(n))
            }
            guard copied == 0 else {  // the file was truncated under the mapping (SIGBUS)
                failure = TraceWriteError(path: path, errno: ESTALE, reason: "the file was truncated while being written (another process opened it)")
                munmap(window, TraceWriter.windowSize)
                window = nil
                return
            }
            windowUsed += n
            from += n
            bytesWritten += n
        }
    }

    /// Writes the end record and closes the file (the caller publishes it: `OutputFile.publish`).
    public func finish() throws(TraceWriteError) {
        append(.end(events: eventCount))
        flush()
        if let window {
            munmap(window, TraceWriter.windowSize)
            self.window = nil
            if ftruncate(fd, off_t(windowOffset + windowUsed)) != 0, failure == nil {
                failure = TraceWriteError(path: path, errno: errno)
            }
        }
        if syncsOnFinish && output.isRegularFile && fsync(fd) != 0, failure == nil {
            failure = TraceWriteError(path: path, errno: errno)
        }
        if !output.closeDescriptor(), failure == nil { failure = TraceWriteError(path: path, errno: errno) }
        if let failure { throw failure }
    }
}

/// A stack as a dictionary key that hashes only the instruction pointers: hashing the module path
/// of every frame cost more than the rest of the lookup, and stacks with the same addresses in
/// other modules (code unmapped and mapped again) are rare; equality still compares everything.
private struct StackKey: Hashable {
    package var frames: [Frame]

    package func hash(into hasher: inout Hasher) {
        hasher.combine(frames.count)
        for f in frames { hasher.combine(f.ip); if let p = f.python { hasher.combine(p.line) } }
    }
}
