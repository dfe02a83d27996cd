import MapBlameModel

extension RegionReport {
    /// Each origin's share of the region's resident memory, in whole pages, parallel to `origins`.
    /// smaps gives RSS per region, not per byte range, so the region's resident pages are shared
    /// out by size (largest remainder): the shares add up to the region's RSS exactly, and every
    /// renderer and the baseline use these same numbers.
    public var rssShares: [UInt64] {
        let page = MemoryFlags.pageSize
        let resident = usage.rss / page
        let sizes = origins.map { UInt64($0.range.count) }
        let total = sizes.reduce(0, +)
        guard total > 0, resident > 0 else { return Array(repeating: 0, count: origins.count) }
        let exact = sizes.map { resident.multipliedFullWidth(by: $0) }
        var pages = exact.map { total.dividingFullWidth($0).quotient }
        let remainders = exact.map { total.dividingFullWidth($0).remainder }
        var left = resident - pages.reduce(0, +)
        for i in origins.indices.sorted(by: { (remainders[$0], $1) > (remainders[$1], $0) }) where left > 0 {
            pages[i] += 1
            left -= 1
        }
        return pages.map { $0 * page }
    }
}
