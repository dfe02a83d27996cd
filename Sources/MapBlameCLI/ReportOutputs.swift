import ArgumentParser
import MapBlame

/// Where the reports of a trace just recorded go: shared by `run` and `attach`.
struct ReportOutputs: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the text report to FILE.", valueName: "FILE"))
    var output: String?

    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the JSON report (docs/json-report.md) to FILE.", valueName: "FILE"))
    var json: String?

    @Option(name: .customLong("html"), help: ArgumentHelp("Also write a self-contained HTML report to FILE.", valueName: "FILE"))
    var html: String?

    @Option(name: .customLong("folded"), help: ArgumentHelp("Also write collapsed stacks weighted by mapped bytes to FILE (flamegraph.pl, inferno, speedscope).", valueName: "FILE"))
    var folded: String?

    @Option(name: .customLong("trace"), help: ArgumentHelp("Keep the trace in FILE (docs/trace-format.md) for `mapblame report`.", valueName: "FILE"))
    var trace: String?

    mutating func validate() throws {
        for path in [output, json, html, folded, trace].compactMap({ $0 }) {
            if let problem = FileChecks.outputProblem(path) { throw ValidationError("\(path): \(problem)") }
        }
    }

    /// Writes every report asked for; the text one to --output, else through `text`.
    func write(_ report: Report, text: (String) -> Void) {
        do {
            if let json { try OutputFile.write(JSONReporter.render(report), to: json) }
            if let html { try OutputFile.write(HTMLReporter.render(report), to: html) }
            if let folded { try OutputFile.write(FoldedReporter.render(report), to: folded) }
            let rendered = TextReporter.render(report)
            if let output { try OutputFile.write(rendered, to: output) } else { text(rendered) }
        } catch {
            Diagnostics.fail(error.description, status: 1)
        }
    }
}
