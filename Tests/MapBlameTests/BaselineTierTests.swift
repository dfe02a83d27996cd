import Foundation
import Testing
@testable import MapBlame

/// The library side of portable CI checks (docs/baseline.md): tiers, ignore patterns, tolerances
/// per category, ranges over runs, quiet updates, annotations, JUnit bodies and the step summary.
@Suite("baseline tiers, ranges and CI outputs")
struct BaselineTierTests {
    static let exe = "/home/me/src/build/myprog"

    static func site(_ module: String, _ function: String = "f", file: String? = nil, line: Int? = nil) -> SymbolizedFrame {
        SymbolizedFrame(ip: 0x1000, module: module, moduleOffset: 0x1000, function: function, file: file, line: line)
    }

    static func entry(_ regions: Int, _ bytes: UInt64, rss: UInt64 = 0, tier: KeyTier?, low: BaselineCounts? = nil) -> BaselineKeyEntry {
        BaselineKeyEntry(counts: BaselineCounts(regions: regions, mappedBytes: bytes, rssBytes: rss), site: "s", tier: tier, low: low)
    }

    static func baseline(_ keys: [String: BaselineKeyEntry], regions: Int = 10) -> Baseline {
        Baseline(command: ["myprog"], processes: [BaselineProcess(executable: exe, regions: regions, anonymousRegions: 3,
                                                                  peakMappings: regions, categories: [:], keys: keys)])
    }

    @Test func tiersFromAttributionAndSite() {
        let system: [(Category, Attribution.Kind, SymbolizedFrame?)] = [
            (.vdso, .kernelMapping(name: "[vvar_vclock]", atExec: true), nil),
            (.stack, .mainStack(grownByKernel: false), nil),
            (.heap, .execHeap, nil),
            (.loader, .loaderMemory(function: "_dl_allocate_tls_storage"), Self.site(Self.exe)),  // ld.so's sizes, whoever called
            (.file, .file(path: "/usr/lib/x86_64-linux-gnu/libc.so.6"), nil),
            (.bss, .bss(file: "/lib/x86_64-linux-gnu/libm.so.6"), nil),
            (.file, .file(path: "/usr/lib/locale/locale-archive"), nil),
            (.heap, .heapGrowth(by: "malloc"), Self.site("/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30")),
            (.malloc, .largeMalloc(entry: "malloc", bytes: 1 << 20, call: .mmap), Self.site("/usr/lib/python3.11/lib-dynload/x.so")),
        ]
        for (category, kind, site) in system {
            #expect(KeyTier.of(category: category, attribution: Attribution(kind), site: site, executable: Self.exe) == .system, "\(kind)")
        }
        let program: [(Category, Attribution.Kind, SymbolizedFrame?)] = [
            (.file, .file(path: Self.exe), nil),
            (.bss, .bss(file: Self.exe), nil),
            (.bss, .bss(file: "/home/me/src/build/libplugin.so"), nil),  // shipped with the program
            (.mmap, .directMapping(call: .mmap, bytes: 4096, library: nil), Self.site(Self.exe)),
            (.malloc, .largeMalloc(entry: "malloc", bytes: 1 << 20, call: .mmap), Self.site("/opt/app/lib/libapp.so")),
            (.threadStack, .threadStack(tid: 7, guardBelow: true), nil),  // no site: it still gates
            (.mallocArena, .mallocArena(tid: 7, entry: "malloc"), Self.site(Self.exe)),
        ]
        for (category, kind, site) in program {
            #expect(KeyTier.of(category: category, attribution: Attribution(kind), site: site, executable: Self.exe) == .program, "\(kind)")
        }
        // An executable installed in a system directory is still the program's own.
        #expect(KeyTier.module("/usr/bin/python3", executable: "/usr/bin/python3") == .program)
        #expect(KeyTier.module("/usr/bin/python3", executable: Self.exe) == .system)
        // Words only (a JSON report read back): the category and the label's path decide.
        #expect(KeyTier.of(category: .vdso, attribution: Attribution(.described("[vdso] mapped by the kernel")), site: nil, executable: nil) == .system)
        #expect(KeyTier.of(category: .bss, attribution: Attribution(.described("bss of /usr/lib/x86_64-linux-gnu/libc.so.6")), site: nil, executable: nil) == .system)
        #expect(KeyTier.of(category: .bss, attribution: Attribution(.described("bss of /srv/app/app")), site: nil, executable: "/srv/app/app") == .program)
    }

    @Test func ignorePatternsAndGating() throws {
        let category = try IgnorePattern("malloc-arena")
        #expect(category.matches("malloc-arena:worker@prog"))
        #expect(!category.matches("malloc:worker@prog"))
        let glob = try IgnorePattern("file:libnss_*")
        #expect(glob.matches("file:libnss_files.so.2"))
        #expect(!glob.matches("bss:libnss_files.so.2"))
        #expect(try IgnorePattern("*@libpython3.?.so*").matches("malloc:PyMem_Raw@libpython3.9.so.1.0"))
        #expect(throws: IgnorePatternError.self) { try IgnorePattern("file:[abc") }
        #expect(throws: IgnorePatternError.self) { try IgnorePattern("") }
        var policy = KeyPolicy(ignore: [category])
        #expect(policy.isGated(key: "mmap:f@prog", tier: .program, ownTolerance: false))
        #expect(!policy.isGated(key: "bss:libc.so.6", tier: .system, ownTolerance: false))
        #expect(policy.isGated(key: "bss:libc.so.6", tier: .system, ownTolerance: true))
        #expect(!policy.isGated(key: "malloc-arena:w@prog", tier: .program, ownTolerance: true))
        policy.gateSystem = true
        #expect(policy.isGated(key: "bss:libc.so.6", tier: .system, ownTolerance: false))
    }

    @Test func tolerancesPerCategory() throws {
        var set = ToleranceSet()
        set.file[.count] = Tolerance(absolute: 1)
        set.categories["malloc-arena"] = ToleranceRule([.count: Tolerance(absolute: 4)])
        #expect(set.tolerance(.count, key: "malloc-arena:w@p") == Tolerance(absolute: 4))
        #expect(set.tolerance(.count, key: "malloc:w@p") == Tolerance(absolute: 1))
        try set.apply(commandLineOption: "count=+2")
        #expect(set.tolerance(.count, key: "malloc:w@p") == Tolerance(absolute: 2))
        #expect(set.tolerance(.count, key: "malloc-arena:w@p") == Tolerance(absolute: 4))  // category beats global
        try set.apply(commandLineOption: "malloc-arena:count=+6")
        #expect(set.tolerance(.count, key: "malloc-arena:w@p") == Tolerance(absolute: 6))  // command line beats file
        set.keys["malloc-arena:w@p"] = ToleranceRule([.count: Tolerance(absolute: 9)])
        #expect(set.tolerance(.count, key: "malloc-arena:w@p") == Tolerance(absolute: 9))  // the key's own wins
        #expect(set.tolerance(.count, key: "@regions") == Tolerance(absolute: 2))  // totals have no category
        #expect(throws: ToleranceError.self) { try set.apply(commandLineOption: "arenas:count=+1") }
        #expect(throws: ToleranceError.self) { try set.apply(commandLineOption: "malloc:size=+1") }
    }

    @Test func systemKeysWarnProgramKeysFail() {
        let before = Self.baseline(["bss:libc.so.6": Self.entry(1, 49152, tier: .system),
                                    "mmap:f@myprog": Self.entry(1, 4096, tier: .program),
                                    "vdso:[vvar] mapped by the kernel at exec": Self.entry(1, 16384, tier: .system)])
        var after = before
        after.processes[0].keys["bss:libc.so.6"]!.counts.mappedBytes += 4096  // another libc
        after.processes[0].keys["vdso:[vvar_vclock] mapped by the kernel at exec"] = Self.entry(1, 4096, tier: .system)  // another kernel
        after.processes[0].regions += 5
        let c = BaselineComparison(baseline: before, current: after, tolerances: ToleranceSet())
        #expect(!c.failed)
        let warned = c.processes[0].rows.filter { !$0.warnings.isEmpty }.map(\.key)
        #expect(Set(warned) == ["bss:libc.so.6", "vdso:[vvar_vclock] mapped by the kernel at exec", "@regions"])
        #expect(ComparisonRenderer.table(c).contains("  warn  grew    system  bss:libc.so.6"))
        #expect(ComparisonRenderer.summary(c).hasPrefix("within tolerance (3 keys of the system"))
        let gated = BaselineComparison(baseline: before, current: after, tolerances: ToleranceSet(), policy: KeyPolicy(gateSystem: true))
        #expect(gated.regressions.count == 3)
        let ignored = BaselineComparison(baseline: before, current: after, tolerances: ToleranceSet(),
                                         policy: KeyPolicy(gateSystem: true, ignore: [try! IgnorePattern("vdso"), try! IgnorePattern("bss:*"), try! IgnorePattern("@*")]))
        #expect(!ignored.failed)
        #expect(ignored.processes[0].rows.filter(\.ignored).count == 6)  // 3 totals, bss, 2 vdso
        // A program key that grows fails; a baseline's stored ignore pattern silences it.
        after.processes[0].keys["mmap:f@myprog"]!.counts.regions = 2
        #expect(BaselineComparison(baseline: before, current: after, tolerances: ToleranceSet()).regressions.map(\.row.key) == ["mmap:f@myprog"])
        var stored = before
        stored.ignore = ["mmap:*"]
        #expect(!BaselineComparison(baseline: stored, current: after, tolerances: ToleranceSet()).failed)
    }

    @Test func rangesOverRuns() throws {
        func run(_ arenas: Int, regions: Int) -> Baseline {
            var keys = ["mmap:f@myprog": Self.entry(1, 4096, rss: UInt64(4096 * arenas), tier: .program)]
            if arenas > 0 { keys["malloc-arena:w@myprog"] = Self.entry(2 * arenas, UInt64(arenas) << 26, tier: .program) }
            return Self.baseline(keys, regions: regions)
        }
        let merged = try BaselineRuns.merge([run(2, regions: 50), run(1, regions: 48), run(0, regions: 46)])
        let p = merged.processes[0]
        #expect(p.keys["malloc-arena:w@myprog"]!.counts == BaselineCounts(regions: 4, mappedBytes: 2 << 26))
        #expect(p.keys["malloc-arena:w@myprog"]!.low == BaselineCounts())  // missing from a run: 0 there
        #expect(p.keys["mmap:f@myprog"]!.low == nil)  // only RSS varied
        #expect(p.regions == 50 && p.totalLows["@regions"] == 46)
        var other = run(1, regions: 1)
        other.processes.append(other.processes[0])
        #expect(throws: BaselineRuns.MergeError.self) { try BaselineRuns.merge([run(1, regions: 1), other]) }

        // Inside the range: no change, not "shrank"; above it: a regression that shows the range.
        let inside = BaselineComparison(baseline: merged, current: run(1, regions: 48), tolerances: ToleranceSet())
        #expect(!inside.failed)
        #expect(inside.processes[0].rows.first { $0.key == "malloc-arena:w@myprog" }!.status == .same)
        #expect(ComparisonRenderer.table(inside, all: true).contains("0..4"))
        let above = BaselineComparison(baseline: merged, current: run(3, regions: 52), tolerances: ToleranceSet())
        let row = above.regressions.first { $0.row.key == "malloc-arena:w@myprog" }!.row
        #expect(row.failures.first == "regions 0..4 → 6 (+2), allowed no growth [count=+0]")
        #expect(ComparisonRenderer.table(above).contains("0..4 → 6 (+2)"))
        // A tolerance adds to the top of the range.
        var t = ToleranceSet()
        t.categories["malloc-arena"] = ToleranceRule([.count: Tolerance(absolute: 2), .bytes: Tolerance(percent: 50)])
        #expect(BaselineComparison(baseline: merged, current: run(3, regions: 50), tolerances: t).regressions.isEmpty)
    }

    @Test func quietUpdateRewritesOnlyWhatGatesOrMovedBeyondTheMargin() throws {
        let before = Self.baseline(["mmap:f@myprog": Self.entry(1, 4096, rss: 20480, tier: .program),
                                    "bss:libc.so.6": Self.entry(1, 49152, rss: 16384, tier: .system),
                                    "file:libc.so.6": Self.entry(5, 1 << 21, rss: 1 << 20, tier: .system),
                                    "malloc-arena:w@myprog": Self.entry(4, 2 << 26, tier: .program, low: BaselineCounts(regions: 2, mappedBytes: 1 << 26)),
                                    "heap:gone@myprog": Self.entry(1, 4096, tier: .program)])
        var now = before
        now.processes[0].keys["mmap:f@myprog"]!.counts = BaselineCounts(regions: 2, mappedBytes: 8192, rssBytes: 24576)  // gated: count, bytes
        now.processes[0].keys["bss:libc.so.6"]!.counts.mappedBytes = 53248  // system, +4 KiB: within the margin
        now.processes[0].keys["file:libc.so.6"]!.counts.mappedBytes = 3 << 20  // system, +1 MiB: beyond it
        now.processes[0].keys["malloc-arena:w@myprog"]!.counts = BaselineCounts(regions: 2, mappedBytes: 1 << 26)  // inside the range
        now.processes[0].keys["malloc-arena:w@myprog"]!.low = nil
        now.processes[0].keys["heap:gone@myprog"] = nil
        now.processes[0].keys["mmap:new@myprog"] = Self.entry(1, 4096, tier: .program)
        now.processes[0].regions = 11  // a total (not gated): within 10%
        now.command = ["myprog", "--fast"]  // the command becomes the one this run ran
        let updated = QuietUpdate.apply(baseline: before, current: now, tolerances: ToleranceSet(), policy: KeyPolicy())
        let keys = updated.processes[0].keys
        #expect(keys["mmap:f@myprog"]!.counts == BaselineCounts(regions: 2, mappedBytes: 8192, rssBytes: 20480))  // rss=off: kept
        #expect(keys["bss:libc.so.6"]!.counts.mappedBytes == 49152)
        #expect(keys["file:libc.so.6"]!.counts.mappedBytes == 3 << 20)
        #expect(keys["malloc-arena:w@myprog"]!.counts.regions == 4 && keys["malloc-arena:w@myprog"]!.low?.regions == 2)
        #expect(keys["heap:gone@myprog"] == nil && keys["mmap:new@myprog"] != nil)
        #expect(updated.processes[0].regions == 10)
        #expect(updated.command == ["myprog", "--fast"])
        // With --gate-system the system's numbers gate, and are rewritten.
        let gated = QuietUpdate.apply(baseline: before, current: now, tolerances: ToleranceSet(), policy: KeyPolicy(gateSystem: true))
        #expect(gated.processes[0].keys["bss:libc.so.6"]!.counts.mappedBytes == 53248)
        #expect(gated.processes[0].regions == 11)
        #expect(try Tolerance.parse(QuietUpdate.defaultMarginSpec) == QuietUpdate.defaultMargin)
        #expect(QuietUpdate.withinMargin(old: 16384, new: 20480, margin: QuietUpdate.defaultMargin))
        #expect(!QuietUpdate.withinMargin(old: 1 << 20, new: (1 << 20) + (200 << 10), margin: QuietUpdate.defaultMargin))
        #expect(!QuietUpdate.withinMargin(old: 10, new: 12, margin: Tolerance(percent: 10)))
    }

    @Test func annotationsJUnitAndSummaryPointAtTheSite() throws {
        let before = Self.baseline(["mmap:f@myprog": Self.entry(1, 4096, tier: .program)])
        var after = before
        var new = Self.entry(1, 8192, tier: .program)
        new.siteFile = "/home/runner/work/app/app/src/pool.c"
        new.siteLine = 42
        new.site = "grow_pool (pool.c:42)"
        new.backtrace = ["(2 frames in libc, ld.so or the allocator)", "grow_pool (pool.c:42)", "main (main.c:7)"]
        after.processes[0].keys["mmap:grow_pool@myprog"] = new
        let c = BaselineComparison(baseline: before, current: after, tolerances: ToleranceSet())
        let inside = ComparisonRenderer.githubAnnotations(c, workspace: "/home/runner/work/app/app")
        #expect(inside.hasPrefix("::error file=src/pool.c,line=42,title=mapblame%3A new mapping site mmap%3Agrow_pool@myprog in myprog::"), "\(inside)")
        let outside = ComparisonRenderer.githubAnnotations(c, workspace: "/elsewhere")
        #expect(outside.hasPrefix("::error title=mapblame%3A new mapping site"), "\(outside)")
        #expect(ComparisonRenderer.githubAnnotations(c).hasPrefix("::error title="))
        #expect(ComparisonRenderer.relative("/w/app/src/a.c", to: "/w/app/") == "src/a.c")
        #expect(ComparisonRenderer.relative("/w/application/a.c", to: "/w/app") == nil)
        #expect(ComparisonRenderer.relative("src/a.c", to: "/w/app") == "src/a.c")
        let junit = ComparisonRenderer.junit(c)
        #expect(junit.contains("type=\"regression\">new: regions 0 → 1 (+1), allowed no growth [count=+0]&#10;"))
        #expect(junit.contains("backtrace (innermost first):&#10;  (2 frames in libc, ld.so or the allocator)&#10;  at grow_pool (pool.c:42)&#10;  at main (main.c:7)</failure>"), "\(junit)")
        let summary = ComparisonRenderer.markdown(c, baselinePath: "ci/base.json")
        #expect(summary.hasPrefix("### mapblame check: ❌ 1 regression (1 new)\n"))
        #expect(summary.contains("| FAIL | new | program | `mmap:grow_pool@myprog` | 0 → 1 (+1) | 0 B → 8 KiB (+8 KiB) | grow_pool (pool.c:42) |"), "\(summary)")
        #expect(summary.contains("<details><summary>mmap:grow_pool@myprog"))
        #expect(ComparisonRenderer.cell("a|b\nc") == "a\\|b c")
        // A CR LF pair is one Character in Swift: escaped all the same, in cells and in commands.
        #expect(ComparisonRenderer.cell("a\r\nb") == "a  b")
        #expect(ComparisonRenderer.data("50%\r\nx") == "50%25%0D%0Ax")
        #expect(ComparisonRenderer.property("a:b,\r\n") == "a%3Ab%2C%0D%0A")
    }

    @Test func baselineFileKeepsTiersRangesIgnoresAndReadsOldFiles() throws {
        var b = Self.baseline(["mmap:f@myprog": Self.entry(3, 12288, tier: .program, low: BaselineCounts(regions: 1, mappedBytes: 4096)),
                               "bss:libc.so.6": Self.entry(1, 49152, tier: .system)])
        b.processes[0].totalLows = ["@regions": 8, "@peak_mappings": 9]
        b.ignore = ["vdso", "file:libnss_*"]
        b.tolerances.categories["malloc-arena"] = ToleranceRule([.count: Tolerance(absolute: 2)])
        let text = BaselineFile.render(b)
        #expect(text.contains("\"mmap:f@myprog\": {\"regions\": 3, \"mapped_bytes\": 12288, \"rss_bytes\": 0, \"low\": {\"regions\": 1, \"mapped_bytes\": 4096, \"rss_bytes\": 0}, \"tier\": \"program\", \"site\": \"s\"}"), "\(text)")
        #expect(text.contains("\"low\": {\"peak_mappings\": 9, \"regions\": 8},"))
        #expect(text.contains("\"ignore\": [\"vdso\", \"file:libnss_*\"],"))
        let back = try BaselineFile.parse(BaselineJSONParser.parse(text))
        #expect(back == b)
        // A baseline written before tiers, ranges and ignore patterns reads as before: no tier.
        let old = """
            {"format": "mapblame-baseline", "version": 1, "command": ["myprog"], "processes": [{"executable": "/x/myprog",
             "regions": 3, "anonymous_regions": 1, "peak_mappings": 4, "categories": {},
             "keys": {"bss:libc.so.6": {"regions": 1, "mapped_bytes": 4096, "rss_bytes": 0, "site": "bss of /usr/lib/libc.so.6"}}}],
             "tolerances": {}}
            """
        let parsed = try BaselineFile.parse(BaselineJSONParser.parse(old))
        #expect(parsed.processes[0].keys["bss:libc.so.6"]!.tier == nil && parsed.ignore.isEmpty && parsed.processes[0].totalLows.isEmpty)
        #expect(throws: BaselineFile.ReadError.self) {
            try BaselineFile.parse(BaselineJSONParser.parse(#"{"format": "mapblame-baseline", "version": 1, "ignore": [3]}"#))
        }
    }
}
