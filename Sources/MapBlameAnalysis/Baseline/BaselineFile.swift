import MapBlameModel

/// The baseline file, format "mapblame-baseline" version 1 (docs/baseline.md): sorted keys, one
/// category or key per line, so a changed baseline reads well in a code review.
public enum BaselineFile {
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func render(_ b: Baseline) -> String {
        var out = "{\n"
        out += "  \"format\": \(quote(Baseline.format)),\n"
        out += "  \"version\": \(Baseline.version),\n"
        out += "  \"command\": [" + b.command.map(quote).joined(separator: ", ") + "],\n"
        out += "  \"processes\": ["
        for (n, p) in b.processes.enumerated() {
            out += n == 0 ? "\n" : ",\n"
            out += "    {\n"
            out += "      \"executable\": \(quote(p.executable)),\n"
            out += "      \"regions\": \(p.regions),\n"
            out += "      \"anonymous_regions\": \(p.anonymousRegions),\n"
            out += "      \"peak_mappings\": \(p.peakMappings.map(String.init) ?? "null"),\n"
            if !p.totalLows.isEmpty {
                // The lowest totals of `baseline --runs N`: "@regions" is written "regions".
                out += "      \"low\": {" + p.totalLows.sorted { $0.key < $1.key }
                    .map { "\(quote(String($0.key.dropFirst()))): \($0.value)" }.joined(separator: ", ") + "},\n"
            }
            if let peak = p.peakAnonymousBytes { out += "      \"peak_anonymous_bytes\": \(peak),\n" }
            out += "      \"categories\": " + lines(p.categories.sorted { $0.key < $1.key }.map { ($0.key, counts($0.value)) }, indent: 6) + ",\n"
            out += "      \"keys\": " + lines(p.keys.sorted { $0.key < $1.key }.map {
                ($0.key, counts($0.value.counts) + ($0.value.low.map { ", \"low\": {\(counts($0))}" } ?? "")
                    + ($0.value.tier.map { ", \"tier\": \(quote($0.rawValue))" } ?? "") + ", \"site\": \(quote($0.value.site))")
            }, indent: 6) + "\n"
            out += "    }"
        }
        out += b.processes.isEmpty ? "],\n" : "\n  ],\n"
        if !b.ignore.isEmpty { out += "  \"ignore\": [" + b.ignore.map(quote).joined(separator: ", ") + "],\n" }
        out += "  \"tolerances\": " + tolerances(b.tolerances) + "\n"
        out += "}\n"
        return out
    }

    package static func counts(_ c: BaselineCounts) -> String {
        "\"regions\": \(c.regions), \"mapped_bytes\": \(c.mappedBytes), \"rss_bytes\": \(c.rssBytes)"
    }

    /// `{ "k": {fields}, ... }` with one entry per line.
    package static func lines(_ entries: [(String, String)], indent: Int) -> String {
        guard !entries.isEmpty else { return "{}" }
        let pad = String(repeating: " ", count: indent + 2)
        return "{\n" + entries.map { pad + quote($0.0) + ": {" + $0.1 + "}" }.joined(separator: ",\n")
            + "\n" + String(repeating: " ", count: indent) + "}"
    }

    package static func rule(_ r: ToleranceRule) -> String {
        ToleranceKind.allCases.compactMap { k in r[k].map { "\(quote(k.rawValue)): \(quote($0.description))" } }
            .joined(separator: ", ")
    }

    package static func tolerances(_ t: ToleranceSet) -> String {
        var fields = ToleranceKind.allCases.compactMap { k in t.file[k].map { "    \(quote(k.rawValue)): \(quote($0.description))" } }
        if !t.categories.isEmpty {
            fields.append("    \"categories\": " + lines(t.categories.sorted { $0.key < $1.key }.map { ($0.key, rule($0.value)) }, indent: 4))
        }
        if !t.keys.isEmpty {
            fields.append("    \"keys\": " + lines(t.keys.sorted { $0.key < $1.key }.map { ($0.key, rule($0.value)) }, indent: 4))
        }
        return fields.isEmpty ? "{}" : "{\n" + fields.joined(separator: ",\n") + "\n  }"
    }

    package static func quote(_ s: String) -> String {
        var out = ""
        JSONValue.escape(s, into: &out)
        return out
    }

    // MARK: reading

    /// Whether a parsed JSON document claims to be a baseline.
    public static func isBaseline(_ root: JSONValue) -> Bool {
        root.member("format")?.jsonString == Baseline.format
    }

    public static func parse(_ root: JSONValue) throws(ReadError) -> Baseline {
        guard root.member("format")?.jsonString == Baseline.format else {
            throw ReadError(description: "not a mapblame baseline (no \"format\": \"\(Baseline.format)\")")
        }
        guard root.member("version")?.jsonInt == Int64(Baseline.version) else {
            throw ReadError(description: "unsupported baseline version \(root.member("version")?.jsonInt.map(String.init) ?? "?") (this mapblame reads version \(Baseline.version))")
        }
        let command = root.member("command")?.jsonArray?.compactMap(\.jsonString) ?? []
        var processes: [BaselineProcess] = []
        for (n, p) in (root.member("processes")?.jsonArray ?? []).enumerated() {
            guard let exe = p.member("executable")?.jsonString, let regions = p.member("regions")?.jsonInt else {
                throw ReadError(description: "process \(n): missing \"executable\" or \"regions\"")
            }
            var categories: [String: BaselineCounts] = [:]
            for (name, c) in p.member("categories")?.jsonObject ?? [] { categories[name] = counts(c) }
            var keys: [String: BaselineKeyEntry] = [:]
            for (name, k) in p.member("keys")?.jsonObject ?? [] {
                keys[name] = BaselineKeyEntry(counts: counts(k), site: k.member("site")?.jsonString ?? "",
                                              tier: k.member("tier")?.jsonString.flatMap(KeyTier.init(rawValue:)),
                                              low: k.member("low").map(counts))
            }
            var process = BaselineProcess(
                executable: exe, regions: Int(max(0, regions)),
                anonymousRegions: Int(max(0, p.member("anonymous_regions")?.jsonInt ?? 0)),
                peakMappings: p.member("peak_mappings")?.jsonInt.map { Int(max(0, $0)) },
                categories: categories, keys: keys)
            process.peakAnonymousBytes = p.member("peak_anonymous_bytes")?.jsonInt.map { UInt64(max(0, $0)) }
            processes.append(process)
            for (name, v) in p.member("low")?.jsonObject ?? [] {
                if let n = v.jsonInt { processes[processes.count - 1].totalLows["@" + name] = Int(max(0, n)) }
            }
        }
        var set = ToleranceSet()
        if let t = root.member("tolerances") {
            set.file = try rule(t, context: "tolerances")
            for (category, r) in t.member("categories")?.jsonObject ?? [] {
                set.categories[category] = try rule(r, context: "tolerances for category \(category)")
            }
            for (key, r) in t.member("keys")?.jsonObject ?? [] {
                set.keys[key] = try rule(r, context: "tolerances for \(key)")
            }
        }
        var ignore: [String] = []
        for pattern in root.member("ignore")?.jsonArray ?? [] {
            guard let text = pattern.jsonString, (try? IgnorePattern(text)) != nil else {
                throw ReadError(description: "ignore: each pattern must be a key glob or a category name, as a string")
            }
            ignore.append(text)
        }
        return Baseline(command: command, processes: processes, tolerances: set, ignore: ignore)
    }

    package static func counts(_ v: JSONValue) -> BaselineCounts {
        // Counts are never negative: a negative one (a hand-edited file) reads as 0, as bytes do.
        BaselineCounts(regions: Int(max(0, v.member("regions")?.jsonInt ?? 0)),
                       mappedBytes: UInt64(max(0, v.member("mapped_bytes")?.jsonInt ?? 0)),
                       rssBytes: UInt64(max(0, v.member("rss_bytes")?.jsonInt ?? 0)))
    }

    package static func rule(_ v: JSONValue, context: String) throws(ReadError) -> ToleranceRule {
        var r = ToleranceRule()
        for kind in ToleranceKind.allCases {
            guard let spec = v.member(kind.rawValue) else { continue }
            let text: String
            switch spec {
            case .string(let s): text = s
            case .int(let i): text = "+\(i)"
            default: throw ReadError(description: "\(context): \(kind.rawValue) must be a string such as \"+2\" or \"10%\"")
            }
            do {
                r[kind] = try Tolerance.parse(text)
            } catch {
                throw ReadError(description: "\(context): \(error.description)")
            }
        }
        return r
    }
}
