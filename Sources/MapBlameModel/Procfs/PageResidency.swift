/// Where each page of one region was when the snapshot was taken, from /proc/PID/pagemap: run-length
/// encoded (a region is mostly long runs of touched or untouched pages, so a 1 GiB region usually
/// takes a few bytes, not 256 Ki states). The trace stores it as record `residency`.
public struct PageResidency: Sendable, Equatable {
    public enum State: UInt8, Sendable {
        /// Not in memory: never touched, or reclaimed; also a page that is only the kernel's shared
        /// zero page (read, never written), which smaps does not count either.
        case absent = 0
        /// In memory, mapped by this process alone or shared with another (a copy-on-write page
        /// after fork): what smaps counts as Rss.
        case present = 1
        /// In swap.
        case swapped = 2
        /// Present and not exclusively mapped, with the page frame number hidden (a recorder
        /// without CAP_SYS_ADMIN): the shared zero page (not Rss) or a page shared after fork (Rss)
        /// — pagemap cannot tell which. The report counts as many of them resident as smaps' Rss
        /// leaves over, shared out by their number.
        case ambiguous = 3
    }

    public struct Run: Sendable, Equatable {
        public var pages: UInt64
        public var state: State
        public init(pages: UInt64, state: State) {
            self.pages = pages
            self.state = state
        }
    }

    /// The region's start address (the key of its maps line).
    public var start: UInt64
    /// Consecutive pages from `start`, in address order; together they cover the region.
    public var runs: [Run]

    public init(start: UInt64, runs: [Run]) {
        self.start = start
        self.runs = runs
    }

    public var pageCount: UInt64 { runs.reduce(0) { $0 + $1.pages } }

    /// Appends one page's state, extending the last run when it is the same.
    public mutating func append(_ state: State, pages: UInt64 = 1) {
        guard pages > 0 else { return }
        if let last = runs.last, last.state == state {
            runs[runs.count - 1].pages += pages
        } else {
            runs.append(Run(pages: pages, state: state))
        }
    }

    /// Pages per state (indexed by `State.rawValue`) in each of `ranges`, which must be in address
    /// order and not overlap: one pass over the runs, however many ranges a region holds.
    public func tally(_ ranges: [Range<UInt64>]) -> [[UInt64]] {
        let page = MemoryFlags.pageSize
        var result = Array(repeating: [UInt64](repeating: 0, count: 4), count: ranges.count)
        var run = 0
        var runStart: UInt64 = 0  // page index of runs[run]'s first page
        for (i, range) in ranges.enumerated() {
            let first = range.lowerBound >= start ? (range.lowerBound - start) / page : 0
            let last = range.upperBound > start ? (range.upperBound - start + page - 1) / page : 0
            guard last > first else { continue }
            while run < runs.count, runStart + runs[run].pages <= first {
                runStart += runs[run].pages
                run += 1
            }
            var r = run, rStart = runStart
            while r < runs.count, rStart < last {
                let overlap = min(last, rStart + runs[r].pages) - max(first, rStart)
                result[i][Int(runs[r].state.rawValue)] += overlap
                rStart += runs[r].pages
                r += 1
            }
        }
        return result
    }
}

/// An origin's exact resident and swapped bytes, from the pages pagemap saw.
public struct ResidentBytes: Sendable, Equatable {
    public var rss: UInt64
    public var swap: UInt64
    public init(rss: UInt64, swap: UInt64) {
        self.rss = rss
        self.swap = swap
    }
}
