import Glibc
import MapBlameModel

/// Which keys `check` judges (docs/baseline.md, "Two tiers" and "Ignoring keys"): the program's
/// keys always, the system's with `--gate-system` (or when the baseline gives a key a tolerance of
/// its own), none that an ignore pattern matches.
public struct KeyPolicy: Sendable, Equatable {
    /// `--gate-system`: the system's keys and the process totals fail a check too.
    public var gateSystem = false
    /// `--ignore` patterns and the baseline's `"ignore"`: a key glob or a category name.
    public var ignore: [IgnorePattern] = []

    public init(gateSystem: Bool = false, ignore: [IgnorePattern] = []) {
        self.gateSystem = gateSystem
        self.ignore = ignore
    }

    public func isIgnored(_ key: String) -> Bool { ignore.contains { $0.matches(key) } }

    /// Whether a row's numbers can fail the check. `ownTolerance`: the baseline names the key in
    /// its per-key tolerances, which asks for it to be judged whatever its tier.
    public func isGated(key: String, tier: KeyTier, ownTolerance: Bool) -> Bool {
        if isIgnored(key) { return false }
        return tier == .program || gateSystem || ownTolerance
    }
}

/// `--ignore PATTERN`: a category name (`vdso`, `malloc-arena`: every key of it) or a glob over
/// keys (`*` any run of characters, `?` one, `[...]` a set, as fnmatch(3) without flags):
/// `file:libnss_*`, `*@libpython3.*`.
public struct IgnorePattern: Sendable, Equatable, CustomStringConvertible {
    public var text: String

    public init(_ text: String) throws(IgnorePatternError) {
        guard !text.isEmpty else { throw IgnorePatternError("empty pattern") }
        // fnmatch reports a malformed pattern only by not matching; an unclosed set is the one
        // mistake it can make silently, so it is refused here.
        if let open = text.firstIndex(of: "["), !text[open...].dropFirst().contains("]") {
            throw IgnorePatternError("'\(text)': a '[' set without its ']'")
        }
        self.text = text
    }

    public var description: String { text }

    public var category: Category? { Category(rawValue: text) }

    public func matches(_ key: String) -> Bool {
        if let category, key.hasPrefix(category.rawValue + ":") { return true }
        return fnmatch(text, key, 0) == 0
    }
}

public struct IgnorePatternError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
