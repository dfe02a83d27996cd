import ArgumentParser
import MapBlame

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report on a trace file written by `mapblame record` (or `run --trace`).",
        discussion: """
            Produces exactly the reports `run` produces, from the trace alone (no /proc access). A trace \
            cut short (the recorder was killed, the disk filled) is reported up to its last complete \
            record, with a note saying where it stops. \(ExitStatuses.report)
            """
    )

    @Argument(help: ArgumentHelp("The trace file.", valueName: "FILE"))
    var trace: String

    @OptionGroup var outputs: OutputOptions
    @OptionGroup var view: ViewOptions
    @OptionGroup var analysis: AnalysisOptions

    mutating func validate() throws {
        try outputs.validate(command: "report", textOnStandardError: false)
    }

    func run() throws {
        let report: Report
        do {
            report = try analysis.analyse(trace: trace)
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
        let selected = try view.select(report)
        try outputs.write(textOnStandardError: false) { format in
            view.render(selected, format: format, weight: outputs.weight) { TextReporter.render($0, options: view.text) }
        }
        try analysis.checkVerification(report, programStatus: nil)
    }
}
