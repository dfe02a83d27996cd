/// One line of /proc/PID/maps, for example
/// `7f1dba95a000-7f1dba988000 rw-p 00000000 00:00 0` or
/// `55d4c3a00000-55d4c3a21000 r--p 00000000 fe:01 1180246   /usr/bin/python3.11`.
/// Fields: start-end (end exclusive), perms, file offset, device major:minor, inode, path (may be
/// empty, a pseudo-path such as [heap], or a file path that can contain spaces and end in " (deleted)").
public struct MapsEntry: Sendable, Equatable, Hashable {
    public var start: UInt64
    public var end: UInt64
    public var perms: String
    public var offset: UInt64
    public var device: String
    public var inode: UInt64
    public var path: String

    public init(start: UInt64, end: UInt64, perms: String, offset: UInt64, device: String, inode: UInt64, path: String) {
        self.start = start
        self.end = end
        self.perms = perms
        self.offset = offset
        self.device = device
        self.inode = inode
        self.path = path
    }

    public var size: UInt64 { end - start }
    public var isShared: Bool { perms.hasSuffix("s") }
    /// Backed by a file (a real inode). System V shared memory also has one.
    public var isFile: Bool { inode != 0 }
    /// No name at all: what people cannot explain.
    public var isUnnamed: Bool { path.isEmpty }
    public var isPseudo: Bool { path.hasPrefix("[") }
}

public struct ProcfsParseError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var text: String
    public var reason: String
    public var description: String { "line \(line): \(reason): \(text)" }
}

extension MapsEntry {
    /// Parses one maps-format line (also the header lines of smaps).
    public init(parsing line: Substring, lineNumber: Int = 0) throws(ProcfsParseError) {
        func fail(_ reason: String) -> ProcfsParseError {
            ProcfsParseError(line: lineNumber, text: String(line), reason: reason)
        }
        var rest = line[...]
        func field() -> Substring? {
            let trimmed = rest.drop(while: { $0 == " " })
            guard let end = trimmed.firstIndex(of: " ") else {
                rest = trimmed[trimmed.endIndex...]
                return trimmed.isEmpty ? nil : trimmed
            }
            rest = trimmed[end...]
            return trimmed[..<end]
        }
        guard let range = field(), let dash = range.firstIndex(of: "-"),
              let start = UInt64(range[..<dash], radix: 16),
              let end = UInt64(range[range.index(after: dash)...], radix: 16), start <= end
        else { throw fail("bad address range") }
        guard let perms = field(), perms.count == 4 else { throw fail("bad permissions") }
        guard let off = field(), let offset = UInt64(off, radix: 16) else { throw fail("bad offset") }
        guard let dev = field(), dev.contains(":") else { throw fail("bad device") }
        guard let ino = field(), let inode = UInt64(ino) else { throw fail("bad inode") }
        // The path is the rest of the line after the padding; it may contain spaces.
        let path = rest.drop(while: { $0 == " " })
        self.init(start: start, end: end, perms: String(perms), offset: offset, device: String(dev),
                  inode: inode, path: String(path))
    }

    /// Parses a whole /proc/PID/maps text.
    public static func parseMaps(_ text: String) throws(ProcfsParseError) -> [MapsEntry] {
        if let plain = ProcfsBytes.maps(text) { return plain }  // the kernel's form, by bytes
        return try parseMapsByCharacters(text)
    }

    /// `parseMaps` for any text: line by line, by Character.
    package static func parseMapsByCharacters(_ text: String) throws(ProcfsParseError) -> [MapsEntry] {
        var entries: [MapsEntry] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            entries.append(try MapsEntry(parsing: line, lineNumber: i + 1))
        }
        return entries
    }
}
