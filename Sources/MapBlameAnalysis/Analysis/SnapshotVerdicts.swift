import MapBlameModel

/// Explain's verdicts on one process's final snapshot (from the evidence recorded with it),
/// worked out once, when first asked: for `--verify`'s label check, and for bytes whose creating
/// call has no backtrace (`--frames 0`), which the classifier alone would call a direct mmap.
package final class SnapshotVerdicts {
    private let snapshot: FinalSnapshot
    private let pid: Int32
    private let executable: String?
    private var computed: [RegionReport]??
    private var byStart: [UInt64: RegionReport] = [:]

    package init(snapshot: FinalSnapshot, pid: Int32, executable: String?) {
        self.snapshot = snapshot
        self.pid = pid
        self.executable = executable
    }

    /// Every region classified from evidence; nil when the trace holds no evidence.
    package var regions: [RegionReport]? {
        if let computed { return computed }
        let regions = LabelCheck.evidenceRegions(snapshot, pid: pid, executable: executable)
        for r in regions ?? [] { byStart[r.entry.start] = r }
        computed = .some(regions)
        return regions
    }

    /// What a certain verdict says of bytes `range` of region `entry`, for the kinds of memory an
    /// mmap without a backtrace may be: a library's .bss (ld.so maps it) or a glibc arena's heap.
    package func stackless(entry: MapsEntry, range: Range<UInt64>) -> Classification? {
        guard regions != nil, let region = byStart[entry.start], region.entry.end == entry.end,
              region.confidence == .certain,
              let verdict = region.origins.first(where: { $0.range.contains(range.lowerBound) && $0.range.upperBound >= range.upperBound }),
              verdict.category == .bss || verdict.category == .mallocArena else { return nil }
        return Classification(category: verdict.category, verdict.attribution.kind, site: nil,
                              allocator: verdict.category == .mallocArena ? Allocator.glibcMalloc.name : nil)
    }
}
