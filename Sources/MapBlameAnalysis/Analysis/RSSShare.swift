import MapBlameModel

extension RegionReport {
    /// Each origin's resident bytes, parallel to `origins`: exact where pagemap was read for the
    /// region (`resident`), otherwise the region's resident pages shared out by size (smaps gives
    /// RSS per region, not per byte range). Either way the shares add up to the region's RSS, and
    /// every renderer and the baseline use these same numbers.
    public var rssShares: [UInt64] {
        if let resident { return resident.map(\.rss) }
        return RegionReport.apportion(usage.rss, weights: origins.map { UInt64($0.range.count) })
    }

    /// Each origin's swapped bytes, as `rssShares` (shared out by size without pagemap).
    public var swapShares: [UInt64] {
        if let resident { return resident.map(\.swap) }
        return RegionReport.apportion(usage.swap, weights: origins.map { UInt64($0.range.count) })
    }

    /// `bytes` (whole pages) shared out in whole pages in proportion to `weights`, by largest
    /// remainder: the parts add up to `bytes` exactly.
    static func apportion(_ bytes: UInt64, weights sizes: [UInt64]) -> [UInt64] {
        let page = MemoryFlags.pageSize
        let resident = bytes / page
        let total = sizes.reduce(0, +)
        guard total > 0, resident > 0 else { return Array(repeating: 0, count: sizes.count) }
        let exact = sizes.map { resident.multipliedFullWidth(by: $0) }
        var pages = exact.map { total.dividingFullWidth($0).quotient }
        let remainders = exact.map { total.dividingFullWidth($0).remainder }
        var left = resident - pages.reduce(0, +)
        for i in sizes.indices.sorted(by: { (remainders[$0], $1) > (remainders[$1], $0) }) where left > 0 {
            pages[i] += 1
            left -= 1
        }
        return pages.map { $0 * page }
    }
}
