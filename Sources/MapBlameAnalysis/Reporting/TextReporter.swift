import MapBlameModel

/// What the text report shows beyond the unnamed regions.
public struct TextOptions: Sendable {
    /// List file-backed lines too (the summary table always counts them).
    public var files = false
    /// Rows of the sites table (0: none).
    public var topSites = 10
    /// Fold short processes with nothing of their own into one line (`ShortProcesses`).
    public var foldShortProcesses = true

    public init(files: Bool = false, topSites: Int = 10, foldShortProcesses: Bool = true) {
        self.files = files
        self.topSites = topSites
        self.foldShortProcesses = foldShortProcesses
    }
}

/// The human report: per process, the regions the tool exists for (unnamed ones, [heap], [stack];
/// file-backed lines with --files) with their attribution, then a summary by category and the top
/// sites by RSS. Every line fits 120 columns (`TextLayout`).
public enum TextReporter {
    public static func render(_ report: Report, topSites: Int = 10) -> String {
        render(report, options: TextOptions(topSites: topSites))
    }

    public static func render(_ report: Report, options: TextOptions) -> String {
        var out = TextLayout.fit("mapblame\(report.attached ? " attach" : ""): \(report.command.joined(separator: " "))", indent: 4)
        if let offset = report.truncatedAt {
            out += TextLayout.fit("note: the trace was cut short at byte \(offset) (its writer stopped mid-record); "
                + "this report covers what was recorded before", indent: 6)
        } else if !report.complete {
            out += TextLayout.fit("note: the trace has no end record (its writer stopped); this report covers what was recorded", indent: 6)
        }
        let (shown, folded) = options.foldShortProcesses ? ShortProcesses.split(report.processes) : (report.processes, [])
        for p in shown {
            out += "\n" + TextLayout.fit(header(p), indent: 4)
            if !p.hasSnapshot {
                out += "  (no final snapshot in the trace: the regions below are the model's view from the recorded events)\n"
            }
            out += regions(p, files: options.files)
            out += unknownHint(p, report: report, explain: false)
            out += "\n" + summary(p) + "\n" + sites(p, limit: options.topSites) + peaks(p, limit: options.topSites)
            if let v = p.verification { out += "\n" + verification(v) }
        }
        if !folded.isEmpty { out += "\n" + TextLayout.fit(ShortProcesses.line(folded), indent: 4) }
        return out
    }

    package static func exitText(_ p: ProcessReport) -> String {
        switch p.exit {
        case .code(let c)?: return "exited with code \(c)"
        case .signal(let s)?: return "killed by \(signalName(s))"
        case nil: return p.detached ? "still running (mapblame detached)" : "exit status unknown"
        }
    }

    package static func header(_ p: ProcessReport) -> String {
        let parent = p.parentPid.map { ", child of \($0)" } ?? ""
        let snapshot = p.hasSnapshot ? "" : "; no final snapshot, regions from the model alone"
        return "== process \(p.pid) \(p.executable ?? "?")\(parent): \(exitText(p))\(snapshot) =="
    }

    /// The lines of `p`'s map the report shows: the annotated ones, every line with `files`; then
    /// how many file-backed lines were left out.
    package static func regions(_ p: ProcessReport, files: Bool) -> String {
        var out = "", hidden = 0
        for r in p.regions {
            if files || annotated(r) { out += region(r) } else { hidden += 1 }
        }
        if hidden > 0 {
            out += "  (\(hidden) file-backed line\(hidden == 1 ? "" : "s") not shown: --files lists them)\n"
        }
        return out
    }

    /// After the regions of a process: how many stay `unknown`, and the command that would name
    /// their code (explain and attach cannot know who mapped memory before they looked).
    package static func unknownHint(_ p: ProcessReport, report: Report, explain: Bool) -> String {
        let unknown = p.regions.filter { $0.category == .unknown && annotated($0) }
        guard !unknown.isEmpty, explain || report.attached else { return "" }
        let bytes = unknown.reduce(UInt64(0)) { $0 + $1.entry.size }
        let run = "mapblame run -- \(report.command.first.map { ReportSelection.baseName($0) } ?? "PROGRAM")"
        let what = "\(unknown.count) unknown region\(unknown.count == 1 ? "" : "s") (\(ByteCount.text(bytes)))"
        if explain {
            return TextLayout.fit("  \(what): `mapblame attach \(p.pid)` names the code of regions made from now on; "
                + "`\(run) ...` names the code of all of them", indent: 4)
        }
        return TextLayout.fit("  \(what) were mapped before the attach: only `\(run) ...` names their code", indent: 4)
    }

    /// "7f…000-7f…000 rw-p" (the maps line's range and permissions), for every kind of line.
    package static func rangeAndPerms(_ e: MapsEntry) -> String {
        hex(e.start, width: 8) + "-" + hex(e.end, width: 8) + " " + e.perms
    }

    package static func mapsLine(_ e: MapsEntry) -> String {
        var line = "\(rangeAndPerms(e)) \(hex(e.offset, width: 8)) \(e.device) \(e.inode)"
        if !e.path.isEmpty { line += " " + e.path }
        return line
    }

    package static func annotated(_ r: RegionReport) -> Bool {
        r.entry.isUnnamed || r.entry.path == "[heap]" || r.entry.path == "[stack]"
    }

    /// One region's line: a file-backed one in /proc/PID/maps form, an annotated one as range,
    /// permissions, [heap]/[stack], RSS and its category and label (paths shortened, wrapped
    /// under the label past 120 columns).
    package static func regionLine(_ r: RegionReport) -> String {
        guard annotated(r) else { return TextLayout.fit(mapsLine(r.entry)) }
        let head = rangeAndPerms(r.entry) + " " + pad(r.entry.path, 8) + "rss " + lpad(ByteCount.text(r.usage.rss), 8) + "  "
        return TextLayout.fit(head + "\(r.category.rawValue): \(r.label)", indent: head.count)
    }

    package static func region(_ r: RegionReport) -> String {
        var out = regionLine(r)
        guard annotated(r) else { return out }
        if r.origins.count > 1 {
            // Each range's own resident bytes where pagemap counted them (a share would mislead).
            let resident = r.resident?.map { pad("rss " + ByteCount.text($0.rss), 14) + " " }
            for (i, o) in r.origins.enumerated() {
                let ev = o.event.map { " [\(o.syscall?.rawValue ?? "") #\($0)]" } ?? ""
                out += TextLayout.fit("    " + hex(o.range.lowerBound, width: 8) + "-" + hex(o.range.upperBound, width: 8)
                    + " " + pad(ByteCount.text(UInt64(o.range.count)), 9) + " " + (resident?[i] ?? "")
                    + "\(o.category.rawValue): \(o.label)\(ev)")
            }
        }
        if let evidence = r.evidence {  // classified from evidence (explain, or older than an attach)
            let part = r.origins.contains { $0.event != nil } ? " for the bytes mapped before the attach" : ""
            out += TextLayout.fit("    evidence\(part) (\(r.confidence?.rawValue ?? "?")): \(evidence)")
        }
        return out
    }

    package static func summary(_ p: ProcessReport) -> String {
        var regions: [Category: Int] = [:], mapped: [Category: UInt64] = [:], rss: [Category: UInt64] = [:]
        for r in p.regions {
            regions[r.category, default: 0] += 1
            for (o, share) in zip(r.origins, r.rssShares) {
                mapped[o.category, default: 0] += UInt64(o.range.count)
                rss[o.category, default: 0] += share
            }
        }
        var out = "  " + pad("category", 14) + lpad("regions", 8) + lpad("mapped", 12) + lpad("rss", 12) + "\n"
        for c in Category.allCases where mapped[c] != nil || regions[c] != nil {
            out += "  " + pad(c.rawValue, 14) + lpad("\(regions[c] ?? 0)", 8)
                + lpad(ByteCount.text(mapped[c] ?? 0), 12) + lpad(ByteCount.text(rss[c] ?? 0), 12) + "\n"
        }
        return out
    }

    package static func sites(_ p: ProcessReport, limit: Int) -> String {
        struct Row { var rss: UInt64 = 0; var mapped: UInt64 = 0; var count = 0 }
        var rows: [String: Row] = [:]
        for r in p.regions where r.category != .file {
            for (o, share) in zip(r.origins, r.rssShares) where o.category != .file {
                let key = "\(o.category.rawValue): " + (o.site?.shortDescription ?? o.label)
                rows[key, default: Row()].rss += share
                rows[key, default: Row()].mapped += UInt64(o.range.count)
                rows[key, default: Row()].count += 1
            }
        }
        let top = rows.sorted { ($0.value.rss, $0.value.mapped, $1.key) > ($1.value.rss, $1.value.mapped, $0.key) }.prefix(limit)
        guard !top.isEmpty else { return "" }
        var out = "  top sites by RSS\n  " + lpad("rss", 10) + lpad("mapped", 12) + lpad("ranges", 8) + "  site\n"
        for (key, row) in top {
            out += TextLayout.fit("  " + lpad(ByteCount.text(row.rss), 10) + lpad(ByteCount.text(row.mapped), 12)
                + lpad("\(row.count)", 8) + "  \(key)", indent: 34)
        }
        return out
    }

    package static func verification(_ v: Verification) -> String {
        let percent = v.anonymousBytes == 0 ? 100.0 : Double(v.attributedAnonymousBytes) * 100 / Double(v.anonymousBytes)
        var out = "  verify: \(v.mismatchedPages) mismatched pages of \(v.mappedPages) mapped; coverage "
            + "\((percent * 10).rounded() / 10)% (\(v.attributedAnonymousBytes) of \(v.anonymousBytes) anonymous bytes attributed)\n"
        for m in v.mismatches {
            out += TextLayout.fit("    " + hex(m.range.lowerBound, width: 8) + "-" + hex(m.range.upperBound, width: 8)
                + " \(m.kind.rawValue)\(m.counted ? "" : " (made by the kernel, not counted)"): kernel \(m.kernel); model \(m.model)")
        }
        if let labels = v.labelDisagreements {
            out += "  verify labels: \(labels.count) label disagreement\(labels.count == 1 ? "" : "s") with explain's certain evidence\n"
            for d in labels {
                out += TextLayout.fit("    " + hex(d.range.lowerBound, width: 8) + "-" + hex(d.range.upperBound, width: 8)
                    + " recorded \(d.recordedCategory.rawValue): \(d.recordedLabel); evidence \(d.evidenceCategory.rawValue): "
                    + "\(d.evidenceLabel) (\(d.evidence))")
            }
        }
        return out
    }

    package static func hex(_ v: UInt64, width: Int) -> String {
        let s = String(v, radix: 16)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    package static func pad(_ s: String, _ width: Int) -> String { TextLayout.pad(s, width) }

    package static func lpad(_ s: String, _ width: Int) -> String { TextLayout.lpad(s, width) }
}
