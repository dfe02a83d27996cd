import Glibc

/// Why a trace file could not be written.
public struct TraceWriteError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot write trace \(path): \(String(cString: strerror(errno)))" }
}

/// Streams records to a trace file as the tracer produces them: memory stays flat however many
/// events there are (only unique stacks and modules are remembered, to write each once).
/// Each record is framed as type, payload length, payload, CRC-32 (docs/trace-format.md), so a
/// file cut short by a crash or a full disk is readable up to its last complete record.
public final class TraceWriter {
    public static let magic: [UInt8] = Array("MBTRACE\n".utf8)
    public static let version = 1

    public let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var stackIDs: [[Frame]: Int] = [[]: 0]
    private var moduleIDs: [String: Int] = [:]
    public private(set) var eventCount = 0
    public private(set) var bytesWritten = 0
    /// The first write error; later records are dropped (the file keeps what was written).
    public private(set) var failure: TraceWriteError?

    public init(path: String, command: [String], maxFrames: Int) throws(TraceWriteError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TraceWriteError(path: path, errno: errno) }
        buffer = TraceWriter.magic
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        append(.header(version: TraceWriter.version, command: command, maxFrames: maxFrames,
                       startTime: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)))
        append(.stack(id: 0, frames: []))
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Frames a record into the buffer; the buffer goes to the file when it is large.
    public func append(_ record: TraceRecord) {
        var w = ByteWriter()
        TraceCodec.encode(record, into: &w)
        var frame = ByteWriter()
        frame.varint(UInt64(w.bytes.count))
        buffer += frame.bytes
        buffer += w.bytes
        let crc = CRC32.checksum(w.bytes[...])
        buffer += [UInt8(crc & 0xff), UInt8((crc >> 8) & 0xff), UInt8((crc >> 16) & 0xff), UInt8(crc >> 24)]
        if record.takesEventID { eventCount += 1 }
        if buffer.count >= 1 << 16 { flush() }
    }

    /// The id of a stack, writing it (and any module it names for the first time) if new.
    public func stackID(_ frames: [Frame]) -> Int {
        if let id = stackIDs[frames] { return id }
        let stored = frames.map { f in
            StackFrame(ip: f.ip, module: f.module.map(moduleID), fileOffset: f.fileOffset)
        }
        let id = stackIDs.count
        stackIDs[frames] = id
        append(.stack(id: id, frames: stored))
        return id
    }

    private func moduleID(_ path: String) -> Int {
        if let id = moduleIDs[path] { return id }
        let id = moduleIDs.count
        moduleIDs[path] = id
        var st = stat()
        let known = path.hasPrefix("/") && stat(path, &st) == 0
        append(.module(id: id, path: path, size: known ? UInt64(st.st_size) : 0,
                       mtime: known ? UInt64(st.st_mtim.tv_sec) * 1_000_000_000 + UInt64(st.st_mtim.tv_nsec) : 0,
                       inode: known ? UInt64(st.st_ino) : 0, buildID: known ? (BuildID.read(path: path) ?? "") : ""))
        return id
    }

    /// Writes the buffer out (also called at snapshots and exits, so a crash loses little).
    public func flush() {
        defer { buffer.removeAll(keepingCapacity: true) }
        guard failure == nil, !buffer.isEmpty else { return }
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                failure = TraceWriteError(path: path, errno: n < 0 ? errno : ENOSPC)
                return
            }
            offset += n
        }
        bytesWritten += buffer.count
    }

    /// Writes the end record and closes the file.
    public func finish() throws(TraceWriteError) {
        append(.end(events: eventCount))
        flush()
        if fsync(fd) != 0, failure == nil { failure = TraceWriteError(path: path, errno: errno) }
        close(fd)
        fd = -1
        if let failure { throw failure }
    }
}
