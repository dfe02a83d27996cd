/// A symbol cache file (`SymbolCacheFile`) read as bytes: the form this version writes for ASCII
/// names (no percent escapes, no carriage return) parsed without Characters, Substrings or split
/// arrays. Read by Character, a module's file was 15% of `report` of `gcc -c` (issue 21). Anything
/// else (a byte outside ASCII, an escape, a field out of that form, a file cut short) answers nil,
/// and `SymbolCacheFile.parse` then reads the text the Character way, which decides.
package enum SymbolCacheBytes {
    package static func parse(_ text: String) -> SymbolCacheFile.Parsed? {
        var text = text
        return text.withUTF8 { bytes -> SymbolCacheFile.Parsed? in
            guard !bytes.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "%") }) else { return nil }
            var lines: [UnsafeBufferPointer<UInt8>] = []
            var start = 0
            for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
                lines.append(UnsafeBufferPointer(rebasing: bytes[start..<i]))
                start = i + 1
            }
            lines.append(UnsafeBufferPointer(rebasing: bytes[start...]))  // after the last newline: "" or a cut line
            return parse(lines: lines)
        }
    }

    private static func parse(lines: [UnsafeBufferPointer<UInt8>]) -> SymbolCacheFile.Parsed? {
        guard let first = lines.first, string(first) == SymbolCacheFile.header else { return nil }
        var parsed = SymbolCacheFile.Parsed()
        var next = 1
        while next < lines.count {
            let line = lines[next]
            next += 1
            if starts(line, "V ") {
                let parts = fields(line, from: 2, separator: UInt8(ascii: "\t"))
                guard parts.count == 2, let path = unescaped(parts[0]) else { return nil }
                parsed.validators.append(SymbolCacheValidator(path: path, state: string(parts[1])))
            } else if starts(line, "E ") {
                let parts = fields(line, from: 2, separator: UInt8(ascii: " ")).filter { !$0.isEmpty }
                guard parts.count == 4, let offset = number(parts[0], radix: 16), let count = number(parts[3], radix: 10),
                      count > 0, count <= UInt64(lines.count - next) else { return nil }
                var frames: [SourceSymbol] = []
                for _ in 0..<Int(count) {
                    guard let frame = frame(lines[next]) else { return nil }
                    next += 1
                    frames.append(frame)
                }
                let key = SymbolCacheKey(fileOffset: offset, isReturnAddress: string(parts[1]) == "1",
                                         inlined: string(parts[2]) == "1")
                parsed.entries[key] = frames
            } else if starts(line, "end ") {
                let total = number(UnsafeBufferPointer(rebasing: line[4...]), radix: 10)
                return total == UInt64(parsed.entries.count) ? parsed : nil
            } else {
                return nil
            }
        }
        return nil
    }

    private static func frame(_ line: UnsafeBufferPointer<UInt8>) -> SourceSymbol? {
        guard starts(line, "F ") else { return nil }
        let parts = fields(line, from: 2, separator: UInt8(ascii: "\t"))
        guard parts.count == 5, let address = number(parts[3], radix: 16) else { return nil }
        var lineNumber: Int?
        if !parts[2].isEmpty {
            guard let n = number(parts[2], radix: 10), n <= UInt64(Int.max) else { return nil }
            lineNumber = Int(n)
        }
        return SourceSymbol(function: unescaped(parts[0]), file: unescaped(parts[1]), line: lineNumber, elfAddress: address,
                            inlined: string(parts[4]) == "1")
    }

    /// The line from `from` split at every `separator`, empty fields kept.
    private static func fields(_ line: UnsafeBufferPointer<UInt8>, from: Int, separator: UInt8) -> [UnsafeBufferPointer<UInt8>] {
        var parts: [UnsafeBufferPointer<UInt8>] = []
        var start = from
        for i in from..<line.count where line[i] == separator {
            parts.append(UnsafeBufferPointer(rebasing: line[start..<i]))
            start = i + 1
        }
        parts.append(UnsafeBufferPointer(rebasing: line[start...]))
        return parts
    }

    /// A field as `SymbolCacheFile.unescape` reads it when it holds no escape: "=" + text, else nil.
    private static func unescaped(_ field: UnsafeBufferPointer<UInt8>) -> String? {
        guard field.first == UInt8(ascii: "=") else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: field[1...]), as: UTF8.self)
    }

    private static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    private static func starts(_ line: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        line.count >= prefix.utf8CodeUnitCount && (0..<prefix.utf8CodeUnitCount).allSatisfy { line[$0] == prefix.utf8Start[$0] }
    }

    /// Digits of `radix` only (no sign), without overflow; nil otherwise (the Character reader's
    /// UInt64(_:radix:) and Int(_:) then decide).
    private static func number(_ digits: UnsafeBufferPointer<UInt8>, radix: UInt64) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for b in digits {
            let d: UInt64
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: d = UInt64(b - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: d = UInt64(b - UInt8(ascii: "A")) + 10
            default: return nil
            }
            let (times, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = times.addingReportingOverflow(d)
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }
}
