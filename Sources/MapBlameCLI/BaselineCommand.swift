import ArgumentParser
import MapBlame

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Write a baseline of a program's mappings for `mapblame check` (\(docReference("baseline.md"))).",
        discussion: """
            Runs PROGRAM under trace (or reads --from FILE: a trace, a JSON report or a baseline) and \
            writes, per process, its region counts and, per stable key (category and creating site, \
            e.g. malloc:parse_config@myprog), regions, mapped bytes, RSS and its tier (program: made \
            by the program's own code; system: by the system's libraries, loader and kernel). Keys do \
            not depend on addresses, so a baseline holds across ASLR and machines. --runs N runs the \
            program N times and records each number's range. --tolerance and --ignore values are \
            stored in the file. \(ExitStatuses.baseline)
            """
    )

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The baseline file to write.", valueName: "FILE"))
    var output: String = "mapblame-baseline.json"

    @Option(name: .customLong("runs"), help: ArgumentHelp("Run the program N times and record each number's range (lowest..highest).", valueName: "N"))
    var runs: Int = 1

    @OptionGroup var tolerance: ToleranceOptions
    @OptionGroup var ignore: IgnoreOptions
    @OptionGroup var input: BaselineInputOptions

    mutating func validate() throws {
        try OutputChecks.validate([("--output", output)])
        if input.from == nil && input.command.isEmpty {
            throw ValidationError("nothing to measure: give -- PROGRAM [ARGS...] or --from FILE")
        }
        guard (1...1000).contains(runs) else { throw ValidationError("--runs must be between 1 and 1000, got \(runs)") }
        if runs > 1 && input.from != nil { throw ValidationError("--runs needs a program to run (-- PROGRAM [ARGS...]), not --from") }
    }

    func run() throws {
        var measured: [Baseline] = []
        for _ in 0..<runs { measured.append(try input.measure(programStdoutToStderr: output == "-")) }
        var baseline: Baseline
        do { baseline = try BaselineRuns.merge(measured) } catch { throw CommandFailure(error.description, status: 1) }
        let options = try tolerance.set()
        baseline.tolerances.file = options.commandLine
        baseline.tolerances.categories = options.commandLineCategories
        baseline.ignore = try ignore.parsed().map(\.text)
        do {
            try OutputFile.write(BaselineFile.render(baseline), to: output)
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
        let keys = baseline.processes.reduce(0) { $0 + $1.keys.count }
        let ranged = baseline.processes.reduce(0) { $0 + $1.keys.values.filter { $0.low != nil }.count }
        let runsText = runs == 1 ? "" : ", \(runs) runs, \(ranged) key\(ranged == 1 ? "" : "s") varied"
        Diagnostics.writeStderr("mapblame: baseline written to \(output) (\(baseline.processes.count) process\(baseline.processes.count == 1 ? "" : "es"), \(keys) keys\(runsText))\n")
    }
}
