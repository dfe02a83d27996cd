import CShims
import MapBlameModel

/// The JSON report, format "mapblame-report" version 1 (docs/json-report.md).
public enum JSONReporter {
    public static let formatVersion = 1

    public static func render(_ report: Report) -> String {
        render(report, extra: [])
    }

    /// `extra`: members after the report's own (`addresses` for --address).
    package static func render(_ report: Report, extra: [(String, JSONValue)]) -> String {
        JSONValue.object([
            ("format", .string("mapblame-report")),
            ("version", .int(Int64(formatVersion))),
            ("command", .array(report.command.map { .string($0) })),
            ("trace", .object([("complete", .bool(report.complete)),
                               ("truncated_at", report.truncatedAt.map { .int(Int64($0)) } ?? .null)])),
            ("processes", .array(report.processes.map(process))),
        ] + (report.attached ? [("attached", JSONValue.bool(true))] : []) + extra).serialized() + "\n"
    }

    package static func process(_ p: ProcessReport) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("pid", .int(Int64(p.pid))),
            ("parent_pid", p.parentPid.map { .int(Int64($0)) } ?? .null),
            ("executable", .optional(p.executable)),
            ("exit", exit(p.exit)),
            ("snapshot", .bool(p.hasSnapshot)),
            ("regions", .array(p.regions.map(region))),
            ("events", .array(p.events.map(event))),
            ("events_recorded", .int(Int64(p.eventsRecorded))),
        ]
        if p.detached { fields.append(("detached", .bool(true))) }
        if let v = p.verification { fields.append(("verify", verification(v))) }
        fields += JSONReporter.history(p)
        return .object(fields)
    }

    package static func verification(_ v: Verification) -> JSONValue {
        .object([
            ("mismatched_pages", .int(Int64(v.mismatchedPages))),
            ("mapped_pages", .int(Int64(v.mappedPages))),
            ("anonymous_bytes", .int(Int64(v.anonymousBytes))),
            ("attributed_anonymous_bytes", .int(Int64(v.attributedAnonymousBytes))),
            ("mismatches", .array(v.mismatches.map { m in
                .object([
                    ("start", .hex(m.range.lowerBound)), ("end", .hex(m.range.upperBound)),
                    ("kind", .string(m.kind.rawValue)), ("counted", .bool(m.counted)),
                    ("kernel", .string(m.kernel)), ("model", .string(m.model)),
                ])
            })),
            ("label_disagreements", v.labelDisagreements.map { list in .array(list.map(labelDisagreement)) } ?? .null),
        ])
    }

    package static func labelDisagreement(_ d: LabelDisagreement) -> JSONValue {
        .object([
            ("start", .hex(d.range.lowerBound)), ("end", .hex(d.range.upperBound)),
            ("recorded_category", .string(d.recordedCategory.rawValue)), ("recorded_label", .string(d.recordedLabel)),
            ("evidence_category", .string(d.evidenceCategory.rawValue)), ("evidence_label", .string(d.evidenceLabel)),
            ("evidence", .string(d.evidence)),
        ])
    }

    package static func exit(_ status: ExitStatus?) -> JSONValue {
        switch status {
        case .code(let c)?: return .object([("code", .int(Int64(c)))])
        case .signal(let s)?: return .object([("signal", .string(signalName(s)))])
        case nil: return .null
        }
    }

    package static func region(_ r: RegionReport) -> JSONValue {
        let e = r.entry
        return .object([
            ("start", .hex(e.start)), ("end", .hex(e.end)), ("perms", .string(e.perms)),
            ("offset", .hex(e.offset)), ("device", .string(e.device)), ("inode", .int(Int64(e.inode))),
            ("path", .string(e.path)),
            ("rss_bytes", .int(Int64(r.usage.rss))), ("anonymous_bytes", .int(Int64(r.usage.anonymous))),
            ("swap_bytes", .int(Int64(r.usage.swap))),
            ("category", .string(r.category.rawValue)), ("label", .string(r.label)),
            ("origins", .array(zip(r.origins, zip(r.rssShares, r.swapShares)).map { origin($0, rss: $1.0, swap: $1.1) })),
            ("origin_residency", .string(r.resident == nil ? "estimated" : "pagemap")),
        ] + (r.evidence.map { [("evidence", JSONValue.string($0))] } ?? [])
          + (r.confidence.map { [("confidence", JSONValue.string($0.rawValue))] } ?? []))
    }

    /// `rss`, `swap`: the origin's resident and swapped bytes (`rssShares`, `swapShares`).
    package static func origin(_ o: Origin, rss: UInt64, swap: UInt64) -> JSONValue {
        .object([
            ("start", .hex(o.range.lowerBound)), ("end", .hex(o.range.upperBound)),
            ("syscall", .optional(o.syscall?.rawValue)),
            ("event", .optional(o.event)),
            ("category", .string(o.category.rawValue)), ("label", .string(o.label)),
            ("site", o.site.map(frame) ?? .null),
            ("allocator", o.allocator.map { .string($0) } ?? .null),
            ("rss_bytes", .int(Int64(clamping: rss))), ("swap_bytes", .int(Int64(clamping: swap))),
        ])
    }

    package static func event(_ r: EventReport) -> JSONValue {
        let e = r.event
        let result: JSONValue = e.syscall == .execve ? .null
            : (e.failed ? .string("-" + errnoName(Int32(-e.result))) : .hex(UInt64(bitPattern: e.result)))
        var fields: [(String, JSONValue)] = [
            ("id", .int(Int64(e.id))), ("tid", .int(Int64(e.tid))), ("syscall", .string(e.syscall.rawValue)),
            ("args", .array(e.registers.map { .hex($0) })), ("result", result),
        ]
        if let path = e.filePath { fields.append(("path", .string(path))) }
        fields.append(("stack", .array(r.stack.map(frame))))
        fields.append(("time_ns", .optional(e.time.map { Int($0) })))
        return .object(fields)
    }

    package static func frame(_ f: SymbolizedFrame) -> JSONValue {
        .object([
            ("ip", .hex(f.ip)), ("module", .optional(f.module)), ("module_offset", .hex(f.moduleOffset)),
            ("function", .optional(f.function)), ("file", .optional(f.file)), ("line", .optional(f.line)),
            ("kind", .string(f.kind.rawValue)),
        ] + (f.moduleChanged ? [("module_changed", JSONValue.bool(true))] : [])
          + (f.inlined ? [("inlined", JSONValue.bool(true))] : []))
    }
}

/// "SIGSEGV" for 11.
public func signalName(_ signal: Int32) -> String {
    guard let name = cshims_signal_abbrev(signal) else { return "SIG\(signal)" }
    return "SIG" + String(cString: name)
}

/// "ENOMEM" for 12.
public func errnoName(_ e: Int32) -> String {
    guard let name = cshims_errno_name(e) else { return "E\(e)" }
    return String(cString: name)
}
