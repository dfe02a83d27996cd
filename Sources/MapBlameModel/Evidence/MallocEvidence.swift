import CShims

/// What glibc malloc leaves at the start of its mappings, read from a stopped process and judged
/// for consistency: the `heap_info` at the start of every heap of a non-main arena, and the chunk
/// header at the start of a large allocation malloc served with mmap.
package struct MallocEvidence: Sendable {
    /// glibc's HEAP_MAX_SIZE on 64-bit (2 * DEFAULT_MMAP_THRESHOLD_MAX): every arena heap is aligned to it.
    package static let heapMaxSize: UInt64 = 64 << 20
    package static let isMmapped: UInt64 = 0x2
    package static let nonMainArena: UInt64 = 0x4
    package static let sizeBits: UInt64 = 0x7

    /// struct _heap_info { mstate ar_ptr; struct _heap_info *prev; size_t size; size_t mprotect_size;
    /// size_t pagesize; ... } (glibc 2.35+ has pagesize).
    package struct HeapInfo: Sendable, Equatable {
        package var arPtr: UInt64
        package var prev: UInt64
        package var size: UInt64
        package var mprotectSize: UInt64
        package var pagesize: UInt64
    }

    /// The first 40 bytes of the region, as a heap_info.
    package var heapInfo: HeapInfo?
    /// Sizes (without flag bits) of the mmapped chunks found one after the other from the region
    /// start, while their headers looked like mmapped chunk headers.
    package var chunkSizes: [UInt64] = []
    /// prev_size of the first chunk (0 for a plain malloc).
    package var firstPrevSize: UInt64 = 0

    /// Reads the evidence for anonymous region `start..<end` with `read` (process_vm_readv).
    package static func probe(start: UInt64, end: UInt64, read: (UInt64, Int) -> [UInt8]?) -> MallocEvidence {
        var evidence = MallocEvidence()
        guard let head = read(start, 40) else { return evidence }
        evidence.heapInfo = HeapInfo(arPtr: head.explainLE64(at: 0), prev: head.explainLE64(at: 8),
                                     size: head.explainLE64(at: 16), mprotectSize: head.explainLE64(at: 24),
                                     pagesize: head.explainLE64(at: 32))
        evidence.firstPrevSize = head.explainLE64(at: 0)
        var offset: UInt64 = 0
        var header = Array(head[0..<16])
        while evidence.chunkSizes.count < 256 {
            let prevSize = header.explainLE64(at: 0), field = header.explainLE64(at: 8)
            let size = field & ~sizeBits
            guard field & isMmapped != 0, field & nonMainArena == 0, size >= MemoryFlags.pageSize,
                  size % MemoryFlags.pageSize == 0, prevSize < MemoryFlags.pageSize,
                  size <= end - start - offset else { break }
            evidence.chunkSizes.append(size)
            offset += size
            guard offset < end - start, let next = read(start + offset, 16) else { break }
            header = next
        }
        return evidence
    }

    /// The evidence at the start of every private anonymous read-write region of `maps`, read
    /// through thread `tid` (stopped) with process_vm_readv.
    package static func probeAll(maps: [MapsEntry], tid: Int32) -> [UInt64: MallocEvidence] {
        var result: [UInt64: MallocEvidence] = [:]
        let read = memoryReader(tid: tid)
        for entry in maps where entry.inode == 0 && entry.path.isEmpty && entry.perms.hasPrefix("rw") && !entry.isShared {
            result[entry.start] = probe(start: entry.start, end: entry.end, read: read)
        }
        return result
    }

    /// Reads `count` bytes at an address of thread `tid`'s process (nil if any is unreadable).
    package static func memoryReader(tid: Int32) -> (UInt64, Int) -> [UInt8]? {
        { address, count in
            var buffer = [UInt8](repeating: 0, count: count)
            let n = buffer.withUnsafeMutableBytes { cshims_read_memory(tid, address, $0.baseAddress!, UInt64(count)) }
            return n == count ? buffer : nil
        }
    }

    /// A consistent heap_info for a region `start..<end`: the verdict, and why.
    package enum ArenaVerdict: Equatable {
        /// heap_info and malloc_state of the arena at the start of the region.
        case arenaStart(HeapInfo)
        /// A further heap of an arena whose malloc_state is elsewhere (prev != 0).
        case laterHeap(HeapInfo)
        case none
    }

    package func arenaVerdict(start: UInt64, end: UInt64) -> ArenaVerdict {
        guard let h = heapInfo, start % MallocEvidence.heapMaxSize == 0 else { return .none }
        let regionSize = end - start
        // glibc grows a heap by mprotect()ing more of its reservation read-write (mprotect_size)
        // and may shrink `size` below it later: size <= mprotect_size <= the rw region.
        guard h.size > 0, h.size <= h.mprotectSize, h.mprotectSize <= regionSize,
              h.mprotectSize % MemoryFlags.pageSize == 0, h.pagesize == MemoryFlags.pageSize else { return .none }
        if h.arPtr > start && h.arPtr < end && h.prev == 0 { return .arenaStart(h) }
        if h.prev != 0 && h.prev % MallocEvidence.heapMaxSize == 0 && h.arPtr != 0 && h.arPtr % 8 == 0 {
            return .laterHeap(h)
        }
        return .none
    }

    /// The chunks tile the region exactly (a single malloc, or several merged by the kernel).
    package func chunksTile(regionSize: UInt64) -> Bool {
        !chunkSizes.isEmpty && chunkSizes.reduce(0, +) == regionSize
    }
}
