import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlame

/// `--format pprof` / `--pprof FILE`, read by the real `go tool pprof` (golang-go): the sites, byte
/// totals, labels, inline chains and build-ids of a fixture run are what pprof shows.
@Suite struct PprofTests {
    /// `go tool pprof ARGS`, with its cache and home in a temporary directory (nothing of the
    /// host's is touched).
    static func pprof(_ arguments: [String], in dir: TempDir) throws -> String {
        let go = try #require(["/usr/bin/go", "/usr/lib/go/bin/go"].first { FileManager.default.isExecutableFile(atPath: $0) },
                              "go is not installed (make deps installs golang-go)")
        let env = ProcessInfo.processInfo.environment.merging(
            ["HOME": dir.path("home"), "GOCACHE": dir.path("gocache"), "GOPATH": dir.path("gopath"), "PPROF_TMPDIR": dir.path("pprof")]) { $1 }
        let result = try runCommand([go, "tool", "pprof"] + arguments, environment: env)
        #expect(result.status == 0, "pprof \(arguments): \(result.stderr)")
        return result.stdout
    }

    /// Sum of a field over every origin of every process of a JSON report.
    static func total(_ report: ReportJSON, _ value: ([String: Any]) -> Int) -> Int {
        report.processes.flatMap(ReportJSON.regions).flatMap { $0["origins"] as? [[String: Any]] ?? [] }.reduce(0) { $0 + value($1) }
    }

    /// "Showing nodes accounting for X, Y% of 12345B total" → 12345.
    static func shownTotal(_ top: String) -> Int? {
        guard let line = top.split(separator: "\n").first(where: { $0.hasPrefix("Showing nodes") }),
              let of = line.range(of: " of "), let end = line.range(of: "B total") else { return nil }
        return Int(line[of.upperBound..<end.lowerBound])
    }

    /// The flat value pprof gives `function` in a `-top -unit=B` listing.
    static func flat(_ top: String, _ function: String) -> Int? {
        for line in top.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5...].joined(separator: " ") == function, fields[0].hasSuffix("B") else { continue }
            return Int(fields[0].dropLast())
        }
        return nil
    }

    @Test func goToolPprofShowsTheSitesAndTotalsOfARun() throws {
        let dir = try TempDir()
        let profile = dir.path("run.pb.gz")
        let run = try TracedRun.fixture("resident", options: ["--pprof", profile])
        #expect(run.finished.status == 0)
        let gz = try [UInt8](Data(contentsOf: URL(fileURLWithPath: profile)))
        #expect(gz.starts(with: [0x1f, 0x8b]), "not gzip")

        // Every mapped, resident and swapped byte of the JSON report is in the profile.
        let mapped = Self.total(run.report) { Int(hex($0["end"]) - hex($0["start"])) }
        let common = ["-unit=B", "-nodefraction=0", "-nodecount=10000"]
        let top = try Self.pprof(["-top"] + common + [profile], in: dir)
        #expect(top.contains("Type: mapped"), "\(top)")
        #expect(Self.shownTotal(top) == mapped, "\(top)")
        let rssTop = try Self.pprof(["-top", "-sample_index=rss"] + common + [profile], in: dir)
        #expect(Self.shownTotal(rssTop) == Self.total(run.report) { $0["rss_bytes"] as? Int ?? 0 }, "\(rssTop)")
        #expect(Self.shownTotal(rssTop) == run.report.processes.flatMap(ReportJSON.regions).reduce(0) { $0 + ($1["rss_bytes"] as? Int ?? 0) })
        let countTop = try Self.pprof(["-top", "-sample_index=count"] + common + [profile], in: dir)
        #expect(Self.shownTotal(countTop) == Self.total(run.report) { _ in 1 })

        // The site of the malloc and the mmap: flat 2 MiB + 300 KiB mapped, of which only the
        // malloc's 300 KiB is resident (exact, from pagemap).
        #expect(Self.flat(top, "scenario_resident") == 2048 * 1024 + 300 * 1024, "\(top)")
        #expect(Self.flat(rssTop, "scenario_resident") == 300 * 1024, "\(rssTop)")

        // -traces: each stack from the site outwards, with its labels.
        let traces = try Self.pprof(["-traces", "-sample_index=rss", "-unit=B", profile], in: dir)
        let blocks = traces.components(separatedBy: "-----------+")
        let malloc = try #require(blocks.first { $0.contains("category:  malloc\n") && $0.contains("scenario_resident") }, "\(traces)")
        #expect(malloc.contains("allocator:  glibc malloc"), "\(malloc)")
        #expect(malloc.contains("pid:  \(run.root["pid"] as? Int ?? -1)"), "\(malloc)")
        let stack = malloc.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.contains(":") && !$0.isEmpty && !$0.hasPrefix("-") }
        #expect(stack.first == "\(300 * 1024)B   scenario_resident", "\(stack)")
        #expect(stack.dropFirst().first == "main", "\(stack)")

        // The mappings carry the modules' build-ids.
        let raw = try Self.pprof(["-raw", profile], in: dir)
        let id = try #require(BuildID.read(path: Build.fixture))
        #expect(raw.contains("\(Build.fixture) \(id)"), "\(raw)")
    }

    /// `report --format pprof` of the kept trace writes the same profile as `run --pprof`.
    @Test func reportWritesTheSameProfileAsRun() throws {
        let dir = try TempDir()
        let trace = dir.path("t.trace"), fromRun = dir.path("run.pb.gz"), fromReport = dir.path("report.pb.gz")
        let run = try runCommand([Build.mapblame, "run", "-o", "/dev/null", "--trace", trace, "--pprof", fromRun, "--", Build.fixture, "malloc"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try runCommand([Build.mapblame, "report", "--format", "pprof", "-o", fromReport, trace])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: fromRun)) == Data(contentsOf: URL(fileURLWithPath: fromReport)))
        let top = try Self.pprof(["-top", "-unit=B", fromReport], in: dir)
        #expect(Self.flat(top, "scenario_malloc") == 1 << 20 | 4096, "\(top)")  // 1 MiB and malloc's header page
    }

    /// A call the compiler inlined is a Line of its caller's location, innermost first: pprof
    /// shows it as `(inline)` above the function it was inlined into.
    @Test func inlineChainsAreLinesOfOneLocation() throws {
        func frame(_ function: String, line: Int, inlined: Bool) -> SymbolizedFrame {
            var f = SymbolizedFrame(ip: 0x5555_0000_1234, module: "/usr/bin/prog", moduleOffset: 0x1234, function: function,
                                    file: "prog.c", line: line)
            f.inlined = inlined
            return f
        }
        var outer = frame("main", line: 3, inlined: false)
        outer.ip = 0x5555_0000_2000
        outer.moduleOffset = 0x2000
        let stack = [frame("mmap_helper", line: 10, inlined: true), frame("make_buffer", line: 20, inlined: false), outer]
        let event = MappingEvent(id: 1, pid: 7, tid: 7, syscall: .mmap, args: [0, 8192, 3, 0x22, UInt64.max, 0], result: 0x7f00_0000_0000, stack: 1)
        let origin = Origin(range: 0x7f00_0000_0000..<0x7f00_0000_2000, event: 1, syscall: .mmap, category: .mmap,
                            label: "mmap(8192)", site: stack[0])
        var region = RegionReport(entry: MapsEntry(start: 0x7f00_0000_0000, end: 0x7f00_0000_2000, perms: "rw-p", offset: 0,
                                                   device: "00:00", inode: 0, path: ""),
                                  usage: SmapsUsage(rss: 4096), category: .mmap, label: "mmap(8192)", origins: [origin])
        region.resident = [ResidentBytes(rss: 4096, swap: 0)]
        let process = ProcessReport(pid: 7, parentPid: nil, executable: "/usr/bin/prog", exit: .code(0), hasSnapshot: true,
                                    regions: [region], events: [EventReport(event: event, stack: stack)])
        var report = Report(command: ["prog"], processes: [process])
        report.buildIDs = ["/usr/bin/prog": "0123456789abcdef"]
        let dir = try TempDir()
        let path = dir.path("inline.pb.gz")
        try Data(PprofReporter.render(report)).write(to: URL(fileURLWithPath: path))
        let traces = try Self.pprof(["-traces", "-unit=B", path], in: dir)
        let lines = traces.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let first = try #require(lines.firstIndex { $0.hasSuffix("mmap_helper (inline)") }, "\(traces)")
        #expect(lines[first] == "8192B   mmap_helper (inline)", "\(traces)")
        #expect(Array(lines[first + 1...first + 2]) == ["make_buffer", "main"], "\(traces)")
        let raw = try Self.pprof(["-raw", path], in: dir)
        #expect(raw.contains("/usr/bin/prog 0123456789abcdef"), "\(raw)")
        // Two locations: the inlined call and make_buffer share one (two Lines), main has its own.
        let locations = raw.components(separatedBy: "Locations\n").last?.components(separatedBy: "Mappings").first ?? ""
        #expect(locations.split(separator: "\n").filter { $0.contains(": 0x") }.count == 2, "\(raw)")
    }
}
