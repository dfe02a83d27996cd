import MapBlameModel

/// Reads the function ranges and FDE addresses of an `.eh_frame` section (the LSB's format: CIEs and
/// FDEs, each FDE's pointers encoded as its CIE's `R` augmentation says). Only what an index of
/// the section needs; the unwinder itself parses the FDEs it is pointed to.
package struct EhFrameParser {
    /// One FDE: the code [start, end) it describes and where it is, all as mapped in the process.
    package struct Function {
        package var start: UInt64
        package var end: UInt64
        package var fde: UInt64
    }

    package let bytes: UnsafeRawBufferPointer
    /// The address of `bytes[0]` in the process (pc-relative pointers are relative to it).
    package let address: UInt64

    package init(bytes: UnsafeRawBufferPointer, address: UInt64) {
        self.bytes = bytes
        self.address = address
    }

    /// Every FDE with a non-empty range, or nil if the section does not parse.
    package func functions() -> [Function]? {
        var result: [Function] = []
        var encodings: [Int: UInt8] = [:]  // FDE pointer encoding by CIE offset
        var offset = 0
        while offset + 4 <= bytes.count {
            var cursor = Cursor(bytes: bytes, offset: offset)
            guard var length = cursor.u32().map(UInt64.init) else { return nil }
            if length == 0 { break }  // terminator
            if length == 0xffff_ffff { guard let long = cursor.u64() else { return nil }; length = long }
            let body = cursor.offset
            guard length <= UInt64(bytes.count - body) else { return nil }
            let next = body + Int(length)
            guard let id = cursor.u32() else { return nil }
            if id == 0 {
                guard let encoding = Self.fdeEncoding(&cursor) else { return nil }
                encodings[offset] = encoding
            } else {
                let cieOffset = body - Int(id)
                guard let encoding = encodings[cieOffset] else { return nil }
                let field = address &+ UInt64(cursor.offset)
                guard let start = cursor.pointer(encoding, at: field),
                      let range = cursor.pointer(encoding & 0x0f, at: 0) else { return nil }
                if range > 0 {
                    result.append(Function(start: start, end: start &+ range, fde: address &+ UInt64(offset)))
                }
            }
            offset = next
        }
        return result
    }

    /// The FDE pointer encoding a CIE declares (`R` in a `z` augmentation), DW_EH_PE_absptr without.
    private static func fdeEncoding(_ cursor: inout Cursor) -> UInt8? {
        guard let version = cursor.u8(), let augmentation = cursor.cString(),
              cursor.uleb() != nil, cursor.sleb() != nil else { return nil }  // code and data alignment
        if version == 1 { guard cursor.u8() != nil else { return nil } } else { guard cursor.uleb() != nil else { return nil } }
        guard augmentation.first == "z" else { return 0 }
        guard cursor.uleb() != nil else { return nil }  // augmentation data length
        for letter in augmentation.dropFirst() {
            switch letter {
            case "R": return cursor.u8()
            case "P":
                guard let encoding = cursor.u8(), cursor.pointer(encoding & 0x0f, at: 0) != nil else { return nil }
            case "L": guard cursor.u8() != nil else { return nil }
            case "S", "B", "G": continue
            default: return nil
            }
        }
        return 0
    }
}

/// A read position in the section's bytes.
private struct Cursor {
    package let bytes: UnsafeRawBufferPointer
    package var offset: Int

    private mutating func fixed<T: FixedWidthInteger>(_ type: T.Type) -> T? {
        guard offset + MemoryLayout<T>.size <= bytes.count else { return nil }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    package mutating func u8() -> UInt8? { fixed(UInt8.self) }
    package mutating func u32() -> UInt32? { fixed(UInt32.self) }
    package mutating func u64() -> UInt64? { fixed(UInt64.self) }

    package mutating func cString() -> String? {
        guard let end = bytes[offset...].firstIndex(of: 0) else { return nil }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    package mutating func uleb() -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0
        while let byte = u8() {
            if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }

    package mutating func sleb() -> Int64? {
        var value: Int64 = 0, shift: Int64 = 0
        while let byte = u8() {
            if shift < 64 { value |= Int64(byte & 0x7f) << shift }
            shift += 7
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 { value |= -1 << shift }
                return value
            }
        }
        return nil
    }

    /// A DW_EH_PE-encoded pointer read at process address `field`: the format in the low four bits,
    /// absolute or pc-relative (0x10) in the next three; nil for other applications (datarel,
    /// textrel, funcrel, aligned), which `.eh_frame` FDEs do not use on x86_64.
    package mutating func pointer(_ encoding: UInt8, at field: UInt64) -> UInt64? {
        let raw: UInt64?
        switch encoding & 0x0f {
        case 0x00, 0x04: raw = u64()
        case 0x01: raw = uleb()
        case 0x02: raw = fixed(UInt16.self).map(UInt64.init)
        case 0x03: raw = u32().map(UInt64.init)
        case 0x09: raw = sleb().map { UInt64(bitPattern: $0) }
        case 0x0a: raw = fixed(Int16.self).map { UInt64(bitPattern: Int64($0)) }
        case 0x0b: raw = fixed(Int32.self).map { UInt64(bitPattern: Int64($0)) }
        case 0x0c: raw = fixed(Int64.self).map { UInt64(bitPattern: $0) }
        default: return nil
        }
        guard let raw else { return nil }
        switch encoding & 0x70 {
        case 0x00: return raw
        case 0x10: return field &+ raw
        default: return nil
        }
    }
}
