/// The primitives of the trace file: LEB128 varints, zigzag for signed values, length-prefixed
/// strings, and CRC-32 (IEEE) for record integrity.
package struct ByteWriter {
    package var bytes: [UInt8] = []

    package init(bytes: [UInt8] = []) {
        self.bytes = bytes
    }

    package mutating func byte(_ b: UInt8) { bytes.append(b) }

    package mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    package mutating func signed(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    package mutating func string(_ s: String) {
        varint(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }
}

/// Reads what `ByteWriter` wrote; every read fails (nil) instead of running past the end.
package struct ByteReader {
    package let bytes: ArraySlice<UInt8>
    package private(set) var position: Int

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    package var atEnd: Bool { position >= bytes.endIndex }

    package mutating func byte() -> UInt8? {
        guard position < bytes.endIndex else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    package mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let b = byte() {
            guard shift < 64 else { return nil }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    package mutating func signed() -> Int64? {
        varint().map { Int64(bitPattern: ($0 >> 1) ^ (0 &- ($0 & 1))) }
    }

    package mutating func int() -> Int? { varint().flatMap { $0 <= UInt64(Int.max) ? Int($0) : nil } }

    package mutating func pid() -> Int32? { varint().flatMap { $0 <= UInt64(Int32.max) ? Int32($0) : nil } }

    package mutating func string() -> String? {
        guard let n = int(), n <= bytes.endIndex - position else { return nil }
        defer { position += n }
        return String(decoding: bytes[position..<position + n], as: UTF8.self)
    }
}

package enum CRC32 {
    /// Slicing-by-8: table k (entries 256k..<256k+256) is the CRC of a byte followed by k zero
    /// bytes, so eight bytes are folded in per step; one byte a step was 5% of reading a trace
    /// (issue 21).
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 { t[256 * k + n] = (t[256 * (k - 1) + n] >> 8) ^ t[Int(t[256 * (k - 1) + n] & 0xff)] }
        }
        return t
    }()

    package static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        tables.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { b in
                var i = 0
                func word(_ at: Int) -> UInt32 {
                    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
                }
                while b.count - i >= 8 {
                    let one = word(i) ^ c, two = word(i + 4)
                    c = t[7 * 256 + Int(one & 0xff)] ^ t[6 * 256 + Int((one >> 8) & 0xff)]
                        ^ t[5 * 256 + Int((one >> 16) & 0xff)] ^ t[4 * 256 + Int(one >> 24)]
                        ^ t[3 * 256 + Int(two & 0xff)] ^ t[2 * 256 + Int((two >> 8) & 0xff)]
                        ^ t[256 + Int((two >> 16) & 0xff)] ^ t[Int(two >> 24)]
                    i += 8
                }
                while i < b.count {
                    c = t[Int((c ^ UInt32(b[i])) & 0xff)] ^ (c >> 8)
                    i += 1
                }
            }
        }
        return c ^ 0xffff_ffff
    }
}
