import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlame

/// A baseline made on one machine, checked on another (docs/baseline.md, "Two tiers"), and a
/// program whose arena count varies from run to run ("Numbers that vary"): real runs of mbfixture.
@Suite("portable baselines", .serialized)
struct CIPortabilityTests {
    static func parse(_ path: String) throws -> Baseline {
        try BaselineFile.parse(BaselineJSONParser.parse(String(contentsOfFile: path, encoding: .utf8)))
    }

    /// Whether a line of the table starts with these words (columns), in order.
    static func row(_ table: String, _ words: [String]) -> Bool {
        table.split(separator: "\n").contains { line in
            let columns = line.split(separator: " ").map(String.init)
            return columns.prefix(3) == words.prefix(3)[...] && line.contains(" " + words[3] + " ")
        }
    }

    /// The baseline edited as another machine's would differ — a kernel with [vvar_vclock], a libc
    /// whose .bss is 4 KiB smaller, a library this machine does not load, other totals — passes;
    /// with --gate-system it does not; a new site in the program's own code fails with an
    /// annotation on its line of the fixture's source.
    @Test func aBaselineFromAnotherMachinePassesAndANewSiteOfTheProgramFails() throws {
        let dir = try TempDir()
        let file = dir.path("mapblame-baseline.json")
        let made = try runCommand([Build.mapblame, "baseline", "-o", file, "--", Build.fixture, "mmap"])
        try #require(made.status == 0, "\(made.stderr)")
        var b = try Self.parse(file)
        let keys = b.processes[0].keys
        #expect(keys["mmap:scenario_mmap@mbfixture"]?.tier == .program)
        #expect(keys["file:mbfixture"]?.tier == .program && keys["bss:mbfixture"]?.tier == .program)
        #expect(keys["bss:libc.so.6"]?.tier == .system && keys["file:libc.so.6"]?.tier == .system)
        let kernel = keys.keys.filter { $0.hasPrefix("vdso:") }
        #expect(!kernel.isEmpty && kernel.allSatisfy { keys[$0]?.tier == .system }, "\(kernel)")
        #expect(keys.first { $0.key.hasPrefix("stack:stack of the main thread") }?.value.tier == .system)

        // Another machine: its kernel has one kernel mapping this one lacks, and lacks one this one has.
        b.processes[0].keys["vdso:[vvar_vclock] mapped by the kernel at exec"] = BaselineKeyEntry(
            counts: BaselineCounts(regions: 1, mappedBytes: 4096), site: "[vvar_vclock] mapped by the kernel at exec", tier: .system)
        b.processes[0].keys[kernel.sorted().first!] = nil
        b.processes[0].keys["bss:libc.so.6"]!.counts.mappedBytes -= 4096  // its libc is smaller
        b.processes[0].keys["file:libc.so.6"]!.counts.regions -= 1
        b.processes[0].keys["file:libnss_files.so.2"] = BaselineKeyEntry(counts: BaselineCounts(regions: 4, mappedBytes: 65536),
                                                                          site: "/lib/libnss_files.so.2", tier: .system)
        b.processes[0].regions -= 3
        b.processes[0].anonymousRegions -= 2
        try BaselineFile.render(b).write(toFile: file, atomically: true, encoding: .utf8)

        // `check` finds mapblame-baseline.json in its working directory by default.
        let passed = try runCommandIn(dir.url.path, [Build.mapblame, "check", "--", Build.fixture, "mmap"])
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(Self.row(passed.stderr, ["warn", "grew", "system", "bss:libc.so.6"]), "\(passed.stderr)")
        #expect(Self.row(passed.stderr, ["warn", "new", "system", "vdso:" + kernel.sorted().first!.dropFirst(5)]), "\(passed.stderr)")
        #expect(passed.stderr.contains("within tolerance (") && passed.stderr.contains("against mapblame-baseline.json"))
        #expect(passed.stdout.hasPrefix("mmap=0x"))  // the program's stdout is its own
        let strict = try runCommandIn(dir.url.path, [Build.mapblame, "check", "--gate-system", "--", Build.fixture, "mmap"])
        #expect(strict.status == 1, "\(strict.stderr)")
        #expect(Self.row(strict.stderr, ["FAIL", "grew", "system", "bss:libc.so.6"]), "\(strict.stderr)")
        let ignored = try runCommandIn(dir.url.path, [Build.mapblame, "check", "--gate-system", "--ignore", "vdso", "--ignore", "bss:libc*",
                                                      "--ignore", "file:*", "--ignore", "@*", "--", Build.fixture, "mmap"])
        #expect(ignored.status == 0, "\(ignored.stderr)")

        // A new site in the program's own code: exit 1, and an annotation on its line.
        var env = ProcessInfo.processInfo.environment
        env["MBFIXTURE_EXTRA_SITE"] = "1"
        env["GITHUB_ACTIONS"] = "true"
        env["GITHUB_WORKSPACE"] = Build.packageRoot
        env["GITHUB_STEP_SUMMARY"] = dir.path("summary.md")
        try "previous step\n".write(toFile: dir.path("summary.md"), atomically: true, encoding: .utf8)
        let failed = try runCommandIn(dir.url.path, [Build.mapblame, "check", "--junit", dir.path("junit.xml"), "--", Build.fixture, "mmap"],
                                      environment: env)
        #expect(failed.status == 1, "\(failed.stderr)")
        let line = try #require(SiteMarkers.lines["extra"])
        let annotations = failed.stdout.split(separator: "\n").filter { $0.hasPrefix("::error") }
        #expect(annotations.count == 1, "\(failed.stdout)")
        #expect(annotations.first?.hasPrefix("::error file=Sources/Fixtures/mbfixture/main.c,line=\(line),title=mapblame%3A new mapping site mmap%3Aextra_mapping@mbfixture") == true,
                "\(annotations)")
        let junit = try String(contentsOfFile: dir.path("junit.xml"), encoding: .utf8)
        #expect(junit.contains("at extra_mapping (main.c:\(line))&#10;  at scenario_mmap (main.c:"), "\(junit)")
        let summary = try String(contentsOfFile: dir.path("summary.md"), encoding: .utf8)
        #expect(summary.hasPrefix("previous step\n### mapblame check: ❌ 1 regression (1 new)"), "\(summary)")
        #expect(summary.contains("| FAIL | new | program | `mmap:extra_mapping@mbfixture` |"))
    }

    /// What `baseline` stores (ignore patterns, per-category tolerances) and the usage errors of
    /// the new options: one line, exit 2.
    @Test func storedPatternsAndUsageErrors() throws {
        let dir = try TempDir()
        let file = dir.path("b.json")
        let made = try runCommand([Build.mapblame, "baseline", "-o", file, "--ignore", "vdso", "--ignore", "file:libnss_*",
                                   "--tolerance", "malloc-arena:count=+2", "--tolerance", "bytes=5%", "--", Build.fixture, "mmap"])
        try #require(made.status == 0, "\(made.stderr)")
        let b = try Self.parse(file)
        #expect(b.ignore == ["vdso", "file:libnss_*"])
        #expect(b.tolerances.categories["malloc-arena"]?[.count] == Tolerance(absolute: 2))
        #expect(b.tolerances.file[.bytes] == Tolerance(percent: 5))
        for arguments in [["baseline", "--runs", "0", "--", Build.fixture, "mmap"],
                          ["baseline", "--runs", "3", "--from", file],
                          ["baseline", "--ignore", "file:[x", "--", Build.fixture, "mmap"],
                          ["check", "--baseline", file, "--ignore", "", "--", Build.fixture, "mmap"],
                          ["check", "--baseline", file, "--tolerance", "arenas:count=+1", "--", Build.fixture, "mmap"],
                          ["check", "--baseline", file, "--update-margin", "lots", "--", Build.fixture, "mmap"],
                          ["check", "--baseline", dir.path("missing.json"), "--", Build.fixture, "mmap"]] {
            let r = try runCommand([Build.mapblame] + arguments)
            #expect(r.status == 2, "\(arguments): \(r.status) \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
        }
    }

    /// `baseline --runs 5` of a program whose arena count varies with thread timing: twenty checks
    /// pass with no tolerance at all; the range is in the file and, when seen, in the table.
    @Test func rangesOfFiveRunsGiveNoFalseFailureInTwentyChecks() throws {
        let dir = try TempDir()
        let file = dir.path("b.json")
        let made = try runCommand([Build.mapblame, "baseline", "--runs", "5", "-o", file, "--", Build.fixture, "arenas-vary"])
        try #require(made.status == 0, "\(made.stderr)")
        #expect(made.stderr.contains("5 runs"), "\(made.stderr)")
        let b = try Self.parse(file)
        let arena = try #require(b.processes[0].keys["malloc-arena:vary_worker@mbfixture"])
        // One arena (2 regions: its heap and the reserve above it) or two.
        #expect([2, 4].contains(arena.counts.regions) && [nil, 2].contains(arena.low?.regions), "\(arena)")
        var arenaCounts: [Int] = [arena.counts.regions] + (arena.low.map { [$0.regions] } ?? [])
        var failures: [String] = []
        for _ in 0..<20 {
            let check = try runCommand([Build.mapblame, "check", "--baseline", file, "--all", "--", Build.fixture, "arenas-vary"])
            if check.status != 0 { failures.append(check.stderr) }
            if let row = check.stderr.split(separator: "\n").first(where: { $0.contains("malloc-arena:vary_worker@mbfixture") }) {
                if row.contains("2..4") { #expect(arena.low != nil) }
                if row.contains("→ 2") || row.contains("  2  ") { arenaCounts.append(2) } else { arenaCounts.append(4) }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) false failures: \(failures.first ?? "")")
        // Written for the log: how much the count really varied over these 25 runs.
        print("arenas-vary: malloc-arena regions seen \(arenaCounts.sorted())")
    }
}

/// `runCommand` with a working directory.
func runCommandIn(_ directory: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Finished {
    try runCommand(["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + arguments, environment: environment)
}
