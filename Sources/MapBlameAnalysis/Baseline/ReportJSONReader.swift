import MapBlameModel

/// Reads a JSON report (docs/json-report.md, "mapblame-report" version 1) back into the part of a
/// `Report` a baseline needs: the command; per process its pid, executable and exit; per region its
/// maps line, RSS and origins (range, category, label, site, event); and the events' backtraces
/// (for showing where a new key comes from). Verification results, event arguments and results
/// are not read.
public enum ReportJSONReader {
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ root: JSONValue) throws(ReadError) -> Report {
        guard root.member("format")?.jsonString == "mapblame-report" else {
            throw ReadError(description: "not a mapblame JSON report (no \"format\": \"mapblame-report\")")
        }
        guard root.member("version")?.jsonInt == 1 else {
            throw ReadError(description: "unsupported JSON report version (this mapblame reads version 1)")
        }
        let command = root.member("command")?.jsonArray?.compactMap(\.jsonString) ?? []
        var processes: [ProcessReport] = []
        for (n, p) in (root.member("processes")?.jsonArray ?? []).enumerated() {
            guard let pid = p.member("pid")?.jsonInt else { throw ReadError(description: "process \(n): no pid") }
            var regions: [RegionReport] = []
            for r in p.member("regions")?.jsonArray ?? [] {
                guard let start = r.member("start")?.jsonHex, let end = r.member("end")?.jsonHex, start <= end else {
                    throw ReadError(description: "process \(pid): a region without a valid start and end")
                }
                let entry = MapsEntry(start: start, end: end, perms: r.member("perms")?.jsonString ?? "---p",
                                      offset: r.member("offset")?.jsonHex ?? 0, device: r.member("device")?.jsonString ?? "00:00",
                                      inode: UInt64(max(0, r.member("inode")?.jsonInt ?? 0)),
                                      path: r.member("path")?.jsonString ?? "")
                let usage = SmapsUsage(rss: UInt64(max(0, r.member("rss_bytes")?.jsonInt ?? 0)),
                                       anonymous: UInt64(max(0, r.member("anonymous_bytes")?.jsonInt ?? 0)),
                                       swap: UInt64(max(0, r.member("swap_bytes")?.jsonInt ?? 0)))
                var origins: [Origin] = []
                for o in r.member("origins")?.jsonArray ?? [] {
                    guard let os = o.member("start")?.jsonHex, let oe = o.member("end")?.jsonHex, os <= oe else {
                        throw ReadError(description: "process \(pid): an origin without a valid start and end")
                    }
                    origins.append(Origin(range: os..<oe, event: o.member("event")?.jsonInt.map { Int($0) },
                                          syscall: o.member("syscall")?.jsonString.flatMap(MappingSyscall.init(rawValue:)),
                                          category: category(o.member("category")), label: o.member("label")?.jsonString ?? "",
                                          site: o.member("site").flatMap(frame)))
                }
                if origins.isEmpty {
                    origins = [Origin(range: start..<end, event: nil, syscall: nil, category: category(r.member("category")),
                                      label: r.member("label")?.jsonString ?? "", site: nil)]
                }
                regions.append(RegionReport(entry: entry, usage: usage, category: category(r.member("category")),
                                            label: r.member("label")?.jsonString ?? "", origins: origins))
                regions[regions.count - 1].resident = exactResidency(r)
            }
            var events: [EventReport] = []
            for e in p.member("events")?.jsonArray ?? [] {
                guard let id = e.member("id")?.jsonInt else { continue }
                let syscall = e.member("syscall")?.jsonString.flatMap(MappingSyscall.init(rawValue:)) ?? .mmap
                let event = MappingEvent(id: Int(id), pid: Int32(truncatingIfNeeded: pid),
                                         tid: Int32(truncatingIfNeeded: e.member("tid")?.jsonInt ?? 0), syscall: syscall,
                                         args: [], result: 0, stack: 0, filePath: e.member("path")?.jsonString)
                events.append(EventReport(event: event, stack: (e.member("stack")?.jsonArray ?? []).compactMap(frame)))
            }
            let parent = p.member("parent_pid")?.jsonInt.map { Int32(truncatingIfNeeded: $0) }
            var exit: ExitStatus?
            if let code = p.member("exit")?.member("code")?.jsonInt { exit = .code(Int32(truncatingIfNeeded: code)) }
            var process = ProcessReport(pid: Int32(truncatingIfNeeded: pid), parentPid: parent,
                                        executable: p.member("executable")?.jsonString, exit: exit,
                                        hasSnapshot: p.member("snapshot").map { $0 == .bool(true) } ?? true,
                                        regions: regions, events: events, verification: nil)
            process.eventsRecorded = Int(p.member("events_recorded")?.jsonInt ?? 0)
            processes.append(process)
        }
        return Report(command: command, processes: processes)
    }

    /// The origins' own resident and swapped bytes, when the report counted them from pagemap
    /// (`origin_residency`); nil otherwise (the baseline then shares the region's RSS by size).
    static func exactResidency(_ r: JSONValue) -> [ResidentBytes]? {
        guard r.member("origin_residency")?.jsonString == "pagemap", let origins = r.member("origins")?.jsonArray,
              !origins.isEmpty else { return nil }
        return origins.map { o in
            ResidentBytes(rss: UInt64(max(0, o.member("rss_bytes")?.jsonInt ?? 0)),
                          swap: UInt64(max(0, o.member("swap_bytes")?.jsonInt ?? 0)))
        }
    }

    package static func category(_ v: JSONValue?) -> Category {
        v?.jsonString.flatMap(Category.init(rawValue:)) ?? .unknown
    }

    package static func frame(_ v: JSONValue) -> SymbolizedFrame? {
        guard v.jsonObject != nil else { return nil }
        var f = SymbolizedFrame(ip: v.member("ip")?.jsonHex ?? 0, module: v.member("module")?.jsonString,
                                moduleOffset: v.member("module_offset")?.jsonHex ?? 0,
                                function: v.member("function")?.jsonString, file: v.member("file")?.jsonString,
                                line: v.member("line")?.jsonInt.map { Int($0) })
        f.moduleChanged = v.member("module_changed") == .bool(true)
        f.kind = v.member("kind")?.jsonString.flatMap(FrameKind.init(rawValue:)) ?? .native
        return f
    }
}
