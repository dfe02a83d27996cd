/// CPython 3.11's location table (`co_linetable`, Objects/locations.md in CPython's source): the
/// line of an instruction, as `PyCode_Addr2Line` finds it. Each entry starts with a byte whose top
/// bit is set: bits 3-6 are its code, bits 0-2 the number of code units it covers minus one. Codes
/// 0-9 (short form) and 10-12 (one line, delta code-10) carry columns only; 13 (no columns) and 14
/// (long form) start with the line delta as a signed varint; 15 is an instruction without a line.
package enum PythonLineTable {
    /// The line of the instruction at byte offset `offset` of the code (-1 for none); before the
    /// first instruction (a frame that has not started), the first line.
    package static func line(_ table: [UInt8], firstLine: Int, offset: Int) -> Int {
        if offset < 0 { return firstLine }
        var line = firstLine, start = 0, i = 0
        while i < table.count {
            let head = table[i]
            let code = Int((head >> 3) & 15), length = (Int(head & 7) + 1) * 2
            switch code {
            case 13, 14: line += signedVarint(table, at: i + 1)
            case 10...12: line += code - 10
            default: break
            }
            if offset >= start && offset < start + length { return code == 15 ? -1 : line }
            start += length
            i += 1
            while i < table.count && table[i] & 0x80 == 0 { i += 1 }
        }
        return -1
    }

    /// 6 bits per byte, low first, bit 6 set on every byte but the last.
    static func varint(_ table: [UInt8], at start: Int) -> Int {
        var i = start, shift = 0, value = 0
        while i < table.count, shift < 60 {
            let byte = Int(table[i])
            value |= (byte & 63) << shift
            shift += 6
            i += 1
            if byte & 64 == 0 { break }
        }
        return value
    }

    /// A varint whose lowest bit is the sign.
    static func signedVarint(_ table: [UInt8], at start: Int) -> Int {
        let v = varint(table, at: start)
        return v & 1 != 0 ? -(v >> 1) : v >> 1
    }
}
