import Testing
@testable import MapBlameAnalysis
import MapBlameModel

/// One replay of the address spaces serves the report and the peak count: an attached process has
/// a peak too (the peak's own copy of the replay did not seed attached spaces), and the count is
/// the number of lines `mapsView` shows.
@Suite struct SpaceReplayTests {
    static let maps = """
        555555554000-555555556000 r--p 00000000 fe:00 42                         /usr/bin/daemon
        555555556000-555555557000 rw-p 00002000 fe:00 42                         /usr/bin/daemon
        555555557000-555555559000 rw-p 00000000 00:00 0                          [heap]
        7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]

        """

    static func mmap(_ id: Int, pid: Int32, at address: UInt64, pages: UInt64, prot: UInt64) -> MappingEvent {
        MappingEvent(id: id, pid: pid, tid: pid, syscall: .mmap, args: [address, pages * 4096, prot, 0x32, UInt64.max, 0],
                     result: Int64(address), stack: 0)
    }

    @Test func anAttachedProcessHasAPeak() {
        var state = PeakMappings.State()
        state.apply(.process(pid: 7, parentPid: nil, space: 0, parentSpace: nil, shares: false, executable: "/usr/bin/daemon"))
        state.apply(.attach(pid: 7, tid: 7, space: 1, executable: "/usr/bin/daemon", maps: Self.maps, seeds: []))
        #expect(state.peak[7] == 4)
        // Two adjacent mappings with other protections: 2 lines more; unmapping one: the peak stays.
        state.apply(.event(Self.mmap(1, pid: 7, at: 0x7f00_0000_0000, pages: 2, prot: 3)))
        state.apply(.event(Self.mmap(2, pid: 7, at: 0x7f00_0000_2000, pages: 2, prot: 1)))
        #expect(state.peak[7] == 6)
        state.apply(.event(MappingEvent(id: 3, pid: 7, tid: 7, syscall: .munmap, args: [0x7f00_0000_2000, 0x2000, 0, 0, 0, 0],
                                        result: 0, stack: 0)))
        #expect(state.peak[7] == 6)
        #expect(state.replay.model(of: 7)?.mapsLineCount == 5)
    }

    @Test func lineCountIsTheLinesOfTheMapsView() throws {
        var replay = SpaceReplay()
        replay.seed(pid: 1, space: 0, maps: Self.maps, event: 0)
        for (i, prot) in [3, 3, 1, 3, 0, 0].enumerated() {  // some merge, some do not
            replay.apply(Self.mmap(i + 1, pid: 1, at: 0x7f00_0000_0000 + UInt64(i) * 0x1000, pages: 1, prot: UInt64(prot)))
        }
        let model = try #require(replay.model(of: 1))
        #expect(model.mapsLineCount == model.mapsView().count)
        #expect(model.mapsView().count == 4 + 4)
    }
}
