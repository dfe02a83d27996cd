import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlameTracer
import MapBlameModel

/// `EhFrameParser` against the linker's own index: for a file that has an `.eh_frame_hdr`, the
/// (function start, FDE address) pairs read from `.eh_frame` must be exactly the header's
/// binary-search table, which `ld` computed from the same FDEs.
@Suite struct EhFrameParserTests {
    /// Section address and file offset and size, from readelf.
    static func section(_ name: String, in path: String) throws -> (address: UInt64, offset: UInt64, size: Int) {
        let line = try #require(try run("readelf", ["-SW", path]).split(separator: "\n")
            .first { $0.split(separator: " ").contains { $0 == Substring(name) } })
        let fields = line.split(separator: " ").map(String.init)
        let at = try #require(fields.firstIndex(of: name))
        return (UInt64(fields[at + 2], radix: 16)!, UInt64(fields[at + 3], radix: 16)!, Int(fields[at + 4], radix: 16)!)
    }

    static func bytes(of path: String, at offset: UInt64, count: Int) throws -> Data {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        return handle.readData(ofLength: count)
    }

    @Test("The pairs read from .eh_frame are the linker's .eh_frame_hdr table",
          arguments: ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/bin/python3"])
    func pairsMatchTheLinkersTable(path: String) throws {
        let frame = try Self.section(".eh_frame", in: path)
        let header = try Self.section(".eh_frame_hdr", in: path)
        let frameBytes = try Self.bytes(of: path, at: frame.offset, count: frame.size)
        let parsed = try #require(frameBytes.withUnsafeBytes {
            EhFrameParser(bytes: $0, address: frame.address).functions()
        })
        // The header: version 1, pointer encodings, eh_frame_ptr, count, then (start, fde) pairs of
        // signed 32-bit offsets from the header's own address (datarel|sdata4).
        let headerBytes = try Self.bytes(of: path, at: header.offset, count: header.size)
        #expect(Array(headerBytes.prefix(4)) == [1, 0x1b, 0x03, 0x3b])
        let words = headerBytes.withUnsafeBytes { raw in
            (0..<(header.size / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) }
        }
        let count = Int(UInt32(bitPattern: words[2]))
        let table = (0..<count).map { i in
            (header.address &+ UInt64(bitPattern: Int64(words[3 + 2 * i])),
             header.address &+ UInt64(bitPattern: Int64(words[4 + 2 * i])))
        }
        #expect(count > 100)
        let mine = parsed.sorted { $0.start < $1.start }.map { ($0.start, $0.fde) }
        #expect(mine.count == table.count)
        #expect(zip(mine, table).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
    }
}
