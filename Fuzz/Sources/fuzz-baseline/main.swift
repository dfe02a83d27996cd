// A baseline file or JSON report (told apart as `--from` does) → BaselineFile.parse, or
// ReportJSONReader.read and Baseline(report:). What is read must render to a baseline file that
// reads back and renders to the same text, and compare (BaselineComparison, ComparisonRenderer).
import FuzzSupport
import MapBlame

fuzzMain { bytes in
    guard let root = try? BaselineJSONParser.parse(String(decoding: bytes, as: UTF8.self)) else { return }
    let baseline: Baseline
    if BaselineFile.isBaseline(root) {
        guard let b = try? BaselineFile.parse(root) else { return }
        baseline = b
    } else {
        guard let report = try? ReportJSONReader.read(root) else { return }
        baseline = Baseline(report: report)
    }
    let text = BaselineFile.render(baseline)
    guard let again = try? BaselineJSONParser.parse(text), let reread = try? BaselineFile.parse(again) else {
        fatalError("a rendered baseline does not read back: \(text)")
    }
    precondition(BaselineFile.render(reread) == text, "baseline round trip changed it: \(text)")
    // `check` and `diff`: against itself and against nothing, both ways, with its own tolerances.
    let empty = Baseline(command: [], processes: [])
    for (a, b) in [(baseline, reread), (baseline, empty), (empty, baseline)] {
        let comparison = BaselineComparison(baseline: a, current: b, tolerances: baseline.tolerances)
        _ = ComparisonRenderer.table(comparison, all: true)
        _ = ComparisonRenderer.summary(comparison)
        _ = ComparisonRenderer.junit(comparison)
        _ = ComparisonRenderer.githubAnnotations(comparison)
    }
}
