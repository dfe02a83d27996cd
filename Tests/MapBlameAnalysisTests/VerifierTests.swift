import Testing
@testable import MapBlameAnalysis
import MapBlameModel

/// `--verify`'s page-by-page comparison of a model with a hand-written kernel map.
struct VerifierTests {
    static func entry(_ start: UInt64, _ end: UInt64, _ perms: String, path: String = "", inode: UInt64 = 0) -> MapsEntry {
        MapsEntry(start: start, end: end, perms: perms, offset: 0, device: inode == 0 ? "00:00" : "08:01", inode: inode, path: path)
    }

    /// A model of one anonymous read-write mmap of two pages.
    static func model() -> AddressSpace {
        var space = AddressSpace(taskSize: 0x7fff_ffff_f000)
        space.apply(MappingEvent(id: 1, pid: 10, tid: 10, syscall: .mmap, args: [0, 0x2000, 3, 0x22, UInt64.max, 0],
                                 result: 0x10000, stack: 0))
        return space
    }

    @Test func agreeingMapsHaveNoMismatch() {
        let snapshot = FinalSnapshot(maps: [Self.entry(0x10000, 0x12000, "rw-p")], usage: [:], model: Self.model(), threadStacks: [])
        let v = Verifier.verify(snapshot, regions: [])
        #expect(v.mismatches.isEmpty)
        #expect(v.mappedPages == 2)
        #expect(v.mismatchedPages == 0)
    }

    @Test func eachKindOfDisagreementIsNamedWithItsPages() {
        let maps = [Self.entry(0x10000, 0x11000, "rw-p"), Self.entry(0x11000, 0x12000, "r--p"),
                    Self.entry(0x20000, 0x21000, "rw-p")]
        let v = Verifier.verify(FinalSnapshot(maps: maps, usage: [:], model: Self.model(), threadStacks: []), regions: [])
        #expect(v.mismatches.map(\.kind) == [.protection, .onlyInKernel])
        #expect(v.mismatches.map(\.range) == [0x11000..<0x12000, 0x20000..<0x21000])
        #expect(v.mismatchedPages == 2)
        #expect(!v.agrees)
    }

    @Test func bytesOnlyInTheModelAndOtherBackingAreMismatches() {
        let maps = [Self.entry(0x10000, 0x11000, "rw-p", path: "/data/file", inode: 42)]
        let v = Verifier.verify(FinalSnapshot(maps: maps, usage: [:], model: Self.model(), threadStacks: []), regions: [])
        #expect(Set(v.mismatches.map(\.kind)) == [.backing, .onlyInModel])
        #expect(v.mismatchedPages == 2)
    }
}
