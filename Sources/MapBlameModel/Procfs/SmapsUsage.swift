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

    /// Sets the field both smaps parsers number 0 (Rss), 1 (Anonymous) or 2 (Swap).
    package mutating func set(field: Int, to amount: UInt64) {
        switch field {
        case 0: rss = amount
        case 1: anonymous = amount
        default: swap = amount
        }
    }

    /// Parses /proc/PID/smaps: a maps-format header line per region followed by `Key: value kB`
    /// lines. Returns usage keyed by region start address.
    public static func parseSmaps(_ text: String) throws(ProcfsParseError) -> [UInt64: SmapsUsage] {
        if let plain = ProcfsBytes.smaps(text) { return plain }  // the kernel's form, by bytes
        return try parseSmapsByCharacters(text)
    }

    /// `parseSmaps` for any text: line by line, by Character.
    package static func parseSmapsByCharacters(_ text: String) throws(ProcfsParseError) -> [UInt64: SmapsUsage] {
        // Read as UTF-8 bytes: the same split and the same checks by Character cost most of a
        // report of many short processes (issue 21: 21% of `run` on a shell loop).
        var result: [UInt64: SmapsUsage] = [:]
        var current: UInt64?
        let bytes = text.utf8
        for (i, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                  !line[..<colon].contains(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") }) else {
                let entry = try MapsEntry(parsing: text[line.startIndex..<line.endIndex], lineNumber: i + 1)
                current = entry.start
                result[entry.start] = SmapsUsage()
                continue
            }
            guard let start = current else {
                throw ProcfsParseError(line: i + 1, text: String(text[line.startIndex..<line.endIndex]), reason: "field before any region")
            }
            let key = line[..<colon]
            let field: Int
            if key.elementsEqual("Rss".utf8) { field = 0 } else if key.elementsEqual("Anonymous".utf8) { field = 1 }
            else if key.elementsEqual("Swap".utf8) { field = 2 } else { continue }  // ~20 other fields
            let value = line[line.index(after: colon)...].split(separator: UInt8(ascii: " "), maxSplits: 2)
            let name = String(text[key.startIndex..<key.endIndex])
            guard let number = value.first.flatMap(Self.decimal) else {
                throw ProcfsParseError(line: i + 1, text: String(text[line.startIndex..<line.endIndex]), reason: "bad \(name) value")
            }
            let (scaled, overflow) = number.multipliedReportingOverflow(by: 1024)
            let kilobytes = value.count > 1 && value[1].elementsEqual("kB".utf8)
            guard !kilobytes || !overflow else {
                throw ProcfsParseError(line: i + 1, text: String(text[line.startIndex..<line.endIndex]), reason: "\(name) value out of range")
            }
            result[start]?.set(field: field, to: kilobytes ? scaled : number)
        }
        return result
    }

    /// The token as UInt64(String) reads it (what the Substring version read), nil otherwise.
    private static func decimal(_ token: Substring.UTF8View) -> UInt64? {
        UInt64(String(decoding: token, as: UTF8.self))
    }
}
