import Foundation
import Glibc
import Testing
@testable import MapBlame

/// Each origin's own resident and swapped bytes, from /proc/PID/pagemap read with the final
/// snapshot: exact where the kernel merged several calls' bytes into one VMA, and adding up, per
/// region, to what smaps counted.
@Suite struct ResidencyTests {
    static let page = MemoryFlags.pageSize

    /// The case of the issue: a fully written malloc (served by its own mmap) merged with an
    /// untouched 2 MiB mmap (only read, so it holds the zero page): the size share gave the
    /// malloc 0 B next to the mmap; pagemap gives the malloc all of its pages and the mmap none.
    @Test func mergedMallocAndMmapEachGetTheirOwnPages() throws {
        let run = try TracedRun.fixture("resident")
        #expect(run.finished.status == 0)
        let malloc = run.address("resident_malloc"), mmap = run.address("resident_mmap")
        let region = try #require(ReportJSON.region(run.root, containing: malloc))
        #expect(ReportJSON.region(run.root, containing: mmap)?["start"] as? String == region["start"] as? String,
                "the two calls were not merged into one VMA: the case is not tested")
        #expect(region["origin_residency"] as? String == "pagemap")
        let mallocOrigin = try #require(run.origin("resident_malloc")), mmapOrigin = try #require(run.origin("resident_mmap"))
        #expect(mallocOrigin["category"] as? String == "malloc")
        #expect(mmapOrigin["category"] as? String == "mmap")
        let mallocSize = hex(mallocOrigin["end"]) - hex(mallocOrigin["start"])
        #expect(mallocSize == 300 * 1024)  // 296 KiB and malloc's header, in whole pages
        #expect(mallocOrigin["rss_bytes"] as? Int == Int(mallocSize))
        #expect(mmapOrigin["rss_bytes"] as? Int == 0)
        // (The VMA may also have merged with an older neighbour: its origins still add up to it.)
        let origins = region["origins"] as? [[String: Any]] ?? []
        #expect(origins.reduce(0) { $0 + ($1["rss_bytes"] as? Int ?? -1) } == region["rss_bytes"] as? Int)
        // The text report's top sites name the malloc with its 300 KiB, not a share of them.
        let line = run.textReport.split(separator: "\n").first { $0.contains("  malloc: scenario_resident (") }
        #expect(line?.trimmingCharacters(in: .whitespaces).hasPrefix("300 KiB") == true, "\(line ?? "no line")")
        // And the region's sub-lines give each range its own resident bytes.
        let sub = run.textReport.split(separator: "\n").filter { $0.hasPrefix("    ") && $0.contains("scenario_resident") }
        #expect(sub.contains { $0.contains("2.0 MiB   rss 0 B ") && $0.contains("mmap: mmap(2097152)") }, "\(sub)")
        #expect(sub.contains { $0.contains("300 KiB   rss 300 KiB ") && $0.contains("malloc: malloc of 300 KiB") }, "\(sub)")
    }

    /// Per region, the origins' resident and swapped bytes add up to smaps' Rss and Swap, in every
    /// process of a run that forks, starts a thread, maps, unmaps and remaps; every private
    /// anonymous region was read.
    @Test func originSumsEqualSmaps() throws {
        let run = try TracedRun.fixture("all")
        #expect(run.finished.status == 0)
        var checked = 0
        for process in run.report.processes where process["snapshot"] as? Bool == true {
            for region in ReportJSON.regions(process) {
                let origins = region["origins"] as? [[String: Any]] ?? []
                let anonymous = region["inode"] as? Int == 0 && (region["perms"] as? String)?.hasSuffix("p") == true
                    && !["[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]"].contains(region["path"] as? String ?? "")
                #expect((region["origin_residency"] as? String == "pagemap") == anonymous, "\(region["start"] ?? "") \(region["path"] ?? "")")
                let rss = origins.reduce(0) { $0 + ($1["rss_bytes"] as? Int ?? -1) }
                let swap = origins.reduce(0) { $0 + ($1["swap_bytes"] as? Int ?? -1) }
                #expect(rss == region["rss_bytes"] as? Int, "\(region["start"] ?? "") \(region["path"] ?? ""): \(origins.map { $0["rss_bytes"] ?? "-" })")
                #expect(swap == region["swap_bytes"] as? Int)
                if anonymous { checked += 1 }
            }
        }
        #expect(checked > 5)
    }

    /// A baseline read back from a JSON report keeps the exact numbers (not shares by size).
    @Test func reportJSONKeepsExactResidency() throws {
        let run = try TracedRun.fixture("resident")
        let json = try BaselineJSONParser.parse(String(decoding: try JSONSerialization.data(withJSONObject: run.report.root), as: UTF8.self))
        let report = try ReportJSONReader.read(json)
        let process = try #require(report.processes.first)
        let region = try #require(process.regions.first { $0.entry.start <= run.address("resident_mmap") && run.address("resident_mmap") < $0.entry.end })
        #expect(region.resident != nil)
        #expect(region.rssShares == region.origins.map { $0.category == .malloc ? 300 * 1024 : 0 })
        let baseline = Baseline.measure(process, peaks: nil)
        #expect(baseline.categories["mmap"]?.rssBytes ?? 0 < 300 * 1024)
    }

    /// Our own memory, read through /proc/self: written pages present, read-only ones (the zero
    /// page) and untouched ones absent; smaps' all-absent and all-resident regions are not read.
    @Test func readsWhatThisProcessTouched() throws {
        let p = Int(Self.page)
        let memory = try #require(mmap(nil, 64 * p, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(memory, 64 * p) }
        let bytes = memory.assumingMemoryBound(to: UInt8.self)
        for page in 0..<10 { bytes[page * p] = 1 }
        bytes[20 * p] = 1
        var sink = [UInt8](repeating: 0, count: 1)
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        #expect(write(ends[1], bytes + 30 * p, 1) == 1)  // the kernel reads page 30: the zero page
        #expect(read(ends[0], &sink, 1) == 1)
        close(ends[0]); close(ends[1])
        let start = UInt64(UInt(bitPattern: memory))
        let entry = MapsEntry(start: start, end: start + 64 * Self.page, perms: "rw-p", offset: 0, device: "00:00", inode: 0, path: "")
        let read = PagemapReader.read(dir: "/proc/self", maps: [entry], usage: [:])
        let ambiguousOrAbsent: PageResidency.State = PagemapReader.zeroPageFrame == nil ? .ambiguous : .absent
        var expected = PageResidency(start: start, runs: [])
        expected.append(.present, pages: 10); expected.append(.absent, pages: 10); expected.append(.present)
        expected.append(.absent, pages: 9); expected.append(ambiguousOrAbsent); expected.append(.absent, pages: 33)
        #expect(read == [expected])
        let settled = PagemapReader.read(dir: "/proc/self", maps: [entry], usage: [start: SmapsUsage(rss: 0)])
        #expect(settled == [PageResidency(start: start, runs: [.init(pages: 64, state: .absent)])])
        let full = PagemapReader.read(dir: "/proc/self", maps: [entry], usage: [start: SmapsUsage(rss: 64 * Self.page)])
        #expect(full == [PageResidency(start: start, runs: [.init(pages: 64, state: .present)])])
        #expect(PagemapReader.read(dir: "/proc/no-such-process", maps: [entry], usage: [:]).isEmpty)
    }

    @Test func tallyCountsEachRangeInOnePass() {
        var pages = PageResidency(start: 0x10000, runs: [])
        for state: PageResidency.State in [.present, .present, .absent, .swapped, .ambiguous, .present] { pages.append(state) }
        #expect(pages.runs.count == 5)
        #expect(pages.pageCount == 6)
        let p = Self.page
        let counts = pages.tally([0x10000..<0x10000 + p, 0x10000 + p..<0x10000 + 4 * p, 0x10000 + 4 * p..<0x10000 + 6 * p])
        #expect(counts == [[0, 1, 0, 0], [1, 1, 1, 0], [0, 1, 0, 1]])
    }

    @Test func pagemapBitsAsSmapsCountsThem() {
        let present: UInt64 = 1 << 63, swapped: UInt64 = 1 << 62, exclusive: UInt64 = 1 << 56
        #expect(PagemapReader.state(0, zeroFrame: nil) == .absent)
        #expect(PagemapReader.state(swapped | 0x1234, zeroFrame: 7) == .swapped)
        #expect(PagemapReader.state(present | exclusive, zeroFrame: nil) == .present)
        #expect(PagemapReader.state(present, zeroFrame: nil) == .ambiguous)  // frame hidden
        #expect(PagemapReader.state(present | 7, zeroFrame: 7) == .absent)  // the zero page
        #expect(PagemapReader.state(present | 8, zeroFrame: 7) == .present)  // shared after fork
    }

    /// Pages pagemap cannot tell (frame numbers hidden) are counted as far as smaps' Rss leaves room.
    @Test func ambiguousPagesFillWhatSmapsCounted() throws {
        let p = Self.page
        let entry = MapsEntry(start: 0x20000, end: 0x20000 + 8 * p, perms: "rw-p", offset: 0, device: "00:00", inode: 0, path: "")
        var pages = PageResidency(start: 0x20000, runs: [])
        pages.append(.present, pages: 2); pages.append(.ambiguous, pages: 2); pages.append(.ambiguous, pages: 2); pages.append(.swapped, pages: 2)
        let origins = [0x20000..<0x20000 + 4 * p, 0x20000 + 4 * p..<0x20000 + 8 * p].map {
            Origin(range: $0, event: nil, syscall: .mmap, category: .mmap, label: "", site: nil)
        }
        let three = try #require(OriginResidency.exact(pages, entry: entry, usage: SmapsUsage(rss: 3 * p, swap: 2 * p), origins: origins))
        #expect(three.map(\.rss).reduce(0, +) == 3 * p)
        #expect(three[0].rss >= 2 * p && three[1].rss <= p)
        #expect(three.map(\.swap) == [0, 2 * p])
        let all = try #require(OriginResidency.exact(pages, entry: entry, usage: SmapsUsage(rss: 9 * p), origins: origins))
        #expect(all.map(\.rss) == [4 * p, 2 * p])  // never more than the pages there are
        // Residency of another extent is not used.
        #expect(OriginResidency.exact(pages, entry: MapsEntry(start: 0x20000, end: 0x20000 + 9 * p, perms: "rw-p", offset: 0,
                                                              device: "00:00", inode: 0, path: ""),
                                      usage: SmapsUsage(), origins: origins) == nil)
    }
}
