import MapBlameModel

/// What `check` writes for CI besides its table: the JUnit failure's body, the Markdown summary
/// for GITHUB_STEP_SUMMARY, and the paths annotations point at (docs/baseline.md).
extension ComparisonRenderer {
    /// A source path relative to the workspace, when it is inside it (nil otherwise: a file outside
    /// the checkout cannot be annotated). Relative paths from the debug info are taken as they are.
    public static func relative(_ path: String, to workspace: String?) -> String? {
        guard let workspace, !workspace.isEmpty else { return nil }
        guard path.hasPrefix("/") else { return path.hasPrefix("../") ? nil : path }
        let root = workspace.hasSuffix("/") ? workspace : workspace + "/"
        guard path.hasPrefix(root), path.count > root.count else { return nil }
        return String(path.dropFirst(root.count))
    }

    /// The body of a key's JUnit `<failure>`: why, where, and the backtrace of the call that made it.
    package static func failureBody(_ r: BaselineComparison.Row) -> String {
        var lines = r.failures.map { "\(r.status.rawValue): \($0)" }
        lines.append("key: \(r.key) (\(r.tier.rawValue))")
        lines.append("site: \(r.site)" + (r.siteFile.map { " — \($0)" + (r.siteLine.map { ":\($0)" } ?? "") } ?? ""))
        if !r.backtrace.isEmpty {
            lines.append("backtrace (innermost first):")
            lines += r.backtrace.map { $0.hasPrefix("(") ? "  \($0)" : "  at \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    /// A Markdown report for the job's summary page (GITHUB_STEP_SUMMARY): the verdict, then per
    /// process a table of what changed, with ranges and marks, and each new site's backtrace.
    public static func markdown(_ c: BaselineComparison, baselinePath: String) -> String {
        var out = "### mapblame check: \(c.failed ? "❌" : "✅") \(cell(summary(c)))\n\n"
        out += "Baseline `\(cell(baselinePath))`.\n\n"
        for m in c.mismatches { out += "- **mismatch**: \(cell(m))\n" }
        if !c.mismatches.isEmpty { out += "\n" }
        for p in c.processes {
            let shown = p.rows.filter { $0.status != .same || $0.isRegression || !$0.warnings.isEmpty }
            out += "#### \(cell(p.name))\n\n"
            if shown.isEmpty {
                out += "No change (\(p.rows.count) keys and totals compared).\n\n"
                continue
            }
            out += "| | status | tier | key | regions | mapped | site |\n|---|---|---|---|---|---|---|\n"
            for r in shown {
                let b = r.baseline ?? BaselineCounts(), n = r.current ?? BaselineCounts()
                let mark = r.isRegression ? "FAIL" : !r.warnings.isEmpty ? "warn" : r.ignored ? "ignored" : ""
                let cells = [mark, r.status.rawValue, r.tier.rawValue, "`\(r.key)`",
                             change(UInt64(b.regions), UInt64(n.regions), bytes: false, low: r.baselineLow.map { UInt64($0.regions) }),
                             r.isTotal ? "" : change(b.mappedBytes, n.mappedBytes, bytes: true, low: r.baselineLow?.mappedBytes),
                             r.isTotal ? "" : r.site]
                out += "| " + cells.map(cell).joined(separator: " | ") + " |\n"
            }
            out += "\n"
            for r in shown where r.isRegression {
                out += "<details><summary>\(HTMLReporter.htmlText(r.key)): \(HTMLReporter.htmlText(r.failures.joined(separator: "; ")))</summary>\n\n```\n"
                out += failureBody(r).replacingBackticks + "\n```\n</details>\n\n"
            }
        }
        return out
    }

    /// Table cells: no line breaks, no column separators. By scalar: a CR LF pair is one Swift
    /// Character, equal to neither "\r" nor "\n", and passed through whole.
    package static func cell(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "|": out += "\\|"
            case "\n", "\r": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension String {
    /// A code block ends at three backticks: frames never hold them, but a label could.
    fileprivate var replacingBackticks: String { String(map { $0 == "`" ? "'" : $0 }) }
}
