import ArgumentParser
import MapBlame

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program under trace and attribute every region of its final memory map.",
        discussion: """
            The text report goes to stderr (or to --output), so the program's own stdout stays clean. \
            mapblame exits with the program's exit status (128+N if it was killed by signal N), 127 if \
            the program does not exist, 126 if it cannot be executed, 2 for a usage error, 1 if \
            tracing or writing a report failed, and 3 if --verify found the model disagreeing with the kernel.
            """
    )

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the text report to FILE instead of stderr.", valueName: "FILE"))
    var output: String?

    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the JSON report (docs/json-report.md) to FILE.", valueName: "FILE"))
    var json: String?

    @Option(name: .customLong("frames"), help: ArgumentHelp("Most frames per backtrace (0 disables backtraces).", valueName: "N"))
    var frames: Int = 64

    @Flag(name: .customLong("verify"), help: "Compare the model with the kernel's final map page by page; exit 3 on a real mismatch.")
    var verify = false

    @Flag(name: .customLong("no-aslr"), help: "Disable address-space randomization for the program (reproducible addresses).")
    var noASLR = false

    @Option(name: .customLong("debug-dir"), help: ArgumentHelp("Extra directory to search for separate debug info (repeatable).", valueName: "DIR"))
    var debugDirs: [String] = []

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The program to run and its arguments (after --).", valueName: "PROGRAM [ARGS...]"))
    var command: [String] = []

    mutating func validate() throws {
        if command.first == "--" {
            command.removeFirst()
        } else if let option = command.first, option.hasPrefix("-") {
            // Passthrough capture starts at the first unknown word: an option we do not have.
            if option == "-h" || option == "--help" { throw CleanExit.helpRequest(self) }
            throw ValidationError("unknown option '\(option)' (put the program after --)")
        }
        guard !command.isEmpty else { throw ValidationError("no program given: mapblame run [options] -- PROGRAM [ARGS...]") }
        guard (0...1024).contains(frames) else { throw ValidationError("--frames must be between 0 and 1024, got \(frames)") }
        for dir in debugDirs where !FileChecks.isDirectory(dir) {
            throw ValidationError("--debug-dir \(dir): not a directory")
        }
        for path in [output, json].compactMap({ $0 }) {
            if let problem = FileChecks.outputProblem(path) { throw ValidationError("\(path): \(problem)") }
        }
    }

    func run() throws {
        let options = TraceOptions(maxFrames: frames, disableASLR: noASLR, shieldInterrupts: true)
        let recording: Recording, status: ExitStatus
        do {
            (recording, status) = try Tracer.run(command: command, options: options)
        } catch {
            Diagnostics.fail(error.description, status: error.exitStatus)
        }
        var builder = ReportBuilder(recording: recording, symbolizer: Symbolizer(debugDirectories: debugDirs), verify: verify)
        let report = builder.build()
        do {
            if let json { try OutputFile.write(JSONReporter.render(report), to: json) }
            let text = TextReporter.render(report)
            if let output { try OutputFile.write(text, to: output) } else { Diagnostics.writeStderr(text) }
        } catch {
            Diagnostics.fail(error.description, status: 1)
        }
        let mismatched = report.processes.compactMap(\.verification).reduce(0) { $0 + $1.mismatchedPages }
        if verify && mismatched > 0 {
            Diagnostics.fail("verify: \(mismatched) pages where the model disagrees with the kernel "
                + "(the program itself exited with status \(status.shellStatus))", status: 3)
        }
        throw ExitCode(status.shellStatus)
    }
}
