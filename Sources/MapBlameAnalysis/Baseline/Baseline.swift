import MapBlameModel

/// Counts of one key, one category or one process (docs/baseline.md).
public struct BaselineCounts: Sendable, Equatable {
    /// For a key: its byte ranges in the final maps (origins), counted apart even where the kernel
    /// merged neighbours into one line, so the count does not depend on where ASLR put them. For
    /// a category: the maps lines whose largest origin is of that category.
    public var regions: Int = 0
    public var mappedBytes: UInt64 = 0
    /// The region's RSS shared out among its origins by their byte counts.
    public var rssBytes: UInt64 = 0

    public init(regions: Int = 0, mappedBytes: UInt64 = 0, rssBytes: UInt64 = 0) {
        self.regions = regions
        self.mappedBytes = mappedBytes
        self.rssBytes = rssBytes
    }
}

public struct BaselineKeyEntry: Sendable, Equatable {
    public var counts: BaselineCounts
    /// "parse_config (main.c:88)" or the label: for people, not compared.
    public var site: String
    /// The creating event's backtrace (innermost first), when measured from a report or trace:
    /// shown for new keys, never written to the baseline file.
    public var backtrace: [String] = []
    /// Who made it (KeyTier); nil in a baseline written before tiers existed.
    public var tier: KeyTier? = nil
    /// The lowest numbers seen over `baseline --runs N` when they differ from `counts` (the
    /// highest): the key's range. nil after one run.
    public var low: BaselineCounts? = nil
    /// The site's source file (as in the debug info) and line, when measured: where a GitHub
    /// annotation points. Never written to the baseline file (it holds a directory).
    public var siteFile: String? = nil
    public var siteLine: Int? = nil

    package init(counts: BaselineCounts, site: String, backtrace: [String] = [], tier: KeyTier? = nil, low: BaselineCounts? = nil) {
        self.counts = counts
        self.site = site
        self.backtrace = backtrace
        self.tier = tier
        self.low = low
    }
}

public struct BaselineProcess: Sendable, Equatable {
    /// Full path as recorded; processes are matched on its base name.
    public var executable: String
    public var regions: Int
    /// Regions not backed by a file (inode 0): unnamed regions, [heap], [stack], [vdso]...
    public var anonymousRegions: Int
    /// Highest number of regions of the process's model during the run (see PeakMappings; at least
    /// `regions`, the exact final count), nil
    /// when not known (measured from a JSON report).
    public var peakMappings: Int?
    /// Most anonymous bytes mapped at once during the run (the report's peak, from the replay of
    /// the trace), nil when not known (a JSON report, a baseline written before it).
    public var peakAnonymousBytes: UInt64? = nil
    public var categories: [String: BaselineCounts]
    public var keys: [String: BaselineKeyEntry]
    /// The lowest totals seen over `baseline --runs N`, by total key ("@regions",
    /// "@anonymous_regions", "@peak_mappings"), where they differ from the highest (the fields above).
    public var totalLows: [String: Int] = [:]

    package init(executable: String, regions: Int, anonymousRegions: Int, peakMappings: Int? = nil, categories: [String: BaselineCounts], keys: [String: BaselineKeyEntry]) {
        self.executable = executable
        self.regions = regions
        self.anonymousRegions = anonymousRegions
        self.peakMappings = peakMappings
        self.categories = categories
        self.keys = keys
    }

    public var executableName: String { BaselineKey.basename(executable) }
}

/// A baseline: what `mapblame baseline` writes and `mapblame check` compares with; also the
/// measurement of a run, report or trace being checked.
public struct Baseline: Sendable, Equatable {
    public static let format = "mapblame-baseline"
    public static let version = 1

    public var command: [String]
    public var processes: [BaselineProcess]
    public var tolerances: ToleranceSet
    /// Ignore patterns stored in the file (`baseline --ignore`), added to `check --ignore`'s.
    public var ignore: [String] = []

    public init(command: [String], processes: [BaselineProcess], tolerances: ToleranceSet = ToleranceSet(), ignore: [String] = []) {
        self.command = command
        self.processes = processes
        self.tolerances = tolerances
        self.ignore = ignore
    }

    /// Measures a report. `peakMappings`: by pid, from `PeakMappings.compute` when the trace is at hand.
    public init(report: Report, peakMappings: [Int32: Int]? = nil) {
        command = report.command
        tolerances = ToleranceSet()
        ignore = []
        processes = report.processes.map { Baseline.measure($0, peaks: peakMappings) }
    }

    package static func measure(_ p: ProcessReport, peaks: [Int32: Int]?) -> BaselineProcess {
        var categories: [String: BaselineCounts] = [:]
        var keys: [String: BaselineKeyEntry] = [:]
        let events = Dictionary(p.events.map { ($0.event.id, $0) }, uniquingKeysWith: { a, _ in a })
        for region in p.regions {
            categories[region.category.rawValue, default: BaselineCounts()].regions += 1
            for (origin, rss) in zip(region.origins, region.rssShares) {
                let bytes = UInt64(origin.range.count)
                categories[origin.category.rawValue, default: BaselineCounts()].mappedBytes += bytes
                categories[origin.category.rawValue, default: BaselineCounts()].rssBytes += rss
                let key = BaselineKey.key(of: origin)
                if keys[key] == nil {
                    let stack = Baseline.backtrace(origin.event.flatMap { events[$0] }?.stack ?? [], site: origin.site)
                    keys[key] = BaselineKeyEntry(counts: BaselineCounts(),
                                                 site: BaselineKey.siteText(label: origin.label, site: origin.site),
                                                 backtrace: stack, tier: KeyTier.of(origin, executable: p.executable))
                    keys[key]!.siteFile = origin.site?.file
                    keys[key]!.siteLine = origin.site?.line
                }
                keys[key]!.counts.mappedBytes += bytes
                keys[key]!.counts.rssBytes += rss
                keys[key]!.counts.regions += 1
            }
        }
        var process = BaselineProcess(executable: p.executable ?? "?", regions: p.regions.count,
                                      anonymousRegions: p.regions.filter { !$0.entry.isFile }.count,
                                      peakMappings: peaks?[p.pid].map { max($0, p.regions.count) }, categories: categories, keys: keys)
        process.peakAnonymousBytes = p.peaks.first { $0.quantity == .anonymousBytes }?.moment.anonymousBytes
        return process
    }

    /// The creating backtrace as shown for a new key: from the site outwards (the frames inside
    /// libc, ld.so and the allocator summarized in one line), at most 12 frames.
    package static func backtrace(_ stack: [SymbolizedFrame], site: SymbolizedFrame?) -> [String] {
        guard !stack.isEmpty else { return [] }
        let start = site.flatMap { s in stack.firstIndex { $0.ip == s.ip && $0.module == s.module } } ?? 0
        var lines = start > 0 ? ["(\(start) frame\(start == 1 ? "" : "s") in libc, ld.so or the allocator)"] : []
        lines += stack[start...].prefix(12).map(\.shortDescription)
        return lines
    }
}
