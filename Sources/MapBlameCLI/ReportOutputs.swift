import ArgumentParser
import Glibc
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

    /// `options` for recording the trace these reports will read: `prefetcher` told each new stack
    /// and each file mapped as code, and no fsync at the end unless --trace keeps the trace (else it
    /// is read once and deleted).
    func recording(_ options: TraceOptions, prefetcher: SymbolPrefetcher) -> TraceOptions {
        var options = prefetcher.observing(options)
        options.syncTrace = trace != nil
        return options
    }

    /// Reports a trace just recorded (`run`, `attach`) with the symbolizer that prefetched its
    /// symbols: every report asked for, then the --verify check. The trace is deleted once read
    /// unless --trace keeps it. Exits 1 (after the reports) if the trace could not be written
    /// completely.
    func report(_ recorded: RecordResult, analysis: AnalysisOptions, symbolizer: Symbolizer, programStatus: Int32?,
                text: (String) -> Void) {
        if let failure = recorded.writeFailure { Diagnostics.writeStderr("mapblame: \(failure.description)\n") }
        let report: Report
        do {
            report = try analysis.analyse(trace: recorded.path, symbolizer: symbolizer)
        } catch {
            if trace == nil { unlink(recorded.path) }
            Diagnostics.fail(error.description, status: 1)
        }
        if trace == nil { unlink(recorded.path) }
        write(report, text: text)
        analysis.checkVerification(report, programStatus: programStatus)
        if recorded.writeFailure != nil { Diagnostics.exitNow(1) }
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
