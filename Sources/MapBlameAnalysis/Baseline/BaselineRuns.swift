import MapBlameModel

/// `baseline --runs N`: the runs of one command merged into one baseline whose numbers are ranges
/// (docs/baseline.md, "Numbers that vary"). A key's `counts` are the highest value of each number
/// over the runs and its `low` the lowest (a key missing from a run counts 0 there); `check`
/// then passes anything up to the highest plus tolerance, and shows the range.
public enum BaselineRuns {
    public struct MergeError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public static func merge(_ runs: [Baseline]) throws(MergeError) -> Baseline {
        guard var merged = runs.first else { throw MergeError(description: "no runs to merge") }
        let names = merged.processes.map(\.executableName)
        for (n, run) in runs.enumerated().dropFirst() where run.processes.map(\.executableName) != names {
            throw MergeError(description: "run \(n + 1) made other processes (\(run.processes.map(\.executableName).joined(separator: ", "))) "
                + "than run 1 (\(names.joined(separator: ", "))): a baseline needs the same processes in every run")
        }
        for i in merged.processes.indices {
            merged.processes[i] = mergeProcess(runs.map { $0.processes[i] })
        }
        return merged
    }

    package static func mergeProcess(_ runs: [BaselineProcess]) -> BaselineProcess {
        var p = runs[0]
        let totals: [(String, (BaselineProcess) -> Int?)] = [
            ("@regions", { $0.regions }), ("@anonymous_regions", { $0.anonymousRegions }), ("@peak_mappings", { $0.peakMappings }),
        ]
        for (key, value) in totals {
            let values = runs.compactMap(value)
            guard values.count == runs.count, let low = values.min(), let high = values.max() else { continue }
            switch key {
            case "@regions": p.regions = high
            case "@anonymous_regions": p.anonymousRegions = high
            default: p.peakMappings = high
            }
            if low < high { p.totalLows[key] = low } else { p.totalLows[key] = nil }
        }
        let keys = Set(runs.flatMap { $0.keys.keys })
        p.keys = [:]
        for key in keys {
            // Site, tier and backtrace of the first run that has the key.
            var entry = runs.lazy.compactMap { $0.keys[key] }.first!
            let counts = runs.map { $0.keys[key]?.counts ?? BaselineCounts() }
            let high = BaselineCounts(regions: counts.map(\.regions).max()!, mappedBytes: counts.map(\.mappedBytes).max()!,
                                      rssBytes: counts.map(\.rssBytes).max()!)
            let low = BaselineCounts(regions: counts.map(\.regions).min()!, mappedBytes: counts.map(\.mappedBytes).min()!,
                                     rssBytes: counts.map(\.rssBytes).min()!)
            entry.counts = high
            // RSS differs in every run: a range of RSS alone would only make the file noisy.
            entry.low = low.regions == high.regions && low.mappedBytes == high.mappedBytes ? nil : low
            p.keys[key] = entry
        }
        // Categories are informational: the highest.
        for name in Set(runs.flatMap { $0.categories.keys }) {
            let counts = runs.map { $0.categories[name] ?? BaselineCounts() }
            p.categories[name] = BaselineCounts(regions: counts.map(\.regions).max()!, mappedBytes: counts.map(\.mappedBytes).max()!,
                                                rssBytes: counts.map(\.rssBytes).max()!)
        }
        return p
    }
}
