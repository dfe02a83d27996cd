import Testing
@testable import MapBlameModel

private typealias F = MemoryFlags
private typealias Segment = IntervalMap<Mapping>.Segment

private let P = MemoryFlags.pageSize
private let base: UInt64 = 0x7f12_3456_0000
private let other: UInt64 = 0x7f99_0000_0000
private let rw = F.protRead | F.protWrite
private let rx = F.protRead | F.protExec
private let anonPrivate = F.mapPrivate | F.mapAnonymous
private let noFD = UInt64(bitPattern: -1)
private let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"

// MARK: event builders (arguments in kernel order)

private func event(_ id: Int, _ syscall: MappingSyscall, _ args: [UInt64], result: Int64,
                   filePath: String? = nil, length: UInt64? = nil) -> MappingEvent {
    MappingEvent(id: id, pid: 100, tid: 100, syscall: syscall, args: args, result: result, stack: 0,
                 filePath: filePath, fileBelow: nil, length: length)
}

/// mmap(addr, len, prot, flags, fd, off) returning `result`.
private func mmap(_ id: Int, addr: UInt64 = 0, len: UInt64, prot: UInt64 = rw, flags: UInt64 = anonPrivate,
                  fd: UInt64 = noFD, off: UInt64 = 0, result: UInt64, path: String? = nil) -> MappingEvent {
    event(id, .mmap, [addr, len, prot, flags, fd, off], result: Int64(bitPattern: result), filePath: path)
}

private func failedMmap(_ id: Int, addr: UInt64, len: UInt64, flags: UInt64, errno: Int64) -> MappingEvent {
    event(id, .mmap, [addr, len, rw, flags, noFD, 0], result: -errno)
}

/// mremap(old, oldSize, newSize, flags, newAddr) returning `result`.
private func mremap(_ id: Int, old: UInt64, oldSize: UInt64, newSize: UInt64, flags: UInt64 = 0,
                    newAddr: UInt64 = 0, result: UInt64) -> MappingEvent {
    event(id, .mremap, [old, oldSize, newSize, flags, newAddr, 0], result: Int64(bitPattern: result))
}

/// mprotect(addr, len, prot) returning 0.
private func mprotect(_ id: Int, _ addr: UInt64, _ len: UInt64, _ prot: UInt64, result: Int64 = 0,
                      syscall: MappingSyscall = .mprotect) -> MappingEvent {
    event(id, syscall, [addr, len, prot, syscall == .pkey_mprotect ? 1 : 0, 0, 0], result: result)
}

/// brk(addr) returning the new break.
private func brk(_ id: Int, _ addr: UInt64, result: UInt64) -> MappingEvent {
    event(id, .brk, [addr, 0, 0, 0, 0, 0], result: Int64(bitPattern: result))
}

/// shmat(shmid, addr, flags) returning the attach address; `length` as read from /proc at exit.
private func shmat(_ id: Int, shmid: UInt64 = 32769, addr: UInt64 = 0, flags: UInt64 = 0, result: Int64,
                   length: UInt64?, path: String? = "/SYSV00000000 (deleted)") -> MappingEvent {
    event(id, .shmat, [shmid, addr, flags, 0, 0, 0], result: result, filePath: path, length: length)
}

private func shmdt(_ id: Int, _ addr: UInt64, result: Int64 = 0) -> MappingEvent {
    event(id, .shmdt, [addr, 0, 0, 0, 0, 0], result: result)
}

// MARK: expected values

private func anon(_ creator: Int, prot: UInt64 = rw, shared: Bool = false, name: String? = nil,
                  protect: Int? = nil, bssOf: String? = nil) -> Mapping {
    var m = Mapping(creator: creator, prot: prot, shared: shared, name: name, bssOf: bssOf)
    m.lastProtect = protect
    return m
}

private func file(_ creator: Int, _ path: String = libc, prot: UInt64 = F.protRead, shared: Bool = false,
                  off: UInt64, protect: Int? = nil) -> Mapping {
    var m = Mapping(creator: creator, prot: prot, shared: shared, name: path, isFile: true, fileOffset: off)
    m.lastProtect = protect
    return m
}

private func seg(_ range: Range<UInt64>, _ value: Mapping) -> Segment { Segment(range, value) }

/// Pages `lo..<hi` counted from `base`.
private func pages(_ r: Range<UInt64>, from start: UInt64 = base) -> Range<UInt64> {
    (start + r.lowerBound * P)..<(start + r.upperBound * P)
}

/// A space holding one anonymous rw mapping of `count` pages at `base`, created by event 1.
private func spaceWithAnon(pages count: UInt64) -> AddressSpace {
    var s = AddressSpace()
    s.apply(mmap(1, len: count * P, result: base))
    return s
}

/// A space holding a private read-only mapping of libc, `count` pages from file offset `off`.
private func spaceWithFile(pages count: UInt64, off: UInt64) -> AddressSpace {
    var s = AddressSpace()
    s.apply(mmap(1, len: count * P, prot: F.protRead, flags: F.mapPrivate, fd: 3, off: off, result: base,
                 path: libc))
    return s
}

/// `AddressSpace` fed with hand-built `MappingEvent`s whose args are what the kernel receives.
@Suite struct AddressSpaceTests {
    // MARK: mmap

    @Test("anonymous mmap with a length that is not page-aligned is rounded up")
    func mmapAnonymousRoundsUp() {
        var s = AddressSpace()
        s.apply(mmap(1, len: 5000, result: base))
        #expect(s.map.segments == [seg(base..<base + 2 * P, anon(1))])
        s.apply(mmap(2, len: 1, prot: F.protRead, result: other))
        #expect(s.map.segments.last == seg(other..<other + P, anon(2, prot: F.protRead)))
        // Exactly one page stays one page.
        s.apply(mmap(3, len: P, result: other + 16 * P))
        #expect(s.map.segments.last?.range == pages(16..<17, from: other))
    }

    @Test("file mmap records path, offset, sharing and prot; shared anonymous memory is /dev/zero")
    func mmapKinds() {
        var s = AddressSpace()
        s.apply(mmap(1, len: 3 * P, prot: rx, flags: F.mapPrivate, fd: 3, off: 0x26000, result: base,
                     path: libc))
        s.apply(mmap(2, len: P, prot: F.protRead, flags: F.mapShared, fd: 4, off: 0, result: other,
                     path: "/dev/shm/ring"))
        s.apply(mmap(3, len: 2 * P, flags: F.mapShared | F.mapAnonymous, result: other + 8 * P))
        // MAP_SHARED_VALIDATE (0x03) is shared too; PROT_SEM (0x8) is not a protection bit we keep.
        s.apply(mmap(4, len: P, prot: F.protRead | 0x8, flags: 0x03, fd: 5, off: 0x1000,
                     result: other + 16 * P, path: "/tmp/v"))
        #expect(s.map.segments == [
            seg(pages(0..<3), file(1, prot: rx, off: 0x26000)),
            seg(pages(0..<1, from: other), file(2, "/dev/shm/ring", shared: true, off: 0)),
            seg(pages(8..<10, from: other), anon(3, shared: true, name: "/dev/zero (deleted)")),
            seg(pages(16..<17, from: other), file(4, "/tmp/v", shared: true, off: 0x1000)),
        ])
    }

    @Test("MAP_FIXED over the middle of a mapping leaves three pieces; the outer ones keep their creator")
    func mmapFixedOverMiddle() {
        var s = spaceWithFile(pages: 6, off: 0x10000)
        s.apply(mmap(2, addr: base + 2 * P, len: 2 * P, flags: anonPrivate | F.mapFixed,
                     result: base + 2 * P))
        #expect(s.map.segments == [
            seg(pages(0..<2), file(1, off: 0x10000)),
            seg(pages(2..<4), anon(2)),
            seg(pages(4..<6), file(1, off: 0x10000 + 4 * P)),
        ])
    }

    // MARK: failed calls

    @Test("failed calls change nothing")
    func failedCallsChangeNothing() {
        var s = spaceWithAnon(pages: 4)
        s.apply(brk(2, 0, result: 0x5555_5555_9000))
        let before = s.map
        let failures: [MappingEvent] = [
            failedMmap(3, addr: 0, len: 1 << 40, flags: anonPrivate, errno: 12),
            failedMmap(4, addr: base, len: P, flags: anonPrivate | F.mapFixedNoReplace, errno: 17),
            failedMmap(5, addr: base + 1, len: P, flags: anonPrivate | F.mapFixed, errno: 22),
            event(6, .mremap, [base, 4 * P, 64 * P, 0, 0, 0], result: -12),
            event(7, .mremap, [base, 4 * P, 4 * P, F.mremapMayMove | F.mremapFixed, other, 0],
                  result: -22),
            mprotect(8, base, 4 * P, F.protRead | F.protExec, result: -13),
            mprotect(9, base, P, F.protRead, result: -22, syscall: .pkey_mprotect),
            shmat(10, result: -12, length: nil),
            shmdt(11, base, result: -22),
        ]
        for e in failures {
            #expect(e.failed, "\(e.syscall) with result \(e.result) must count as failed")
            s.apply(e)
            #expect(s.map == before, "failed \(e.syscall) (id \(e.id)) changed the model")
            #expect(s.brk == 0x5555_5555_9000)
        }
        #expect(s.map.segments == [seg(pages(0..<4), anon(1))])
    }

    @Test("MappingEvent.failed: -1...-4095 is an error, addresses and brk results are not")
    func failedClassification() {
        #expect(event(1, .mmap, [], result: -1).failed)
        #expect(event(1, .mmap, [], result: -4095).failed)
        #expect(!event(1, .mmap, [], result: 0).failed)
        #expect(!event(1, .mmap, [], result: Int64(bitPattern: base)).failed)
        #expect(!event(1, .mmap, [], result: -4096).failed)
        #expect(!event(1, .brk, [], result: -12).failed)
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

    @Test("munmap", arguments: AddressSpaceTests.unmapCases)
    func unmap(_ c: UnmapCase) {
        var s = spaceWithAnon(pages: 6)
        let removed = s.unmap(address: c.address, length: c.length)
        #expect(removed.map(\.range) == c.removed)
        #expect(removed.allSatisfy { $0.value == anon(1) })
        #expect(s.map.segments.map(\.range) == c.left)
        #expect(s.map.segments.allSatisfy { $0.value == anon(1) })
    }

    @Test("munmap of the middle of a file mapping: the tail keeps its file offset")
    func unmapFileMiddle() {
        var s = spaceWithFile(pages: 6, off: 0x4000)
        let removed = s.unmap(address: base + 2 * P, length: P)
        #expect(removed == [seg(pages(2..<3), file(1, off: 0x6000))])
        #expect(s.map.segments == [
            seg(pages(0..<2), file(1, off: 0x4000)),
            seg(pages(3..<6), file(1, off: 0x7000)),
        ])
    }

    /// The kernel rejects munmap with EINVAL unless `len <= TASK_SIZE - start` (mm/vma.c
    /// do_vmi_munmap); TASK_SIZE is at most 2^56 on x86_64. The tracer applies munmap at entry,
    /// before it knows the result, so the model itself must reject what the kernel rejects.
    @Test("munmap with a length beyond the user address space is EINVAL: nothing happens")
    func unmapHugeLengthIsEinval() {
        var s = spaceWithAnon(pages: 6)
        s.apply(mmap(2, len: P, result: other))
        let before = s.map
        let removed = s.unmap(address: 0x10000, length: 1 << 62)
        #expect(removed.isEmpty)
        #expect(s.map == before)
        // munmap of the [vsyscall] page: start > TASK_SIZE, EINVAL.
        var seeded = AddressSpace()
        let vsyscall: UInt64 = 0xffff_ffff_ff60_0000
        seeded.seed(fromExec: [MapsEntry(start: vsyscall, end: vsyscall + P, perms: "--xp", offset: 0,
                                         device: "00:00", inode: 0, path: "[vsyscall]")], event: 0)
        #expect(seeded.unmap(address: vsyscall, length: P).isEmpty)
        #expect(seeded.map.segments.count == 1)
    }

    /// When `address + length` wraps past 2^64 the kernel returns EINVAL. A model that builds
    /// `address..<pageUp(address &+ length)` traps (upper bound below lower bound) and kills the
    /// tracer, so this runs in a child process (an exit test): a regression cannot take the run down.
    @Test("munmap whose end wraps around 2^64 is EINVAL, not a crash")
    func unmapWrappingLengthDoesNotTrap() async {
        await #expect(processExitsWith: .success) {
            var s = AddressSpace()
            s.apply(mmap(1, len: 4 * P, result: base))
            let removed = s.unmap(address: base, length: UInt64.max - 0xfff)
            precondition(removed.isEmpty && s.map.segments.count == 1)
        }
    }

    // MARK: mprotect

    @Test("mprotect of the middle splits into three; only the middle gets lastProtect; creator kept",
          arguments: [MappingSyscall.mprotect, .pkey_mprotect])
    func mprotectMiddle(_ syscall: MappingSyscall) {
        var s = spaceWithFile(pages: 6, off: 0x1000)
        // PROT_GROWSDOWN (0x01000000) is a flag, not a protection: it must not end up in prot.
        s.apply(mprotect(2, base + 2 * P, 2 * P, rx | 0x0100_0000, syscall: syscall))
        #expect(s.map.segments == [
            seg(pages(0..<2), file(1, off: 0x1000)),
            seg(pages(2..<4), file(1, prot: rx, off: 0x3000, protect: 2)),
            seg(pages(4..<6), file(1, off: 0x5000)),
        ])
    }

    @Test("mprotect rounds the length up, and a second mprotect overwrites lastProtect")
    func mprotectRoundsAndOverwrites() {
        var s = spaceWithAnon(pages: 4)
        s.apply(mprotect(2, base, 1, F.protRead))
        s.apply(mprotect(3, base, P + 1, 0))
        #expect(s.map.segments == [
            seg(pages(0..<1), anon(1, prot: 0, protect: 3)),
            seg(pages(1..<2), anon(1, prot: 0, protect: 3)),
            seg(pages(2..<4), anon(1)),
        ])
        // Zero length changes nothing.
        let before = s.map
        s.apply(mprotect(4, base + 2 * P, 0, F.protRead))
        #expect(s.map == before)
    }

    /// mprotect over [mapped, hole, mapped] fails with ENOMEM, but the kernel (mm/mprotect.c,
    /// do_mprotect_pkey) has already changed the VMAs before the hole; checked on Linux 6.18.
    @Test("mprotect that fails with ENOMEM at a hole has still changed the pages before the hole")
    func mprotectPartialBeforeHole() {
        var s = spaceWithAnon(pages: 4)
        s.apply(mprotect(2, base + P, P, F.protRead))  // two pieces before the hole
        s.unmap(address: base + 2 * P, length: P)
        s.apply(mprotect(3, base, 4 * P, F.protExec, result: -12))
        #expect(s.map.segments == [
            seg(pages(0..<1), anon(1, prot: F.protExec, protect: 3)),
            seg(pages(1..<2), anon(1, prot: F.protExec, protect: 3)),
            seg(pages(3..<4), anon(1)),
        ])
    }

    @Test("mprotect that fails with ENOMEM because its start is unmapped changes nothing")
    func mprotectFailsAtStart() {
        var s = spaceWithAnon(pages: 4)
        s.unmap(address: base, length: P)
        let before = s.map
        s.apply(mprotect(2, base, 4 * P, F.protRead, result: -12))
        #expect(s.map == before)
        // The same call failing for another reason (EACCES) changes nothing either.
        s.apply(mprotect(3, base + P, 3 * P, F.protRead | F.protExec, result: -13))
        #expect(s.map == before)
    }

    /// mprotect(addr, (size_t)-4096, prot): the kernel page-aligns the length, sees end <= start and
    /// returns ENOMEM without touching anything (checked on Linux 6.18). The partial-failure path of
    /// `apply` must not build `addr..<pageUp(addr &+ len)` (a wrapped upper bound traps): exit test.
    @Test("mprotect failing with ENOMEM because its end wraps around 2^64 changes nothing and does not crash")
    func mprotectWrappingLengthDoesNotTrap() async {
        await #expect(processExitsWith: .success) {
            var s = AddressSpace()
            s.apply(mmap(1, len: 4 * P, result: base))
            let before = s.map
            s.apply(mprotect(2, base, UInt64.max - 0xfff, F.protRead, result: -12))
            precondition(s.map == before)
        }
    }

    /// do_mprotect_pkey has no TASK_SIZE check: a huge length that does not wrap walks the VMAs from
    /// the address, changes them, and fails with ENOMEM at the first hole. Checked on Linux 6.18
    /// (4-level paging): mprotect(a, 1 << 62, PROT_READ) on [3 mapped pages, hole] returns ENOMEM
    /// and /proc/self/maps shows the 3 pages r--p.
    @Test("mprotect with a huge (non-wrapping) length still changes the mapped run before the first hole")
    func mprotectHugeLengthPartial() {
        var s = spaceWithAnon(pages: 3)
        s.apply(mmap(2, len: P, result: other))
        s.apply(mprotect(3, base, 1 << 62, F.protRead, result: -12))
        #expect(s.map.segments == [
            seg(pages(0..<3), anon(1, prot: F.protRead, protect: 3)),
            seg(pages(0..<1, from: other), anon(2)),
        ])
    }

    // MARK: mremap

    @Test("mremap shrink in place drops the tail, keeps creator")
    func mremapShrink() {
        var s = spaceWithFile(pages: 4, off: 0x2000)
        s.apply(mremap(2, old: base, oldSize: 4 * P, newSize: P + 1, result: base))
        #expect(s.map.segments == [seg(pages(0..<2), file(1, off: 0x2000))])
    }

    @Test("mremap grow in place: new bytes are created by the mremap, old bytes keep their creator")
    func mremapGrowAnon() {
        var s = spaceWithAnon(pages: 2)
        s.apply(mremap(2, old: base, oldSize: 2 * P, newSize: 5 * P - 7, flags: F.mremapMayMove,
                       result: base))
        #expect(s.map.segments == [
            seg(pages(0..<2), anon(1)),
            seg(pages(2..<5), anon(2)),
        ])
    }

    @Test("mremap grow in place of a file mapping continues the file offset of the last piece")
    func mremapGrowFile() {
        var s = spaceWithFile(pages: 4, off: 0x10000)
        // Split the mapping so the piece being extended does not start at `old`.
        s.apply(mprotect(2, base + 3 * P, P, rx))
        s.apply(mremap(3, old: base, oldSize: 4 * P, newSize: 6 * P, result: base))
        // The extended VMA is the mprotected one: the new bytes inherit its prot (and lastProtect).
        let grown = file(3, prot: rx, off: 0x10000 + 4 * P, protect: 2)
        #expect(s.map.segments == [
            seg(pages(0..<3), file(1, off: 0x10000)),
            seg(pages(3..<4), file(1, prot: rx, off: 0x13000, protect: 2)),
            seg(pages(4..<6), grown),
        ])
    }

    @Test("mremap with MREMAP_MAYMOVE|MREMAP_FIXED moves: old range gone, new range created by the mremap")
    func mremapMoveFixed() {
        var s = spaceWithFile(pages: 3, off: 0x2000)
        s.apply(mremap(2, old: base, oldSize: 3 * P, newSize: 3 * P,
                       flags: F.mremapMayMove | F.mremapFixed, newAddr: other, result: other))
        #expect(s.map.segments == [seg(pages(0..<3, from: other), file(2, off: 0x2000))])
    }

    @Test("mremap moving the middle of a file mapping takes that part's file offset along")
    func mremapMoveMiddle() {
        var s = spaceWithFile(pages: 4, off: 0x2000)
        s.apply(mremap(2, old: base + P, oldSize: 2 * P, newSize: 2 * P,
                       flags: F.mremapMayMove | F.mremapFixed, newAddr: other, result: other))
        #expect(s.map.segments == [
            seg(pages(0..<1), file(1, off: 0x2000)),
            seg(pages(3..<4), file(1, off: 0x5000)),
            seg(pages(0..<2, from: other), file(2, off: 0x3000)),
        ])
    }

    @Test("mremap that grows by moving (MREMAP_MAYMOVE only): moved bytes and grown tail are the mremap's")
    func mremapGrowByMoving() {
        var s = spaceWithFile(pages: 2, off: 0x5000)
        s.apply(mremap(2, old: base, oldSize: 2 * P, newSize: 4 * P, flags: F.mremapMayMove, result: other))
        // Every byte is created by the mremap; the grown tail continues the file where the moved part ends.
        #expect(s.map.segments.map(\.value.creator) == [2, 2])
        #expect(s.map.segments.map(\.range) == [pages(0..<2, from: other), pages(2..<4, from: other)])
        #expect(s.map.segments.map(\.value.fileOffset) == [0x5000, 0x7000])
        #expect(s.map.segments.allSatisfy { $0.value.name == libc && $0.value.prot == F.protRead })
    }

    @Test("mremap moving a range made of several pieces keeps each piece's prot and offset (Linux 6.17+)")
    func mremapMoveSeveralPieces() {
        var s = spaceWithFile(pages: 4, off: 0x2000)
        s.apply(mprotect(2, base + P, P, rx))
        s.apply(mremap(3, old: base, oldSize: 3 * P, newSize: 3 * P, flags: F.mremapMayMove | F.mremapFixed,
                       newAddr: other, result: other))
        #expect(s.map.segments == [
            seg(pages(3..<4), file(1, off: 0x5000)),
            seg(pages(0..<1, from: other), file(3, off: 0x2000)),
            seg(pages(1..<2, from: other), file(3, prot: rx, off: 0x3000, protect: 2)),
            seg(pages(2..<3, from: other), file(3, off: 0x4000)),
        ])
    }

    @Test("mremap that shrinks and moves: the whole old range is gone, only the head arrives")
    func mremapShrinkAndMove() {
        var s = spaceWithFile(pages: 4, off: 0)
        s.apply(mremap(2, old: base, oldSize: 4 * P, newSize: P, flags: F.mremapMayMove | F.mremapFixed,
                       newAddr: other, result: other))
        #expect(s.map.segments == [seg(pages(0..<1, from: other), file(2, off: 0))])
    }

    @Test("mremap with MREMAP_FIXED onto an existing mapping replaces what was at the destination")
    func mremapFixedOverExisting() {
        var s = spaceWithAnon(pages: 2)
        s.apply(mmap(2, len: 8 * P, prot: F.protRead, result: other))
        s.apply(mremap(3, old: base, oldSize: 2 * P, newSize: 2 * P,
                       flags: F.mremapMayMove | F.mremapFixed, newAddr: other + 2 * P,
                       result: other + 2 * P))
        #expect(s.map.segments == [
            seg(pages(0..<2, from: other), anon(2, prot: F.protRead)),
            seg(pages(2..<4, from: other), anon(3)),
            seg(pages(4..<8, from: other), anon(2, prot: F.protRead)),
        ])
    }

    @Test("mremap with MREMAP_DONTUNMAP: the old range stays, the new one is created by the mremap")
    func mremapDontUnmap() {
        var s = spaceWithAnon(pages: 2)
        s.apply(mremap(2, old: base, oldSize: 2 * P, newSize: 2 * P,
                       flags: F.mremapMayMove | F.mremapDontUnmap, result: other))
        #expect(s.map.segments == [
            seg(pages(0..<2), anon(1)),
            seg(pages(0..<2, from: other), anon(2)),
        ])
    }

    @Test("mremap with old_size 0 duplicates a shared mapping")
    func mremapDuplicateShared() {
        var s = AddressSpace()
        s.apply(mmap(1, len: 2 * P, flags: F.mapShared | F.mapAnonymous, result: base))
        s.apply(mremap(2, old: base, oldSize: 0, newSize: 2 * P, flags: F.mremapMayMove,
                       result: other))
        #expect(s.map.segments == [
            seg(pages(0..<2), anon(1, shared: true, name: "/dev/zero (deleted)")),
            seg(pages(0..<2, from: other), anon(2, shared: true, name: "/dev/zero (deleted)")),
        ])
    }

    /// With old_size 0 the kernel maps the same pages again, starting at the file offset of `old`
    /// (vm_pgoff + (old - vm_start) / PAGE_SIZE in mm/mremap.c); checked on Linux 6.18 with a memfd:
    /// duplicating page 2 of a 4-page mapping shows offset 00002000 in /proc/self/maps.
    @Test("mremap with old_size 0 from the middle of a shared file mapping starts at that page's offset")
    func mremapDuplicateFromMiddle() {
        var s = AddressSpace()
        s.apply(mmap(1, len: 4 * P, prot: rw, flags: F.mapShared, fd: 3, off: 0, result: base,
                     path: "/memfd:ring (deleted)"))
        s.apply(mremap(2, old: base + 2 * P, oldSize: 0, newSize: P, flags: F.mremapMayMove, result: other))
        let dup = s.map.segment(containing: other)
        #expect(dup?.range == pages(0..<1, from: other))
        #expect(dup?.value.creator == 2)
        #expect(dup?.value.shared == true)
        #expect(dup?.value.fileOffset == 2 * P)
    }

    // MARK: brk

    @Test("brk: the first call only records the break; growth adds [heap] from page-up(old) to page-up(new)")
    func brkGrowAndShrink() {
        let start: UInt64 = 0x5555_5555_9010  // not page-aligned
        var s = AddressSpace()
        s.apply(brk(1, 0, result: start))
        #expect(s.brk == start)
        #expect(s.map.isEmpty)

        s.apply(brk(2, 0x5555_5557_a123, result: 0x5555_5557_a123))
        #expect(s.brk == 0x5555_5557_a123)
        let heap = anon(2, name: "[heap]")
        #expect(s.map.segments == [seg(0x5555_5555_a000..<0x5555_5557_b000, heap)])

        // Growth within the last page adds nothing.
        s.apply(brk(3, 0x5555_5557_aff0, result: 0x5555_5557_aff0))
        #expect(s.map.segments == [seg(0x5555_5555_a000..<0x5555_5557_b000, heap)])

        // More growth: a separate piece created by the new brk.
        s.apply(brk(4, 0x5555_5557_c000, result: 0x5555_5557_c000))
        #expect(s.map.segments == [
            seg(0x5555_5555_a000..<0x5555_5557_b000, heap),
            seg(0x5555_5557_b000..<0x5555_5557_c000, anon(4, name: "[heap]")),
        ])

        // Shrink removes from page-up(new) to page-up(old).
        s.apply(brk(5, 0x5555_5556_0001, result: 0x5555_5556_0001))
        #expect(s.brk == 0x5555_5556_0001)
        #expect(s.map.segments == [seg(0x5555_5555_a000..<0x5555_5556_1000, heap)])

        // A refused brk returns the current break: nothing changes.
        s.apply(brk(6, 0x7000_0000_0000, result: 0x5555_5556_0001))
        #expect(s.brk == 0x5555_5556_0001)
        #expect(s.map.segments == [seg(0x5555_5555_a000..<0x5555_5556_1000, heap)])
    }

    @Test("brk: a first call that already moves the break still only records it")
    func brkFirstCallMoving() {
        var s = AddressSpace()
        s.apply(brk(1, 0x5555_5560_0000, result: 0x5555_5560_0000))
        #expect(s.brk == 0x5555_5560_0000)
        #expect(s.map.isEmpty)
    }

    // MARK: shmat / shmdt

    @Test("shmat maps a shared file-backed segment of the attached length; SHM_RDONLY makes it read-only")
    func shmatMapsSegment() {
        var s = AddressSpace()
        s.apply(shmat(1, result: Int64(bitPattern: base), length: 3 * P))
        s.apply(shmat(2, flags: 0o10000, result: Int64(bitPattern: other), length: P,
                      path: "/SYSV0000abcd (deleted)"))
        #expect(s.map.segments == [
            seg(pages(0..<3), file(1, "/SYSV00000000 (deleted)", prot: rw, shared: true, off: 0)),
            seg(pages(0..<1, from: other),
                file(2, "/SYSV0000abcd (deleted)", prot: F.protRead, shared: true, off: 0)),
        ])
    }

    @Test("shmdt removes the whole attachment, including pieces split by mprotect, and nothing else")
    func shmdtRemovesAttachment() {
        var s = AddressSpace()
        s.apply(mmap(1, len: 2 * P, result: base - 2 * P))           // right below
        s.apply(shmat(2, result: Int64(bitPattern: base), length: 4 * P))
        s.apply(mmap(3, len: 2 * P, result: base + 4 * P))           // right above
        s.apply(mprotect(4, base + P, P, F.protRead))
        #expect(s.map.segments.count == 5)
        s.apply(shmdt(5, base))
        #expect(s.map.segments == [
            seg(pages(0..<2, from: base - 2 * P), anon(1)),
            seg(pages(4..<6), anon(3)),
        ])
    }

    /// ipc/shm.c ksys_shmdt detaches every fragment of the attachment (same shm file, vm_pgoff
    /// matching the distance from shmaddr) within the segment's size, across holes left by munmap;
    /// checked on Linux 6.18 (shmdt returns 0 and no piece is left).
    @Test("shmdt after munmap of the middle or the head still detaches every remaining fragment")
    func shmdtAfterPartialMunmap() {
        var middle = AddressSpace()
        middle.apply(shmat(1, result: Int64(bitPattern: base), length: 3 * P))
        middle.unmap(address: base + P, length: P)
        middle.apply(shmdt(2, base))

        var head = AddressSpace()
        head.apply(shmat(1, result: Int64(bitPattern: base), length: 3 * P))
        head.unmap(address: base, length: P)
        head.apply(shmdt(2, base))

        #expect(middle.map.isEmpty, "left: \(middle.map.segments.map(\.range))")
        #expect(head.map.isEmpty, "left: \(head.map.segments.map(\.range))")
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
        var s = spaceWithAnon(pages: 4)
        s.apply(brk(2, 0, result: 0x5555_5555_9000))
        let entries = try MapsEntry.parseMaps(AddressSpaceTests.execMaps)
        s.seed(fromExec: entries, event: 7)

        #expect(s.brk == 0x5555_5558_3000, "the break is where the new [heap] ends, not the old one")
        var bare = s
        bare.seed(fromExec: entries.filter { $0.path != "[heap]" }, event: 8)
        #expect(bare.brk == nil, "no [heap]: the break is learnt from the first brk")
        #expect(s.map.segments.count == entries.count)
        #expect(s.map.segment(containing: base) == nil, "pre-exec mappings must be gone")
        let cat = "/usr/bin/cat"
        let ld = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
        func file(_ path: String, _ prot: UInt64, _ off: UInt64) -> Mapping {
            Mapping(creator: 7, prot: prot, shared: false, name: path, isFile: true, fileOffset: off)
        }
        func anon(_ name: String?, _ prot: UInt64, bssOf: String? = nil) -> Mapping {
            Mapping(creator: 7, prot: prot, shared: false, name: name, bssOf: bssOf)
        }
        let expected: [Mapping] = [
            file(cat, F.protRead, 0), file(cat, rx, 0x2000), file(cat, F.protRead, 0x7000),
            file(cat, F.protRead, 0x9000), file(cat, rw, 0xa000),
            anon(nil, rw, bssOf: cat),
            anon("[heap]", rw),
            anon("[vvar]", F.protRead),
            anon("[vdso]", rx),
            file(ld, F.protRead, 0), file(ld, rx, 0x1000), file(ld, F.protRead, 0x2c000),
            file(ld, F.protRead, 0x37000), file(ld, rw, 0x39000),
            anon("[stack]", rw),
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
