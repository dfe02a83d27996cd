/// What `explain` would look at, captured with a process's final snapshot while it is still
/// stopped (trace record `evidence`): the registers of its stopped threads and, for each private
/// anonymous read-write region, the words malloc leaves at its start. `--verify` classifies the
/// snapshot from this evidence alone and compares the verdicts with the recorded categories.
public struct SnapshotEvidence: Sendable, Equatable {
    public struct Thread: Sendable, Equatable {
        public var tid: Int32
        public var rsp: UInt64
        public var rip: UInt64
    }

    /// The start of one region as read: its first five words (a heap_info's size; empty when
    /// unreadable) and the sizes of the mmapped chunks found one after the other from there.
    public struct Region: Sendable, Equatable {
        public var start: UInt64
        public var head: [UInt64]
        public var chunkSizes: [UInt64]
    }

    public var threads: [Thread]
    public var regions: [Region]
}

extension SnapshotEvidence.Region {
    init(start: UInt64, _ m: MallocEvidence) {
        let h = m.heapInfo
        self.init(start: start, head: h.map { [$0.arPtr, $0.prev, $0.size, $0.mprotectSize, $0.pagesize] } ?? [],
                  chunkSizes: m.chunkSizes)
    }

    var malloc: MallocEvidence {
        var m = MallocEvidence()
        if head.count == 5 {
            m.heapInfo = MallocEvidence.HeapInfo(arPtr: head[0], prev: head[1], size: head[2], mprotectSize: head[3], pagesize: head[4])
        }
        m.firstPrevSize = head.first ?? 0
        m.chunkSizes = chunkSizes
        return m
    }
}
