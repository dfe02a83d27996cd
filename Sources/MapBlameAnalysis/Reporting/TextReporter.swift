import MapBlameModel

/// The human report: per process, the final map in /proc/PID/maps form with every unnamed region
/// (and [heap], [stack]) annotated, then a summary by category and the top sites by RSS.
public enum TextReporter {
    public static func render(_ report: Report, topSites: Int = 10) -> String {
        var out = "mapblame\(report.attached ? " attach" : ""): \(report.command.joined(separator: " "))\n"
        if let offset = report.truncatedAt {
            out += "note: the trace was cut short at byte \(offset) (its writer stopped mid-record); "
                + "this report covers what was recorded before\n"
        } else if !report.complete {
            out += "note: the trace has no end record (its writer stopped); this report covers what was recorded\n"
        }
        for p in report.processes {
            out += "\n" + header(p) + "\n"
            if !p.hasSnapshot {
                out += "  (no final snapshot in the trace: the regions below are the model's view from the recorded events)\n"
            }
            for r in p.regions { out += region(r) }
            out += "\n" + summary(p) + "\n" + sites(p, limit: topSites) + peaks(p, limit: topSites)
            if let v = p.verification { out += "\n" + verification(v) }
        }
        return out
    }

    package static func header(_ p: ProcessReport) -> String {
        let exit: String
        switch p.exit {
        case .code(let c)?: exit = "exited with code \(c)"
        case .signal(let s)?: exit = "killed by \(signalName(s))"
        case nil: exit = p.detached ? "still running (mapblame detached)" : "exit status unknown"
        }
        let parent = p.parentPid.map { ", child of \($0)" } ?? ""
        let snapshot = p.hasSnapshot ? "" : "; no final snapshot, regions from the model alone"
        return "== process \(p.pid) \(p.executable ?? "?")\(parent): \(exit)\(snapshot) =="
    }

    package static func mapsLine(_ e: MapsEntry) -> String {
        let range = hex(e.start, width: 8) + "-" + hex(e.end, width: 8)
        var line = "\(range) \(e.perms) \(hex(e.offset, width: 8)) \(e.device) \(e.inode)"
        if !e.path.isEmpty { line = pad(line, 73) + e.path }
        return line
    }

    package static func annotated(_ r: RegionReport) -> Bool {
        r.entry.isUnnamed || r.entry.path == "[heap]" || r.entry.path == "[stack]"
    }

    package static func region(_ r: RegionReport) -> String {
        var out = mapsLine(r.entry)
        guard annotated(r) else { return out + "\n" }
        out = pad(out, 73) + pad("rss " + ByteCount.text(r.usage.rss), 14) + " \(r.category.rawValue): \(r.label)\n"
        if r.origins.count > 1 {
            for o in r.origins {
                let ev = o.event.map { " [\(o.syscall?.rawValue ?? "") #\($0)]" } ?? ""
                out += "    " + hex(o.range.lowerBound, width: 8) + "-" + hex(o.range.upperBound, width: 8)
                    + " " + pad(ByteCount.text(UInt64(o.range.count)), 9) + " \(o.category.rawValue): \(o.label)\(ev)\n"
            }
        }
        if let evidence = r.evidence {  // classified from evidence (explain, or older than an attach)
            let part = r.origins.contains { $0.event != nil } ? " for the bytes mapped before the attach" : ""
            out += "    evidence\(part) (\(r.confidence?.rawValue ?? "?")): \(evidence)\n"
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
            out += "  " + lpad(ByteCount.text(row.rss), 10) + lpad(ByteCount.text(row.mapped), 12)
                + lpad("\(row.count)", 8) + "  \(key)\n"
        }
        return out
    }

    package static func verification(_ v: Verification) -> String {
        let percent = v.anonymousBytes == 0 ? 100.0 : Double(v.attributedAnonymousBytes) * 100 / Double(v.anonymousBytes)
        var out = "  verify: \(v.mismatchedPages) mismatched pages of \(v.mappedPages) mapped; coverage "
            + "\((percent * 10).rounded() / 10)% (\(v.attributedAnonymousBytes) of \(v.anonymousBytes) anonymous bytes attributed)\n"
        for m in v.mismatches {
            out += "    " + hex(m.range.lowerBound, width: 8) + "-" + hex(m.range.upperBound, width: 8)
                + " \(m.kind.rawValue)\(m.counted ? "" : " (made by the kernel, not counted)"): kernel \(m.kernel); model \(m.model)\n"
        }
        if let labels = v.labelDisagreements {
            out += "  verify labels: \(labels.count) label disagreement\(labels.count == 1 ? "" : "s") with explain's certain evidence\n"
            for d in labels {
                out += "    " + hex(d.range.lowerBound, width: 8) + "-" + hex(d.range.upperBound, width: 8)
                    + " recorded \(d.recordedCategory.rawValue): \(d.recordedLabel); evidence \(d.evidenceCategory.rawValue): "
                    + "\(d.evidenceLabel) (\(d.evidence))\n"
            }
        }
        return out
    }

    package static func hex(_ v: UInt64, width: Int) -> String {
        let s = String(v, radix: 16)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    package static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    package static func lpad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }
}
