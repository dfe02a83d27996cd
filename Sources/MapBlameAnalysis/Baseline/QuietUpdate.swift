import MapBlameModel

/// `check --update`: the baseline rewritten with a run's numbers, touching only what matters, so
/// the file's diff in review shows the real change (docs/baseline.md, "Updating").
///
/// - A number that gates (the key is gated and the kind's tolerance is not `off`) takes the new
///   value, unless the new value lies inside the baseline's recorded range (`--runs`), which is kept.
/// - A number that does not gate (RSS without an rss tolerance, a system key without
///   `--gate-system`, an ignored key) keeps its old value unless it moved by more than the noise
///   margin, in either direction.
/// - New keys and processes are added, vanished ones removed; the command becomes the one this
///   run ran; tolerances and ignore patterns are kept.
public enum QuietUpdate {
    /// The default noise margin: a value that is not gated is rewritten when it moved by more than
    /// 10% of its old value and, for bytes, by more than 64 KiB (RSS of a small region moves by a
    /// page or two from run to run). Written as a tolerance spec; on counts only its percentage
    /// applies.
    public static let defaultMargin = Tolerance(absolute: 64 << 10, percent: 10)
    /// `defaultMargin` as written on the command line.
    public static let defaultMarginSpec = "+64KiB,10%"

    public static func apply(baseline old: Baseline, current: Baseline, tolerances: ToleranceSet, policy: KeyPolicy,
                             margin: Tolerance = defaultMargin) -> Baseline {
        var policy = policy
        policy.ignore += old.ignore.compactMap { try? IgnorePattern($0) }
        var updated = current
        updated.tolerances = old.tolerances
        updated.tolerances.commandLine = ToleranceRule()
        updated.tolerances.commandLineCategories = [:]
        updated.ignore = old.ignore
        let comparison = BaselineComparison(baseline: old, current: current, tolerances: tolerances, policy: policy)
        for p in comparison.processes {
            guard let i = p.baselineIndex, let j = p.currentIndex else { continue }
            updated.processes[j] = process(old.processes[i], current.processes[j], rows: p.rows, tolerances, margin: margin)
        }
        return updated
    }

    package static func process(_ old: BaselineProcess, _ new: BaselineProcess, rows: [BaselineComparison.Row],
                                _ t: ToleranceSet, margin: Tolerance) -> BaselineProcess {
        var p = new
        p.totalLows = [:]
        let gatedRows = Dictionary(rows.map { ($0.key, $0.gated) }, uniquingKeysWith: { a, _ in a })
        func gates(_ key: String, _ kind: ToleranceKind) -> Bool {
            (gatedRows[key] ?? true) && !t.tolerance(kind, key: key).off
        }
        let countMargin = Tolerance(percent: margin.percent)
        // Process totals: counts only.
        func total(_ key: String, _ oldValue: Int?, _ newValue: Int?) -> Int? {
            guard let o = oldValue, let n = newValue else { return newValue }
            let low = old.totalLows[key] ?? o
            let (value, keepRange) = choose(old: UInt64(o), low: UInt64(low), new: UInt64(n), gated: gates(key, .count), margin: countMargin)
            if keepRange, low < o { p.totalLows[key] = low }
            return Int(value)
        }
        p.regions = total("@regions", old.regions, new.regions)!
        p.anonymousRegions = total("@anonymous_regions", old.anonymousRegions, new.anonymousRegions)!
        p.peakMappings = total("@peak_mappings", old.peakMappings, new.peakMappings)
        for (key, entry) in new.keys {
            guard let before = old.keys[key] else { continue }
            var e = entry
            let low = before.low ?? before.counts
            let regions = choose(old: UInt64(before.counts.regions), low: UInt64(low.regions), new: UInt64(entry.counts.regions),
                                 gated: gates(key, .count), margin: countMargin)
            let bytes = choose(old: before.counts.mappedBytes, low: low.mappedBytes, new: entry.counts.mappedBytes,
                               gated: gates(key, .bytes), margin: margin)
            let rss = choose(old: before.counts.rssBytes, low: low.rssBytes, new: entry.counts.rssBytes,
                             gated: gates(key, .rss), margin: margin)
            e.counts = BaselineCounts(regions: Int(regions.value), mappedBytes: bytes.value, rssBytes: rss.value)
            // The range stays while every number it spans was kept inside it.
            if before.low != nil, regions.keptRange, bytes.keptRange {
                e.low = BaselineCounts(regions: low.regions, mappedBytes: low.mappedBytes, rssBytes: min(low.rssBytes, rss.value))
            } else {
                e.low = nil
            }
            if e.site.isEmpty { e.site = before.site }
            p.keys[key] = e
        }
        // Categories are informational: rewritten only beyond the margin, so they stay quiet too.
        for (name, counts) in new.categories {
            guard let before = old.categories[name] else { continue }
            p.categories[name] = BaselineCounts(
                regions: Int(choose(old: UInt64(before.regions), low: UInt64(before.regions), new: UInt64(counts.regions), gated: false, margin: countMargin).value),
                mappedBytes: choose(old: before.mappedBytes, low: before.mappedBytes, new: counts.mappedBytes, gated: false, margin: margin).value,
                rssBytes: choose(old: before.rssBytes, low: before.rssBytes, new: counts.rssBytes, gated: false, margin: margin).value)
        }
        return p
    }

    /// The value to write, and whether the old one (with its range) was kept.
    package static func choose(old: UInt64, low: UInt64, new: UInt64, gated: Bool, margin: Tolerance) -> (value: UInt64, keptRange: Bool) {
        if gated {
            return (low...old).contains(new) ? (old, true) : (new, false)
        }
        return withinMargin(old: old, new: new, margin: margin) ? (old, true) : (new, false)
    }

    /// Whether `new` is within the margin of `old`, either way: the margin's allowance above `old`
    /// (`Tolerance.limit`) is also how far it may fall.
    public static func withinMargin(old: UInt64, new: UInt64, margin: Tolerance) -> Bool {
        if margin.off { return true }
        let allowance = margin.limit(baseline: old) - old
        return old > new ? old - new <= allowance : new - old <= allowance
    }
}
