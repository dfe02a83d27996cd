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

/// Reads a trace file record by record (docs/trace-format.md).
public enum TraceReader {
    public static func read(path: String, _ body: (TraceRecord) -> Void) throws(TraceReadError) -> TraceReadSummary {
        let bytes = try load(path)
        if bytes.isEmpty { throw TraceReadError(path: path, offset: nil, reason: "empty file, not a mapblame trace") }
        guard bytes.starts(with: TraceWriter.magic) else {
            throw TraceReadError(path: path, offset: 0, reason: "not a mapblame trace (no MBTRACE header)")
        }
        var position = TraceWriter.magic.count
        var events = 0, records = 0, complete = false
        while position < bytes.count {
            var frame = ByteReader(bytes[position...])
            guard let length = frame.int() else {
                if frame.atEnd { return try cutShort(at: position) }
                throw TraceReadError(path: path, offset: position, reason: "corrupt record length")
            }
            let start = frame.position
            // A record running past the end is the last one, cut short.
            guard length <= bytes.count - start, start + length + 4 <= bytes.count else { return try cutShort(at: position) }
            let payload = bytes[start..<start + length]
            let stored = bytes[start + length..<start + length + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard CRC32.checksum(payload) == stored else {
                throw TraceReadError(path: path, offset: position, reason: "corrupt record (checksum mismatch)")
            }
            var reader = ByteReader(payload)
            guard let record = TraceCodec.decode(&reader, nextEventID: events), reader.atEnd else {
                let type = payload.first.map { String($0) } ?? "?"
                throw TraceReadError(path: path, offset: position, reason: "malformed record of type \(type)")
            }
            if records == 0 {
                guard case .header(let version, _, _, _) = record else {
                    throw TraceReadError(path: path, offset: position, reason: "the first record is not a header")
                }
                guard version == TraceWriter.version else {
                    throw TraceReadError(path: path, offset: position,
                                         reason: "trace format version \(version) is not supported (this mapblame reads version \(TraceWriter.version))")
                }
            }
            if record.takesEventID { events += 1 }
            if case .end = record { complete = true }
            records += 1
            body(record)
            position = start + length + 4
        }
        if records == 0 { throw TraceReadError(path: path, offset: position, reason: "no header record (cut short before its first record)") }
        return summary(truncatedAt: nil)

        func cutShort(at offset: Int) throws(TraceReadError) -> TraceReadSummary {
            if records == 0 { throw TraceReadError(path: path, offset: offset, reason: "no header record (cut short before its first record)") }
            return summary(truncatedAt: offset)
        }

        func summary(truncatedAt: Int?) -> TraceReadSummary {
            TraceReadSummary(truncatedAt: truncatedAt, complete: complete, fileSize: bytes.count, records: records)
        }
    }

    private static func load(_ path: String) throws(TraceReadError) -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw TraceReadError(path: path, offset: nil, reason: String(cString: strerror(errno))) }
        if st.st_mode & S_IFMT == S_IFDIR { throw TraceReadError(path: path, offset: nil, reason: "is a directory, not a trace file") }
        // A device or pipe may never end (/dev/zero): only regular files are traces.
        if st.st_mode & S_IFMT != S_IFREG { throw TraceReadError(path: path, offset: nil, reason: "not a regular file, not a trace file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TraceReadError(path: path, offset: nil, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw TraceReadError(path: path, offset: bytes.count, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
