import Foundation
import MapBlame
import Testing

/// The public Swift API, used the way a project's own tests would: in-process, in parallel with
/// other tests that have children of their own.
@Suite("Swift API")
struct SwiftAPITests {
    @Test func assertsOnCategoriesAndSites() throws {
        let trace = try MappingTrace.run([Build.fixture, "malloc"])
        #expect(trace.status == .code(0))
        #expect(trace.bytes(.malloc, site: "scenario_malloc") >= 1 << 20)
        #expect(trace.origins(.malloc, site: "scenario_malloc").allSatisfy { $0.label.hasPrefix("malloc of ") })
        #expect(!trace.regions(.bss).isEmpty)
        #expect(trace.regions(.unknown).isEmpty)
    }

    @Test func childrenOfTheCallerAreLeftAlone() throws {
        // A child of the test process that exits while the trace runs: its status must reach its
        // own waiter, not the tracer.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sh")
        sleeper.arguments = ["-c", "sleep 0.3; exit 7"]
        try sleeper.run()
        let trace = try MappingTrace.run([Build.fixture, "fork"])
        sleeper.waitUntilExit()
        #expect(sleeper.terminationStatus == 7)
        #expect(trace.report.processes.count == 2)
    }
}
