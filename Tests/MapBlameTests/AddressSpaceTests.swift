import Testing
@testable import MapBlame

/// `AddressSpace` fed with hand-built `MappingEvent`s whose args are what the kernel receives.
@Suite struct AddressSpaceTests {
    typealias F = MemoryFlags
    typealias Segment = IntervalMap<Mapping>.Segment

    static let P = MemoryFlags.pageSize
    static let base: UInt64 = 0x7f12_3456_0000
    static let other: UInt64 = 0x7f99_0000_0000
    static let rw = F.protRead | F.protWrite
    static let rx = F.protRead | F.protExec
    static let anonPrivate = F.mapPrivate | F.mapAnonymous
    static let noFD = UInt64(bitPattern: -1)
    static let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"

    // MARK: event builders (arguments in kernel order)

    static func event(_ id: Int, _ syscall: MappingSyscall, _ args: [UInt64], result: Int64,
                      filePath: String? = nil, length: UInt64? = nil) -> MappingEvent {
        MappingEvent(id: id, pid: 100, tid: 100, syscall: syscall, args: args, result: result, stack: 0,
                     filePath: filePath, fileBelow: nil, length: length)
    }

    /// mmap(addr, len, prot, flags, fd, off) returning `result`.
    static func mmap(_ id: Int, addr: UInt64 = 0, len: UInt64, prot: UInt64 = rw, flags: UInt64 = anonPrivate,
                     fd: UInt64 = noFD, off: UInt64 = 0, result: UInt64, path: String? = nil) -> MappingEvent {
        event(id, .mmap, [addr, len, prot, flags, fd, off], result: Int64(bitPattern: result), filePath: path)
    }

    static func failedMmap(_ id: Int, addr: UInt64, len: UInt64, flags: UInt64, errno: Int64) -> MappingEvent {
        event(id, .mmap, [addr, len, rw, flags, noFD, 0], result: -errno)
    }

    /// mremap(old, oldSize, newSize, flags, newAddr) returning `result`.
    static func mremap(_ id: Int, old: UInt64, oldSize: UInt64, newSize: UInt64, flags: UInt64 = 0,
                       newAddr: UInt64 = 0, result: UInt64) -> MappingEvent {
        event(id, .mremap, [old, oldSize, newSize, flags, newAddr, 0], result: Int64(bitPattern: result))
    }

    /// mprotect(addr, len, prot) returning 0.
    static func mprotect(_ id: Int, _ addr: UInt64, _ len: UInt64, _ prot: UInt64, result: Int64 = 0,
                         syscall: MappingSyscall = .mprotect) -> MappingEvent {
        event(id, syscall, [addr, len, prot, syscall == .pkey_mprotect ? 1 : 0, 0, 0], result: result)
    }

    /// brk(addr) returning the new break.
    static func brk(_ id: Int, _ addr: UInt64, result: UInt64) -> MappingEvent {
        event(id, .brk, [addr, 0, 0, 0, 0, 0], result: Int64(bitPattern: result))
    }

    /// shmat(shmid, addr, flags) returning the attach address; `length` as read from /proc at exit.
    static func shmat(_ id: Int, shmid: UInt64 = 32769, addr: UInt64 = 0, flags: UInt64 = 0, result: Int64,
                      length: UInt64?, path: String? = "/SYSV00000000 (deleted)") -> MappingEvent {
        event(id, .shmat, [shmid, addr, flags, 0, 0, 0], result: result, filePath: path, length: length)
    }

    static func shmdt(_ id: Int, _ addr: UInt64, result: Int64 = 0) -> MappingEvent {
        event(id, .shmdt, [addr, 0, 0, 0, 0, 0], result: result)
    }

    // MARK: expected values

    static func anon(_ creator: Int, prot: UInt64 = rw, shared: Bool = false, name: String? = nil,
                     protect: Int? = nil, bssOf: String? = nil) -> Mapping {
        var m = Mapping(creator: creator, prot: prot, shared: shared, name: name, bssOf: bssOf)
        m.lastProtect = protect
        return m
    }

    static func file(_ creator: Int, _ path: String = libc, prot: UInt64 = F.protRead, shared: Bool = false,
                     off: UInt64, protect: Int? = nil) -> Mapping {
        var m = Mapping(creator: creator, prot: prot, shared: shared, name: path, isFile: true, fileOffset: off)
        m.lastProtect = protect
        return m
    }

    static func seg(_ range: Range<UInt64>, _ value: Mapping) -> Segment { Segment(range, value) }

    /// Pages `lo..<hi` counted from `base`.
    static func pages(_ r: Range<UInt64>, from start: UInt64 = base) -> Range<UInt64> {
        (start + r.lowerBound * P)..<(start + r.upperBound * P)
    }

    /// A space holding one anonymous rw mapping of `count` pages at `base`, created by event 1.
    static func spaceWithAnon(pages count: UInt64) -> AddressSpace {
        var s = AddressSpace()
        s.apply(mmap(1, len: count * P, result: base))
        return s
    }

    /// A space holding a private read-only mapping of libc, `count` pages from file offset `off`.
    static func spaceWithFile(pages count: UInt64, off: UInt64) -> AddressSpace {
        var s = AddressSpace()
        s.apply(mmap(1, len: count * P, prot: F.protRead, flags: F.mapPrivate, fd: 3, off: off, result: base,
                     path: libc))
        return s
    }

    // MARK: mmap

    @Test("anonymous mmap with a length that is not page-aligned is rounded up")
    func mmapAnonymousRoundsUp() {
        var s = AddressSpace()
        s.apply(mmap(1, len: 5000, result: base))
        #expect(s.map.segments == [Self.seg(Self.base..<Self.base + 2 * Self.P, Self.anon(1))])
        s.apply(mmap(2, len: 1, prot: F.protRead, result: Self.other))
        #expect(s.map.segments.last == Self.seg(Self.other..<Self.other + Self.P, Self.anon(2, prot: F.protRead)))
        // Exactly one page stays one page.
        s.apply(mmap(3, len: Self.P, result: Self.other + 16 * Self.P))
        #expect(s.map.segments.last?.range == Self.pages(16..<17, from: Self.other))
    }

    @Test("file mmap records path, offset, sharing and prot; shared anonymous memory is /dev/zero")
    func mmapKinds() {
        var s = AddressSpace()
        s.apply(mmap(1, len: 3 * Self.P, prot: Self.rx, flags: F.mapPrivate, fd: 3, off: 0x26000, result: Self.base,
                     path: Self.libc))
        s.apply(mmap(2, len: Self.P, prot: F.protRead, flags: F.mapShared, fd: 4, off: 0, result: Self.other,
                     path: "/dev/shm/ring"))
        s.apply(mmap(3, len: 2 * Self.P, flags: F.mapShared | F.mapAnonymous, result: Self.other + 8 * Self.P))
        // MAP_SHARED_VALIDATE (0x03) is shared too; PROT_SEM (0x8) is not a protection bit we keep.
        s.apply(mmap(4, len: Self.P, prot: F.protRead | 0x8, flags: 0x03, fd: 5, off: 0x1000,
                     result: Self.other + 16 * Self.P, path: "/tmp/v"))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<3), Self.file(1, prot: Self.rx, off: 0x26000)),
            Self.seg(Self.pages(0..<1, from: Self.other), Self.file(2, "/dev/shm/ring", shared: true, off: 0)),
            Self.seg(Self.pages(8..<10, from: Self.other), Self.anon(3, shared: true, name: "/dev/zero (deleted)")),
            Self.seg(Self.pages(16..<17, from: Self.other), Self.file(4, "/tmp/v", shared: true, off: 0x1000)),
        ])
    }

    @Test("MAP_FIXED over the middle of a mapping leaves three pieces; the outer ones keep their creator")
    func mmapFixedOverMiddle() {
        var s = Self.spaceWithFile(pages: 6, off: 0x10000)
        s.apply(mmap(2, addr: Self.base + 2 * Self.P, len: 2 * Self.P, flags: Self.anonPrivate | F.mapFixed,
                     result: Self.base + 2 * Self.P))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2), Self.file(1, off: 0x10000)),
            Self.seg(Self.pages(2..<4), Self.anon(2)),
            Self.seg(Self.pages(4..<6), Self.file(1, off: 0x10000 + 4 * Self.P)),
        ])
    }

    // MARK: failed calls

    @Test("failed calls change nothing")
    func failedCallsChangeNothing() {
        var s = Self.spaceWithAnon(pages: 4)
        s.apply(Self.brk(2, 0, result: 0x5555_5555_9000))
        let before = s.map
        let failures: [MappingEvent] = [
            Self.failedMmap(3, addr: 0, len: 1 << 40, flags: Self.anonPrivate, errno: 12),
            Self.failedMmap(4, addr: Self.base, len: Self.P, flags: Self.anonPrivate | F.mapFixedNoReplace, errno: 17),
            Self.failedMmap(5, addr: Self.base + 1, len: Self.P, flags: Self.anonPrivate | F.mapFixed, errno: 22),
            Self.event(6, .mremap, [Self.base, 4 * Self.P, 64 * Self.P, 0, 0, 0], result: -12),
            Self.event(7, .mremap, [Self.base, 4 * Self.P, 4 * Self.P, F.mremapMayMove | F.mremapFixed, Self.other, 0],
                       result: -22),
            Self.mprotect(8, Self.base, 4 * Self.P, F.protRead | F.protExec, result: -13),
            Self.mprotect(9, Self.base, Self.P, F.protRead, result: -22, syscall: .pkey_mprotect),
            Self.shmat(10, result: -12, length: nil),
            Self.shmdt(11, Self.base, result: -22),
        ]
        for e in failures {
            #expect(e.failed, "\(e.syscall) with result \(e.result) must count as failed")
            s.apply(e)
            #expect(s.map == before, "failed \(e.syscall) (id \(e.id)) changed the model")
            #expect(s.brk == 0x5555_5555_9000)
        }
        #expect(s.map.segments == [Self.seg(Self.pages(0..<4), Self.anon(1))])
    }

    @Test("MappingEvent.failed: -1...-4095 is an error, addresses and brk results are not")
    func failedClassification() {
        #expect(Self.event(1, .mmap, [], result: -1).failed)
        #expect(Self.event(1, .mmap, [], result: -4095).failed)
        #expect(!Self.event(1, .mmap, [], result: 0).failed)
        #expect(!Self.event(1, .mmap, [], result: Int64(bitPattern: Self.base)).failed)
        #expect(!Self.event(1, .mmap, [], result: -4096).failed)
        #expect(!Self.event(1, .brk, [], result: -12).failed)
    }

    // MARK: munmap

    struct UnmapCase: Sendable, CustomTestStringConvertible {
        var label: String
        var address: UInt64
        var length: UInt64
        var removed: [Range<UInt64>]
        var left: [Range<UInt64>]
        var testDescription: String { label }
    }

    static let unmapCases: [UnmapCase] = [
        UnmapCase(label: "head", address: base, length: 2 * P, removed: [pages(0..<2)], left: [pages(2..<6)]),
        UnmapCase(label: "middle", address: base + 2 * P, length: 2 * P, removed: [pages(2..<4)],
                  left: [pages(0..<2), pages(4..<6)]),
        UnmapCase(label: "tail", address: base + 4 * P, length: 2 * P, removed: [pages(4..<6)], left: [pages(0..<4)]),
        UnmapCase(label: "whole", address: base, length: 6 * P, removed: [pages(0..<6)], left: []),
        UnmapCase(label: "whole and the holes around it", address: base - 4 * P, length: 16 * P,
                  removed: [pages(0..<6)], left: []),
        UnmapCase(label: "length not page-aligned is rounded up", address: base + P, length: P + 1,
                  removed: [pages(1..<3)], left: [pages(0..<1), pages(3..<6)]),
        UnmapCase(label: "unaligned address: EINVAL, nothing happens", address: base + 0x10, length: P,
                  removed: [], left: [pages(0..<6)]),
        UnmapCase(label: "zero length: EINVAL, nothing happens", address: base, length: 0,
                  removed: [], left: [pages(0..<6)]),
        UnmapCase(label: "a hole only", address: base + 6 * P, length: 4 * P, removed: [], left: [pages(0..<6)]),
    ]

    @Test("munmap", arguments: unmapCases)
    func unmap(_ c: UnmapCase) {
        var s = Self.spaceWithAnon(pages: 6)
        let removed = s.unmap(address: c.address, length: c.length)
        #expect(removed.map(\.range) == c.removed)
        #expect(removed.allSatisfy { $0.value == Self.anon(1) })
        #expect(s.map.segments.map(\.range) == c.left)
        #expect(s.map.segments.allSatisfy { $0.value == Self.anon(1) })
    }

    @Test("munmap of the middle of a file mapping: the tail keeps its file offset")
    func unmapFileMiddle() {
        var s = Self.spaceWithFile(pages: 6, off: 0x4000)
        let removed = s.unmap(address: Self.base + 2 * Self.P, length: Self.P)
        #expect(removed == [Self.seg(Self.pages(2..<3), Self.file(1, off: 0x6000))])
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2), Self.file(1, off: 0x4000)),
            Self.seg(Self.pages(3..<6), Self.file(1, off: 0x7000)),
        ])
    }

    /// The kernel rejects munmap with EINVAL unless `len <= TASK_SIZE - start` (mm/vma.c
    /// do_vmi_munmap); TASK_SIZE is at most 2^56 on x86_64. The tracer applies munmap at entry,
    /// before it knows the result, so the model itself must reject what the kernel rejects.
    @Test("munmap with a length beyond the user address space is EINVAL: nothing happens")
    func unmapHugeLengthIsEinval() {
        var s = Self.spaceWithAnon(pages: 6)
        s.apply(Self.mmap(2, len: Self.P, result: Self.other))
        let before = s.map
        withKnownIssue("AddressSpace.unmap has no upper bound check: it removes everything above the address") {
            let removed = s.unmap(address: 0x10000, length: 1 << 62)
            #expect(removed.isEmpty)
            #expect(s.map == before)
        }
        // munmap of the [vsyscall] page: start > TASK_SIZE, EINVAL.
        var seeded = AddressSpace()
        let vsyscall: UInt64 = 0xffff_ffff_ff60_0000
        seeded.seed(fromExec: [MapsEntry(start: vsyscall, end: vsyscall + Self.P, perms: "--xp", offset: 0,
                                         device: "00:00", inode: 0, path: "[vsyscall]")], event: 0)
        withKnownIssue("AddressSpace.unmap has no TASK_SIZE check: it removes [vsyscall]") {
            #expect(seeded.unmap(address: vsyscall, length: Self.P).isEmpty)
            #expect(seeded.map.segments.count == 1)
        }
    }

    // MARK: mprotect

    @Test("mprotect of the middle splits into three; only the middle gets lastProtect; creator kept",
          arguments: [MappingSyscall.mprotect, .pkey_mprotect])
    func mprotectMiddle(_ syscall: MappingSyscall) {
        var s = Self.spaceWithFile(pages: 6, off: 0x1000)
        // PROT_GROWSDOWN (0x01000000) is a flag, not a protection: it must not end up in prot.
        s.apply(Self.mprotect(2, Self.base + 2 * Self.P, 2 * Self.P, Self.rx | 0x0100_0000, syscall: syscall))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2), Self.file(1, off: 0x1000)),
            Self.seg(Self.pages(2..<4), Self.file(1, prot: Self.rx, off: 0x3000, protect: 2)),
            Self.seg(Self.pages(4..<6), Self.file(1, off: 0x5000)),
        ])
    }

    @Test("mprotect rounds the length up, and a second mprotect overwrites lastProtect")
    func mprotectRoundsAndOverwrites() {
        var s = Self.spaceWithAnon(pages: 4)
        s.apply(Self.mprotect(2, Self.base, 1, F.protRead))
        s.apply(Self.mprotect(3, Self.base, Self.P + 1, 0))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<1), Self.anon(1, prot: 0, protect: 3)),
            Self.seg(Self.pages(1..<2), Self.anon(1, prot: 0, protect: 3)),
            Self.seg(Self.pages(2..<4), Self.anon(1)),
        ])
        // Zero length changes nothing.
        let before = s.map
        s.apply(Self.mprotect(4, Self.base + 2 * Self.P, 0, F.protRead))
        #expect(s.map == before)
    }

    /// mprotect over [mapped, hole, mapped] fails with ENOMEM, but the kernel (mm/mprotect.c,
    /// do_mprotect_pkey) has already changed the VMAs before the hole; checked on Linux 6.18.
    @Test("mprotect that fails with ENOMEM at a hole has still changed the pages before the hole")
    func mprotectPartialBeforeHole() {
        var s = Self.spaceWithAnon(pages: 3)
        s.unmap(address: Self.base + Self.P, length: Self.P)
        s.apply(Self.mprotect(3, Self.base, 3 * Self.P, F.protRead, result: -12))
        withKnownIssue("AddressSpace.apply ignores every failed call, even a partially applied mprotect") {
            #expect(s.map.segments == [
                Self.seg(Self.pages(0..<1), Self.anon(1, prot: F.protRead, protect: 3)),
                Self.seg(Self.pages(2..<3), Self.anon(1)),
            ])
        }
    }

    // MARK: mremap

    @Test("mremap shrink in place drops the tail, keeps creator")
    func mremapShrink() {
        var s = Self.spaceWithFile(pages: 4, off: 0x2000)
        s.apply(Self.mremap(2, old: Self.base, oldSize: 4 * Self.P, newSize: Self.P + 1, result: Self.base))
        #expect(s.map.segments == [Self.seg(Self.pages(0..<2), Self.file(1, off: 0x2000))])
    }

    @Test("mremap grow in place: new bytes are created by the mremap, old bytes keep their creator")
    func mremapGrowAnon() {
        var s = Self.spaceWithAnon(pages: 2)
        s.apply(Self.mremap(2, old: Self.base, oldSize: 2 * Self.P, newSize: 5 * Self.P - 7, flags: F.mremapMayMove,
                            result: Self.base))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2), Self.anon(1)),
            Self.seg(Self.pages(2..<5), Self.anon(2)),
        ])
    }

    @Test("mremap grow in place of a file mapping continues the file offset of the last piece")
    func mremapGrowFile() {
        var s = Self.spaceWithFile(pages: 4, off: 0x10000)
        // Split the mapping so the piece being extended does not start at `old`.
        s.apply(Self.mprotect(2, Self.base + 3 * Self.P, Self.P, Self.rx))
        s.apply(Self.mremap(3, old: Self.base, oldSize: 4 * Self.P, newSize: 6 * Self.P, result: Self.base))
        // The extended VMA is the mprotected one: the new bytes inherit its prot (and lastProtect).
        let grown = Self.file(3, prot: Self.rx, off: 0x10000 + 4 * Self.P, protect: 2)
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<3), Self.file(1, off: 0x10000)),
            Self.seg(Self.pages(3..<4), Self.file(1, prot: Self.rx, off: 0x13000, protect: 2)),
            Self.seg(Self.pages(4..<6), grown),
        ])
    }

    @Test("mremap with MREMAP_MAYMOVE|MREMAP_FIXED moves: old range gone, new range created by the mremap")
    func mremapMoveFixed() {
        var s = Self.spaceWithFile(pages: 3, off: 0x2000)
        s.apply(Self.mremap(2, old: Self.base, oldSize: 3 * Self.P, newSize: 3 * Self.P,
                            flags: F.mremapMayMove | F.mremapFixed, newAddr: Self.other, result: Self.other))
        #expect(s.map.segments == [Self.seg(Self.pages(0..<3, from: Self.other), Self.file(2, off: 0x2000))])
    }

    @Test("mremap moving the middle of a file mapping takes that part's file offset along")
    func mremapMoveMiddle() {
        var s = Self.spaceWithFile(pages: 4, off: 0x2000)
        s.apply(Self.mremap(2, old: Self.base + Self.P, oldSize: 2 * Self.P, newSize: 2 * Self.P,
                            flags: F.mremapMayMove | F.mremapFixed, newAddr: Self.other, result: Self.other))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<1), Self.file(1, off: 0x2000)),
            Self.seg(Self.pages(3..<4), Self.file(1, off: 0x5000)),
            Self.seg(Self.pages(0..<2, from: Self.other), Self.file(2, off: 0x3000)),
        ])
    }

    @Test("mremap that grows by moving (MREMAP_MAYMOVE only): the whole new range is the mremap's")
    func mremapGrowByMoving() {
        var s = Self.spaceWithAnon(pages: 2)
        s.apply(Self.mremap(2, old: Self.base, oldSize: 2 * Self.P, newSize: 4 * Self.P, flags: F.mremapMayMove,
                            result: Self.other))
        #expect(s.map.segments == [Self.seg(Self.pages(0..<4, from: Self.other), Self.anon(2))])
    }

    @Test("mremap with MREMAP_FIXED onto an existing mapping replaces what was at the destination")
    func mremapFixedOverExisting() {
        var s = Self.spaceWithAnon(pages: 2)
        s.apply(Self.mmap(2, len: 8 * Self.P, prot: F.protRead, result: Self.other))
        s.apply(Self.mremap(3, old: Self.base, oldSize: 2 * Self.P, newSize: 2 * Self.P,
                            flags: F.mremapMayMove | F.mremapFixed, newAddr: Self.other + 2 * Self.P,
                            result: Self.other + 2 * Self.P))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2, from: Self.other), Self.anon(2, prot: F.protRead)),
            Self.seg(Self.pages(2..<4, from: Self.other), Self.anon(3)),
            Self.seg(Self.pages(4..<8, from: Self.other), Self.anon(2, prot: F.protRead)),
        ])
    }

    @Test("mremap with MREMAP_DONTUNMAP: the old range stays, the new one is created by the mremap")
    func mremapDontUnmap() {
        var s = Self.spaceWithAnon(pages: 2)
        s.apply(Self.mremap(2, old: Self.base, oldSize: 2 * Self.P, newSize: 2 * Self.P,
                            flags: F.mremapMayMove | F.mremapDontUnmap, result: Self.other))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2), Self.anon(1)),
            Self.seg(Self.pages(0..<2, from: Self.other), Self.anon(2)),
        ])
    }

    @Test("mremap with old_size 0 duplicates a shared mapping")
    func mremapDuplicateShared() {
        var s = AddressSpace()
        s.apply(Self.mmap(1, len: 2 * Self.P, flags: F.mapShared | F.mapAnonymous, result: Self.base))
        s.apply(Self.mremap(2, old: Self.base, oldSize: 0, newSize: 2 * Self.P, flags: F.mremapMayMove,
                            result: Self.other))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2), Self.anon(1, shared: true, name: "/dev/zero (deleted)")),
            Self.seg(Self.pages(0..<2, from: Self.other), Self.anon(2, shared: true, name: "/dev/zero (deleted)")),
        ])
    }

    // MARK: brk

    @Test("brk: the first call only records the break; growth adds [heap] from page-up(old) to page-up(new)")
    func brkGrowAndShrink() {
        let start: UInt64 = 0x5555_5555_9010  // not page-aligned
        var s = AddressSpace()
        s.apply(Self.brk(1, 0, result: start))
        #expect(s.brk == start)
        #expect(s.map.isEmpty)

        s.apply(Self.brk(2, 0x5555_5557_a123, result: 0x5555_5557_a123))
        #expect(s.brk == 0x5555_5557_a123)
        let heap = Self.anon(2, name: "[heap]")
        #expect(s.map.segments == [Self.seg(0x5555_5555_a000..<0x5555_5557_b000, heap)])

        // Growth within the last page adds nothing.
        s.apply(Self.brk(3, 0x5555_5557_aff0, result: 0x5555_5557_aff0))
        #expect(s.map.segments == [Self.seg(0x5555_5555_a000..<0x5555_5557_b000, heap)])

        // More growth: a separate piece created by the new brk.
        s.apply(Self.brk(4, 0x5555_5557_c000, result: 0x5555_5557_c000))
        #expect(s.map.segments == [
            Self.seg(0x5555_5555_a000..<0x5555_5557_b000, heap),
            Self.seg(0x5555_5557_b000..<0x5555_5557_c000, Self.anon(4, name: "[heap]")),
        ])

        // Shrink removes from page-up(new) to page-up(old).
        s.apply(Self.brk(5, 0x5555_5556_0001, result: 0x5555_5556_0001))
        #expect(s.brk == 0x5555_5556_0001)
        #expect(s.map.segments == [Self.seg(0x5555_5555_a000..<0x5555_5556_1000, heap)])

        // A refused brk returns the current break: nothing changes.
        s.apply(Self.brk(6, 0x7000_0000_0000, result: 0x5555_5556_0001))
        #expect(s.brk == 0x5555_5556_0001)
        #expect(s.map.segments == [Self.seg(0x5555_5555_a000..<0x5555_5556_1000, heap)])
    }

    @Test("brk: a first call that already moves the break still only records it")
    func brkFirstCallMoving() {
        var s = AddressSpace()
        s.apply(Self.brk(1, 0x5555_5560_0000, result: 0x5555_5560_0000))
        #expect(s.brk == 0x5555_5560_0000)
        #expect(s.map.isEmpty)
    }

    // MARK: shmat / shmdt

    @Test("shmat maps a shared file-backed segment of the attached length; SHM_RDONLY makes it read-only")
    func shmat() {
        var s = AddressSpace()
        s.apply(Self.shmat(1, result: Int64(bitPattern: Self.base), length: 3 * Self.P))
        s.apply(Self.shmat(2, flags: 0o10000, result: Int64(bitPattern: Self.other), length: Self.P,
                           path: "/SYSV0000abcd (deleted)"))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<3), Self.file(1, "/SYSV00000000 (deleted)", prot: Self.rw, shared: true, off: 0)),
            Self.seg(Self.pages(0..<1, from: Self.other),
                     Self.file(2, "/SYSV0000abcd (deleted)", prot: F.protRead, shared: true, off: 0)),
        ])
    }

    @Test("shmdt removes the whole attachment, including pieces split by mprotect, and nothing else")
    func shmdt() {
        var s = AddressSpace()
        s.apply(Self.mmap(1, len: 2 * Self.P, result: Self.base - 2 * Self.P))           // right below
        s.apply(Self.shmat(2, result: Int64(bitPattern: Self.base), length: 4 * Self.P))
        s.apply(Self.mmap(3, len: 2 * Self.P, result: Self.base + 4 * Self.P))           // right above
        s.apply(Self.mprotect(4, Self.base + Self.P, Self.P, F.protRead))
        #expect(s.map.segments.count == 5)
        s.apply(Self.shmdt(5, Self.base))
        #expect(s.map.segments == [
            Self.seg(Self.pages(0..<2, from: Self.base - 2 * Self.P), Self.anon(1)),
            Self.seg(Self.pages(4..<6), Self.anon(3)),
        ])
    }

    /// ipc/shm.c ksys_shmdt detaches every fragment of the attachment (same shm file, vm_pgoff
    /// matching the distance from shmaddr) within the segment's size, across holes left by munmap;
    /// checked on Linux 6.18 (shmdt returns 0 and no piece is left).
    @Test("shmdt after munmap of the middle or the head still detaches every remaining fragment")
    func shmdtAfterPartialMunmap() {
        var middle = AddressSpace()
        middle.apply(Self.shmat(1, result: Int64(bitPattern: Self.base), length: 3 * Self.P))
        middle.unmap(address: Self.base + Self.P, length: Self.P)
        middle.apply(Self.shmdt(2, Self.base))

        var head = AddressSpace()
        head.apply(Self.shmat(1, result: Int64(bitPattern: Self.base), length: 3 * Self.P))
        head.unmap(address: Self.base, length: Self.P)
        head.apply(Self.shmdt(2, Self.base))

        withKnownIssue("AddressSpace.apply(.shmdt) stops at the first hole and needs shmaddr itself mapped") {
            #expect(middle.map.isEmpty, "left: \(middle.map.segments.map(\.range))")
            #expect(head.map.isEmpty, "left: \(head.map.segments.map(\.range))")
        }
    }

    // MARK: seed(fromExec:)

    static let execMaps = """
        555555554000-555555556000 r--p 00000000 fe:00 253911                     /usr/bin/cat
        555555556000-55555555b000 r-xp 00002000 fe:00 253911                     /usr/bin/cat
        55555555b000-55555555e000 r--p 00007000 fe:00 253911                     /usr/bin/cat
        55555555e000-55555555f000 r--p 00009000 fe:00 253911                     /usr/bin/cat
        55555555f000-555555560000 rw-p 0000a000 fe:00 253911                     /usr/bin/cat
        555555560000-555555562000 rw-p 00000000 00:00 0 
        555555562000-555555583000 rw-p 00000000 00:00 0                          [heap]
        7ffff7fbd000-7ffff7fc1000 r--p 00000000 00:00 0                          [vvar]
        7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]
        7ffff7fc3000-7ffff7fc4000 r--p 00000000 fe:00 333148                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
        7ffff7fc4000-7ffff7fef000 r-xp 00001000 fe:00 333148                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
        7ffff7fef000-7ffff7ffa000 r--p 0002c000 fe:00 333148                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
        7ffff7ffb000-7ffff7ffd000 r--p 00037000 fe:00 333148                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
        7ffff7ffd000-7ffff7fff000 rw-p 00039000 fe:00 333148                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
        7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        """

    @Test("seed(fromExec:) rebuilds the model from the maps at exec; an anonymous region right after a file is its bss")
    func seedFromExec() throws {
        var s = Self.spaceWithAnon(pages: 4)
        s.apply(Self.brk(2, 0, result: 0x5555_5555_9000))
        let entries = try MapsEntry.parseMaps(Self.execMaps)
        s.seed(fromExec: entries, event: 7)

        #expect(s.brk == nil, "brk must be forgotten at exec")
        #expect(s.map.segments.count == entries.count)
        #expect(s.map.segment(containing: Self.base) == nil, "pre-exec mappings must be gone")
        let cat = "/usr/bin/cat"
        let ld = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
        func file(_ path: String, _ prot: UInt64, _ off: UInt64) -> Mapping {
            Mapping(creator: 7, prot: prot, shared: false, name: path, isFile: true, fileOffset: off)
        }
        func anon(_ name: String?, _ prot: UInt64, bssOf: String? = nil) -> Mapping {
            Mapping(creator: 7, prot: prot, shared: false, name: name, bssOf: bssOf)
        }
        let expected: [Mapping] = [
            file(cat, F.protRead, 0), file(cat, Self.rx, 0x2000), file(cat, F.protRead, 0x7000),
            file(cat, F.protRead, 0x9000), file(cat, Self.rw, 0xa000),
            anon(nil, Self.rw, bssOf: cat),
            anon("[heap]", Self.rw),
            anon("[vvar]", F.protRead),
            anon("[vdso]", Self.rx),
            file(ld, F.protRead, 0), file(ld, Self.rx, 0x1000), file(ld, F.protRead, 0x2c000),
            file(ld, F.protRead, 0x37000), file(ld, Self.rw, 0x39000),
            anon("[stack]", Self.rw),
            anon("[vsyscall]", F.protExec),
        ]
        #expect(s.map.segments.map(\.value) == expected)
        #expect(s.map.segments.map(\.range) == entries.map { $0.start..<$0.end })
    }

    @Test("seed: an anonymous region after a gap, after a pseudo-path or after another anonymous region is not bss")
    func seedBssNeedsAdjacentFile() {
        func entry(_ start: UInt64, _ end: UInt64, _ path: String = "", inode: UInt64 = 0,
                   perms: String = "rw-p") -> MapsEntry {
            MapsEntry(start: start, end: end, perms: perms, offset: 0, device: inode == 0 ? "00:00" : "fe:00",
                      inode: inode, path: path)
        }
        let lib = "/usr/lib/libfoo.so"
        let entries = [
            entry(0x10000, 0x11000, lib, inode: 5),
            entry(0x12000, 0x13000),                    // gap below: not bss
            entry(0x13000, 0x14000),                    // anonymous below: not bss
            entry(0x20000, 0x21000, lib, inode: 5),
            entry(0x21000, 0x22000),                    // adjacent to the file: bss of lib
            entry(0x22000, 0x23000, "[heap]"),          // named: not bss
            entry(0x30000, 0x31000, "/dev/shm/x", inode: 9, perms: "rw-s"),
            entry(0x31000, 0x32000, "[anon:arena]"),    // named: not bss
        ]
        var s = AddressSpace()
        s.seed(fromExec: entries, event: 0)
        #expect(s.map.segments.map(\.value.bssOf) == [nil, nil, nil, nil, lib, nil, nil, nil])
        #expect(s.map.segments.map(\.value.shared) == [false, false, false, false, false, false, true, false])
    }
}
