import Foundation
import Testing

/// Programs no one here wrote: every anonymous byte of their final map must be explained.
@Suite("mapblame run on real programs")
struct RealProgramTests {
    static func installed(_ program: String) -> Bool {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + program) }
    }

    @Test(arguments: [
        ["python3", "-c", "pass"],
        ["sqlite3", ":memory:", ".quit"],
        ["sh", "-c", "ls /"],
    ])
    func everyAnonymousByteHasAnOrigin(command: [String]) throws {
        try #require(Self.installed(command[0]), "\(command[0]) is not installed")
        let run = try TracedRun(command)
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(!run.report.processes.isEmpty)
        #expect(unattributedAnonymousBytes(run.report) == [])
        #expect(run.report.processes.allSatisfy { $0["snapshot"] as? Bool == true })
    }
}
