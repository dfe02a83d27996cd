import MapBlameModel

/// The text answer to `--address ADDR`: per address, the region holding it with each of its byte
/// ranges (the one holding the address marked `*`), the backtrace of the call that made each range
/// and the evidence; or, for an address no region holds, the nearest regions below and above.
public enum AddressReporter {
    /// Most frames shown per backtrace (the JSON report has them all).
    static let frames = 16

    /// `explain`: the report is explain's (running processes, no history).
    public static func render(_ report: Report, focus: AddressFocus, explain: Bool = false) -> String {
        let title = explain ? "mapblame explain" : report.attached ? "mapblame attach" : "mapblame"
        var out = TextLayout.fit("\(title): \(report.command.joined(separator: " "))", indent: 4)
        for answer in focus.answers(report) {
            out += "\n"
            let address = "0x" + TextReporter.hex(answer.address, width: 1)
            for (p, r) in answer.hits {
                let process = report.processes[p], region = process.regions[r]
                let offset = answer.address - region.entry.start
                let place = offset == 0 ? "is the start of" : "is \(ByteCount.text(offset)) into"
                out += TextLayout.fit("\(address) \(place) a region of process \(process.pid) "
                    + "\(process.executable ?? "?") (\(explain ? "running" : TextReporter.exitText(process))):", indent: 4)
                out += detail(region, process: process, address: answer.address, attached: report.attached, explain: explain)
                if region.category == .unknown {
                    var one = process
                    one.regions = [region]
                    out += TextReporter.unknownHint(one, report: report, explain: explain)
                }
            }
            if answer.hits.isEmpty { out += missing(answer, report: report, address: address) }
        }
        return out
    }

    /// The region line, then every origin with its backtrace, then the evidence.
    static func detail(_ region: RegionReport, process: ProcessReport, address: UInt64, attached: Bool, explain: Bool) -> String {
        var out = TextReporter.regionLine(region)
        let events = Dictionary(process.events.map { ($0.event.id, $0) }, uniquingKeysWith: { a, _ in a })
        for o in region.origins {
            let mark = o.range.contains(address) ? "  * " : "    "
            let call = o.event.map { " [\(o.syscall?.rawValue ?? "call") #\($0)]" } ?? ""
            out += TextLayout.fit(mark + TextReporter.hex(o.range.lowerBound, width: 8) + "-"
                + TextReporter.hex(o.range.upperBound, width: 8) + " " + ByteCount.text(UInt64(o.range.count))
                + "  \(o.category.rawValue): \(o.label)\(call)")
            guard let event = o.event.flatMap({ events[$0] }) else {
                out += "        " + (o.event == nil ? untraced(o, region: region, attached: attached, explain: explain) : "(no backtrace recorded)") + "\n"
                continue
            }
            if event.stack.isEmpty {
                out += event.event.syscall == .execve ? "        (set up by the kernel at exec)\n" : "        (no backtrace: --frames 0)\n"
            }
            for frame in event.stack.prefix(frames) {
                out += TextLayout.fit("        at \(frame.shortDescription)" + (frame.inlined ? " (inlined)" : ""), indent: 12)
            }
            if event.stack.count > frames { out += "        … \(event.stack.count - frames) more frames (in the JSON report)\n" }
        }
        if let evidence = region.evidence {
            out += TextLayout.fit("    evidence (\(region.confidence?.rawValue ?? "?")): \(evidence)")
        }
        return out
    }

    /// What bytes with no creating call are.
    static func untraced(_ o: Origin, region: RegionReport, attached: Bool, explain: Bool) -> String {
        if explain { return "(explain sees no history: classified from evidence, no backtrace)" }
        if region.evidence != nil || (attached && o.category == .unknown) { return "(mapped before the attach: no backtrace exists)" }
        if o.category == .unknown { return "(no traced call made these bytes)" }
        return "(made by the kernel: no call)"
    }

    /// "in no region": per process the nearest regions (only the launched program's when many
    /// processes hold none).
    static func missing(_ answer: AddressFocus.Answer, report: Report, address: String) -> String {
        guard !answer.nearest.isEmpty else { return "\(address): the report has no process\n" }
        var out = ""
        for near in answer.nearest.prefix(1) {
            let process = report.processes[near.process]
            out += TextLayout.fit("\(address) is in no region of process \(process.pid) \(process.executable ?? "?"); nearest:", indent: 4)
            let regions = process.regions
            if let b = near.below {
                let gap = answer.address - regions[b].entry.end + 1
                out += "  \(ByteCount.text(gap)) above the end of\n" + TextReporter.regionLine(regions[b])
            }
            if let a = near.above {
                let gap = regions[a].entry.start - answer.address
                out += "  \(ByteCount.text(gap)) below the start of\n" + TextReporter.regionLine(regions[a])
            }
            if near.below == nil && near.above == nil { out += "  (the process has no regions: no final snapshot)\n" }
        }
        if answer.nearest.count > 1 {
            out += "  (nor in any region of the \(answer.nearest.count - 1) other process\(answer.nearest.count == 2 ? "" : "es"); --pid N asks one)\n"
        }
        return out
    }
}
