import MapBlameModel

/// `check --format json` and `diff --format json`: the comparison as data, format
/// "mapblame-comparison" version 1 (docs/comparison-json.md). Every row the table could show is
/// here, unchanged ones included; `verdict` is null for `diff`, which judges nothing.
public enum ComparisonJSON {
    public static let formatVersion = 1

    /// `baseline`, `current`: what was compared (file names, or the command run). `check`:
    /// whether tolerances judged the rows (check) or not (diff).
    public static func render(_ c: BaselineComparison, baseline: String, current: String, check: Bool) -> String {
        JSONValue.object([
            ("format", .string("mapblame-comparison")),
            ("version", .int(Int64(formatVersion))),
            ("command", .string(check ? "check" : "diff")),
            ("baseline", .string(baseline)),
            ("current", .string(current)),
            ("verdict", check ? .string(c.failed ? "regression" : "within tolerance") : .null),
            ("summary", check ? .string(ComparisonRenderer.summary(c)) : .null),
            ("mismatches", .array(c.mismatches.map { .string($0) })),
            ("processes", .array(c.processes.map { p in
                .object([
                    ("name", .string(p.name)),
                    ("in_baseline", .bool(p.baselineIndex != nil)),
                    ("in_current", .bool(p.currentIndex != nil)),
                    ("rows", .array(p.rows.map { row($0, check: check) })),
                ])
            })),
        ]).serialized() + "\n"
    }

    static func row(_ r: BaselineComparison.Row, check: Bool) -> JSONValue {
        .object([
            ("key", .string(r.key)),
            ("total", .bool(r.isTotal)),
            ("status", .string(r.status.rawValue)),
            ("baseline", counts(r.baseline)),
            ("current", counts(r.current)),
            ("site", r.isTotal ? .null : .string(r.site)),
            ("backtrace", .array(r.backtrace.map { .string($0) })),
            ("regression", check ? .bool(r.isRegression) : .null),
            ("failures", .array(r.failures.map { .string($0) })),
        ])
    }

    static func counts(_ c: BaselineCounts?) -> JSONValue {
        guard let c else { return .null }
        return .object([("regions", .int(Int64(c.regions))), ("mapped_bytes", .int(Int64(clamping: c.mappedBytes))),
                        ("rss_bytes", .int(Int64(clamping: c.rssBytes)))])
    }
}
