import ArgumentParser
import MapBlame

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Write a baseline of a program's mappings for `mapblame check` (docs/baseline.md).",
        discussion: """
            Runs PROGRAM under trace (or reads --from FILE: a trace, a JSON report or a baseline) and \
            writes, per process, its region counts and, per stable key (category and creating site, \
            e.g. malloc:parse_config@myprog), regions, mapped bytes and RSS. Keys do not depend on \
            addresses, so a baseline holds across ASLR and machines. --tolerance values are stored in \
            the file. \(ExitStatuses.baseline)
            """
    )

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The baseline file to write.", valueName: "FILE"))
    var output: String = "mapblame-baseline.json"

    @OptionGroup var tolerance: ToleranceOptions
    @OptionGroup var input: BaselineInputOptions

    mutating func validate() throws {
        try OutputChecks.validate([("--output", output)])
        if input.from == nil && input.command.isEmpty {
            throw ValidationError("nothing to measure: give -- PROGRAM [ARGS...] or --from FILE")
        }
    }

    func run() throws {
        var baseline = try input.measure(programStdoutToStderr: output == "-")
        baseline.tolerances.file = try tolerance.rule()
        do {
            try OutputFile.write(BaselineFile.render(baseline), to: output)
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
        let keys = baseline.processes.reduce(0) { $0 + $1.keys.count }
        Diagnostics.writeStderr("mapblame: baseline written to \(output) (\(baseline.processes.count) process\(baseline.processes.count == 1 ? "" : "es"), \(keys) keys)\n")
    }
}
