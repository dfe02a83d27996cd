import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MapBlame

/// CI regression checks (docs/baseline.md): stable keys, tolerances, `baseline`, `check`, `diff`.
@Suite("baselines and checks", .serialized)
struct BaselineTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-baseline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func parseBaseline(_ path: String) throws -> Baseline {
        try BaselineFile.parse(BaselineJSONParser.parse(String(contentsOfFile: path, encoding: .utf8)))
    }

    /// Whether the table has a row with `status` and `key` (and FAIL when `failed`).
    static func hasRow(_ output: String, _ status: String, _ key: String, failed: Bool? = nil) -> Bool {
        output.split(separator: "\n").contains { line in
            let words = line.split(separator: " ").map(String.init)
            return words.contains(status) && words.contains(key) && (failed == nil || words.first == "FAIL") == (failed ?? true)
        }
    }

    // MARK: unit tests

    @Test func tolerancesParse() throws {
        #expect(try Tolerance.parse("+2") == Tolerance(absolute: 2))
        #expect(try Tolerance.parse("2") == Tolerance(absolute: 2))
        #expect(try Tolerance.parse("10%") == Tolerance(percent: 10))
        #expect(try Tolerance.parse("+64KiB,5%") == Tolerance(absolute: 65536, percent: 5))
        #expect(try Tolerance.parse("+1MiB") == Tolerance(absolute: 1 << 20))
        #expect(try Tolerance.parse("+1 GiB") == Tolerance(absolute: 1 << 30))
        #expect(try Tolerance.parse("2.5%") == Tolerance(percent: 2.5))
        #expect(try Tolerance.parse("off").off)
        for bad in ["", "x", "+-1", "10%%", "-5%", "+1TB", "+2,", "count"] {
            #expect(throws: ToleranceError.self, "\(bad)") { try Tolerance.parse(bad) }
        }
        var rule = ToleranceRule()
        try rule.apply(option: "count=+2")
        try rule.apply(option: "bytes=10%")
        #expect(rule[.count] == Tolerance(absolute: 2))
        #expect(rule[.bytes] == Tolerance(percent: 10))
        #expect(throws: ToleranceError.self) { try rule.apply(option: "size=1") }
        #expect(throws: ToleranceError.self) { try rule.apply(option: "count") }
    }

    @Test func tolerancesAbsoluteAndRelative() throws {
        let absolute = Tolerance(absolute: 2)
        #expect(absolute.allows(baseline: 10, current: 12))
        #expect(!absolute.allows(baseline: 10, current: 13))
        #expect(absolute.allows(baseline: 10, current: 3))  // shrinking is never a regression
        let relative = Tolerance(percent: 10)
        #expect(relative.allows(baseline: 1000, current: 1100))
        #expect(!relative.allows(baseline: 1000, current: 1101))
        #expect(!relative.allows(baseline: 0, current: 1))  // a new key has baseline 0
        let both = try Tolerance.parse("+4096,10%")
        #expect(both.allows(baseline: 1000, current: 5096))  // absolute wins for small values
        #expect(both.allows(baseline: 1_000_000, current: 1_100_000))  // relative wins for large ones
        #expect(!both.allows(baseline: 1_000_000, current: 1_100_001))
        #expect(Tolerance(off: true).allows(baseline: 0, current: .max))
        // Precedence: per key, then command line, then file, then built-in.
        var set = ToleranceSet()
        #expect(set.tolerance(.count, key: "mmap:f@m") == .zero)
        #expect(set.tolerance(.rss, key: "mmap:f@m").off)
        #expect(set.tolerance(.count, key: "@regions") == Tolerance(absolute: 2))
        set.file[.count] = Tolerance(absolute: 5)
        #expect(set.tolerance(.count, key: "mmap:f@m") == Tolerance(absolute: 5))
        set.commandLine[.count] = Tolerance(absolute: 1)
        #expect(set.tolerance(.count, key: "mmap:f@m") == Tolerance(absolute: 1))
        set.keys["mmap:f@m"] = ToleranceRule([.count: Tolerance(absolute: 9)])
        #expect(set.tolerance(.count, key: "mmap:f@m") == Tolerance(absolute: 9))
        #expect(set.tolerance(.count, key: "mmap:g@m") == Tolerance(absolute: 1))
    }

    @Test func keysAreStable() {
        let site = SymbolizedFrame(ip: 0x55d0_0000_1234, module: "/build/a/bin/prog", moduleOffset: 0x1234,
                                   function: "parse_config", file: "/src/config.c", line: 88)
        #expect(BaselineKey.key(category: .malloc, label: "malloc of 1.0 MiB served by mmap from parse_config (config.c:88)",
                                site: site) == "malloc:parse_config@prog")
        var moved = site
        moved.ip = 0x7f00_0000_1234
        moved.line = 91
        #expect(BaselineKey.key(category: .malloc, label: "x", site: moved) == "malloc:parse_config@prog")
        var unnamed = site
        unnamed.function = nil
        #expect(BaselineKey.key(category: .mmap, label: "x", site: unnamed) == "mmap:prog+0x1234")
        #expect(BaselineKey.key(category: .bss, label: "bss of /usr/lib/x86_64-linux-gnu/libc.so.6", site: nil) == "bss:libc.so.6")
        #expect(BaselineKey.key(category: .file, label: "/usr/lib/x86_64-linux-gnu/libm.so.6", site: site) == "file:libm.so.6")
        #expect(BaselineKey.stableLabel("stack of thread 1234 (guard page below)") == "stack of thread (guard page below)")
        #expect(BaselineKey.stableLabel("malloc of 12 KiB served by mmap") == "malloc served by mmap")
        #expect(BaselineKey.stableLabel("mmap(65536) by mmap64") == "mmap by mmap64")
        #expect(BaselineKey.stableLabel("mremap to 32768") == "mremap")
        #expect(BaselineKey.stableLabel("System V shared memory (shmid 7) attached") == "System V shared memory (shmid) attached")
        #expect(BaselineKey.stableLabel("glibc malloc arena of thread 4711 (created in malloc)") == "glibc malloc arena of thread (created in malloc)")
        #expect(BaselineKey.stableLabel("dynamic loader memory from _dl_allocate_tls_storage") == "dynamic loader memory from _dl_allocate_tls_storage")
    }

    @Test func baselineFileRoundTrips() throws {
        var set = ToleranceSet()
        set.file[.bytes] = Tolerance(percent: 10)
        set.keys["malloc:f@p"] = ToleranceRule([.count: Tolerance(absolute: 1)])
        let b = Baseline(command: ["prog", "a b"], processes: [BaselineProcess(
            executable: "/x/prog", regions: 3, anonymousRegions: 1, peakMappings: nil,
            categories: ["mmap": BaselineCounts(regions: 1, mappedBytes: 4096, rssBytes: 0)],
            keys: ["malloc:f@p": BaselineKeyEntry(counts: BaselineCounts(regions: 2, mappedBytes: 8192, rssBytes: 4096), site: "f (p.c:1)"),
                   "mmap:\"q\"": BaselineKeyEntry(counts: BaselineCounts(regions: 1), site: "x")])], tolerances: set)
        let text = BaselineFile.render(b)
        #expect(text.contains("\n        \"malloc:f@p\": {\"regions\": 2, \"mapped_bytes\": 8192, \"rss_bytes\": 4096, \"site\": \"f (p.c:1)\"},\n"))
        let back = try BaselineFile.parse(BaselineJSONParser.parse(text))
        #expect(back == b)
        #expect(throws: BaselineFile.ReadError.self) { try BaselineFile.parse(BaselineJSONParser.parse("{\"format\": \"mapblame-report\"}")) }
    }

    // MARK: real runs

    @Test func sameProgramPassesAndAllFailsWithNewKeys() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("base.json").path
        let made = try runCommand([Build.mapblame, "baseline", "-o", file, "--", Build.fixture, "mmap"])
        #expect(made.status == 0, "\(made.stderr)")
        let baseline = try Self.parseBaseline(file)
        #expect(baseline.processes.count == 1)
        #expect(baseline.processes[0].keys["mmap:scenario_mmap@mbfixture"] != nil)
        #expect(baseline.processes[0].peakMappings ?? 0 >= baseline.processes[0].regions)

        let same = try runCommand([Build.mapblame, "check", "--baseline", file, "--", Build.fixture, "mmap"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stderr.contains("within tolerance"))

        let all = try runCommand([Build.mapblame, "check", "--baseline", file, "--", Build.fixture, "all"])
        #expect(all.status == 1)
        for key in ["malloc:scenario_malloc@mbfixture", "thread-stack:scenario_thread@mbfixture", "mmap:scenario_munmap@mbfixture"] {
            #expect(Self.hasRow(all.stderr, "new", key, failed: true), "\(key) in \(all.stderr)")
        }
        #expect(all.stderr.contains("at scenario_malloc (main.c:"))
        #expect(all.stderr.contains("mismatch: command differs"))
        #expect(all.stderr.contains("mismatch: process count differs: baseline 1, this run 2"))
    }

    @Test func keysIdenticalAcrossASLRRuns() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var keys: [Set<String>] = []
        var addresses: [String] = []
        for n in 0..<2 {
            let trace = dir.appendingPathComponent("\(n).trace").path
            let run = try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "all"])
            #expect(run.status == 0, "\(run.stderr)")
            addresses.append(run.values["mmap"] ?? "")
            let out = dir.appendingPathComponent("\(n).json").path
            let made = try runCommand([Build.mapblame, "baseline", "-o", out, "--from", trace])
            #expect(made.status == 0, "\(made.stderr)")
            let b = try Self.parseBaseline(out)
            keys.append(Set(b.processes.flatMap { $0.keys.keys }))
        }
        #expect(addresses[0] != addresses[1], "ASLR should move the mapping")
        #expect(keys[0] == keys[1])
        // No key holds an address: at most a module offset (MODULE+0xOFFSET, well below 2^32).
        let addressLike = keys[0].filter { key in
            key.split(separator: "0x").dropFirst().contains { $0.prefix { $0.isHexDigit }.count > 8 }
        }
        #expect(addressLike.isEmpty, "\(addressLike)")
        // The two traces differ only by ASLR: within the default tolerance.
        let a = dir.appendingPathComponent("0.json").path
        let check = try runCommand([Build.mapblame, "check", "--baseline", a, "--from", dir.appendingPathComponent("1.trace").path])
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test func updateJUnitAndGitHubAnnotations() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("base.json").path
        let xml = dir.appendingPathComponent("junit.xml").path
        #expect(try runCommand([Build.mapblame, "baseline", "-o", file, "--", Build.fixture, "mmap"]).status == 0)
        let before = try String(contentsOfFile: file, encoding: .utf8)

        var env = ProcessInfo.processInfo.environment
        env["GITHUB_ACTIONS"] = "true"
        let failing = try runCommand([Build.mapblame, "check", "--baseline", file, "--junit", xml, "--", Build.fixture, "malloc"],
                                     environment: env)
        #expect(failing.status == 1)
        let annotations = failing.stdout.split(separator: "\n").filter { $0.hasPrefix("::error title=") }
        #expect(annotations.contains { $0.contains("malloc%3Ascenario_malloc@mbfixture") })

        // JUnit: well-formed, one test case per key of either side.
        let current = dir.appendingPathComponent("current.json").path
        #expect(try runCommand([Build.mapblame, "baseline", "-o", current, "--", Build.fixture, "malloc"]).status == 0)
        let keys = Set(try Self.parseBaseline(file).processes[0].keys.keys).union(try Self.parseBaseline(current).processes[0].keys.keys)
        let data = try Data(contentsOf: URL(fileURLWithPath: xml))
        #if canImport(FoundationXML) || os(macOS)
        let document = try XMLDocument(data: data)
        let cases = try document.nodes(forXPath: "//testsuite[@name='mapblame.mbfixture.keys']/testcase")
        let names = Set(cases.compactMap { ($0 as? XMLElement)?.attribute(forName: "name")?.stringValue })
        #expect(cases.count == names.count)
        #expect(names.isSuperset(of: keys.subtracting(["malloc:scenario_malloc@mbfixture"])) && names.contains("malloc:scenario_malloc@mbfixture"))
        let failures = try document.nodes(forXPath: "//testcase[@name='malloc:scenario_malloc@mbfixture']/failure")
        #expect(failures.count == 1)
        #expect(try document.nodes(forXPath: "//testcase[@name='mmap:scenario_mmap@mbfixture']/failure").isEmpty)
        #else
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("<?xml"))
        #expect(text.contains("name=\"malloc:scenario_malloc@mbfixture\""))
        #endif

        // Without GITHUB_ACTIONS: no annotations.
        env["GITHUB_ACTIONS"] = nil
        let plain = try runCommand([Build.mapblame, "check", "--baseline", file, "--", Build.fixture, "malloc"], environment: env)
        #expect(plain.status == 1)
        #expect(!plain.stdout.contains("::error"))

        // --update rewrites the baseline; the next check passes.
        let update = try runCommand([Build.mapblame, "check", "--baseline", file, "--update", "--", Build.fixture, "malloc"])
        #expect(update.status == 0, "\(update.stdout)\(update.stderr)")
        let after = try String(contentsOfFile: file, encoding: .utf8)
        #expect(after != before)
        #expect(after.contains("\"malloc:scenario_malloc@mbfixture\""))
        let again = try runCommand([Build.mapblame, "check", "--baseline", file, "--", Build.fixture, "malloc"])
        #expect(again.status == 0, "\(again.stderr)")
    }

    @Test func toleranceOptionsAndPerKeyTolerances() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mmap = dir.appendingPathComponent("mmap.trace").path, malloc = dir.appendingPathComponent("malloc.trace").path
        #expect(try runCommand([Build.mapblame, "record", "-o", mmap, "--", Build.fixture, "mmap"]).status == 0)
        #expect(try runCommand([Build.mapblame, "record", "-o", malloc, "--", Build.fixture, "mmap", "malloc"]).status == 0)
        let file = dir.appendingPathComponent("base.json").path
        #expect(try runCommand([Build.mapblame, "baseline", "-o", file, "--from", mmap]).status == 0)
        // `mmap malloc` only runs the first scenario word: same program, same keys.
        #expect(try runCommand([Build.mapblame, "check", "--baseline", file, "--from", malloc]).status == 1)  // command differs
        // Usage errors: 2.
        #expect(try runCommand([Build.mapblame, "check", "--baseline", file, "--tolerance", "count=lots", "--from", mmap]).status == 2)
        #expect(try runCommand([Build.mapblame, "check", "--baseline", file, "--from", mmap, "--", "true"]).status == 2)
        // A baseline that cannot be read is a usage error: 2 and one line.
        let missing = try runCommand([Build.mapblame, "check", "--baseline", dir.appendingPathComponent("none.json").path, "--from", mmap])
        #expect(missing.status == 2)
        #expect(missing.stderr.split(separator: "\n").count == 1)

        // A per-key tolerance in the file lets a key grow; without it the growth fails.
        var b = try Self.parseBaseline(file)
        let key = "mmap:scenario_mmap@mbfixture"
        b.processes[0].keys[key]!.counts.regions = 0
        b.processes[0].keys[key]!.counts.mappedBytes = 4096
        try BaselineFile.render(b).write(toFile: file, atomically: true, encoding: .utf8)
        let grew = try runCommand([Build.mapblame, "check", "--baseline", file, "--from", mmap])
        #expect(grew.status == 1)
        #expect(Self.hasRow(grew.stderr, "grew", key, failed: true), "\(grew.stderr)")
        #expect(try runCommand([Build.mapblame, "check", "--baseline", file, "--tolerance", "count=+1", "--tolerance", "bytes=+60KiB",
                                "--from", mmap]).status == 0)
        #expect(try runCommand([Build.mapblame, "check", "--baseline", file, "--tolerance", "count=+1", "--tolerance", "bytes=1000%",
                                "--from", mmap]).status == 1)  // 4096 × 10 < 65536
        #expect(try runCommand([Build.mapblame, "check", "--baseline", file, "--tolerance", "count=+1", "--tolerance", "bytes=1500%",
                                "--from", mmap]).status == 0)
        b.tolerances.keys[key] = ToleranceRule([.count: Tolerance(absolute: 1), .bytes: Tolerance(absolute: 1 << 20)])
        try BaselineFile.render(b).write(toFile: file, atomically: true, encoding: .utf8)
        let allowed = try runCommand([Build.mapblame, "check", "--baseline", file, "--from", mmap])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(Self.hasRow(allowed.stderr, "grew", key, failed: false))
    }

    @Test func diffOfTwoTracesAndReports() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.trace").path, b = dir.appendingPathComponent("b.trace").path
        let json = dir.appendingPathComponent("b.json").path
        #expect(try runCommand([Build.mapblame, "record", "-o", a, "--", Build.fixture, "mmap"]).status == 0)
        #expect(try runCommand([Build.mapblame, "run", "--trace", b, "--json", json, "-o", "/dev/null", "--", Build.fixture, "thread"]).status == 0)
        let diff = try runCommand([Build.mapblame, "diff", a, b])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout.contains("== mbfixture =="))
        #expect(diff.stdout.contains("status"))
        #expect(Self.hasRow(diff.stdout, "new", "thread-stack:scenario_thread@mbfixture"), "\(diff.stdout)")
        #expect(Self.hasRow(diff.stdout, "vanished", "mmap:scenario_mmap@mbfixture"))
        #expect(diff.stdout.contains("at scenario_thread (main.c:"))
        #expect(!diff.stdout.contains("FAIL"))
        // A JSON report gives the same keys as its trace.
        let fromJSON = try runCommand([Build.mapblame, "diff", b, json])
        #expect(fromJSON.status == 0)
        #expect(fromJSON.stdout.contains("no change"), "\(fromJSON.stdout)")
    }

    /// The same command with a switch that adds one mmap site: `check` fails naming that site;
    /// bad baselines are usage errors (exit 2), distinct from a regression (exit 1).
    @Test func aNewSiteFailsTheCheckAndBadBaselinesExit2() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-site-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let baseline = dir.appendingPathComponent("b.json").path
        #expect(try runCommand([Build.mapblame, "baseline", "-o", baseline, "--", Build.fixture, "mmap"]).status == 0)
        var env = ProcessInfo.processInfo.environment
        env["MBFIXTURE_EXTRA_SITE"] = "1"
        let check = try runCommand([Build.mapblame, "check", "--baseline", baseline, "--", Build.fixture, "mmap"], environment: env)
        #expect(check.status == 1, "\(check.stderr)\(check.stderr)")
        #expect(check.stderr.contains("extra_mapping"), "\(check.stderr)")
        let same = try runCommand([Build.mapblame, "check", "--baseline", baseline, "--", Build.fixture, "mmap"])
        #expect(same.status == 0, "\(same.stderr)")

        let other = try runCommand([Build.mapblame, "check", "--baseline", baseline, "--", "/bin/true"])
        #expect(other.status == 2 && other.stderr.contains("another command"), "\(other.stderr)")
        let missing = try runCommand([Build.mapblame, "check", "--baseline", dir.appendingPathComponent("none.json").path, "--", "/bin/true"])
        #expect(missing.status == 2 && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        let garbage = dir.appendingPathComponent("garbage.json").path
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: garbage))
        let malformed = try runCommand([Build.mapblame, "check", "--baseline", garbage, "--", "/bin/true"])
        #expect(malformed.status == 2, "\(malformed.stderr)")
        let future = dir.appendingPathComponent("future.json").path
        try Data(#"{"format": "mapblame-baseline", "version": 99}"#.utf8).write(to: URL(fileURLWithPath: future))
        let version = try runCommand([Build.mapblame, "check", "--baseline", future, "--", "/bin/true"])
        #expect(version.status == 2 && version.stderr.contains("version 99"), "\(version.stderr)")
    }

    /// Keys name functions, not lines: the fixture rebuilt with unrelated code added above the site
    /// (every line number below it moves) still passes the baseline of the original build.
    @Test func rebuildingWithUnrelatedCodeAboveTheSitePasses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-rebuild-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sources = Build.packageRoot + "/Sources/Fixtures/mbfixture"
        let original = try String(contentsOfFile: sources + "/main.c", encoding: .utf8)
        // Twenty lines of unrelated code: every line number below moves; the binary itself may grow
        // by a page, which the byte tolerance below allows (it is not what this test is about).
        let padding = (0..<20).map { "static int unrelated_\($0)(int x) { return x * \($0 + 3); }" }.joined(separator: "\n")
        var binaries: [String] = []
        for (name, text) in [("before", original), ("after", original.replacingOccurrences(of: "static void say(", with: padding + "\n\nstatic void say("))] {
            let folder = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try text.write(toFile: folder.appendingPathComponent("main.c").path, atomically: true, encoding: .utf8)
            let binary = folder.appendingPathComponent("mbfixture").path  // same name: same command
            let files = try FileManager.default.contentsOfDirectory(atPath: sources)
                .filter { $0.hasSuffix(".c") && $0 != "main.c" }.map { sources + "/" + $0 }
            let cc = try runCommand(["/usr/bin/cc", "-g", "-O0", "-w", "-I", sources, "-o", binary,
                                     folder.appendingPathComponent("main.c").path] + files + ["-lpthread", "-ldl"])
            try #require(cc.status == 0, "\(cc.stderr)")
            binaries.append(binary)
        }
        let baseline = dir.appendingPathComponent("b.json").path
        #expect(try runCommand([Build.mapblame, "baseline", "-o", baseline, "--", binaries[0], "mmap"]).status == 0)
        let check = try runCommand([Build.mapblame, "check", "--baseline", baseline, "--tolerance", "bytes=+16KiB",
                                    "--", binaries[1], "mmap"])
        #expect(check.status == 0, "\(check.stderr)\(check.stderr)")
        #expect(!check.stderr.contains("FAIL"))
    }
}
