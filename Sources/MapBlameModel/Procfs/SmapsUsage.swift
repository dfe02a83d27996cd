/// Memory use of one region from /proc/PID/smaps (the fields mapblame reports), in bytes.
public struct SmapsUsage: Sendable, Equatable {
    public var rss: UInt64 = 0
    public var anonymous: UInt64 = 0
    public var swap: UInt64 = 0
    public init(rss: UInt64 = 0, anonymous: UInt64 = 0, swap: UInt64 = 0) {
        self.rss = rss
        self.anonymous = anonymous
        self.swap = swap
    }

    /// Parses /proc/PID/smaps: a maps-format header line per region followed by `Key: value kB`
    /// lines. Returns usage keyed by region start address.
    public static func parseSmaps(_ text: String) throws(ProcfsParseError) -> [UInt64: SmapsUsage] {
        var result: [UInt64: SmapsUsage] = [:]
        var current: UInt64?
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), !line[..<colon].contains(where: { $0 == " " || $0 == "-" }) else {
                let entry = try MapsEntry(parsing: line, lineNumber: i + 1)
                current = entry.start
                result[entry.start] = SmapsUsage()
                continue
            }
            guard let start = current else {
                throw ProcfsParseError(line: i + 1, text: String(line), reason: "field before any region")
            }
            let key = line[..<colon]
            guard key == "Rss" || key == "Anonymous" || key == "Swap" else { continue }  // ~20 other fields
            let value = line[line.index(after: colon)...].split(separator: " ")
            guard let number = value.first.flatMap({ UInt64($0) }) else {
                throw ProcfsParseError(line: i + 1, text: String(line), reason: "bad \(key) value")
            }
            let (scaled, overflow) = number.multipliedReportingOverflow(by: 1024)
            guard value.count < 2 || value[1] != "kB" || !overflow else {
                throw ProcfsParseError(line: i + 1, text: String(line), reason: "\(key) value out of range")
            }
            let bytes = value.count > 1 && value[1] == "kB" ? scaled : number
            switch key {
            case "Rss": result[start]?.rss = bytes
            case "Anonymous": result[start]?.anonymous = bytes
            default: result[start]?.swap = bytes
            }
        }
        return result
    }
}
