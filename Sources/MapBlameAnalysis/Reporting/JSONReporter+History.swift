import MapBlameModel

/// The time fields of a process in the JSON report (docs/json-report.md): its start and exit,
/// its peaks with the sites that held anonymous memory then, and its series of moments.
extension JSONReporter {
    package static func history(_ p: ProcessReport) -> [(String, JSONValue)] {
        var peak: [(String, JSONValue)] = []
        for r in p.peaks { peak.append((r.quantity.rawValue, peakReport(r))) }
        return [
            ("start_time_ns", time(p.startTime)),
            ("exit_time_ns", time(p.exitTime)),
            ("peak", p.peaks.isEmpty ? .null : .object(peak)),
            ("timeline", .array(p.series.map(moment))),
        ]
    }

    package static func moment(_ m: SpaceMoment) -> JSONValue {
        .object([
            ("time_ns", time(m.time)), ("event", .optional(m.event)),
            ("anonymous_bytes", .int(Int64(clamping: m.anonymousBytes))), ("mappings", .int(Int64(m.mappings))),
        ])
    }

    package static func peakReport(_ r: PeakReport) -> JSONValue {
        guard case .object(var fields) = moment(r.moment) else { return .null }
        fields.append(("sites", .array(r.sites.map { s in
            .object([
                ("category", .string(s.category.rawValue)), ("label", .string(s.label)),
                ("site", s.site.map(frame) ?? .null), ("bytes", .int(Int64(clamping: s.bytes))),
                ("ranges", .int(Int64(s.ranges))), ("events", .array(s.events.map { .int(Int64($0)) })),
            ])
        })))
        return .object(fields)
    }

    private static func time(_ t: UInt64?) -> JSONValue { t.map { .int(Int64(clamping: $0)) } ?? .null }
}
