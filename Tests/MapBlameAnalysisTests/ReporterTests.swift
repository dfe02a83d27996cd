import Testing
@testable import MapBlameAnalysis
import MapBlameModel

/// The text and JSON reporters on a small hand-built report (the folded and HTML reporters have
/// their own suites).
struct ReporterTests {
    static let report: Report = {
        let site = SymbolizedFrame(ip: 0x401234, module: "/app/bin/app", moduleOffset: 0x1234, function: "parse_config",
                                   file: "/src/config.c", line: 88)
        let attribution = Attribution(.largeMalloc(entry: "malloc", bytes: 1 << 20, call: .mmap))
        let origin = Origin(range: 0x7f00_0000_0000..<0x7f00_0010_0000, event: 7, syscall: .mmap, category: .malloc,
                            label: attribution.label(site: site), site: site, allocator: "glibc malloc", attribution: attribution)
        let entry = MapsEntry(start: 0x7f00_0000_0000, end: 0x7f00_0010_0000, perms: "rw-p", offset: 0, device: "00:00", inode: 0, path: "")
        let region = RegionReport(entry: entry, usage: SmapsUsage(rss: 0x80000, anonymous: 0x80000), category: .malloc,
                                  label: origin.label, origins: [origin])
        let event = MappingEvent(id: 7, pid: 100, tid: 101, syscall: .mmap,
                                 args: [0, 1 << 20, 3, 0x22, UInt64(UInt32.max), 0], result: 0x7f00_0000_0000, stack: 0)
        let process = ProcessReport(pid: 100, parentPid: nil, executable: "/app/bin/app", exit: .code(0), hasSnapshot: true,
                                    regions: [region], events: [EventReport(event: event, stack: [site])], verification: nil)
        return Report(command: ["/app/bin/app", "--serve"], processes: [process])
    }()

    @Test func textNamesTheRegionItsOriginAndTheSite() {
        let text = TextReporter.render(Self.report)
        #expect(text.contains("7f0000000000-7f0000100000 rw-p"))
        #expect(text.contains("malloc of 1.0 MiB served by mmap from parse_config (config.c:88)"))
        #expect(text.contains("/app/bin/app"))
    }

    @Test func jsonCarriesTheFieldsTheSchemaNames() throws {
        let root = try BaselineJSONParser.parse(JSONReporter.render(Self.report))
        #expect(root.member("format")?.jsonString == "mapblame-report")
        let process = try #require(root.member("processes")?.jsonArray?.first)
        let region = try #require(process.member("regions")?.jsonArray?.first)
        #expect(region.member("category")?.jsonString == "malloc")
        let origin = try #require(region.member("origins")?.jsonArray?.first)
        #expect(origin.member("label")?.jsonString == "malloc of 1.0 MiB served by mmap from parse_config (config.c:88)")
        let event = try #require(process.member("events")?.jsonArray?.first)
        #expect(event.member("args")?.jsonArray?.compactMap(\.jsonString) == ["0x0", "0x100000", "0x3", "0x22", "0xffffffff", "0x0"])
    }

    /// The call as the HTML shows it: mmap's arguments named from the decoded call.
    @Test func callTextNamesMmapArguments() {
        let event = Self.report.processes[0].events[0].event
        #expect(CallText.render(event) == "mmap(0x0, 1048576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x0)")
        let odd = MappingEvent(id: 1, pid: 1, tid: 1, syscall: .mmap, args: [0, 4096, 0, 0x80_0003, 3, 0x1000], result: 0, stack: 0)
        #expect(CallText.render(odd) == "mmap(0x0, 4096, PROT_NONE, MAP_SHARED_VALIDATE|0x800000, 3, 0x1000)")
    }
}
