import Glibc

/// A trace that cannot be read: one line naming the file and the byte offset.
public struct TraceReadError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var offset: Int?
    public var reason: String
    public var description: String {
        "\(path): " + (offset.map { "byte \($0): " } ?? "") + reason
    }
}

/// What reading a trace found besides its records.
public struct TraceReadSummary: Sendable, Equatable {
    /// Byte offset of an incomplete last record (the writer was killed or the disk filled); nil
    /// when the file ends on a record boundary.
    public var truncatedAt: Int?
    /// Whether the end record was reached (the recording finished cleanly).
    public var complete: Bool
    public var fileSize: Int
    public var records: Int
}

/// Reads a trace file record by record (docs/trace-format.md), streaming: only a window of the
/// file (about 1 MiB, or one record if larger) is in memory at a time.
public enum TraceReader {
    public static func read(path: String, _ body: (TraceRecord) -> Void) throws(TraceReadError) -> TraceReadSummary {
        var file = try ChunkedFile(path: path)
        defer { file.close() }
        func failure(_ offset: Int?, _ reason: String) -> TraceReadError { TraceReadError(path: path, offset: offset, reason: reason) }
        guard try file.ensure(TraceWriter.magic.count, at: 0, path: path) else {
            if file.available(at: 0) == 0 { throw failure(nil, "empty file, not a mapblame trace") }
            throw failure(0, "not a mapblame trace (no MBTRACE header)")
        }
        guard file.slice(0, TraceWriter.magic.count).elementsEqual(TraceWriter.magic) else {
            throw failure(0, "not a mapblame trace (no MBTRACE header)")
        }
        var position = TraceWriter.magic.count
        var events = 0, records = 0, complete = false
        while try file.ensure(1, at: position, path: path) {
            // A length varint is at most 10 bytes; fewer may be left at the end of the file.
            _ = try file.ensure(10, at: position, path: path)
            var frame = ByteReader(file.slice(position, min(10, file.available(at: position))))
            guard let length = frame.int() else {
                if frame.atEnd { return try cutShort(at: position) }
                throw failure(position, "corrupt record length")
            }
            // Zero bytes where a record should start: the unused tail of a recorder's mapped window
            // (killed before it finished). A record is never empty.
            if length == 0, try file.zeroFrom(position, path: path) { return try cutShort(at: position) }
            let start = position + (frame.position - frame.bytes.startIndex)
            // A record running past the end is the last one, cut short.
            guard length <= Int.max - start - 4, try file.ensure(length + 4 + (start - position), at: position, path: path) else {
                return try cutShort(at: position)
            }
            let payload = file.slice(start, length)
            let stored = file.slice(start + length, 4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard CRC32.checksum(payload) == stored else {
                // A record the recorder was killed while copying: zeros from inside it to the end.
                // Its last byte (and everything after it) is then zero; a complete copy would match.
                if try file.zeroFrom(start + length + 3, path: path) { return try cutShort(at: position) }
                throw failure(position, "corrupt record (checksum mismatch)")
            }
            var reader = ByteReader(payload)
            guard let record = TraceCodec.decode(&reader, nextEventID: events), reader.atEnd else {
                let type = payload.first.map { String($0) } ?? "?"
                throw failure(position, "malformed record of type \(type)")
            }
            if records == 0 {
                guard case .header(let version, _, _, _) = record else {
                    throw failure(position, "the first record is not a header")
                }
                guard version == TraceWriter.version else {
                    throw failure(position, "trace format version \(version) is not supported (this mapblame reads version \(TraceWriter.version))")
                }
            }
            if record.takesEventID { events += 1 }
            if case .end = record { complete = true }
            records += 1
            body(record)
            position = start + length + 4
        }
        if records == 0 { throw failure(position, "no header record (cut short before its first record)") }
        return summary(truncatedAt: nil)

        func cutShort(at offset: Int) throws(TraceReadError) -> TraceReadSummary {
            if records == 0 { throw failure(offset, "no header record (cut short before its first record)") }
            return summary(truncatedAt: offset)
        }

        func summary(truncatedAt: Int?) -> TraceReadSummary {
            TraceReadSummary(truncatedAt: truncatedAt, complete: complete, fileSize: file.size, records: records)
        }
    }
}

/// A regular file read forward through a buffer that holds the bytes from some offset on.
private struct ChunkedFile {
    private var fd: Int32
    private var buffer: [UInt8] = []
    /// File offset of buffer[0].
    private var base = 0
    private var atEOF = false
    /// Bytes read so far from the file: its size once `atEOF`.
    package var size: Int { base + buffer.count }
    package static let chunk = 1 << 20

    package init(path: String) throws(TraceReadError) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw TraceReadError(path: path, offset: nil, reason: String(cString: strerror(errno))) }
        if st.st_mode & S_IFMT == S_IFDIR { throw TraceReadError(path: path, offset: nil, reason: "is a directory, not a trace file") }
        // A device or pipe may never end (/dev/zero): only regular files are traces.
        if st.st_mode & S_IFMT != S_IFREG { throw TraceReadError(path: path, offset: nil, reason: "not a regular file, not a trace file") }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TraceReadError(path: path, offset: nil, reason: String(cString: strerror(errno))) }
    }

    package mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    package func available(at offset: Int) -> Int { max(0, size - offset) }

    /// Makes `count` bytes from `offset` (never before the last one asked for) available; false
    /// if the file ends first. Bytes before `offset` are dropped.
    package mutating func ensure(_ count: Int, at offset: Int, path: String) throws(TraceReadError) -> Bool {
        if offset > base, offset - base >= buffer.count / 2 {  // amortized: each byte moves O(1) times
            let drop = min(offset - base, buffer.count)
            buffer.removeFirst(drop)
            base += drop
        }
        while available(at: offset) < count && !atEOF {
            // What the file holds now, at most a chunk; past its size (the end, or a file still
            // growing) a page: a whole chunk zeroed and faulted in to learn of the end was a
            // millisecond of each small report (issue 21).
            var st = stat()
            let remaining = fstat(fd, &st) == 0 ? Int(st.st_size) - size : 0
            let want = max(count - available(at: offset), remaining > 0 ? min(Self.chunk, remaining) : 4096)
            let old = buffer.count
            buffer += [UInt8](repeating: 0, count: want)  // a memset; appending repeatElement goes byte by byte in debug builds
            var n = 0
            repeat {
                n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + old, want) }
            } while n < 0 && errno == EINTR
            if n < 0 {
                buffer.removeLast(want)
                throw TraceReadError(path: path, offset: size, reason: String(cString: strerror(errno)))
            }
            buffer.removeLast(want - n)
            if n == 0 { atEOF = true }
        }
        return available(at: offset) >= count
    }

    package func slice(_ offset: Int, _ count: Int) -> ArraySlice<UInt8> {
        buffer[(offset - base)..<(offset - base + count)]
    }

    /// Whether every byte from `offset` to the end of the file is zero (reads to the end).
    package mutating func zeroFrom(_ offset: Int, path: String) throws(TraceReadError) -> Bool {
        var at = offset
        while try ensure(1, at: at, path: path) {
            let n = available(at: at)
            if slice(at, n).contains(where: { $0 != 0 }) { return false }
            at += n
        }
        return true
    }
}
