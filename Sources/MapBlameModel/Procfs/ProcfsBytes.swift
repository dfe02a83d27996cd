/// /proc/PID/maps and smaps read as bytes: the plain form every kernel writes (ASCII, one line a
/// region, fields split by spaces) parsed without Characters, Substrings or split arrays. Parsing
/// those texts by Character was a quarter of the tracer's time at each exit (the snapshot) and of
/// `report`'s (the replay) on a loop of short processes (issue 21). Each function answers nil for
/// anything else (a byte outside ASCII, a carriage return, a field out of the plain form, a
/// malformed line), and its caller then parses the whole text the Character way: the same entries,
/// or the same error with its line number, as before.
package enum ProcfsBytes {
    /// `MapsEntry.parseMaps`'s result when `text` is in the plain form.
    package static func maps(_ text: String) -> [MapsEntry]? {
        lines(text) { lines in
            var entries: [MapsEntry] = []
            for line in lines {
                guard let entry = entry(line) else { return nil }
                entries.append(entry)
            }
            return entries
        }
    }

    /// `SmapsUsage.parseSmaps`'s result when `text` is in the plain form.
    package static func smaps(_ text: String) -> [UInt64: SmapsUsage]? {
        lines(text) { lines in
            var result: [UInt64: SmapsUsage] = [:]
            var current: UInt64?
            for line in lines {
                // A field line: a colon with neither a space nor a dash before it.
                var colon: Int?
                for i in line.indices {
                    let b = line[i]
                    if b == UInt8(ascii: ":") { colon = i; break }
                    if b == UInt8(ascii: " ") || b == UInt8(ascii: "-") { break }
                }
                guard let colon else {
                    guard let entry = entry(line) else { return nil }
                    current = entry.start
                    result[entry.start] = SmapsUsage()
                    continue
                }
                guard let start = current else { return nil }
                let key = UnsafeBufferPointer(rebasing: line[..<colon])
                let field: Int
                if equal(key, "Rss") { field = 0 } else if equal(key, "Anonymous") { field = 1 }
                else if equal(key, "Swap") { field = 2 } else { continue }
                // The first two runs of non-spaces after the colon: the number and its unit.
                var cursor = colon + 1
                guard let number = token(line, &cursor).flatMap(decimal) else { return nil }
                let kilobytes = token(line, &cursor).map { equal($0, "kB") } ?? false
                let (scaled, overflow) = number.multipliedReportingOverflow(by: 1024)
                if kilobytes && overflow { return nil }
                result[start]?.set(field: field, to: kilobytes ? scaled : number)
            }
            return result
        }
    }

    /// `ProcFile.statusField`'s answer (the value, or nil when no line has the key) when the
    /// status text and the key are in the plain form (the tracer reads a status at each exec and
    /// exit: split into an array of Substrings, it was 5% of the tracer's time on a shell loop).
    package static func statusField(_ status: String, _ key: String) -> String?? {
        var key = key + ":"
        return key.withUTF8 { prefix -> String?? in
            guard prefix.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\r") }) else { return nil }
            return lines(status) { lines -> String?? in
                for line in lines where line.count >= prefix.count && (0..<prefix.count).allSatisfy({ line[$0] == prefix[$0] }) {
                    let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                    var start = prefix.count, end = line.count
                    while start < end && blank(line[start]) { start += 1 }
                    while end > start && blank(line[end - 1]) { end -= 1 }
                    return .some(String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self))
                }
                return .some(nil)
            }
        }
    }

    /// One maps-format line, as `MapsEntry(parsing:)` reads it; nil if not in the plain form.
    package static func entry(_ line: UnsafeBufferPointer<UInt8>) -> MapsEntry? {
        var cursor = 0
        guard let range = token(line, &cursor), let dash = range.firstIndex(of: UInt8(ascii: "-")),
              let start = hex(UnsafeBufferPointer(rebasing: range[..<dash])),
              let end = hex(UnsafeBufferPointer(rebasing: range[(dash + 1)...])), start <= end,
              let perms = token(line, &cursor), perms.count == 4,
              let offset = token(line, &cursor).flatMap(hex),
              let device = token(line, &cursor), device.contains(UInt8(ascii: ":")),
              let inode = token(line, &cursor).flatMap(decimal) else { return nil }
        while cursor < line.count && line[cursor] == UInt8(ascii: " ") { cursor += 1 }
        return MapsEntry(start: start, end: end, perms: String(decoding: perms, as: UTF8.self), offset: offset,
                         device: String(decoding: device, as: UTF8.self), inode: inode,
                         path: String(decoding: UnsafeBufferPointer(rebasing: line[cursor...]), as: UTF8.self))
    }

    /// The text's non-empty lines, when it is all ASCII without a carriage return (where bytes and
    /// Characters split the same: a line feed is a Character of its own unless a CR comes first).
    private static func lines<T>(_ text: String, _ body: ([UnsafeBufferPointer<UInt8>]) -> T?) -> T? {
        var text = text
        return text.withUTF8 { bytes -> T? in
            var lines: [UnsafeBufferPointer<UInt8>] = []
            var start = 0
            for i in bytes.indices {
                let b = bytes[i]
                if b >= 0x80 || b == UInt8(ascii: "\r") { return nil }
                if b == UInt8(ascii: "\n") {
                    if i > start { lines.append(UnsafeBufferPointer(rebasing: bytes[start..<i])) }
                    start = i + 1
                }
            }
            if bytes.count > start { lines.append(UnsafeBufferPointer(rebasing: bytes[start...])) }
            return body(lines)
        }
    }

    /// The next run of non-spaces from `cursor` (spaces before it skipped), as the Character
    /// parsers' `field()` and `split(separator: " ")` take it; nil at the end of the line.
    private static func token(_ line: UnsafeBufferPointer<UInt8>, _ cursor: inout Int) -> UnsafeBufferPointer<UInt8>? {
        while cursor < line.count && line[cursor] == UInt8(ascii: " ") { cursor += 1 }
        let start = cursor
        while cursor < line.count && line[cursor] != UInt8(ascii: " ") { cursor += 1 }
        return cursor > start ? UnsafeBufferPointer(rebasing: line[start..<cursor]) : nil
    }

    private static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        bytes.count == word.utf8CodeUnitCount && (0..<bytes.count).allSatisfy { bytes[$0] == word.utf8Start[$0] }
    }

    /// Hexadecimal digits only (no sign), without overflow; nil otherwise (UInt64(_:radix:) decides).
    private static func hex(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for b in digits {
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            guard value >> 60 == 0 else { return nil }
            value = value << 4 | UInt64(d)
        }
        return value
    }

    /// Decimal digits only (no sign), without overflow; nil otherwise (UInt64(_:) decides).
    private static func decimal(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for b in digits {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }
}
