import Foundation
import Testing

/// `run --verify` on seeded random sequences of mapping calls: the model must describe exactly the
/// address space the kernel shows at exit — zero mismatched pages, every anonymous byte attributed.
/// A failure names the seed; replay it with `mapblame run --verify -- mbfixture random SEED OPS THREADS FORK`.
@Suite("kernel agreement")
struct KernelAgreementTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var seed: Int, ops: Int, threads: Int, fork: Bool
        var testDescription: String { "seed \(seed), \(ops) ops, \(threads) threads\(fork ? ", fork" : "")" }
    }

    static let cases: [Case] = (1...8).map { Case(seed: $0, ops: 600, threads: 1, fork: false) }
        + (9...12).map { Case(seed: $0, ops: 600, threads: 1, fork: true) }
        + (13...16).map { Case(seed: $0, ops: 400, threads: 4, fork: false) }
        + (17...20).map { Case(seed: $0, ops: 400, threads: 8, fork: true) }

    @Test(arguments: cases)
    func randomMappingCallsAgreeWithTheKernel(_ c: Case) throws {
        let run = try TracedRun([Build.fixture, "random", "\(c.seed)", "\(c.ops)", "\(c.threads)", c.fork ? "1" : "0"],
                                options: ["--verify"])
        let replay = "replay: mapblame run --verify -- mbfixture random \(c.seed) \(c.ops) \(c.threads) \(c.fork ? 1 : 0)"
        #expect(run.finished.status == 0, "\(replay)\n\(run.finished.stderr)")
        #expect(run.report.processes.count == (c.fork ? 2 : 1))
        for process in run.report.processes {
            let verify = try #require(process["verify"] as? [String: Any])
            #expect(verify["mismatched_pages"] as? Int == 0, "\(replay)\n\(verify["mismatches"] ?? "")")
            #expect(verify["attributed_anonymous_bytes"] as? Int == verify["anonymous_bytes"] as? Int, "\(replay)")
        }
    }
}
