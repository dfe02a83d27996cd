/// The model of one address space (one mm): who created every byte, and the program break.
/// Pure and deterministic: the tracer feeds it events in the order the kernel applied them.
public struct AddressSpace: Sendable {
    public var map = IntervalMap<Mapping>()
    /// The program break as last reported by brk(); nil until the first brk call.
    public var brk: UInt64?

    public init() {}

    public init(taskSize: UInt64) {
        self.taskSize = taskSize
    }

    package typealias F = MemoryFlags

    /// Resets the model to the regions present right after execve (kernel-made, no syscall), or
    /// when attaching. An anonymous region that starts where a file's mapping ends is that file's
    /// .bss tail. A [heap] already there ends at the program break rounded up to a page: the first
    /// brk then grows or shrinks it from there (attach).
    public mutating func seed(fromExec entries: [MapsEntry], event: Int) {
        map = IntervalMap()
        brk = entries.last { $0.path == "[heap]" }?.end
        var previous: MapsEntry?
        for e in entries {
            var m = Mapping(creator: event, prot: F.prot(fromPerms: e.perms), shared: e.isShared,
                            name: e.path.isEmpty ? nil : e.path, isFile: e.isFile, fileOffset: e.offset)
            if !e.isFile, e.path.isEmpty, let p = previous, p.isFile, p.end == e.start { m.bssOf = p.path }
            map.assign(e.start..<e.end, m)
            previous = e
        }
    }

    /// The model as /proc/PID/maps lines: adjacent segments that look alike are one line, as the
    /// kernel would merge them. Used when the kernel's own snapshot is missing.
    public func mapsView() -> [MapsEntry] {
        var entries: [MapsEntry] = []
        forEachLine { first, end in
            let v = first.value
            entries.append(MapsEntry(start: first.range.lowerBound, end: end, perms: F.perms(prot: v.prot, shared: v.shared),
                                     offset: v.isFile ? v.fileOffset : 0, device: "00:00", inode: 0, path: v.name ?? ""))
        }
        return entries
    }

    /// How many lines `mapsView` would have, without building them (PeakMappings counts after
    /// every event).
    public var mapsLineCount: Int {
        var count = 0
        forEachLine { _, _ in count += 1 }
        return count
    }

    /// The segments grouped as the kernel would merge them into maps lines: adjacent, with the same
    /// protection, sharing, name and kind, and for files the next offset. `body` gets each line's
    /// first segment and its end.
    private func forEachLine(_ body: (IntervalMap<Mapping>.Segment, UInt64) -> Void) {
        var first: IntervalMap<Mapping>.Segment?
        var last: IntervalMap<Mapping>.Segment?
        for s in map.segments {
            if let p = last, AddressSpace.continuesLine(p, s) {
                last = s
                continue
            }
            if let first, let last { body(first, last.range.upperBound) }
            first = s
            last = s
        }
        if let first, let last { body(first, last.range.upperBound) }
    }

    /// Whether segment `s` is on the same maps line as `p`, the one before it.
    private static func continuesLine(_ p: IntervalMap<Mapping>.Segment, _ s: IntervalMap<Mapping>.Segment) -> Bool {
        p.range.upperBound == s.range.lowerBound && p.value.prot == s.value.prot
            && p.value.shared == s.value.shared && p.value.name == s.value.name && p.value.isFile == s.value.isFile
            && (!s.value.isFile || p.value.fileOffset &+ UInt64(p.range.count) == s.value.fileOffset)
    }

    /// How many maps lines start among the segments that touch `range` (overlap it, end at its
    /// start or begin at its end) and the first segment above it. A change inside `range` leaves
    /// every other segment's line as it was (a segment's line start depends on it and the segment
    /// before it), and the pieces a change splits off at either end stay in this set; so the
    /// difference of this count before and after the change is the change of `mapsLineCount`
    /// (what `SpaceHistory` counts after every event without walking the whole space).
    package func lineStarts(near range: Range<UInt64>) -> Int {
        let segments = map.segments
        var low = 0, high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].range.upperBound < range.lowerBound { low = mid + 1 } else { high = mid }
        }
        var count = 0
        var i = low
        while i < segments.count {
            if i == 0 || !AddressSpace.continuesLine(segments[i - 1], segments[i]) { count += 1 }
            if segments[i].range.lowerBound > range.upperBound { break }
            i += 1
        }
        return count
    }

    /// munmap: applied at syscall entry, before another thread can reuse the range.
    /// Returns the removed pieces.
    @discardableResult
    public mutating func unmap(address: UInt64, length: UInt64) -> [IntervalMap<Mapping>.Segment] {
        guard length > 0, let range = span(address, length) else { return [] }  // EINVAL
        return map.remove(range)
    }

    /// The top of the user address space (TASK_SIZE): 2^47 - 4096 with 4-level paging, 2^56 - 4096
    /// with 5-level paging. The tracer sets it from a probe of the running kernel (`UserSpace`).
    public var taskSize: UInt64 = 0x7fff_ffff_f000

    /// [address, address + length rounded up to pages), or nil where munmap/mremap answer EINVAL
    /// before touching anything (unaligned, beyond the user address space, wrapping).
    package func span(_ address: UInt64, _ length: UInt64) -> Range<UInt64>? {
        guard address % F.pageSize == 0, length <= taskSize, address <= taskSize else { return nil }
        let len = F.pageUp(length)
        guard len <= taskSize - address else { return nil }
        return address..<(address + len)
    }

    /// mprotect has no size check: only alignment, and an end that wraps is ENOMEM.
    package func protectSpan(_ address: UInt64, _ length: UInt64) -> Range<UInt64>? {
        guard address % F.pageSize == 0 else { return nil }
        let end = F.pageUp(address &+ length)
        guard end >= address, address &+ length >= address else { return nil }
        return address..<end
    }

    /// Applies a completed call (everything but munmap, which `unmap` handled at entry).
    public mutating func apply(_ e: MappingEvent) {
        if e.failed {
            // mprotect changes VMAs one by one and stops with ENOMEM at the first hole: the mapped
            // run starting at the address was changed all the same.
            if let (address, length, protection) = e.call.protectionChange, e.result == -12,
               let range = protectSpan(address, length) {
                var end = range.lowerBound
                while end < range.upperBound, let s = map.segment(containing: end) { end = s.range.upperBound }
                protect(range.lowerBound..<min(end, range.upperBound), prot: protection.rawValue, event: e.id)
            }
            return
        }
        switch e.call {
        case .mmap(_, let length, let protection, let flags, _, let offset):
            applyMmap(e, length: length, protection: protection, flags: flags, offset: offset)
        case .mprotect(let address, let length, let protection), .pkeyMprotect(let address, let length, let protection, _):
            if let range = protectSpan(address, length) { protect(range, prot: protection.rawValue, event: e.id) }
        case .mremap(let old, let oldLength, let newLength, let flags, _):
            applyMremap(e, old: old, oldLength: oldLength, newLength: newLength, flags: flags)
        case .brk: applyBrk(e)
        case .shmat(_, _, let flags):
            let start = UInt64(bitPattern: e.result)
            let prot = flags.contains(.readOnly) ? F.protRead : (F.protRead | F.protWrite)
            map.assign(start..<(start + (e.length ?? F.pageSize)),
                       Mapping(creator: e.id, prot: prot, shared: true, name: e.filePath, isFile: true))
        case .shmdt(let address):
            // Every remaining fragment of the attachment at this address goes, across holes that
            // munmap left: the pieces created by the shmat whose range starts here.
            guard let attach = map.segments.first(where: {
                $0.range.upperBound > address && $0.value.shared && ($0.value.name ?? "").hasPrefix("/SYSV")
                    && $0.range.lowerBound &- $0.value.fileOffset == address
            }) else { return }
            for piece in map.segments where piece.value.creator == attach.value.creator
                && piece.range.lowerBound &- piece.value.fileOffset == address {
                map.remove(piece.range)
            }
        case .munmap, .execve: break
        }
    }

    private mutating func protect(_ range: Range<UInt64>, prot: UInt64, event: Int) {
        map.update(range) { m in
            m.prot = prot & (F.protRead | F.protWrite | F.protExec)
            m.lastProtect = event
        }
    }

    private mutating func applyMmap(_ e: MappingEvent, length: UInt64, protection: Protection, flags: MapFlags, offset: UInt64) {
        let start = UInt64(bitPattern: e.result)
        let shared = flags.isShared
        var m = Mapping(creator: e.id, prot: protection.rawValue & 7, shared: shared)
        if !flags.contains(.anonymous) {
            m.name = e.filePath
            m.isFile = true
            m.fileOffset = offset
        } else if shared {
            m.name = "/dev/zero (deleted)"  // how the kernel names shared anonymous memory
        }
        if let range = span(start, length) { map.assign(range, m) }
    }

    /// mremap. The moved or grown bytes are created by the mremap; each moved piece keeps its own
    /// protection, sharing and file offset (since Linux 6.17 a move may span several VMAs).
    private mutating func applyMremap(_ e: MappingEvent, old: UInt64, oldLength: UInt64, newLength: UInt64, flags: RemapFlags) {
        let oldSize = F.pageUp(oldLength), newSize = F.pageUp(newLength)
        let new = UInt64(bitPattern: e.result)
        if oldSize == 0 {  // a second mapping of the same shared memory
            guard let source = map.segment(containing: old) else { return }
            var dup = source.value.advanced(by: old - source.range.lowerBound)
            dup.creator = e.id
            map.assign(new..<(new + newSize), dup)
            return
        }
        guard span(old, oldSize) != nil || oldSize == 0, span(new, newSize) != nil else { return }
        let kept = min(oldSize, newSize)
        let moved = map.segments(in: old..<(old + kept))
        let last = map.segments(in: old..<(old + oldSize)).last
        if new == old {
            if newSize < oldSize { map.remove((old + newSize)..<(old + oldSize)) }   // shrink in place
        } else {
            if !flags.contains(.dontUnmap) { map.remove(old..<(old + oldSize)) }
            for piece in moved {
                var value = piece.value
                value.creator = e.id
                let offset = piece.range.lowerBound - old
                map.assign((new + offset)..<(new + offset + UInt64(piece.range.count)), value)
            }
        }
        if newSize > oldSize, let last {  // grown: the new tail continues the last piece
            var grown = last.value.advanced(by: UInt64(last.range.count))
            grown.creator = e.id
            map.assign((new + oldSize)..<(new + newSize), grown)
        }
    }

    private mutating func applyBrk(_ e: MappingEvent) {
        let newBreak = UInt64(bitPattern: e.result)
        defer { brk = newBreak }
        guard let old = brk else { return }
        let oldEnd = F.pageUp(old), newEnd = F.pageUp(newBreak)
        if newEnd > oldEnd {
            map.assign(oldEnd..<newEnd, Mapping(creator: e.id, prot: F.protRead | F.protWrite,
                                                 shared: false, name: "[heap]"))
        } else if newEnd < oldEnd {
            map.remove(newEnd..<oldEnd)
        }
    }
}
