import MapBlameModel

/// The data block of the HTML report: the `Report` as compact JSON for the page's script, with
/// repeated strings and frames stored once in tables (backtraces share most of their frames, and
/// regions of one file share its path), and every string escaped so the text can sit inside a
/// `<script>` element.
///
/// Layout (`s` = index into `strings` or null, `f` = index into `frames`; addresses are hex strings
/// without `0x` because JSON numbers lose precision above 2^53; sizes are numbers):
///
///     { "format": "mapblame-html-data", "version": 1, "command": [s], "categories": [name],
///       "attached": true (only for `attach`), "folded": "38 short processes: ..." (only when some are),
///       "strings": [string], "frames": [[ip, module s, module_offset, function s, file s, line, short s]],
///       "processes": [{ "pid", "ppid", "exe": s, "exit": text, "snapshot": bool, "recorded": int,
///         "verify": {"mismatched", "mapped_pages", "anonymous", "attributed"} (only with --verify),
///         "regions": [[start, size, perms, offset, device, inode, path s, rss, anonymous, swap,
///                      category index, label s, gap before (bytes), origins, evidence s, confidence s]],
///                     origins: [[offset in region, size, event id, syscall, category index, label s, site f,
///                                rss, swap, exact (true: counted from pagemap, false: the region's shared out by size)]],
///         "events": [[id, tid, syscall, result, path s, [f innermost first], call text, time]],
///         "start", "end": ns since the recording started or null,
///         "series": [[time, anonymous bytes, VMAs, event]],
///         "peaks": [{"quantity", "time", "event", "anonymous", "vmas",
///                    "sites": [[category index, label s, site f, bytes, ranges]]}] }] }
///
/// `short` is `SymbolizedFrame.shortDescription`, so the page names frames (and groups sites) exactly
/// as the text report does.
package struct HTMLReportData {
    private var strings: [String] = []
    private var stringIndex: [String: Int] = [:]
    private var frames: [JSONValue] = []
    private var frameIndex: [SymbolizedFrame: Int] = [:]

    /// `folded`: the line that stands for the processes left out (`ShortProcesses`), if any.
    package static func json(_ report: Report, folded: String? = nil) -> String {
        var data = HTMLReportData()
        let command = report.command.map { data.string($0) }
        let processes = report.processes.map { data.process($0) }
        var extra: [(String, JSONValue)] = []
        if report.attached { extra.append(("attached", .bool(true))) }
        if let folded { extra.append(("folded", .string(folded))) }
        let root = JSONValue.object([
            ("format", .string("mapblame-html-data")), ("version", .int(1)),
            ("command", .array(command)),
            ("categories", .array(Category.allCases.map { .string($0.rawValue) })),
            ("strings", .array(data.strings.map { .string($0) })),
            ("frames", .array(data.frames)),
            ("processes", .array(processes)),
        ] + extra)
        return root.compactScriptSafe()
    }

    private mutating func string(_ s: String?) -> JSONValue {
        guard let s else { return .null }
        if let i = stringIndex[s] { return .int(Int64(i)) }
        stringIndex[s] = strings.count
        strings.append(s)
        return .int(Int64(strings.count - 1))
    }

    private mutating func frame(_ f: SymbolizedFrame) -> JSONValue {
        if let i = frameIndex[f] { return .int(Int64(i)) }
        frameIndex[f] = frames.count
        frames.append(.array([.string(hex(f.ip)), string(f.module), .string(hex(f.moduleOffset)),
                              string(f.function), string(f.file), f.line.map { .int(Int64($0)) } ?? .null,
                              string(f.shortDescription)]))
        return .int(Int64(frames.count - 1))
    }

    private mutating func process(_ p: ProcessReport) -> JSONValue {
        let exit: String
        switch p.exit {
        case .code(let c)?: exit = "exited with code \(c)"
        case .signal(let s)?: exit = "killed by \(signalName(s))"
        case nil: exit = p.detached ? "attached \u{00B7} still running" : "exit status unknown"
        }
        var previousEnd: UInt64?
        var regions: [JSONValue] = []
        regions.reserveCapacity(p.regions.count)
        for r in p.regions {
            let gap = previousEnd.map { r.entry.start > $0 ? r.entry.start - $0 : 0 } ?? 0
            previousEnd = r.entry.end
            regions.append(region(r, gap: gap))
        }
        var fields: [(String, JSONValue)] = [
            ("pid", .int(Int64(p.pid))), ("ppid", p.parentPid.map { .int(Int64($0)) } ?? .null),
            ("exe", string(p.executable)), ("exit", .string(exit)), ("snapshot", .bool(p.hasSnapshot)),
            ("recorded", .int(Int64(p.eventsRecorded))),
            ("regions", .array(regions)),
            ("events", .array(p.events.map { event($0) })),
        ]
        fields += history(p)
        if let v = p.verification {
            fields.append(("verify", .object([
                ("mismatched", .int(Int64(clamping: v.mismatchedPages))), ("mapped_pages", .int(Int64(clamping: v.mappedPages))),
                ("anonymous", .int(Int64(clamping: v.anonymousBytes))),
                ("attributed", .int(Int64(clamping: v.attributedAnonymousBytes))),
            ])))
        }
        return .object(fields)
    }

    private mutating func region(_ r: RegionReport, gap: UInt64) -> JSONValue {
        let e = r.entry
        var fields: [JSONValue] = [
            .string(hex(e.start)), size(e.size), .string(e.perms), .string(hex(e.offset)), .string(e.device),
            .int(Int64(clamping: e.inode)), string(e.path),
            size(r.usage.rss), size(r.usage.anonymous), size(r.usage.swap),
            category(r.category), string(r.label), size(gap),
            .array(zip(r.origins, zip(r.rssShares, r.swapShares)).map { o, resident in
                .array([size(o.range.lowerBound &- e.start), size(UInt64(o.range.count)),
                        o.event.map { .int(Int64($0)) } ?? .null,
                        o.syscall.map { .string($0.rawValue) } ?? .null,
                        category(o.category), string(o.label), o.site.map { frame($0) } ?? .null,
                        size(resident.0), size(resident.1), .bool(r.resident != nil)])
            }),
        ]
        if r.evidence != nil || r.confidence != nil {
            fields += [string(r.evidence), string(r.confidence?.rawValue)]
        }
        return .array(fields)
    }

    private mutating func event(_ r: EventReport) -> JSONValue {
        let e = r.event
        let result: JSONValue = e.syscall == .execve ? .null
            : .string(e.failed ? "-" + errnoName(Int32(-e.result)) : hex(UInt64(bitPattern: e.result)))
        return .array([.int(Int64(e.id)), .int(Int64(e.tid)), .string(e.syscall.rawValue), result,
                       string(e.filePath), .array(r.stack.map { frame($0) }),
                       .string(CallText.render(e)), time(e.time)])
    }

    /// The time facts (HTMLReporter: the time axis and its peak markers).
    private mutating func history(_ p: ProcessReport) -> [(String, JSONValue)] {
        let series = p.series.map { m in
            JSONValue.array([time(m.time), size(m.anonymousBytes), .int(Int64(m.mappings)), m.event.map { .int(Int64($0)) } ?? .null])
        }
        var peaks: [JSONValue] = []
        for r in p.peaks {
            let sites = r.sites.map { s in
                JSONValue.array([category(s.category), string(s.label), s.site.map { frame($0) } ?? .null, size(s.bytes),
                                 .int(Int64(s.ranges))])
            }
            peaks.append(.object([("quantity", .string(r.quantity.rawValue)), ("time", time(r.moment.time)),
                                  ("event", r.moment.event.map { .int(Int64($0)) } ?? .null),
                                  ("anonymous", size(r.moment.anonymousBytes)), ("vmas", .int(Int64(r.moment.mappings))),
                                  ("sites", .array(sites))]))
        }
        return [("start", time(p.startTime)), ("end", time(p.exitTime)), ("series", .array(series)), ("peaks", .array(peaks))]
    }

    private func time(_ t: UInt64?) -> JSONValue { t.map { size($0) } ?? .null }

    private func category(_ c: Category) -> JSONValue { .int(Int64(Category.allCases.firstIndex(of: c)!)) }
    private func size(_ v: UInt64) -> JSONValue { .int(Int64(clamping: v)) }
    private func hex(_ v: UInt64) -> String { String(v, radix: 16) }
}
