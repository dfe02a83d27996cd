import Testing
@testable import MapBlameModel

/// The trace's record checksum (CRC-32, ISO-HDLC: zlib's), eight bytes a step.
@Suite struct CRC32Tests {
    /// One bit at a time, straight from the polynomial: the reference.
    static func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xffff_ffff
    }

    @Test("The standard check value, and the empty input")
    func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)[...]) == 0xcbf4_3926)
        #expect(CRC32.checksum([][...]) == 0)
    }

    @Test("Every length 0-80 and a slice not starting at 0 agree with the bitwise reference")
    func agreesWithBitwise() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        let bytes = (0..<300).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        for n in 0...80 { #expect(CRC32.checksum(bytes[0..<n]) == Self.bitwise(bytes[0..<n]), "length \(n)") }
        for start in [1, 3, 7, 13] { #expect(CRC32.checksum(bytes[start..<300]) == Self.bitwise(bytes[start..<300])) }
    }
}
