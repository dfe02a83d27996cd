import Testing
@testable import MapBlameAnalysis
import MapBlameModel

/// One share of a region's RSS per origin, in whole pages, adding up to the region's RSS, used by
/// the text report, the folded output and the baseline alike.
@Suite struct RSSShareTests {
    static let page = MemoryFlags.pageSize

    /// A 4-page region with 2 resident pages, made of origins of the given sizes in pages.
    static func region(pages sizes: [UInt64], rssPages: UInt64) -> RegionReport {
        var start: UInt64 = 0x7f00_0000_0000
        let origins = sizes.enumerated().map { i, size -> Origin in
            defer { start += size * page }
            // Categories of their own, so that each origin is a baseline key of its own.
            let category = Category.allCases[i % Category.allCases.count]
            return Origin(range: start..<(start + size * page), event: i, syscall: .mmap, category: category,
                          label: "\(category.rawValue) #\(i)", site: nil)
        }
        return RegionReport(entry: MapsEntry(start: 0x7f00_0000_0000, end: start, perms: "rw-p", offset: 0, device: "00:00",
                                             inode: 0, path: ""),
                            usage: SmapsUsage(rss: rssPages * page, anonymous: rssPages * page), category: .mmap,
                            label: "mmap #0", origins: origins)
    }

    @Test("Shares are whole pages and add up to the region's RSS",
          arguments: [([1, 3], 2), ([1, 1, 1, 1], 2), ([1, 1, 1], 2), ([5, 2, 9, 1], 13), ([7], 3), ([2, 2], 0)] as [([UInt64], UInt64)])
    func sharesAddUp(sizes: [UInt64], rss: UInt64) {
        let shares = Self.region(pages: sizes, rssPages: rss).rssShares
        #expect(shares.count == sizes.count)
        #expect(shares.allSatisfy { $0 % Self.page == 0 })
        #expect(shares.reduce(0, +) == rss * Self.page, "\(shares)")
        for (share, size) in zip(shares, sizes) { #expect(share <= size * Self.page) }
    }

    /// The case that disagreed: a 1-page origin of a 4-page region with 2 resident pages was
    /// 4096 B in the text report and 2048 B in the baseline.
    @Test func textFoldedAndBaselineAgree() {
        let region = Self.region(pages: [1, 3], rssPages: 2)
        let process = ProcessReport(pid: 1, parentPid: nil, executable: "/x", exit: .code(0), hasSnapshot: true,
                                    regions: [region], events: [], eventsRecorded: 2)
        let shares = region.rssShares
        #expect(shares == [Self.page, Self.page])
        let baseline = Baseline.measure(process, peaks: nil)
        let keyed = region.origins.map { o in baseline.categories[o.category.rawValue]?.rssBytes }
        #expect(keyed == shares, "baseline categories: \(baseline.categories)")
        let folded = FoldedReporter.render(Report(command: ["/x"], processes: [process]), weight: .rss)
        let weights = folded.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { UInt64($0) } }
        #expect(weights.reduce(0, +) == shares.reduce(0, +), "\(folded)")
    }
}
