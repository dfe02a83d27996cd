// A trace file whose record checksums are repaired before reading (each complete record gets the
// CRC of its payload), so mutations reach TraceCodec.decode, TraceReplayer and PeakMappings
// instead of stopping at "checksum mismatch".
import FuzzSupport
@testable import MapBlameModel
import MapBlame

InputFile.removeAtExit()
fuzzMain { input in
    var bytes = input
    var position = TraceWriter.magic.count
    while position < bytes.count {
        var frame = ByteReader(bytes[position...])
        guard let length = frame.int(), length <= bytes.count - frame.position,
              frame.position + length + 4 <= bytes.count else { break }
        let start = frame.position
        let crc = CRC32.checksum(bytes[start..<start + length])
        for i in 0..<4 { bytes[start + length + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        position = start + length + 4
    }
    InputFile.write(bytes)
    _ = try? TraceReplayer.replay(path: InputFile.path)
    _ = try? PeakMappings.compute(trace: InputFile.path)
}
