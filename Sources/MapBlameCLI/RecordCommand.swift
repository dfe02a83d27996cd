import ArgumentParser
import MapBlame

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a program under trace and write a trace file; analyse it later with `mapblame report`.",
        discussion: """
            The trace (docs/trace-format.md) is streamed while the program runs and holds everything \
            `report` needs (events, interned backtraces, module build-ids, the final maps and smaps), so \
            it can be reported on another machine or again with other options. Default name: \
            mapblame-PROGRAM-PID.trace in the current directory. \(ExitStatuses.record)
            """
    )

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the trace to FILE (- streams it to standard output; the program's own stdout then goes to stderr).", valueName: "FILE"))
    var output: String?

    @OptionGroup var program: ProgramOptions

    mutating func validate() throws {
        try OutputChecks.validate([("--output", output)])
    }

    func run() throws {
        let recorded: RecordResult
        do {
            let file = try output.map(OutputFile.open)
            recorded = try program.record(to: file) { options in
                var options = options
                options.programStdoutToStderr = output == "-"
                return options
            }
        } catch let error as RecordError {
            throw CommandFailure(error.description, status: error.exitStatus)
        } catch {
            throw CommandFailure("\(error)", status: 1)
        }
        if let failure = recorded.writeFailure {
            throw CommandFailure("\(failure.description) (what was written before is readable)", status: 1)
        }
        let readable = output.map(OutputFile.isRegularFile) ?? true
        Diagnostics.writeStderr("mapblame: trace written to \(output == "-" ? "standard output" : recorded.path) (\(recorded.events) events, "
            + "\(recorded.bytes) bytes)" + (readable ? "; report it with: mapblame report \(recorded.path)" : "") + "\n")
        throw ExitCode(recorded.status.shellStatus)
    }
}
