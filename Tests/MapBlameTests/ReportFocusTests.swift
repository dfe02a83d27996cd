import Foundation
import Glibc
import Testing
@testable import MapBlame

/// Reports that go straight to the answer: `--address`, `--pid`/`--exe`, short processes folded,
/// the launched program first, and text within 120 columns.
@Suite(.serialized)
struct ReportFocusTests {
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "mapblame-focus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The region holding an address, with the call that made it; an address in no region says so.
    @Test func addressShowsTheRegionItsOriginsAndBacktrace() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/t.trace"
        let recorded = try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "mmap"])
        let address = try #require(recorded.values["mmap"])
        let line = try #require(SiteMarkers.lines["mmap"])

        let text = try runCommand([Build.mapblame, "report", trace, "--address", address, "--address", "0x1000"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("\(address) is the start of a region of process "), "\(text.stdout)")
        // The byte range holding it is marked, with the backtrace of the mmap call at the site.
        let marked = text.stdout.split(separator: "\n").first { $0.hasPrefix("  * ") }
        #expect(marked?.contains("mmap: mmap(65536) from scenario_mmap (main.c:\(line))") == true, "\(text.stdout)")
        #expect(text.stdout.contains("        at scenario_mmap (main.c:\(line))"), "\(text.stdout)")
        // Only that region: no other region line, no summary table.
        #expect(!text.stdout.contains("[stack]") && !text.stdout.contains("category "), "\(text.stdout)")
        #expect(text.stdout.contains("0x1000 is in no region of process "), "\(text.stdout)")
        #expect(text.stdout.contains("below the start of"), "\(text.stdout)")

        // JSON: the same region alone, and where each address is.
        let json = try runCommand([Build.mapblame, "report", trace, "--format", "json", "--address", address, "--address", "1000"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let processes = root["processes"] as? [[String: Any]] ?? []
        let regions = processes.flatMap { ReportJSON.regions($0) }
        #expect(regions.count == 1 && hex(regions.first?["start"]) == hex(address), "\(regions)")
        let answers = root["addresses"] as? [[String: Any]] ?? []
        #expect(answers.count == 2)
        #expect(answers.first?["found"] as? Bool == true && answers.last?["found"] as? Bool == false)
        let nearest = (answers.last?["nearest"] as? [[String: Any]])?.first
        #expect(nearest?["above"] is [String: Any] && nearest?["below"] is NSNull, "\(answers)")

        // run --address (addresses are reproducible with --no-aslr).
        let first = try runCommand([Build.mapblame, "run", "--no-aslr", "-o", "/dev/null", "--", Build.fixture, "mmap"])
        let fixed = try #require(first.values["mmap"])
        let again = try runCommand([Build.mapblame, "run", "--no-aslr", "--address", fixed, "--", Build.fixture, "mmap"])
        #expect(again.status == 0 && again.stderr.contains("\(fixed) is the start of a region"), "\(again.stderr)")
    }

    /// `explain PID ADDR`: the program's .bss, from evidence, with that evidence.
    @Test func explainTakesAddresses() throws {
        let served = try AttachTests.Served.start()
        defer { served.finish() }
        let bss = try #require(served.values["bss"])
        let r = try runCommand([Build.mapblame, "explain", "\(served.pid)", bss])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("mapblame explain: "), "\(r.stdout)")
        #expect(r.stdout.contains("\(bss) is ") && r.stdout.contains("(running):"), "\(r.stdout)")
        #expect(r.stdout.contains("bss: bss of ") && r.stdout.contains("evidence (certain): PT_LOAD memsz"), "\(r.stdout)")
        #expect(r.stdout.contains("explain sees no history"), "\(r.stdout)")
        #expect(r.stdout.split(separator: "\n").filter { $0.contains(" rss ") }.count == 1, "one region: \(r.stdout)")
    }

    /// A program behind a shell wrapper: the readlinks the wrapper runs fold into one line, the
    /// launched program (the wrapper's exec) comes first, and --pid/--exe select.
    @Test func wrapperProcessesFoldAndSelectionPicks() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "for i in 1 2 3; do x=$(readlink /proc/self/exe); done; exec \(Build.fixture) mmap"
        let json = dir + "/r.json"
        let run = try runCommand([Build.mapblame, "run", "--json", json, "--", "/bin/sh", "-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try ReportJSON(path: json)
        let readlinks = report.processes.filter { ($0["executable"] as? String)?.hasSuffix("/readlink") == true }
        #expect(readlinks.count == 3, "\(report.processes.map { $0["executable"] ?? "" })")
        #expect((report.processes.first?["executable"] as? String)?.hasSuffix("/mbfixture") == true)

        // Text: one section (the launched program, first), the readlinks in one line.
        let sections = run.stderr.split(separator: "\n").filter { $0.hasPrefix("== process ") }
        #expect(sections.count == 1 && sections.first?.contains("mbfixture") == true, "\(run.stderr)")
        #expect(run.stderr.contains("3 short processes: readlink ×3 — nothing of their own"), "\(run.stderr)")
        // HTML: one tab's worth of process and the same line.
        let html = dir + "/r.html"
        _ = try runCommand([Build.mapblame, "run", "--html", html, "-o", "/dev/null", "--", "/bin/sh", "-c", script])
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("3 short processes: readlink \\u00d73"), "the folded line in the page's data")

        // --exe: those processes only, in full; --pid: that one.
        let trace = dir + "/t.trace"
        #expect(try runCommand([Build.mapblame, "record", "-o", trace, "--", "/bin/sh", "-c", script]).status == 0)
        let picked = try runCommand([Build.mapblame, "report", trace, "--exe", "readlink"])
        #expect(picked.stdout.split(separator: "\n").filter { $0.hasPrefix("== process ") && $0.contains("readlink") }.count == 3,
                "\(picked.stdout)")
        #expect(!picked.stdout.contains("mbfixture:") && !picked.stdout.contains("short process"), "\(picked.stdout)")
        let one = try runCommand([Build.mapblame, "report", trace, "--format", "json", "--exe", "readlink"])
        let pids = ((try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])?["processes"] as? [[String: Any]] ?? [])
            .compactMap { $0["pid"] as? Int }
        #expect(pids.count == 3)
        if let pid = pids.last {
            let single = try runCommand([Build.mapblame, "report", trace, "--format", "json", "--pid", "\(pid)"])
            let listed = ((try JSONSerialization.jsonObject(with: Data(single.stdout.utf8)) as? [String: Any])?["processes"] as? [[String: Any]] ?? [])
            #expect(listed.map { $0["pid"] as? Int } == [pid])
        }
        let none = try runCommand([Build.mapblame, "report", trace, "--pid", "999999999"])
        #expect(none.status == 1 && none.stderr.hasPrefix("mapblame: --pid 999999999 matches no process of this report (4 processes: "),
                "\(none.stderr)")
    }

    /// Every line of the text fits 120 columns, with a program deep in a long directory: the text
    /// shortens its path, the JSON keeps it whole.
    @Test func textFitsIn120Columns() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let deep = dir + "/" + String(repeating: "a", count: 60) + "/" + String(repeating: "b", count: 50)
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        let program = deep + "/mbfixture"
        try copyExecutable(from: Build.fixture, to: program)
        try copyExecutable(from: Build.fixtureDirectory + "/libmbfixturelib.so", to: deep + "/libmbfixturelib.so")
        let json = dir + "/r.json", text = dir + "/r.txt"
        let run = try runCommand([Build.mapblame, "run", "--files", "--verify", "--json", json, "-o", text, "--", program, "all"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try String(contentsOfFile: text, encoding: .utf8)
        let long = report.split(separator: "\n").filter { $0.count > 120 }
        #expect(long.isEmpty, "\(long.count) lines over 120 columns: \(long.prefix(3))")
        #expect(report.contains("bss: bss of …/"), "\(report.prefix(1500))")
        #expect(!report.contains(String(repeating: "a", count: 60)), "the long directory is shortened away")
        #expect(try ReportJSON(path: json).rootProcess?["executable"] as? String == program)
        // --files lists the file-backed lines too (code is always file-backed, [vdso] aside).
        #expect(report.contains(" r-xp ") && report.contains("  file "), "\(report.prefix(800))")
    }

    /// Without --files the text lists no file-backed line, says how many it left out, and
    /// --top bounds the sites table.
    @Test func filesAndTopShapeTheText() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/t.trace"
        #expect(try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "all"]).status == 0)
        let plain = try runCommand([Build.mapblame, "report", trace, "--top", "2"])
        let lines = plain.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!plain.stdout.contains(" r-xp "), "no code line without --files: \(plain.stdout.prefix(500))")
        #expect(plain.stdout.contains("file-backed lines not shown: --files lists them"), "\(plain.stdout)")
        #expect(lines.contains { $0.hasPrefix("  file ") }, "the summary counts files")
        let sites = lines.drop { !$0.contains("top sites by RSS") }.dropFirst(2).prefix { $0.hasPrefix("  ") && !$0.hasPrefix("  verify") }
        #expect(sites.count <= 2, "\(sites)")
        let files = try runCommand([Build.mapblame, "report", trace, "--files"])
        #expect(files.stdout.contains(" r-xp ") && !files.stdout.contains("not shown"), "\(files.stdout.prefix(500))")
    }

    @Test func layoutShortensPathsThenWraps() {
        let path = "/work/main/.build/x86_64-unknown-linux-gnu/release/mapblame-demo"
        #expect(TextLayout.shortPath(path, keeping: 2) == "…/release/mapblame-demo")
        #expect(TextLayout.shortPath("(" + path, keeping: 1) == "(…/mapblame-demo")
        #expect(TextLayout.shortPath("libc.so.6", keeping: 1) == "libc.so.6")
        let line = "bss: bss of " + path + " " + String(repeating: "word ", count: 30)
        let fitted = TextLayout.fit(line, width: 60, indent: 4)
        #expect(fitted.split(separator: "\n").allSatisfy { $0.count <= 60 }, "\(fitted)")
        #expect(fitted.hasPrefix("bss: bss of …/"), "\(fitted)")
        #expect(fitted.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix("    ") })
        #expect(TextLayout.fit("short", width: 60) == "short\n")
    }
}
