import MapBlameModel

/// The peaks section of the text report: when the process had the most anonymous memory mapped
/// and the most VMAs, and which sites held the anonymous bytes at each moment.
extension TextReporter {
    package static func peaks(_ p: ProcessReport, limit: Int) -> String {
        var out = ""
        for peak in p.peaks {
            let m = peak.moment
            let when = (m.time.map { " at " + duration($0) } ?? "") + (m.event.map { " (after call #\($0))" } ?? " (at its start)")
            switch peak.quantity {
            case .anonymousBytes:
                out += "  peak anonymous: \(ByteCount.text(m.anonymousBytes))\(when), \(m.mappings) VMAs\n"
            case .mappings:
                out += "  peak VMAs: \(m.mappings)\(when), \(ByteCount.text(m.anonymousBytes)) anonymous\n"
            }
            let top = peak.sites.prefix(limit)
            guard !top.isEmpty else { continue }
            out += "  " + lpad("anonymous", 10) + lpad("ranges", 8) + "  site\n"
            for s in top { out += TextLayout.fit("  " + lpad(ByteCount.text(s.bytes), 10) + lpad("\(s.ranges)", 8) + "  \(s.name)") }
            if peak.sites.count > limit { out += "  ... \(peak.sites.count - limit) more sites\n" }
        }
        return out.isEmpty ? "" : "\n" + out
    }

    /// "812 µs", "74.5 ms", "3.21 s" since the recording started.
    package static func duration(_ ns: UInt64) -> String {
        if ns < 1_000_000 { return "\(ns / 1000) µs" }
        if ns < 1_000_000_000 { return "\((Double(ns) / 100_000).rounded() / 10) ms" }
        return "\((Double(ns) / 10_000_000).rounded() / 100) s"
    }
}
