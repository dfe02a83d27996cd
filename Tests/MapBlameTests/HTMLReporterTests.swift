import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlame

/// The HTML report: escaping of hostile names, the embedded data, and the page as headless Chromium
/// draws it (a hand-built report, a real trace of mapblame-demo, and 10,000 synthetic regions).
/// Serialized: each browser run takes a few hundred MB and a few seconds.
@Suite(.serialized) struct HTMLReporterTests {
    static let evil = "</script><script>alert(1)</script><!-- \"'&amp; <img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
    static let odd = "odd\u{FFFD}\u{0}\u{1}\u{1B}[31m\u{7F}\u{85}\u{2028}\u{2029}\u{FEFF}\u{FFFE}😀\\u003c"

    /// One process whose names (command, executable, paths, labels, symbols, files) are hostile.
    static func hostileReport() -> Report {
        let f = SymbolizedFrame(ip: 0x401000, module: "/tmp/" + evil, moduleOffset: 0x1000, function: evil + odd,
                                file: "/src/" + odd + ".c", line: 7)
        let g = SymbolizedFrame(ip: 0x402000, module: "/tmp/" + odd, moduleOffset: 0x2000, function: nil, file: nil, line: nil)
        let event = EventReport(event: MappingEvent(id: 1, pid: 42, tid: 43, syscall: .mmap,
                                                    args: [0, 0x2000, 3, 0x22, UInt64.max, 0], result: 0x7f0000000000,
                                                    stack: 0, filePath: "/dev/shm/" + evil), stack: [g, f])
        let origin = Origin(range: 0x7f0000000000..<0x7f0000002000, event: 1, syscall: .mmap, category: .mmap,
                            label: "mmap from " + evil, site: f)
        let named = RegionReport(entry: MapsEntry(start: 0x7f0000002000, end: 0x7f0000003000, perms: "rw-s", offset: 0,
                                                  device: "00:05", inode: 9, path: "/dev/shm/" + evil + odd + " (deleted)"),
                                 usage: SmapsUsage(rss: 4096), category: .shm, label: "shared " + odd,
                                 origins: [Origin(range: 0x7f0000002000..<0x7f0000003000, event: nil, syscall: nil,
                                                  category: .shm, label: "shared " + odd, site: nil)],
                                 evidence: evil, confidence: .likely)
        let process = ProcessReport(pid: 42, parentPid: nil, executable: "/bin/" + evil, exit: .code(0), hasSnapshot: true,
                                    regions: [RegionReport(entry: MapsEntry(start: 0x7f0000000000, end: 0x7f0000002000, perms: "rw-p",
                                                                            offset: 0, device: "00:00", inode: 0, path: ""),
                                                           usage: SmapsUsage(rss: 8192, anonymous: 8192), category: .mmap,
                                                           label: origin.label, origins: [origin]), named],
                                    events: [event], eventsRecorded: 3)
        return Report(command: [evil, odd, "--flag='x'"], processes: [process])
    }

    /// The text of the `<script type="application/json">` element.
    static func embeddedJSON(_ html: String) throws -> String {
        let open = #"<script type="application/json" id="mapblame-data">"#
        let start = try #require(html.range(of: open))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        return String(html[start.upperBound..<end.lowerBound])
    }

    /// The script and stylesheet are real files (Resources/), embedded as they are: node parses
    /// the script, and the page carries both byte for byte.
    @Test func scriptIsValidJavaScriptAndEmbeddedAsIs() throws {
        let resources = Build.packageRoot + "/Sources/MapBlameAnalysis/Reporting/Resources/"
        guard let node = Chromium.onPath("node") else {
            if getuid() != 0 { try Test.cancel("node is not installed (make test installs it as root)") }
            Issue.record("node is not installed (make test installs it: apt-get install nodejs)")
            return
        }
        let page = HTMLReporter.render(Self.hostileReport())
        // The views (time axis, call tree) register themselves before report.js draws the page.
        var scripts: [String] = []
        for file in ["report-time.js", "report-tree.js", "report.js"] {
            let check = try runCommand([node, "--check", resources + file])
            #expect(check.status == 0, "\(file): \(check.stderr)")
            scripts.append(try String(contentsOfFile: resources + file, encoding: .utf8))
        }
        let style = try String(contentsOfFile: resources + "report.css", encoding: .utf8)
        #expect(page.contains("<script>\n" + scripts.joined(separator: "\n") + "</script>"))
        #expect(page.contains("<style>\n" + style + "</style>"))
    }

    @Test func hostileNamesStayText() throws {
        let html = HTMLReporter.render(Self.hostileReport())
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<!--"))
        #expect(html.components(separatedBy: "<script").count - 1 == 2, "only the data and the page's own script")
        #expect(html.components(separatedBy: "</script").count - 1 == 2)
        #expect(html.contains("<title>mapblame: &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!-- &quot;&#39;&amp;amp;"))
        #expect(!html.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }, "no raw control characters")

        let json = try Self.embeddedJSON(html)
        #expect(json.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "the data is printable ASCII")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let strings = try #require(root["strings"] as? [String])
        for expected in [Self.evil, Self.odd, Self.evil + Self.odd, "/bin/" + Self.evil, "mmap from " + Self.evil,
                         "/dev/shm/" + Self.evil + Self.odd + " (deleted)", "/src/" + Self.odd + ".c"] {
            #expect(strings.contains(expected), "round trip of \(expected.debugDescription)")
        }
        let process = try #require((root["processes"] as? [[String: Any]])?.first)
        #expect((process["regions"] as? [Any])?.count == 2)
        #expect(process["pid"] as? Int == 42)
    }

    @Test func hostileNamesInABrowser() throws {
        let chromium = try Chromium.require()
        let dir = try TemporaryDirectory()
        let page = dir.path + "/hostile.html"
        try HTMLReporter.render(Self.hostileReport()).write(toFile: page, atomically: true, encoding: .utf8)
        let dom = try chromium.dumpDOM(page)
        #expect(dom.contains(#"data-rendered="true""#), "the page's script finished: \(dom.prefix(2000))")
        #expect(!dom.contains("data-error"))
        #expect(!dom.contains(#"data-pwned="1""#), "an injected handler ran")
        #expect(!dom.contains("<script>alert") && !dom.contains("<img"))
        // The labels were drawn, as text.
        #expect(dom.contains("mmap from &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!-- \"'&amp;amp; &lt;img"))
        #expect(dom.contains(#"data-region-count="2""#))
    }

    @Test func smallReportInABrowser() throws {
        let chromium = try Chromium.require()
        let dir = try TemporaryDirectory()
        let page = dir.path + "/small.html"
        // Unfolded: pid 101 holds only memory its parent mapped, and would fold into one line.
        try HTMLReporter.render(FoldedReporterTests.report, foldShortProcesses: false).write(toFile: page, atomically: true, encoding: .utf8)
        let dom = try chromium.dumpDOM(page)
        #expect(dom.contains(#"data-rendered="true""#) && !dom.contains("data-error"), "\(dom.prefix(3000))")
        #expect(dom.contains(#"data-process-count="3""#))
        #expect(dom.contains(#"data-pid="100" data-region-count="5""#))
        #expect(dom.contains(#"data-bands="5""#))
        #expect(dom.contains("parse_config (config.c:20)"), "a site")
        #expect(dom.contains("malloc: malloc bytes"), "a label")
        #expect(dom.contains("No final snapshot"), "the process without a snapshot says so")
        let png = dir.path + "/small.png"
        try chromium.screenshot(page, to: png)
        try expectPNG(png)
    }

    /// A real trace of mapblame-demo: recorded by `mapblame record` in its own process (an in-process
    /// Tracer would wait with waitpid(-1), reaping the children of tests running in parallel), then
    /// replayed and joined here as `mapblame report` does. Saves docs/report-screenshot.png when it
    /// is missing or when MAPBLAME_UPDATE_DOCS=1.
    @Test func realTraceInABrowser() throws {
        let chromium = try Chromium.require()
        let dir = try TemporaryDirectory()
        let trace = dir.path + "/demo.trace"
        let recorded = try runCommand([Build.mapblame, "record", "--no-aslr", "-o", trace, "--", Build.demo])
        try #require(recorded.status == 0, "mapblame record: \(recorded.stderr)")
        var builder = ReportBuilder(recording: try TraceReplayer.replay(path: trace), symbolizer: Symbolizer())
        let report = builder.build()
        let root = try #require(report.processes.first)
        let malloc = try #require(root.regions.flatMap(\.origins).first { $0.category == .malloc && $0.site != nil })
        let page = dir.path + "/demo.html"
        try HTMLReporter.render(report).write(toFile: page, atomically: true, encoding: .utf8)

        let dom = try chromium.dumpDOM(page)
        #expect(dom.contains(#"data-rendered="true""#) && !dom.contains("data-error"), "\(dom.prefix(3000))")
        #expect(dom.contains(#"data-region-count="\#(root.regions.count)""#))
        #expect(dom.contains(#"data-bands="\#(root.regions.count)""#))
        #expect(dom.contains(malloc.label.htmlEscaped), "label \(malloc.label)")
        #expect(dom.contains(malloc.site!.shortDescription.htmlEscaped), "site \(malloc.site!.shortDescription)")
        let png = dir.path + "/demo.png"
        try chromium.screenshot(page, to: png)
        try expectPNG(png)
        let docs = Build.packageRoot + "/docs/report-screenshot.png"
        if ProcessInfo.processInfo.environment["MAPBLAME_UPDATE_DOCS"] == "1" || !FileManager.default.fileExists(atPath: docs) {
            try? FileManager.default.removeItem(atPath: docs)
            try FileManager.default.copyItem(atPath: png, toPath: docs)
        }
    }

    @Test func tenThousandRegions() throws {
        let chromium = try Chromium.require()
        let dir = try TemporaryDirectory()
        let report = Self.syntheticReport(regions: 10_000)
        let clock = ContinuousClock()
        var html = ""
        let renderTime = clock.measure { html = HTMLReporter.render(report) }
        let page = dir.path + "/big.html"
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        var dom = ""
        let browserTime = try clock.measure { dom = try chromium.dumpDOM(page, timeout: 300) }
        #expect(dom.contains(#"data-rendered="true""#) && !dom.contains("data-error"), "\(dom.prefix(3000))")
        #expect(dom.contains(#"data-region-count="10000""#) && dom.contains(#"data-bands="10000""#))
        #expect(html.utf8.count < 8 << 20, "a few MB at most")
        print("HTML report of 10000 regions: \(html.utf8.count) bytes (\(ByteCount.text(UInt64(html.utf8.count)))), "
              + "rendered in \(renderTime), headless chromium --dump-dom in \(browserTime)")
    }

    /// `count` regions in runs with gaps, of every category; most have one origin, every seventh has
    /// two; backtraces of 6-14 frames from 400 functions, so frames repeat as in real programs.
    static func syntheticReport(regions count: Int) -> Report {
        var rng = SplitMix64(seed: 7)
        let functions = (0..<400).map { i in
            SymbolizedFrame(ip: 0x5555_0000_0000 + UInt64(i) * 0x40, module: "/usr/lib/libsynthetic\(i % 9).so",
                            moduleOffset: UInt64(i) * 0x40, function: i % 13 == 0 ? nil : "function_\(i)",
                            file: i % 5 == 0 ? nil : "/src/module\(i % 31)/file\(i % 17).c", line: i % 5 == 0 ? nil : 10 + i % 300)
        }
        let categories = Category.allCases
        var address: UInt64 = 0x7f00_0000_0000
        var regions: [RegionReport] = [], events: [EventReport] = []
        for i in 0..<count {
            if rng.next() % 5 == 0 { address += (rng.next() % 64 + 1) * 0x10_0000 }
            let pages = UInt64(1) << (rng.next() % 12)
            let size = pages * 4096
            let category = categories[Int(rng.next() % UInt64(categories.count))]
            let parts: [Range<UInt64>] = i % 7 == 0 && pages > 1
                ? [address..<address + size / 2, address + size / 2..<address + size] : [address..<address + size]
            var origins: [Origin] = []
            for part in parts {
                let stack = (0..<(6 + Int(rng.next() % 9))).map { _ in functions[Int(rng.next() % 400)] }
                let id = events.count + 1
                events.append(EventReport(event: MappingEvent(id: id, pid: 1000, tid: 1000 + Int32(id % 4), syscall: .mmap,
                                                              args: [0, UInt64(part.count), 3, 0x22, UInt64.max, 0],
                                                              result: Int64(part.lowerBound), stack: 0), stack: stack))
                origins.append(Origin(range: part, event: id, syscall: .mmap, category: category,
                                      label: "\(category.rawValue) of \(ByteCount.text(UInt64(part.count))) from \(stack[2].shortDescription) #\(i)",
                                      site: stack[2]))
            }
            let path = category == .file ? "/usr/lib/data/file\(i % 50).bin" : ""
            regions.append(RegionReport(entry: MapsEntry(start: address, end: address + size, perms: "rw-p", offset: 0,
                                                         device: path.isEmpty ? "00:00" : "fe:01", inode: path.isEmpty ? 0 : 77, path: path),
                                        usage: SmapsUsage(rss: (rng.next() % (pages + 1)) * 4096), category: category,
                                        label: origins[0].label, origins: origins))
            address += size
        }
        let process = ProcessReport(pid: 1000, parentPid: nil, executable: "/usr/bin/synthetic", exit: .code(0),
                                    hasSnapshot: true, regions: regions, events: events, eventsRecorded: events.count * 2)
        return Report(command: ["synthetic", "--regions", "\(count)"], processes: [process])
    }
}

private func expectPNG(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(data.count > 1000, "screenshot of \(data.count) bytes", sourceLocation: sourceLocation)
    #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "PNG signature", sourceLocation: sourceLocation)
}

/// Headless Debian chromium, which `make`'s dependency step installs (a test never installs
/// anything on the host).
struct Chromium {
    let path: String

    struct Unavailable: Error { var reason: String }

    /// The browser. Missing where make could install it (root) is a failure; elsewhere the test is
    /// cancelled (reported as skipped) with the reason.
    static func require() throws -> Chromium {
        if let found = onPath("chromium") { return Chromium(path: found) }
        let reason = "chromium is not installed (make test installs it as root: apt-get install chromium)"
        if getuid() != 0 { try Test.cancel(Comment(rawValue: reason)) }
        throw Unavailable(reason: reason)
    }

    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func dumpDOM(_ page: String, timeout: Double = 120) throws -> String {
        let run = try run(["--dump-dom", URL(fileURLWithPath: page).absoluteString], timeout: timeout)
        try #require(run.status == 0 && !run.stdout.isEmpty, "chromium --dump-dom: status \(run.status): \(run.stderr.suffix(2000))")
        return Self.withoutScripts(run.stdout)
    }

    func screenshot(_ page: String, to png: String) throws {
        let run = try run(["--screenshot=\(png)", "--window-size=1400,1000", "--hide-scrollbars",
                           URL(fileURLWithPath: page).absoluteString], timeout: 120)
        try #require(run.status == 0, "chromium --screenshot: status \(run.status): \(run.stderr.suffix(2000))")
    }

    /// The DOM without the contents of script elements (the data block holds every name anyway).
    static func withoutScripts(_ dom: String) -> String {
        var out = "", rest = dom[...]
        while let open = rest.range(of: "<script") {
            out += rest[..<open.lowerBound]
            guard let close = rest.range(of: "</script>", range: open.upperBound..<rest.endIndex) else { return out }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    private func run(_ arguments: [String], timeout: Double) throws -> Finished {
        let profile = try TemporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
                             "--user-data-dir=\(profile.path)"] + arguments
        let out = profile.path + "/stdout", err = profile.path + "/stderr"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("chromium \(arguments.first ?? "") ran longer than \(Int(timeout)) s")
        }
        return Finished(status: process.terminationStatus, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                        stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}

/// A fresh directory under /tmp, removed when the value goes away.
final class TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-html-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}


extension String {
    /// As a DOM serializer writes text: `&`, `<`, `>` (and no-break space) escaped.
    var htmlEscaped: String {
        replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\u{A0}", with: "&nbsp;")
    }
}
