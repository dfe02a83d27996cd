import Foundation
import Testing

/// An address space of tens of thousands of VMAs (Chromium has thousands per process): the exit
/// snapshot is a record of several MiB, larger than the trace writer's 1 MiB window, and the model
/// still agrees with the kernel page by page. 40,000 pages of alternating protection stay below
/// vm.max_map_count (65530 by default).
@Suite("many mappings")
struct ManyMappingsTests {
    @Test func fortyThousandVMAsVerify() throws {
        let run = try TracedRun([Build.fixture, "many-vmas", "40000"], options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let verify = try #require(run.root["verify"] as? [String: Any])
        #expect(verify["mismatched_pages"] as? Int == 0, "\(verify["mismatches"] ?? "")")
        let start = run.address("vmas")
        let regions = ReportJSON.regions(run.root).filter { hex($0["start"]) >= start && hex($0["start"]) < start + 40000 * 4096 }
        #expect(regions.count == 40000)
        #expect(run.textReport.contains("verify: 0 mismatched pages"))
    }
}
