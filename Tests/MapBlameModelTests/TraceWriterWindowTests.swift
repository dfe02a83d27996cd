import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlameModel

/// The trace writer's mapped window (1 MiB of the file at a time): records of any size, ending
/// anywhere around a window's end or spanning several windows, read back exactly as written.
@Suite("trace writer window")
struct TraceWriterWindowTests {
    /// Writes `records` through a TraceWriter to a new file and reads them back (without the
    /// header, the empty stack and the end record the writer adds itself).
    static func roundTrip(_ records: [TraceRecord]) throws -> [TraceRecord] {
        let dir = try TempDir()
        let path = dir.path("w.trace")
        let writer = TraceWriter(output: try OutputFile.open(path), command: ["test"], maxFrames: 0)
        records.forEach(writer.append)
        try writer.finish()
        try writer.output.publish()
        var read: [TraceRecord] = []
        let summary = try TraceReader.read(path: path) { read.append($0) }
        #expect(summary.complete && summary.truncatedAt == nil)
        return Array(read.dropFirst(2).dropLast())
    }

    /// A snapshot record whose framed size (type, length, payload, CRC) is about `size` bytes.
    static func snapshot(_ n: Int, size: Int) -> TraceRecord {
        let text = String(repeating: Character(UnicodeScalar(UInt8(97 + n % 26))), count: max(size - 16, 0))
        return .snapshot(pid: Int32(n), maps: text, smaps: "")
    }

    @Test func recordsLargerThanTheWindow() throws {
        let window = TraceWriter.windowSize
        let records = [Self.snapshot(0, size: 100), Self.snapshot(1, size: window + 1),
                       Self.snapshot(2, size: 3 * window + 7), Self.snapshot(3, size: 10)]
        let read = try Self.roundTrip(records)
        #expect(read.count == records.count)
        for (i, (a, b)) in zip(records, read).enumerated() { #expect(a == b, "record \(i)") }
    }

    /// Sizes chosen to end a few bytes before, on and after each window's end, mixed with small
    /// and large ones; the seed is in the failure message.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func recordSizesAroundWindowEnds(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let window = TraceWriter.windowSize
        var records: [TraceRecord] = [], written = 0
        while records.count < 400 && written < 6 * window {
            let toWindowEnd = window - written % window
            let size = switch random.next() % 4 {
            case 0: toWindowEnd + Int(random.next() % 9) - 4
            case 1: Int(random.next() % 200)
            case 2: Int(random.next() % UInt64(window / 2))
            default: window + Int(random.next() % UInt64(window))
            }
            records.append(Self.snapshot(records.count, size: max(size, 20)))
            written += max(size, 20)
        }
        let read = try Self.roundTrip(records)
        #expect(read.count == records.count, "seed \(seed)")
        for (i, (a, b)) in zip(records, read).enumerated() where a != b {
            Issue.record("seed \(seed): record \(i) differs")
            break
        }
    }
}
