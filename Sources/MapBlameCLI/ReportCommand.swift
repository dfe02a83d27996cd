import ArgumentParser
import MapBlame

extension FoldedReporter.Weight: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report on a trace file written by `mapblame record` (or `run --trace`).",
        discussion: """
            Produces exactly the reports `run` produces, from the trace alone (no /proc access). A trace \
            cut short (the recorder was killed, the disk filled) is reported up to its last complete \
            record, with a note saying where it stops. Exits 0, 1 if the trace cannot be read (one line \
            naming the file and byte offset), 3 if --verify found a mismatch or a label disagreement.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, html, folded
    }

    @Argument(help: ArgumentHelp("The trace file.", valueName: "FILE"))
    var trace: String

    @Option(name: .customLong("format"), help: "text, json (\(docReference("json-report.md"))), html (one self-contained page) or folded (collapsed stacks for flamegraph.pl, inferno, speedscope).")
    var format: Format = .text

    @Option(name: .customLong("weight"), help: "For --format folded: weigh stacks by mapped bytes, RSS or count.")
    var weight: FoldedReporter.Weight = .bytes

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the report to FILE instead of standard output (-).", valueName: "FILE"))
    var output: String?

    @OptionGroup var analysis: AnalysisOptions

    mutating func validate() throws {
        try OutputChecks.validate([("--output", output)])
    }

    func run() throws {
        let report: Report
        do {
            report = try analysis.analyse(trace: trace)
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
        let text: String
        switch format {
        case .text: text = TextReporter.render(report)
        case .json: text = JSONReporter.render(report)
        case .html: text = HTMLReporter.render(report)
        case .folded: text = FoldedReporter.render(report, weight: weight)
        }
        do {
            try OutputFile.write(text, to: output ?? "-")
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
        try analysis.checkVerification(report, programStatus: nil)
    }
}
