import Foundation
import Testing

/// Many threads and processes mapping at once, exec from a non-leader thread: no hang, no event
/// lost (the stress calls, recognisable by their 3-page length and their caller map_and_unmap, are
/// counted in the report and must equal what the fixture says it made), and the model still agrees
/// with the kernel.
@Suite("stress")
struct StressTests {
    static let stressLength = "0x3000"

    func stressEvents(_ process: [String: Any]) -> Int {
        (process["events"] as? [[String: Any]] ?? []).filter { e in
            let args = e["args"] as? [String] ?? []
            let name = e["syscall"] as? String
            let functions = (e["stack"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
            return (name == "mmap" || name == "munmap") && args.count > 1 && args[1] == Self.stressLength
                && functions.contains("map_and_unmap")
        }.count
    }

    func expectAgreement(_ run: TracedRun, sourceLocation: SourceLocation = #_sourceLocation) {
        for process in run.report.processes {
            let verify = process["verify"] as? [String: Any]
            #expect(verify?["mismatched_pages"] as? Int == 0, "pid \(process["pid"] ?? ""): \(verify?["mismatches"] ?? "")",
                    sourceLocation: sourceLocation)
        }
        #expect(unattributedAnonymousBytes(run.report) == [], sourceLocation: sourceLocation)
    }

    @Test func sixtyFourThreadsMappingAtOnce() throws {
        let run = try TracedRun([Build.fixture, "threads", "64", "100"], options: ["--verify", "--all-events"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let calls = try #require(run.finished.values["calls"].flatMap { Int($0) })
        #expect(stressEvents(run.root) == calls)
        expectAgreement(run)
    }

    @Test func thirtyTwoProcessesMappingAtOnce() throws {
        let run = try TracedRun([Build.fixture, "forks", "32", "50"], options: ["--verify", "--all-events"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let calls = try #require(run.finished.values["calls"].flatMap { Int($0) })
        #expect(run.report.processes.count == 33)
        #expect(run.report.processes.reduce(0) { $0 + stressEvents($1) } == calls)
        #expect(run.report.processes.allSatisfy { ($0["exit"] as? [String: Any])?["code"] as? Int == 0 })
        expectAgreement(run)
    }

    @Test func execFromANonLeaderThread() throws {
        let run = try TracedRun([Build.fixture, "exec-thread"], options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(run.report.processes.count == 1)
        let origin = try #require(run.origin("mmap"))
        #expect((origin["site"] as? [String: Any])?["function"] as? String == "scenario_mmap")
        expectAgreement(run)
    }
}
