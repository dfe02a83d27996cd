import MapBlameModel

/// `mapblame check` and `diff` output: a table for people, JUnit XML and GitHub Actions
/// annotations for CI.
public enum ComparisonRenderer {
    /// What changed, per process: totals, then keys that grew, shrank, are new or vanished (keys
    /// that did not change are counted, not listed, unless `all`). New keys get their backtrace.
    public static func table(_ c: BaselineComparison, all: Bool = false, marks: Bool = true) -> String {
        var out = ""
        for m in c.mismatches { out += "mismatch: \(m)\n" }
        for p in c.processes {
            let shown = p.rows.filter { all || $0.status != .same || $0.isRegression || !$0.warnings.isEmpty }
            let same = p.rows.count - shown.count
            out += "== \(p.name) ==\n"
            if shown.isEmpty {
                out += "  no change (\(p.rows.count) keys and totals compared)\n"
                continue
            }
            var lines: [[String]] = [["", "status", "tier", "key", "regions", "mapped", "rss", "site"]]
            for r in shown {
                let b = r.baseline ?? BaselineCounts(), n = r.current ?? BaselineCounts()
                let mark = r.isRegression ? "FAIL" : !r.warnings.isEmpty ? "warn" : r.ignored ? "ignored" : ""
                lines.append([marks ? mark : "", r.status.rawValue, r.tier.rawValue, r.key,
                              change(UInt64(b.regions), UInt64(n.regions), bytes: false, low: r.baselineLow.map { UInt64($0.regions) }),
                              r.isTotal ? "" : change(b.mappedBytes, n.mappedBytes, bytes: true, low: r.baselineLow?.mappedBytes),
                              r.isTotal ? "" : change(b.rssBytes, n.rssBytes, bytes: true),
                              r.isTotal ? "" : r.site])
            }
            let widths = (0..<7).map { col in lines.map { $0[col].count }.max() ?? 0 }
            for (n, line) in lines.enumerated() {
                var text = "  "
                for col in 0..<7 { text += line[col].padding(widths[col]) + "  " }
                out += (text + line[7]).trimmedRight + "\n"
                if n > 0, shown[n - 1].status == .new, !shown[n - 1].backtrace.isEmpty {
                    for frame in shown[n - 1].backtrace.prefix(13) {
                        out += frame.hasPrefix("(") ? "        \(frame)\n" : "        at \(frame)\n"
                    }
                }
                if n > 0, marks { for f in shown[n - 1].failures { out += "        ! \(f)\n" } }
                if n > 0, marks {
                    for w in shown[n - 1].warnings { out += "        ~ \(w) (\(shown[n - 1].tier.rawValue): not gated without --gate-system)\n" }
                }
            }
            if same > 0 { out += "  (\(same) unchanged)\n" }
        }
        return out
    }

    /// "3", "1 → 3 (+2)"; with a recorded range `low..a`: "1..3", "1..3 → 4 (+1)" (growth past the top).
    package static func change(_ a: UInt64, _ b: UInt64, bytes: Bool, low: UInt64? = nil) -> String {
        let show: (UInt64) -> String = bytes ? { ByteCount.text($0) } : { String($0) }
        if let low, low < a {
            let range = "\(show(low))..\(show(a))"
            if (low...a).contains(b) { return b == a ? range : "\(range) → \(show(b))" }
            return "\(range) → \(show(b)) (\(b > a ? "+" + show(b - a) : "-" + show(low - b)))"
        }
        if a == b { return show(a) }
        let delta = b > a ? "+" + show(b - a) : "-" + show(a - b)
        return "\(show(a)) → \(show(b)) (\(delta))"
    }

    /// One line: "3 regressions: 2 new keys, 1 grew; 1 mismatch".
    public static func summary(_ c: BaselineComparison) -> String {
        let r = c.regressions
        let warned = c.processes.reduce(0) { $0 + $1.rows.filter { !$0.warnings.isEmpty }.count }
        let note = warned == 0 ? "" : " (\(warned) key\(warned == 1 ? "" : "s") of the system beyond tolerance, not gated)"
        if !c.failed { return "within tolerance" + note }
        var parts: [String] = []
        for status in [BaselineComparison.Status.new, .grew, .changed, .shrank, .same] {
            let n = r.filter { $0.row.status == status }.count
            if n > 0 { parts.append("\(n) \(status == .new ? "new" : status.rawValue)") }
        }
        var text = "\(r.count) regression\(r.count == 1 ? "" : "s")" + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
        if !c.mismatches.isEmpty { text += "; \(c.mismatches.count) mismatch\(c.mismatches.count == 1 ? "" : "es")" }
        return text
    }

    /// JUnit XML: per process a suite of one test case per key, and a suite of its totals; a
    /// "run" suite holding command and process-count checks. Regressions are failures.
    public static func junit(_ c: BaselineComparison) -> String {
        var suites: [String] = []
        var total = 0, failures = 0
        func suite(_ name: String, _ cases: [(String, String, [String])], bodies: [String]? = nil) {
            let failed = cases.filter { !$0.2.isEmpty }.count
            total += cases.count
            failures += failed
            var s = "  <testsuite name=\"\(xml(name))\" tests=\"\(cases.count)\" failures=\"\(failed)\" errors=\"0\">\n"
            for (n, (classname, name, f)) in cases.enumerated() {
                s += "    <testcase classname=\"\(xml(classname))\" name=\"\(xml(name))\""
                if f.isEmpty { s += "/>\n"; continue }
                s += ">\n      <failure message=\"\(xml(f.joined(separator: "; ")))\" type=\"regression\">"
                s += xml(bodies?[n] ?? f.joined(separator: "\n")) + "</failure>\n    </testcase>\n"
            }
            suites.append(s + "  </testsuite>\n")
        }
        let run: [(String, String, [String])] = [
            ("mapblame.run", "command", c.mismatches.filter { $0.hasPrefix("command") }),
            ("mapblame.run", "processes", c.mismatches.filter { !$0.hasPrefix("command") }),
        ]
        suite("mapblame.run", run)
        for p in c.processes {
            suite("mapblame.\(p.name).keys", p.rows.filter { !$0.isTotal }.map { r in
                ("mapblame.\(p.name)", r.key, r.failures.map { "\(r.status.rawValue): \($0) at \(r.site)" })
            }, bodies: p.rows.filter { !$0.isTotal }.map(failureBody))
            suite("mapblame.\(p.name).totals", p.rows.filter(\.isTotal).map { r in
                ("mapblame.\(p.name).totals", r.key, r.failures)
            })
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"mapblame check\" tests=\"\(total)\" failures=\"\(failures)\">\n"
            + suites.joined() + "</testsuites>\n"
    }

    /// `::error file=F,line=L,title=...::message` lines (GitHub Actions workflow commands), one per
    /// regression and mismatch. `file=` (relative to `workspace`, GITHUB_WORKSPACE) and `line=`
    /// are given when the site's source file is inside the workspace: GitHub then shows the
    /// annotation on that line of the diff.
    public static func githubAnnotations(_ c: BaselineComparison, workspace: String? = nil) -> String {
        var out = ""
        for m in c.mismatches { out += "::error title=\(property("mapblame: run mismatch"))::\(data(m))\n" }
        for (process, row) in c.regressions {
            let what = row.status == .new ? "new mapping site" : "mapping regression"
            var location = ""
            if let file = row.siteFile.flatMap({ relative($0, to: workspace) }) {
                location = "file=\(property(file)),"
                if let line = row.siteLine { location += "line=\(line)," }
            }
            out += "::error \(location)title=\(property("mapblame: \(what) \(row.key) in \(process)"))::"
                + data(row.failures.joined(separator: "; ") + (row.isTotal ? "" : " — site: \(row.site)")) + "\n"
        }
        return out
    }

    /// Escapes of workflow command data: %, CR, LF. By scalar: a CR LF pair is one Swift Character,
    /// equal to neither "\r" nor "\n", and would end the command line unescaped.
    package static func data(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Escapes of workflow command properties: also ':' and ','.
    package static func property(_ s: String) -> String {
        var out = ""
        for scalar in data(s).unicodeScalars {
            switch scalar {
            case ":": out += "%3A"
            case ",": out += "%2C"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    package static func xml(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            default:
                // XML 1.0 forbids most control characters.
                if scalar.value < 0x20 && scalar != "\t" { out += "?" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    fileprivate var trimmedRight: String { String(reversed().drop(while: { $0 == " " }).reversed()) }
}
