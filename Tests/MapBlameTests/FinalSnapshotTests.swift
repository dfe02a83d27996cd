import Foundation
import Testing

/// Every traced process gets its final snapshot (its maps and smaps as it ends), however its last
/// threads go: a group exit from a non-leader thread while threads start and map, the leader
/// leaving first, exec from a non-leader thread. Threads killed by a group exit may leave without
/// an exit stop (Linux 6.x), and a thread created as the group exits may stop before its creator's
/// clone event: LibreOffice's oosplash ended without a snapshot in 3 runs of 10, silently.
/// And `--verify` fails on a process that has none.
@Suite("final snapshots")
struct FinalSnapshotTests {
    @Test func everyProcessEndingInARaceHasItsSnapshot() throws {
        let run = try TracedRun([Build.fixture, "exit-race", "60"], options: ["--verify"])
        #expect(run.finished.values["children"] == "60", "\(run.finished.stderr)")
        #expect(run.report.processes.count == 61)
        let missing = run.report.processes.filter { $0["snapshot"] as? Bool != true }.map { "\($0["pid"] ?? "?")" }
        #expect(missing.isEmpty, "no final snapshot: \(missing)")
        #expect(!run.finished.stderr.contains("no final snapshot"), "\(run.finished.stderr)")
        #expect(!run.textReport.contains("no final snapshot"))
    }

    /// A trace cut before the snapshot record: the report is the model's, the process's first line
    /// says so, and --verify exits 3 naming the process.
    @Test func verifyFailsOnAProcessWithoutSnapshot() throws {
        let dir = try TraceFileTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.trace").path
        let recorded = try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "mmap"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: trace))
        let smaps = try #require(bytes.range(of: Data("Rss:".utf8))?.lowerBound)  // inside the snapshot record
        let cut = dir.appendingPathComponent("cut.trace")
        try bytes.prefix(smaps).write(to: cut)
        let report = try runCommand([Build.mapblame, "report", "--verify", cut.path])
        #expect(report.status == 3, "\(report.stderr)")
        let header = report.stdout.split(separator: "\n").first { $0.hasPrefix("== process") }
        #expect(header?.contains("no final snapshot") == true, "\(header ?? "")")
        #expect(report.stderr.contains("verify: no final snapshot of process "), "\(report.stderr)")
    }
}
