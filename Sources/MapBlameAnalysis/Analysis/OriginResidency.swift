import MapBlameModel

/// Each origin's own resident and swapped bytes, counted from the pages pagemap saw in its byte
/// range: the kernel merges adjacent calls' mappings into one VMA, and smaps counts the VMA only.
package enum OriginResidency {
    /// Nil when `pages` does not describe `entry` page for page (then the report falls back to
    /// shares by size). Pages pagemap could not attribute (`ambiguous`: the zero page or a page
    /// shared after fork, frame numbers hidden) are counted resident as far as smaps' Rss leaves
    /// room for them, shared out by how many each origin holds; without any, the sums equal what
    /// smaps counted when both were read at one stop.
    package static func exact(_ pages: PageResidency, entry: MapsEntry, usage: SmapsUsage, origins: [Origin]) -> [ResidentBytes]? {
        let page = MemoryFlags.pageSize
        guard pages.start == entry.start, pages.pageCount == entry.size / page else { return nil }
        let counts = pages.tally(origins.map(\.range))
        let present = counts.reduce(0) { $0 + $1[1] }
        let ambiguous = counts.map { $0[3] }
        let extra = min(usage.rss / page - min(usage.rss / page, present), ambiguous.reduce(0, +))
        let shared = RegionReport.apportion(extra * page, weights: ambiguous)
        return counts.indices.map { i in
            ResidentBytes(rss: counts[i][1] * page + shared[i], swap: counts[i][2] * page)
        }
    }
}
