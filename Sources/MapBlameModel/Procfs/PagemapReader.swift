import Glibc

/// Reads /proc/PID/pagemap (8 bytes per virtual page: bit 63 present, 62 swapped, 56 exclusively
/// mapped, 0-54 the page frame number, shown only to CAP_SYS_ADMIN) for the private anonymous
/// regions of a stopped process: which of their pages are resident and which are in swap, so each
/// origin of a region the kernel merged from several calls gets its own resident bytes instead of a
/// share by size. The present, swapped and exclusive bits need no privilege beyond ptrace access.
public enum PagemapReader {
    /// Regions whose pages pagemap describes the way smaps counts them: private, not backed by a
    /// file (so every resident page is anonymous), not one of the kernel's special mappings.
    public static func covers(_ entry: MapsEntry) -> Bool {
        !entry.isFile && !entry.isShared && !["[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]"].contains(entry.path)
    }

    /// Regions of more pages than this (64 GiB) are read only when smaps settles them without
    /// pagemap: reading costs 8 bytes per page, resident or not, and sanitizer shadows or runtime
    /// reservations reach terabytes. Beyond it, the report shares the region's RSS out by size.
    public static let maxPages: UInt64 = 1 << 24

    /// Each covered region's pages, through `dir` (the /proc directory of a stopped thread of the
    /// process). `usage` (smaps of the same stop, by region start) settles regions that are all
    /// resident or all absent without reading them. Regions pagemap cannot be read for (the process
    /// is gone) are left out.
    public static func read(dir: String, maps: [MapsEntry], usage: [UInt64: SmapsUsage]) -> [PageResidency] {
        let fd = open("\(dir)/pagemap", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        let chunk = 65536  // entries per read: 512 KiB, 256 MiB of address space
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        let zero = zeroPageFrame
        var result: [PageResidency] = []
        regions: for entry in maps where covers(entry) {
            var residency = PageResidency(start: entry.start, runs: [])
            var page = entry.start / MemoryFlags.pageSize
            let end = entry.end / MemoryFlags.pageSize
            if let u = usage[entry.start], u.swap == 0, u.rss == 0 || u.rss == entry.size {
                residency.append(u.rss == 0 ? .absent : .present, pages: end - page)
                result.append(residency)
                continue
            }
            guard end - page <= maxPages else { continue }
            while page < end {
                let want = Int(min(UInt64(chunk), end - page))
                guard let got = readEntries(fd, buffer, count: want, page: page), got > 0 else { continue regions }
                for e in buffer[0..<got] { residency.append(state(e, zeroFrame: zero)) }
                page += UInt64(got)
            }
            result.append(residency)
        }
        return result
    }

    /// One pagemap entry as smaps would count its page.
    package static func state(_ e: UInt64, zeroFrame: UInt64?) -> PageResidency.State {
        if e >> 63 & 1 == 1 {
            let frame = e & (1 << 55 - 1)
            if frame != 0, let zeroFrame { return frame == zeroFrame ? .absent : .present }
            // Exclusively mapped: a page of this process's own (never the zero page).
            return e >> 56 & 1 == 1 ? .present : .ambiguous
        }
        return e >> 62 & 1 == 1 ? .swapped : .absent
    }

    /// `count` entries from virtual page `page`; nil if the read fails.
    private static func readEntries(_ fd: Int32, _ buffer: UnsafeMutableBufferPointer<UInt64>, count: Int, page: UInt64) -> Int? {
        while true {
            let n = pread(fd, buffer.baseAddress, count * 8, off_t(truncatingIfNeeded: page &* 8))
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? nil : n / 8
        }
    }

    /// The page frame of the kernel's shared zero page, found by reading a fresh page of our own and
    /// looking it up in our own pagemap; nil when frame numbers are hidden from us (then every
    /// present page that is not exclusively mapped is `ambiguous`).
    package static let zeroPageFrame: UInt64? = {
        let size = Int(MemoryFlags.pageSize)
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else { return nil }
        defer { munmap(p, size) }
        // A read fault maps the zero page: the kernel reads the byte to copy it into a pipe (a load
        // in Swift could be optimized away).
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }  // closed at once: no close-on-exec needed
        let copied = write(ends[1], p, 1)
        close(ends[0]); close(ends[1])
        guard copied == 1 else { return nil }
        let fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var entry: UInt64 = 0
        let page = UInt64(UInt(bitPattern: p)) / MemoryFlags.pageSize
        guard pread(fd, &entry, 8, off_t(truncatingIfNeeded: page * 8)) == 8, entry >> 63 & 1 == 1 else { return nil }
        let frame = entry & (1 << 55 - 1)
        return frame == 0 ? nil : frame
    }()
}
