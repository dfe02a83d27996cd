import Testing
@testable import MapBlameAnalysis
import MapBlameModel

/// Inputs that trapped a reader (found by `make fuzz`, or while writing its targets: Fuzz/README.md).
/// Each runs in its own process, so a regression fails one test instead of killing the run.
@Suite("Fuzz regressions: inputs that once trapped")
struct FuzzRegressionTests {
    /// `\ud800\u0041`: a high surrogate followed by an escape that is not a low surrogate made
    /// `low - 0xDC00` underflow. It reads as U+FFFD followed by the second escape.
    @Test func loneHighSurrogateBeforeAnotherEscape() async throws {
        await #expect(processExitsWith: .success) {
            precondition(try! BaselineJSONParser.parse(#""\ud800\u0041""#) == .string("\u{FFFD}A"))
            precondition(try! BaselineJSONParser.parse(#""\ud800\ud800\udc00x""#) == .string("\u{FFFD}\u{10000}x"))
        }
        #expect(try BaselineJSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try BaselineJSONParser.parse(#""\udc00""#) == .string("\u{FFFD}"))
    }

    /// A percentage tolerance of 1e30% made `check` trap converting the allowance to UInt64, and
    /// one of 1e300% made writing the baseline trap converting it to Int for display.
    @Test func hugePercentTolerance() async throws {
        await #expect(processExitsWith: .success) {
            let t = try! Tolerance.parse("1e30%")
            precondition(t.limit(baseline: 1 << 40) == .max && t.allows(baseline: 1, current: .max))
            precondition(t.limit(baseline: 0) == 0)
            let huge = try! Tolerance.parse("1e300%")
            precondition(try! Tolerance.parse(huge.description) == huge)
        }
        #expect(Tolerance(percent: 10).description == "10%")
        #expect(Tolerance(percent: 2.5).description == "2.5%")
    }

    /// A baseline with negative counts (hand-edited) made `check` trap converting them to UInt64.
    @Test func negativeCountsInABaseline() async throws {
        await #expect(processExitsWith: .success) {
            let text = """
                {"format": "mapblame-baseline", "version": 1, "processes": [{"executable": "/bin/x", "regions": -3,
                 "anonymous_regions": -1, "peak_mappings": -2, "categories": {"heap": {"regions": -1}},
                 "keys": {"heap:f@x": {"regions": -4, "mapped_bytes": -5, "site": "f"}}}]}
                """
            let baseline = try! BaselineFile.parse(BaselineJSONParser.parse(text))
            let process = baseline.processes[0]
            precondition(process.regions == 0 && process.anonymousRegions == 0 && process.peakMappings == 0)
            precondition(process.keys["heap:f@x"]?.counts == BaselineCounts())
            let comparison = BaselineComparison(baseline: baseline, current: baseline, tolerances: baseline.tolerances)
            precondition(comparison.regressions.isEmpty)
            _ = ComparisonRenderer.table(comparison, all: true)
        }
    }
}
