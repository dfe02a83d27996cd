import MapBlameModel

/// A measurement compared with a baseline, key by key (docs/baseline.md).
public struct BaselineComparison: Sendable {
    public enum Status: String, Sendable {
        case same, grew, shrank, changed, new, vanished
    }

    /// One compared key, or one process total ("@regions", "@anonymous_regions", "@peak_mappings").
    public struct Row: Sendable {
        public var key: String
        public var isTotal: Bool
        public var status: Status
        public var baseline: BaselineCounts?
        public var current: BaselineCounts?
        public var site: String
        public var backtrace: [String]
        /// Why it is a regression ("regions 1 → 3 (+2), allowed +0"); empty when within tolerance
        /// or not gated.
        public var failures: [String]
        public var isRegression: Bool { !failures.isEmpty }
        /// Who made the key (the process totals count everything: `.system`).
        public var tier: KeyTier = .program
        /// Whether its numbers can fail the check (KeyPolicy).
        public var gated = true
        /// Matched by an ignore pattern: shown, never judged.
        public var ignored = false
        /// Beyond tolerance, but not gated: reported, not a regression.
        public var warnings: [String] = []
        /// The baseline's lowest numbers (`baseline --runs N`), when they differ from `baseline`.
        public var baselineLow: BaselineCounts? = nil
        /// Where the site is in the source (this run's measurement): for annotations.
        public var siteFile: String? = nil
        public var siteLine: Int? = nil
    }

    public struct ProcessComparison: Sendable {
        /// "mbfixture" for the first process, "mbfixture#2" for the third.
        public var name: String
        public var baselineIndex: Int?
        public var currentIndex: Int?
        public var rows: [Row]
    }

    public var processes: [ProcessComparison]
    /// Command or process mismatches: each is also a regression.
    public var mismatches: [String]

    public var regressions: [(process: String, row: Row)] {
        processes.flatMap { p in p.rows.filter(\.isRegression).map { (p.name, $0) } }
    }
    public var failed: Bool { !mismatches.isEmpty || !regressions.isEmpty }

    /// `policy`: which keys gate; the baseline's own `ignore` patterns are added to it.
    public init(baseline: Baseline, current: Baseline, tolerances: ToleranceSet, policy: KeyPolicy = KeyPolicy()) {
        var policy = policy
        policy.ignore += baseline.ignore.compactMap { try? IgnorePattern($0) }
        mismatches = []
        processes = []
        let commandA = BaselineComparison.comparableCommand(baseline.command)
        let commandB = BaselineComparison.comparableCommand(current.command)
        if commandA != commandB {
            mismatches.append("command differs: baseline ran \(baseline.command.joined(separator: " ")), this run \(current.command.joined(separator: " "))")
        }
        // Match by order and executable base name: each baseline process takes the first unmatched
        // current process with the same name, in order.
        var used = Set<Int>()
        var pairs: [(Int?, Int?)] = []
        for (i, p) in baseline.processes.enumerated() {
            if let j = current.processes.indices.first(where: { !used.contains($0) && current.processes[$0].executableName == p.executableName }) {
                used.insert(j)
                pairs.append((i, j))
            } else {
                pairs.append((i, nil))
            }
        }
        for j in current.processes.indices where !used.contains(j) { pairs.append((nil, j)) }
        if baseline.processes.count != current.processes.count {
            mismatches.append("process count differs: baseline \(baseline.processes.count), this run \(current.processes.count)")
        }
        for (i, j) in pairs {
            let a = i.map { baseline.processes[$0] }, b = j.map { current.processes[$0] }
            let name = BaselineComparison.processName(a ?? b!, index: i ?? j!)
            if a == nil { mismatches.append("new process \(name) (\(b!.executable))") }
            if b == nil { mismatches.append("process \(name) (\(a!.executable)) did not run") }
            processes.append(ProcessComparison(name: name, baselineIndex: i, currentIndex: j,
                                               rows: BaselineComparison.rows(a, b, tolerances, policy: policy)))
        }
    }

    package static func processName(_ p: BaselineProcess, index: Int) -> String {
        index == 0 ? p.executableName : "\(p.executableName)#\(index)"
    }

    /// argv with the program reduced to its base name: a baseline made in another checkout or on
    /// another machine still matches.
    public static func comparableCommand(_ command: [String]) -> [String] {
        guard let first = command.first else { return [] }
        return [BaselineKey.basename(first)] + command.dropFirst()
    }

    package static func rows(_ a: BaselineProcess?, _ b: BaselineProcess?, _ t: ToleranceSet, policy: KeyPolicy = KeyPolicy()) -> [Row] {
        var rows: [Row] = []
        let totals: [(String, Int?, Int?)] = [
            ("@regions", a?.regions, b?.regions),
            ("@anonymous_regions", a?.anonymousRegions, b?.anonymousRegions),
            ("@peak_mappings", a?.peakMappings, b?.peakMappings),
        ]
        for (key, x, y) in totals {
            // A total known on one side only (peak of a JSON report) is not compared.
            guard a == nil || b == nil || (x != nil && y != nil) else { continue }
            guard x != nil || y != nil else { continue }
            var r = row(key: key, isTotal: true, x.map { BaselineCounts(regions: $0) }, y.map { BaselineCounts(regions: $0) },
                        site: "process total", backtrace: [], t, kinds: [.count],
                        low: a?.totalLows[key].map { BaselineCounts(regions: $0) })
            // Totals count the system's mappings too (another kernel's [vvar_vclock], another
            // libc's segments): they gate like the system's keys.
            judge(&r, tier: .system, policy: policy, t)
            rows.append(r)
        }
        if var row = peakAnonymousRow(a, b, t) {
            judge(&row, tier: .system, policy: policy, t)  // a total, like the others
            rows.append(row)
        }
        // A process on one side only is a mismatch already: its totals are shown, not judged.
        if a == nil || b == nil {
            return rows.map { var r = $0; r.failures = []; return r }
        }
        let keys = Set((a?.keys.keys).map(Array.init) ?? []).union((b?.keys.keys).map(Array.init) ?? []).sorted()
        for key in keys {
            let x = a?.keys[key], y = b?.keys[key]
            var r = row(key: key, isTotal: false, x?.counts, y?.counts, site: y?.site ?? x?.site ?? "",
                        backtrace: y?.backtrace ?? [], t, kinds: ToleranceKind.allCases, low: x?.low)
            r.siteFile = y?.siteFile
            r.siteLine = y?.siteLine
            // This run's tier where the key ran (it is measured here), else the baseline's; a
            // baseline older than tiers says nothing of a vanished key, which never fails anyway.
            judge(&r, tier: y?.tier ?? x?.tier ?? .program, policy: policy, t)
            rows.append(r)
        }
        return rows
    }

    /// Moves the failures of a row that is not gated to its warnings.
    package static func judge(_ r: inout Row, tier: KeyTier, policy: KeyPolicy, _ t: ToleranceSet) {
        r.tier = tier
        r.ignored = policy.isIgnored(r.key)
        r.gated = policy.isGated(key: r.key, tier: tier, ownTolerance: t.keys[r.key] != nil)
        if !r.gated {
            r.warnings = r.ignored ? [] : r.failures
            r.failures = []
        }
    }

    package static func row(key: String, isTotal: Bool, _ x: BaselineCounts?, _ y: BaselineCounts?, site: String,
                    backtrace: [String], _ t: ToleranceSet, kinds: [ToleranceKind], low: BaselineCounts? = nil) -> Row {
        let base = x ?? BaselineCounts(), now = y ?? BaselineCounts()
        var failures: [String] = []
        for kind in kinds {
            let tolerance = t.tolerance(kind, key: key)
            let (old, new): (UInt64, UInt64)
            switch kind {
            case .count: (old, new) = (UInt64(base.regions), UInt64(now.regions))
            case .bytes: (old, new) = (base.mappedBytes, now.mappedBytes)
            case .rss: (old, new) = (base.rssBytes, now.rssBytes)
            }
            guard !tolerance.allows(baseline: old, current: new) else { continue }
            let name = isTotal ? String(key.dropFirst()).replacingUnderscores : (kind == .count ? "regions" : kind == .bytes ? "mapped" : "rss")
            let show: (UInt64) -> String = kind == .count ? { String($0) } : { ByteCount.text($0) }
            let lowest: UInt64? = low.map { kind == .count ? UInt64($0.regions) : kind == .bytes ? $0.mappedBytes : $0.rssBytes }
            let was = lowest.map { $0 < old ? "\(show($0))..\(show(old))" : show(old) } ?? show(old)
            failures.append("\(name) \(was) → \(show(new)) (+\(show(new - old))), allowed \(tolerance.description == "+0" ? "no growth" : "up to \(show(tolerance.limit(baseline: old)))") [\(kind.rawValue)=\(tolerance)]")
        }
        let status: Status
        if x == nil { status = .new } else if y == nil { status = .vanished } else {
            let up = now.regions > base.regions || now.mappedBytes > base.mappedBytes
            // Inside a recorded range is no change: a key that varies run to run is not listed
            // as shrunk each time it comes in low.
            let floor = low ?? base
            let down = now.regions < floor.regions || now.mappedBytes < floor.mappedBytes
            status = up && down ? .changed : up ? .grew : down ? .shrank : .same
        }
        var r = Row(key: key, isTotal: isTotal, status: status, baseline: x, current: y, site: site,
                    backtrace: backtrace, failures: failures)
        r.baselineLow = low
        return r
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
