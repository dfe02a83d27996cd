import MapBlameModel

/// `--format pprof`: the report as a gzipped profile.proto (github.com/google/pprof, proto/profile.proto),
/// what `go tool pprof`, Pyroscope and Grafana read. One sample per distinct stack, process, category
/// and allocator, with four values: mapped bytes, resident bytes, swapped bytes (exact from pagemap
/// where the report has it, as in every other report) and the number of byte ranges (origins).
///
/// A stack starts at the origin's site (the first frame outside libc, ld.so and every allocator),
/// as a Go heap profile starts at the allocating call: the frames inside malloc and mmap would make
/// every flat figure "mmap". Where no frame is outside them the whole backtrace is kept, and bytes
/// without a backtrace get one synthetic frame, as in the folded output (`[kernel] stack`,
/// `[untraced]`, `[exec]`, `[no backtrace]`). A call the compiler inlined is a `Line` of the
/// location of the frame it was inlined into, innermost first, as pprof expects.
public enum PprofReporter {
    public struct GzipError: Error, CustomStringConvertible {
        public var description: String { "cannot compress the pprof profile (zlib failed)" }
    }

    /// The sample types, in the order of every sample's values.
    static let sampleTypes = [("mapped", "bytes"), ("rss", "bytes"), ("swap", "bytes"), ("count", "count")]

    public static func render(_ report: Report) throws(GzipError) -> [UInt8] {
        try gzip(profile(report))
    }

    /// The profile.proto message, before gzip.
    static func profile(_ report: Report) -> [UInt8] {
        var builder = PprofProfileBuilder(report: report)
        for process in report.processes { builder.add(process) }
        return builder.encode()
    }

    static func gzip(_ bytes: [UInt8]) throws(GzipError) -> [UInt8] {
        do { return try Gzip.compress(bytes) } catch { throw GzipError() }
    }

    /// The frames of an origin's sample, innermost first: from its site outwards.
    static func frames(_ origin: Origin, event: EventReport?) -> [SymbolizedFrame] {
        guard let event, !event.stack.isEmpty else { return [] }
        guard let site = origin.site, let i = event.stack.firstIndex(of: site) else { return event.stack }
        return Array(event.stack[i...])
    }

    /// The synthetic frame of bytes with no backtrace (as FoldedReporter names them).
    static func syntheticFrame(_ origin: Origin, event: EventReport?) -> String {
        guard let event else { return origin.category == .unknown ? "[untraced]" : "[kernel] \(origin.category.rawValue)" }
        return event.event.syscall == .execve ? "[exec]" : "[no backtrace]"
    }
}

/// The tables of one profile: strings, functions, mappings and locations each stored once and
/// referred to by index or id, and the samples summed by stack and labels.
struct PprofProfileBuilder {
    private let report: Report
    private var strings: [String] = [""]
    private var stringIndex: [String: Int] = ["": 0]
    private struct FunctionKey: Hashable { var name: String; var file: String }
    private var functions: [FunctionKey: Int] = [:]
    private var functionList: [FunctionKey] = []
    private struct MappingKey: Hashable { var path: String; var base: UInt64 }
    private struct MappingInfo { var id: Int; var key: MappingKey; var limit: UInt64 }
    private var mappings: [MappingKey: Int] = [:]  // index into mappingList
    private var mappingList: [MappingInfo] = []
    private struct LocationInfo { var mapping: Int; var address: UInt64; var lines: [(function: Int, line: Int)] }
    private var locations: [[SymbolizedFrame]: Int] = [:]
    private var syntheticLocations: [String: Int] = [:]
    private var locationList: [LocationInfo] = []
    private struct SampleKey: Hashable { var locations: [Int]; var pid: Int32; var category: Category; var allocator: String? }
    private var samples: [SampleKey: Int] = [:]  // index into sampleList
    private var sampleList: [(key: SampleKey, values: [Int64])] = []
    private var hasInlined = false

    init(report: Report) {
        self.report = report
    }

    mutating func add(_ process: ProcessReport) {
        let events = Dictionary(process.events.map { ($0.event.id, $0) }, uniquingKeysWith: { a, _ in a })
        for region in process.regions {
            for (origin, (rss, swap)) in zip(region.origins, zip(region.rssShares, region.swapShares)) {
                let event = origin.event.flatMap { events[$0] }
                let frames = PprofReporter.frames(origin, event: event)
                let stack = frames.isEmpty ? [synthetic(PprofReporter.syntheticFrame(origin, event: event))] : locationIDs(frames)
                let key = SampleKey(locations: stack, pid: process.pid, category: origin.category, allocator: origin.allocator)
                let values = [Int64(clamping: origin.range.count), Int64(clamping: rss), Int64(clamping: swap), 1]
                if let i = samples[key] {
                    for v in values.indices { sampleList[i].values[v] &+= values[v] }
                } else {
                    samples[key] = sampleList.count
                    sampleList.append((key, values))
                }
            }
        }
    }

    /// Location ids, innermost first: each frame with the calls inlined into it (which come
    /// before it, innermost first) is one location.
    private mutating func locationIDs(_ frames: [SymbolizedFrame]) -> [Int] {
        var ids: [Int] = []
        var group: [SymbolizedFrame] = []
        for frame in frames {
            group.append(frame)
            if !frame.inlined {
                ids.append(location(group))
                group = []
            }
        }
        if !group.isEmpty { ids.append(location(group)) }
        return ids
    }

    private mutating func location(_ group: [SymbolizedFrame]) -> Int {
        if let id = locations[group] { return id }
        let outer = group[group.count - 1]
        hasInlined = hasInlined || group.count > 1
        let lines = group.map { f in (function: function(f.function ?? f.shortDescription, file: f.file ?? ""), line: f.line ?? 0) }
        let id = locationList.count + 1
        locationList.append(LocationInfo(mapping: outer.module.map { mapping($0, frame: outer) } ?? 0, address: outer.ip, lines: lines))
        locations[group] = id
        return id
    }

    private mutating func synthetic(_ name: String) -> Int {
        if let id = syntheticLocations[name] { return id }
        let id = locationList.count + 1
        locationList.append(LocationInfo(mapping: 0, address: 0, lines: [(function(name, file: ""), 0)]))
        syntheticLocations[name] = id
        return id
    }

    private mutating func function(_ name: String, file: String) -> Int {
        let key = FunctionKey(name: name, file: file)
        if let id = functions[key] { return id }
        functionList.append(key)
        functions[key] = functionList.count
        return functionList.count
    }

    /// The module's mapping in one address space: it starts where the module's ELF address 0 was
    /// loaded (ip less the frame's ELF address), so address - start is the ELF address and file
    /// offset 0 is right; it ends after the highest address a frame in it has.
    private mutating func mapping(_ path: String, frame: SymbolizedFrame) -> Int {
        let base = frame.moduleOffset <= frame.ip ? frame.ip - frame.moduleOffset : frame.ip & ~(MemoryFlags.pageSize - 1)
        let key = MappingKey(path: path, base: base)
        if let i = mappings[key] {
            mappingList[i].limit = max(mappingList[i].limit, frame.ip &+ 1)
            return mappingList[i].id
        }
        mappings[key] = mappingList.count
        mappingList.append(MappingInfo(id: mappingList.count + 1, key: key, limit: frame.ip &+ 1))
        return mappingList.count
    }

    private mutating func string(_ s: String) -> Int64 {
        if let i = stringIndex[s] { return Int64(i) }
        strings.append(s)
        stringIndex[s] = strings.count - 1
        return Int64(strings.count - 1)
    }

    /// The Profile message (field numbers of profile.proto).
    mutating func encode() -> [UInt8] {
        var w = ProtobufWriter()
        for (type, unit) in PprofReporter.sampleTypes {
            let t = string(type), u = string(unit)
            w.message(1) { $0.int(1, t); $0.int(2, u) }
        }
        let keys = (pid: string("pid"), category: string("category"), allocator: string("allocator"))
        for (key, values) in sampleList {
            let category = string(key.category.rawValue), allocator = key.allocator.map { string($0) }
            w.message(2) { s in
                s.packed(1, key.locations.map { UInt64($0) })
                s.packed(2, values.map { UInt64(bitPattern: $0) })
                s.message(3) { $0.int(1, keys.pid); $0.int(3, Int64(key.pid)) }
                s.message(3) { $0.int(1, keys.category); $0.int(2, category) }
                if let allocator { s.message(3) { $0.int(1, keys.allocator); $0.int(2, allocator) } }
            }
        }
        // The launched program's executable first: pprof takes the first mapping for the main binary.
        let main = report.processes.first?.executable
        let hasLines = locationList.contains { $0.lines.contains { $0.line != 0 } }
        for m in mappingList.sorted(by: { ($0.key.path == main ? 0 : 1, $0.id) < ($1.key.path == main ? 0 : 1, $1.id) }) {
            let file = string(m.key.path), buildID = string(report.buildIDs[m.key.path] ?? "")
            let inlined = hasInlined
            w.message(3) {
                $0.int(1, UInt64(m.id)); $0.int(2, m.key.base); $0.int(3, m.limit); $0.int(5, file); $0.int(6, buildID)
                // Every location has a function name (the module and offset where none is known),
                // so pprof does not symbolize again.
                $0.bool(7, true); $0.bool(8, hasLines); $0.bool(9, hasLines); $0.bool(10, inlined)
            }
        }
        for (i, l) in locationList.enumerated() {
            w.message(4) { m in
                m.int(1, UInt64(i + 1)); m.int(2, UInt64(l.mapping)); m.int(3, l.address)
                for line in l.lines { m.message(4) { $0.int(1, UInt64(line.function)); $0.int(2, line.line) } }
            }
        }
        for (i, f) in functionList.enumerated() {
            let name = string(f.name), file = string(f.file)
            w.message(5) { $0.int(1, UInt64(i + 1)); $0.int(2, name); $0.int(3, name); $0.int(4, file) }
        }
        let comment = string("mapblame: " + report.command.joined(separator: " "))
        let defaultType = string(PprofReporter.sampleTypes[0].0)
        for s in strings { w.string(6, s) }
        w.packed(13, [UInt64(comment)])
        w.int(14, defaultType)
        return w.bytes
    }
}
