import ArgumentParser
import Glibc
import MapBlame

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare a program's mappings with a baseline; exit 1 on a regression (docs/baseline.md).",
        discussion: """
            Measures PROGRAM (or --from FILE; with neither, the baseline's own command is run again) \
            and compares it key by key with the baseline: a key whose regions, mapped bytes or RSS grew \
            beyond its tolerance, a new key beyond it, a different command or a different set of \
            processes is a regression. Prints what grew, shrank, is new (with its backtrace) or \
            vanished. Tolerances: per key in the baseline file, else --tolerance, else the file's, else \
            count=+0 bytes=+0 rss=off. The table goes to standard error (or -o); --format json writes the comparison as data (docs/comparison-json.md). \(ExitStatuses.check) With GITHUB_ACTIONS=true, every \
            regression is also printed as an ::error annotation.
            """
    )

    @Option(name: .customLong("baseline"), help: ArgumentHelp("The baseline file (mapblame baseline).", valueName: "FILE"))
    var baseline: String

    @OptionGroup var tolerance: ToleranceOptions

    @Flag(name: .customLong("update"), help: "Rewrite the baseline with this run's numbers (its tolerances are kept) and exit 0.")
    var update = false

    @Option(name: .customLong("junit"), help: ArgumentHelp("Write JUnit XML to FILE: one test case per key.", valueName: "FILE"))
    var junit: String?

    @Flag(name: .customLong("all"), help: "List unchanged keys too.")
    var all = false

    @OptionGroup var input: BaselineInputOptions
    @OptionGroup var outputs: OutputOptions

    mutating func validate() throws {
        try outputs.validate(command: "check", formats: [.text, .json], textOnStandardError: true, others: [("--junit", junit)])
        if update { try OutputChecks.validate([("--baseline", baseline)]) }
    }

    func run() throws {
        var expected = try BaselineLoader.readBaseline(baseline, status: 2)
        // Another program altogether is a usage error; the same program with other arguments is
        // compared, and the difference reported as a mismatch (a regression).
        let wanted = BaselineComparison.comparableCommand(expected.command).first
        if !input.command.isEmpty, !update, BaselineComparison.comparableCommand(input.command).first != wanted {
            throw CommandFailure("\(baseline): a baseline for another command (\(expected.command.joined(separator: " "))); "
                + "record one for this command or use --update", status: 2)
        }
        let current = try input.measure(fallbackCommand: expected.command, programStdoutToStderr: true)
        var tolerances = expected.tolerances
        tolerances.commandLine = try tolerance.rule()
        let comparison = BaselineComparison(baseline: expected, current: current, tolerances: tolerances)
        let measured = input.from ?? (input.command.isEmpty ? expected.command : input.command).joined(separator: " ")
        try outputs.write(textOnStandardError: true) { format in
            format == .json ? ComparisonJSON.render(comparison, baseline: baseline, current: measured, check: true)
                : ComparisonRenderer.table(comparison, all: all)
        }
        // Workflow commands are read from standard output.
        if getenv("GITHUB_ACTIONS").map({ String(cString: $0) }) == "true" && !update {
            print(ComparisonRenderer.githubAnnotations(comparison), terminator: "")
        }
        do {
            if let junit { try OutputFile.write(ComparisonRenderer.junit(comparison), to: junit) }
            if update {
                let kept = expected.tolerances
                expected = current
                expected.tolerances = kept
                expected.tolerances.commandLine = ToleranceRule()
                try OutputFile.write(BaselineFile.render(expected), to: baseline)
                Diagnostics.writeStderr("mapblame check: \(ComparisonRenderer.summary(comparison)); baseline \(baseline) updated\n")
                return
            }
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
        Diagnostics.writeStderr("mapblame check: \(ComparisonRenderer.summary(comparison)) against \(baseline)\n")
        if comparison.failed { throw ExitCode(1) }
    }
}
