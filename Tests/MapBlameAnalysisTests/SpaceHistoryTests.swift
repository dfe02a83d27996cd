import Testing
@testable import MapBlameAnalysis
import MapBlameModel
import MapBlameTestSupport

/// SpaceHistory measures each change only where the call touched the space; these seeded random
/// sequences of calls check every measured moment against a walk of the whole space.
@Suite struct SpaceHistoryTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func measuredChangesEqualWholeWalks(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var replay = SpaceReplay()
        let history = SpaceHistory()
        var expected: [(UInt64, Int)] = []
        var models: [AddressSpace] = []
        replay.observer = { change, model in
            history.observe(change, model)
            expected.append((SpaceHistory.anonymousBytes(model), model.mapsLineCount))
            models.append(model)
        }
        replay.willApply = { history.willApply(space: $0, $1, $2) }
        replay.seed(pid: 1, space: 0, maps: SpaceReplayTests.maps, event: 0)
        let base: UInt64 = 0x7f00_0000_0000, page: UInt64 = 4096
        var brk: UInt64 = 0x5555_5555_9000
        for id in 1..<1500 {
            let at = base + UInt64.random(in: 0..<64, using: &rng) * page
            let pages = UInt64.random(in: 1...6, using: &rng)
            let prot = [0, 1, 3, 3][Int.random(in: 0..<4, using: &rng)] as UInt64
            var e: MappingEvent
            switch Int.random(in: 0..<7, using: &rng) {
            case 0, 1:  // MAP_FIXED anonymous, private or shared, or a file
                let flags: UInt64 = [0x32, 0x31, 0x12][Int.random(in: 0..<3, using: &rng)]
                e = MappingEvent(id: id, pid: 1, tid: 1, syscall: .mmap, args: [at, pages * page, prot, flags, flags & 0x20 != 0 ? UInt64.max : 3, 0],
                                 result: Int64(at), stack: 0, filePath: flags & 0x20 != 0 ? nil : "/lib/x.so")
            case 2:
                e = MappingEvent(id: id, pid: 1, tid: 1, syscall: .munmap, args: [at, pages * page, 0, 0, 0, 0], result: 0, stack: 0)
            case 3:
                e = MappingEvent(id: id, pid: 1, tid: 1, syscall: .mprotect, args: [at, pages * page, prot, 0, 0, 0],
                                 result: Bool.random(using: &rng) ? 0 : -12, stack: 0)
            case 4:
                let to = base + UInt64.random(in: 64..<128, using: &rng) * page
                e = MappingEvent(id: id, pid: 1, tid: 1, syscall: .mremap, args: [at, pages * page, (pages + 1) * page, 3, to, 0],
                                 result: Int64(to), stack: 0)
            case 5:
                brk = max(0x5555_5555_9000, brk &+ (Bool.random(using: &rng) ? 3 * page : 0) &- (Bool.random(using: &rng) ? 2 * page : 0))
                e = MappingEvent(id: id, pid: 1, tid: 1, syscall: .brk, args: [brk, 0, 0, 0, 0, 0], result: Int64(brk), stack: 0)
            default:  // a failed call changes nothing
                e = MappingEvent(id: id, pid: 1, tid: 1, syscall: .mmap, args: [0, pages * page, prot, 0x22, UInt64.max, 0],
                                 result: -12, stack: 0)
            }
            replay.apply(e)
        }
        let series = history.histories(spaces: replay.spaces)[1]?.series ?? []
        #expect(series.count == expected.count)
        for (i, (m, x)) in zip(series, expected).enumerated() where m.anonymousBytes != x.0 || m.mappings != x.1 {
            Issue.record("moment \(i): measured \(m.anonymousBytes) bytes, \(m.mappings) lines; walked \(x.0), \(x.1)")
            break
        }
        // The peaks are the highest moments, the first of equals.
        let h = history.histories(spaces: replay.spaces)[1]
        let most = expected.map(\.0).max()!, mostLines = expected.map(\.1).max()!
        #expect(h?.peakAnonymous?.moment.anonymousBytes == most)
        #expect(h?.peakMappings?.moment.mappings == mostLines)
        #expect(series.firstIndex { $0.anonymousBytes == most }.map { series[$0].event } == h?.peakAnonymous?.moment.event)
        // Each peak's space holds, up to its cutoff, exactly what the space held at that moment.
        func anonymousByCreator(_ m: AddressSpace, upTo cutoff: Int = .max) -> [Int: UInt64] {
            var bytes: [Int: UInt64] = [:]
            for s in m.map.segments where !s.value.isFile && s.value.creator <= cutoff { bytes[s.value.creator, default: 0] += UInt64(s.range.count) }
            return bytes
        }
        for peak in [h?.peakAnonymous, h?.peakMappings] {
            guard let peak, let i = series.firstIndex(where: { $0.event == peak.moment.event }) else {
                Issue.record("no peak, or its moment is not in the series")
                continue
            }
            #expect(anonymousByCreator(peak.model, upTo: peak.cutoff) == anonymousByCreator(models[i]), "peak at event \(peak.moment.event ?? -1)")
        }
    }
}
