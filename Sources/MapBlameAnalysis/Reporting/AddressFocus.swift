import MapBlameModel

/// `--address ADDR`: the question "what is the region at 0x7faa0461f000?" answered directly. Each
/// address is looked up in every process of the report; the answer is the region holding it, or,
/// when none does, the regions nearest below and above it.
public struct AddressFocus: Sendable {
    public var addresses: [UInt64]

    public init(addresses: [UInt64]) {
        self.addresses = addresses
    }

    /// Where one address is.
    public struct Answer: Sendable {
        public var address: UInt64
        /// (process index, region index) of every region holding it.
        public var hits: [(process: Int, region: Int)]
        /// When no region holds it: per process, the nearest region below and above.
        public var nearest: [(process: Int, below: Int?, above: Int?)]
    }

    public func answers(_ report: Report) -> [Answer] {
        addresses.map { address in
            var hits: [(process: Int, region: Int)] = []
            for (p, process) in report.processes.enumerated() {
                if let r = process.regions.firstIndex(where: { $0.entry.start <= address && address < $0.entry.end }) {
                    hits.append((p, r))
                }
            }
            guard hits.isEmpty else { return Answer(address: address, hits: hits, nearest: []) }
            let nearest = report.processes.indices.map { p in
                let regions = report.processes[p].regions
                let above = regions.firstIndex { $0.entry.start > address }
                let below = regions.lastIndex { $0.entry.end <= address }
                return (process: p, below: below, above: above)
            }
            return Answer(address: address, hits: [], nearest: nearest)
        }
    }

    /// `report` with only the regions holding an address (each whole, with all its origins) and the
    /// events they name; processes holding none are left out. For the JSON, HTML and folded
    /// outputs; the text output is `AddressReporter`'s.
    public func focused(_ report: Report) -> Report {
        var result = report
        result.processes = report.processes.compactMap { p in
            let regions = p.regions.filter { r in addresses.contains { r.entry.start <= $0 && $0 < r.entry.end } }
            guard !regions.isEmpty else { return nil }
            let named = Set(regions.flatMap { $0.origins.compactMap(\.event) })
            var process = p
            process.regions = regions
            process.events = p.events.filter { named.contains($0.event.id) }
            process.verification = nil
            return process
        }
        return result
    }

    /// Parses "0x7faa0461f000" or "7faa0461f000" (addresses are hexadecimal, as in /proc/PID/maps).
    public static func parse(_ text: String) -> UInt64? {
        let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? text.dropFirst(2) : Substring(text)
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        return UInt64(digits, radix: 16)
    }
}

extension AddressFocus {
    /// The JSON report of `--address`: the focused report (`focused`), plus `addresses`, one entry
    /// per address asked: the regions holding it, or the nearest ones (docs/json-report.md).
    public func json(_ report: Report) -> String {
        func members(_ p: ProcessReport, _ i: Int) -> [(String, JSONValue)] {
            let r = p.regions[i]
            return [("start", .hex(r.entry.start)), ("end", .hex(r.entry.end)), ("perms", .string(r.entry.perms)),
                    ("path", .string(r.entry.path)), ("category", .string(r.category.rawValue)), ("label", .string(r.label))]
        }
        func range(_ p: ProcessReport, _ i: Int?) -> JSONValue { i.map { .object(members(p, $0)) } ?? .null }
        let list: [JSONValue] = answers(report).map { a in
            .object([
                ("address", .hex(a.address)),
                ("found", .bool(!a.hits.isEmpty)),
                ("regions", .array(a.hits.map { hit in
                    let p = report.processes[hit.process]
                    return .object([("pid", .int(Int64(p.pid)))] + members(p, hit.region))
                })),
                ("nearest", .array(a.nearest.map { near in
                    let p = report.processes[near.process]
                    return .object([("pid", .int(Int64(p.pid))), ("below", range(p, near.below)), ("above", range(p, near.above))])
                })),
            ])
        }
        return JSONReporter.render(focused(report), extra: [("addresses", .array(list))])
    }
}
