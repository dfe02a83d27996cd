/// What `explain` would look at, captured with a process's final snapshot while it is still
/// stopped (trace record `evidence`): the registers of its stopped threads and, for each private
/// anonymous read-write region, the words malloc leaves at its start. `--verify` classifies the
/// snapshot from this evidence alone and compares the verdicts with the recorded categories.
public struct SnapshotEvidence: Sendable, Equatable {
    public struct Thread: Sendable, Equatable {
        public var tid: Int32
        public var rsp: UInt64
        public var rip: UInt64

        package init(tid: Int32, rsp: UInt64, rip: UInt64) {
            self.tid = tid
            self.rsp = rsp
            self.rip = rip
        }
    }

    /// The start of one region as read: its first five words (a heap_info's size; empty when
    /// unreadable) and the sizes of the mmapped chunks found one after the other from there.
    public struct Region: Sendable, Equatable {
        public var start: UInt64
        public var head: [UInt64]
        public var chunkSizes: [UInt64]

        package init(start: UInt64, head: [UInt64], chunkSizes: [UInt64]) {
            self.start = start
            self.head = head
            self.chunkSizes = chunkSizes
        }
    }

    public var threads: [Thread]
    public var regions: [Region]

    package init(threads: [Thread], regions: [Region]) {
        self.threads = threads
        self.regions = regions
    }
}

extension SnapshotEvidence.Region {
    package init(start: UInt64, _ m: MallocEvidence) {
        let h = m.heapInfo
        self.init(start: start, head: h.map { [$0.arPtr, $0.prev, $0.size, $0.mprotectSize, $0.pagesize] } ?? [],
                  chunkSizes: m.chunkSizes)
    }

    package var malloc: MallocEvidence {
        var m = MallocEvidence()
        if head.count == 5 {
            m.heapInfo = MallocEvidence.HeapInfo(arPtr: head[0], prev: head[1], size: head[2], mprotectSize: head[3], pagesize: head[4])
        }
        m.firstPrevSize = head.first ?? 0
        m.chunkSizes = chunkSizes
        return m
    }
}
