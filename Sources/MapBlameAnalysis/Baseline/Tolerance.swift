import MapBlameModel

/// How much a number may grow before `mapblame check` calls it a regression (docs/baseline.md).
///
/// Syntax of a spec: one or more of `+N` (absolute; bytes may carry a unit: `+64KiB`, `+1MiB`,
/// `+4096`) and `N%` (relative to the baseline value), separated by commas; the allowance is the
/// larger of them. `off` disables the check; `0` or `+0` allows no growth.
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    public var absolute: UInt64 = 0
    /// Percent of the baseline value.
    public var percent: Double = 0
    public var off = false

    public init(absolute: UInt64 = 0, percent: Double = 0, off: Bool = false) {
        self.absolute = absolute
        self.percent = percent
        self.off = off
    }

    public static let zero = Tolerance()

    /// The largest value still within tolerance of `baseline`.
    public func limit(baseline: UInt64) -> UInt64 {
        if off { return UInt64.max }
        // A percentage can be any finite number (1e30%): beyond UInt64 it allows anything.
        let fraction = (Double(baseline) * percent / 100).rounded(.down)
        let relative = fraction < 0x1p64 ? UInt64(fraction) : UInt64.max
        let (sum, overflow) = baseline.addingReportingOverflow(max(absolute, relative))
        return overflow ? UInt64.max : sum
    }

    public func allows(baseline: UInt64, current: UInt64) -> Bool {
        current <= limit(baseline: baseline)
    }

    public var description: String {
        if off { return "off" }
        var parts: [String] = []
        if absolute > 0 || percent == 0 { parts.append("+\(absolute)") }
        if percent > 0 {
            parts.append(percent == percent.rounded() && percent < 0x1p53 ? "\(Int(percent))%" : "\(percent)%")
        }
        return parts.joined(separator: ",")
    }

    public static func parse(_ text: String) throws(ToleranceError) -> Tolerance {
        let spec = text.trimmingWhitespace
        if spec == "off" { return Tolerance(off: true) }
        var result = Tolerance()
        let parts = spec.split(separator: ",", omittingEmptySubsequences: false)
        guard !spec.isEmpty else { throw ToleranceError("empty tolerance") }
        for raw in parts {
            let part = String(raw).trimmingWhitespace
            if part.hasSuffix("%") {
                guard let p = Double(part.dropLast()), p >= 0, p.isFinite else {
                    throw ToleranceError("'\(part)': a relative tolerance is a non-negative number followed by %")
                }
                result.percent = max(result.percent, p)
            } else {
                let body = part.hasPrefix("+") ? part.dropFirst() : Substring(part)
                guard let n = parseAmount(body) else {
                    throw ToleranceError("'\(part)': expected +N, +N with a unit (B, KiB, MiB, GiB), N% or off")
                }
                result.absolute = max(result.absolute, n)
            }
        }
        return result
    }

    /// "4096", "64KiB", "1MiB", "2 GiB", "100B" (also K/M/G, KB/MB/GB as binary units).
    package static func parseAmount(_ s: Substring) -> UInt64? {
        let text = String(s).trimmingWhitespace
        let digits = text.prefix { $0.isNumber }
        guard !digits.isEmpty, let n = UInt64(digits) else { return nil }
        let unit = text.dropFirst(digits.count).trimmingWhitespace.lowercased()
        let multipliers: [String: UInt64] = ["": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
                                             "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
                                             "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30]
        guard let m = multipliers[unit] else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: m)
        return overflow ? nil : v
    }
}

public struct ToleranceError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What is measured: region counts, mapped bytes, RSS bytes.
public enum ToleranceKind: String, Sendable, CaseIterable {
    case count, bytes, rss
}

/// Tolerances for each kind; unset kinds fall back (per key → per category → command line →
/// baseline file → built-in: count +0, bytes +0, rss off).
public struct ToleranceRule: Sendable, Equatable {
    public var values: [ToleranceKind: Tolerance] = [:]
    public init(_ values: [ToleranceKind: Tolerance] = [:]) { self.values = values }
    public subscript(kind: ToleranceKind) -> Tolerance? {
        get { values[kind] }
        set { values[kind] = newValue }
    }
    public var isEmpty: Bool { values.isEmpty }

    /// `count=+2`, `bytes=10%`, `bytes=+64KiB,5%`, `rss=off` (the `--tolerance` option).
    public mutating func apply(option text: String) throws(ToleranceError) {
        guard let eq = text.firstIndex(of: "=") else {
            throw ToleranceError("'\(text)': expected KIND=SPEC with KIND count, bytes or rss (e.g. count=+2, bytes=10%)")
        }
        let name = String(text[..<eq]).trimmingWhitespace
        guard let kind = ToleranceKind(rawValue: name) else {
            throw ToleranceError("'\(name)': unknown tolerance kind (count, bytes or rss)")
        }
        values[kind] = try Tolerance.parse(String(text[text.index(after: eq)...]))
    }
}

/// The tolerances of a baseline file, plus those given on the command line.
public struct ToleranceSet: Sendable, Equatable {
    /// From the baseline file's "tolerances" (the kinds at top level).
    public var file = ToleranceRule()
    /// Per key, from the baseline file's "tolerances"."keys". Process totals use the keys
    /// "@regions", "@anonymous_regions" and "@peak_mappings".
    public var keys: [String: ToleranceRule] = [:]
    /// From `--tolerance`: overrides `file`, not `keys`.
    public var commandLine = ToleranceRule()
    /// Per category (by its name, `malloc-arena`), from the baseline file's
    /// "tolerances"."categories" and from `--tolerance CATEGORY:KIND=SPEC` (which wins).
    public var categories: [String: ToleranceRule] = [:]
    public var commandLineCategories: [String: ToleranceRule] = [:]

    public init() {}

    public static let builtIn = ToleranceRule([.count: .zero, .bytes: .zero, .rss: Tolerance(off: true)])
    /// Process totals ("@regions"...) count the kernel's lines, and which anonymous mappings the
    /// kernel merges depends on where ASLR placed them: identical runs differ by one or two.
    public static let builtInTotals = Tolerance(absolute: 2)

    public func tolerance(_ kind: ToleranceKind, key: String) -> Tolerance {
        let builtIn = key.hasPrefix("@") && kind == .count ? ToleranceSet.builtInTotals : ToleranceSet.builtIn[kind]!
        // A key's category is what comes before its first ':' ("malloc-arena:..."); totals have none.
        let category = key.hasPrefix("@") ? nil : key.firstIndex(of: ":").map { String(key[..<$0]) }
        return keys[key]?[kind] ?? category.flatMap { commandLineCategories[$0]?[kind] ?? categories[$0]?[kind] }
            ?? commandLine[kind] ?? file[kind] ?? builtIn
    }
}

extension ToleranceSet {
    /// One `--tolerance` option: `KIND=SPEC` for every key, or `CATEGORY:KIND=SPEC` for the keys
    /// of one category (`malloc-arena:count=+2`).
    public mutating func apply(commandLineOption text: String) throws(ToleranceError) {
        let eq = text.firstIndex(of: "=") ?? text.endIndex
        guard let colon = text[..<eq].firstIndex(of: ":") else {
            try commandLine.apply(option: text)
            return
        }
        let name = String(text[..<colon]).trimmingWhitespace
        guard Category(rawValue: name) != nil else {
            throw ToleranceError("'\(name)': unknown category (\(Category.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try commandLineCategories[name, default: ToleranceRule()].apply(option: String(text[text.index(after: colon)...]))
    }
}
