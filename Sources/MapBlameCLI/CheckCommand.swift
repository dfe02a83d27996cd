import ArgumentParser
import Glibc
import MapBlame

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare a program's mappings with a baseline; exit 1 on a regression (\(docReference("baseline.md"))).",
        discussion: """
            Measures PROGRAM (or --from FILE; with neither, the baseline's own command is run again) \
            and compares it key by key with the baseline: a key of the program's own code whose \
            regions, mapped bytes or RSS grew beyond its recorded range plus tolerance, a new such \
            key, a different command or a different set of processes is a regression. Keys of the \
            system (its libraries' files and .bss, vdso/vvar, the loader's memory, the main stack) \
            and the process totals are reported but gate only with --gate-system. Prints what grew, \
            shrank, is new (with its backtrace) or vanished: on stderr when it runs a program (the \
            program's stdout stays its own), else on stdout, or to -o; --format json writes the \
            comparison as data (\(docReference("comparison-json.md"))). Tolerances: per key in the baseline \
            file, else per category, else --tolerance, else the file's, else count=+0 bytes=+0 \
            rss=off. \(ExitStatuses.check) With GITHUB_ACTIONS=true every regression is \
            also an ::error annotation (file= and line= of its site when inside GITHUB_WORKSPACE), \
            and with GITHUB_STEP_SUMMARY set a Markdown summary is appended to that file.
            """
    )

    @Option(name: .customLong("baseline"), help: ArgumentHelp("The baseline file (mapblame baseline).", valueName: "FILE"))
    var baseline: String = "mapblame-baseline.json"

    @OptionGroup var tolerance: ToleranceOptions
    @OptionGroup var ignore: IgnoreOptions

    @Flag(name: .customLong("gate-system"), help: "Fail on the system's keys and the process totals too, not only on the program's.")
    var gateSystem = false

    @Flag(name: .customLong("update"), help: "Rewrite the baseline with this run's numbers (its tolerances are kept) and exit 0; numbers that are not gated are kept unless they moved beyond --update-margin.")
    var update = false

    @Option(name: .customLong("update-margin"), help: ArgumentHelp("With --update: rewrite a number that is not gated only when it moved by more than SPEC either way (tolerance syntax; counts use its percentage).", valueName: "SPEC"))
    var updateMargin: String = QuietUpdate.defaultMarginSpec

    @Option(name: .customLong("junit"), help: ArgumentHelp("Write JUnit XML to FILE: one test case per key.", valueName: "FILE"))
    var junit: String?

    @Flag(name: .customLong("all"), help: "List unchanged keys too.")
    var all = false

    @OptionGroup var input: BaselineInputOptions
    @OptionGroup var outputs: OutputOptions

    mutating func validate() throws {
        // The table is on standard error when a program runs (its stdout stays its own).
        try outputs.validate(command: "check", formats: [.text, .json], textOnStandardError: input.from == nil,
                             others: [("--junit", junit)])
        if update { try OutputChecks.validate([("--baseline", baseline)]) }
        _ = try margin()
    }

    func margin() throws -> Tolerance {
        do { return try Tolerance.parse(updateMargin) } catch { throw ValidationError("--update-margin \(error.description)") }
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
        // Running a program, its stdout stays its own: the table goes to stderr.
        let runsProgram = input.from == nil
        let current = try input.measure(fallbackCommand: expected.command, programStdoutToStderr: junit == "-")
        var tolerances = expected.tolerances
        let options = try tolerance.set()
        tolerances.commandLine = options.commandLine
        tolerances.commandLineCategories = options.commandLineCategories
        let policy = KeyPolicy(gateSystem: gateSystem, ignore: try ignore.parsed())
        let comparison = BaselineComparison(baseline: expected, current: current, tolerances: tolerances, policy: policy)
        let measured = input.from ?? (input.command.isEmpty ? expected.command : input.command).joined(separator: " ")
        try outputs.write(textOnStandardError: runsProgram) { format in
            format == .json ? ComparisonJSON.render(comparison, baseline: baseline, current: measured, check: true)
                : ComparisonRenderer.table(comparison, all: all)
        }
        // Workflow commands are read from standard output.
        let environment = { (name: String) in getenv(name).map { String(cString: $0) } }
        if environment("GITHUB_ACTIONS") == "true" && !update {
            print(ComparisonRenderer.githubAnnotations(comparison, workspace: environment("GITHUB_WORKSPACE")), terminator: "")
        }
        do {
            if let junit { try OutputFile.write(ComparisonRenderer.junit(comparison), to: junit) }
            if update {
                expected = QuietUpdate.apply(baseline: expected, current: current, tolerances: tolerances, policy: policy,
                                             margin: try margin())
                try OutputFile.write(BaselineFile.render(expected), to: baseline)
                Diagnostics.writeStderr("mapblame check: \(ComparisonRenderer.summary(comparison)); baseline \(baseline) updated\n")
                return
            }
            if let summary = environment("GITHUB_STEP_SUMMARY"), !summary.isEmpty {
                try StepSummary.append(ComparisonRenderer.markdown(comparison, baselinePath: baseline), to: summary)
            }
        } catch let error as OutputError {
            throw CommandFailure(error.description, status: 1)
        }
        Diagnostics.writeStderr("mapblame check: \(ComparisonRenderer.summary(comparison)) against \(baseline)\n")
        if comparison.failed { throw ExitCode(1) }
    }
}

/// GITHUB_STEP_SUMMARY: a file every step of a job appends to; it is never replaced.
enum StepSummary {
    static func append(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw CommandFailure("GITHUB_STEP_SUMMARY \(path): \(String(cString: strerror(errno)))", status: 1)
        }
        defer { close(fd) }
        let error = FileIO.writeAll(fd, Array(text.utf8)[...])
        guard error == 0 else {
            throw CommandFailure("GITHUB_STEP_SUMMARY \(path): \(String(cString: strerror(error)))", status: 1)
        }
    }
}
