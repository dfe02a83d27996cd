import Testing
@testable import MapBlame

/// Collapsed stacks of a small hand-built report against hand-computed lines.
struct FoldedReporterTests {
    static func frame(_ function: String?, module: String = "/app/bin/app", offset: UInt64 = 0x1000,
                      file: String? = nil, line: Int? = nil) -> SymbolizedFrame {
        SymbolizedFrame(ip: 0x7000_0000 + offset, module: module, moduleOffset: offset,
                        function: function, file: file, line: line)
    }

    static func event(_ id: Int, _ syscall: MappingSyscall, _ stack: [SymbolizedFrame]) -> EventReport {
        EventReport(event: MappingEvent(id: id, pid: 100, tid: 100, syscall: syscall, args: [0, 0, 0, 0, 0, 0],
                                        result: 0, stack: 0), stack: stack)
    }

    static func region(_ start: UInt64, _ end: UInt64, path: String = "", rss: UInt64,
                       _ origins: [Origin]) -> RegionReport {
        RegionReport(entry: MapsEntry(start: start, end: end, perms: "rw-p", offset: 0, device: "00:00", inode: 0, path: path),
                     usage: SmapsUsage(rss: rss, anonymous: rss), category: origins[0].category,
                     label: origins[0].label, origins: origins)
    }

    static func origin(_ range: Range<UInt64>, event: Int?, _ syscall: MappingSyscall?, _ category: Category,
                       site: SymbolizedFrame? = nil) -> Origin {
        Origin(range: range, event: event, syscall: syscall, category: category, label: "\(category.rawValue) bytes", site: site)
    }

    /// Process 100: a region of two malloc calls from two lines of one function (one stack), the
    /// kernel's [stack], a range created from an unsymbolized module through a badly named function,
    /// an exec-time .bss and untraced bytes. Process 101 has no executable and a call without
    /// backtrace; process 102 has no snapshot.
    static let report: Report = {
        let mmap64 = frame("mmap64", module: "/lib/libc.so.6", offset: 0x11000)
        let malloc = frame("malloc", module: "/lib/libc.so.6", offset: 0x9a000, file: "malloc.c", line: 10)
        let main = frame("main", offset: 0x1500, file: "/src/main.c", line: 5)
        let parse20 = frame("parse_config", offset: 0x1234, file: "/src/config.c", line: 20)
        let parse21 = frame("parse_config", offset: 0x1240, file: "/src/config.c", line: 21)
        let events = [
            event(0, .execve, []),
            event(1, .mmap, [mmap64, malloc, parse20, main]),
            event(2, .mmap, [mmap64, malloc, parse21, main]),
            event(3, .mmap, [frame(nil, module: "/lib/libfoo.so", offset: 0x1f2a3), frame("weird\nname;x")]),
        ]
        let p100 = ProcessReport(pid: 100, parentPid: nil, executable: "/usr/bin/my;app", exit: .code(0),
                                 hasSnapshot: true, regions: [
                                     region(0x1000, 0x5000, rss: 8192, [
                                         origin(0x1000..<0x3000, event: 1, .mmap, .malloc, site: parse20),
                                         origin(0x3000..<0x5000, event: 2, .mmap, .malloc, site: parse21),
                                     ]),
                                     region(0x10000, 0x11000, path: "[stack]", rss: 4096,
                                            [origin(0x10000..<0x11000, event: nil, .execve, .stack)]),
                                     region(0x20000, 0x22000, rss: 0, [origin(0x20000..<0x22000, event: 3, .mmap, .mmap)]),
                                     region(0x30000, 0x31000, rss: 4096, [origin(0x30000..<0x31000, event: 0, .execve, .bss)]),
                                     region(0x40000, 0x41000, rss: 0, [origin(0x40000..<0x41000, event: nil, nil, .unknown)]),
                                 ], events: events)
        let p101 = ProcessReport(pid: 101, parentPid: 100, executable: nil, exit: nil, hasSnapshot: true,
                                 regions: [region(0x1000, 0x2000, rss: 4096, [origin(0x1000..<0x2000, event: 5, .mmap, .mmap)])],
                                 events: [event(5, .mmap, [])])
        let p102 = ProcessReport(pid: 102, parentPid: 100, executable: "/bin/true", exit: .signal(9),
                                 hasSnapshot: false, regions: [], events: [])
        return Report(command: ["my;app"], processes: [p100, p101, p102])
    }()

    @Test func bytes() {
        #expect(FoldedReporter.render(Self.report) == """
            pid 100 (my,app);bss;[exec] 4096
            pid 100 (my,app);malloc;main;parse_config;malloc;mmap64 16384
            pid 100 (my,app);mmap;weird name,x;libfoo.so+0x1f2a3 8192
            pid 100 (my,app);stack;[kernel] stack 4096
            pid 100 (my,app);unknown;[untraced] 4096
            pid 101;mmap 4096

            """)
    }

    @Test func rss() {
        // Region 1: 2 resident pages over 4 pages, one page to each origin; rss 0 lines are left out.
        #expect(FoldedReporter.render(Self.report, weight: .rss) == """
            pid 100 (my,app);bss;[exec] 4096
            pid 100 (my,app);malloc;main;parse_config;malloc;mmap64 8192
            pid 100 (my,app);stack;[kernel] stack 4096
            pid 101;mmap 4096

            """)
    }

    @Test func count() {
        #expect(FoldedReporter.render(Self.report, weight: .count) == """
            pid 100 (my,app);bss;[exec] 1
            pid 100 (my,app);malloc;main;parse_config;malloc;mmap64 2
            pid 100 (my,app);mmap;weird name,x;libfoo.so+0x1f2a3 1
            pid 100 (my,app);stack;[kernel] stack 1
            pid 100 (my,app);unknown;[untraced] 1
            pid 101;mmap 1

            """)
    }

    @Test func everyLineParses() throws {
        let hostile = "a;b\nc\r\u{2028}d\u{0}"
        var report = Self.report
        report.processes[0].executable = "/x/" + hostile
        report.processes[0].events[1].stack[2].function = hostile
        report.processes[0].events[1].stack[1].function = ""
        for line in FoldedReporter.render(report).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let space = try #require(line.lastIndex(of: " "))
            #expect(UInt64(line[line.index(after: space)...]) != nil, "\(line)")
            let frames = line[..<space].split(separator: ";", omittingEmptySubsequences: false)
            #expect(frames.allSatisfy { !$0.isEmpty && !$0.contains(where: { $0.isNewline }) }, "\(line)")
        }
        #expect(FoldedReporter.render(report).contains("pid 100 (a,b c  d );malloc;main;a,b c  d ;??;mmap64 8192"))
    }
}
