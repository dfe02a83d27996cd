import ArgumentParser
import Glibc
import MapBlame

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program under trace and attribute every region of its final memory map.",
        discussion: """
            Records a trace (as `mapblame record` does, to a temporary file unless --trace names one) \
            and reports it (as `mapblame report` does). The text report goes to stderr (or to \
            --output), so the program's own stdout stays clean. mapblame exits with the program's exit \
            status (128+N if it was killed by signal N), 127 if the program does not exist, 126 if it \
            cannot be executed, 2 for a usage error, 1 if tracing or writing a report failed, and 3 if \
            --verify found the model disagreeing with the kernel.
            """
    )

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the text report to FILE instead of stderr.", valueName: "FILE"))
    var output: String?

    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the JSON report (docs/json-report.md) to FILE.", valueName: "FILE"))
    var json: String?

    @Option(name: .customLong("html"), help: ArgumentHelp("Also write a self-contained HTML report to FILE.", valueName: "FILE"))
    var html: String?

    @Option(name: .customLong("folded"), help: ArgumentHelp("Also write collapsed stacks weighted by mapped bytes to FILE (flamegraph.pl, inferno, speedscope).", valueName: "FILE"))
    var folded: String?

    @Option(name: .customLong("trace"), help: ArgumentHelp("Keep the trace in FILE (docs/trace-format.md) for `mapblame report`.", valueName: "FILE"))
    var trace: String?

    @OptionGroup var analysis: AnalysisOptions
    @OptionGroup var program: ProgramOptions

    mutating func validate() throws {
        for path in [output, json, html, folded, trace].compactMap({ $0 }) {
            if let problem = FileChecks.outputProblem(path) { throw ValidationError("\(path): \(problem)") }
        }
    }

    func run() throws {
        let path = trace ?? TemporaryFile.path(suffix: ".trace")
        let recorded: RecordResult
        do {
            recorded = try program.record(to: path)
        } catch {
            Diagnostics.fail(error.description, status: error.exitStatus)
        }
        defer { if trace == nil { unlink(path) } }
        if let failure = recorded.writeFailure { Diagnostics.writeStderr("mapblame: \(failure.description)\n") }
        let report: Report
        do {
            report = try analysis.analyse(trace: recorded.path)
        } catch {
            Diagnostics.fail(error.description, status: 1)
        }
        do {
            if let json { try OutputFile.write(JSONReporter.render(report), to: json) }
            if let html { try OutputFile.write(HTMLReporter.render(report), to: html) }
            if let folded { try OutputFile.write(FoldedReporter.render(report), to: folded) }
            let text = TextReporter.render(report)
            if let output { try OutputFile.write(text, to: output) } else { Diagnostics.writeStderr(text) }
        } catch {
            Diagnostics.fail(error.description, status: 1)
        }
        analysis.checkVerification(report, programStatus: recorded.status.shellStatus)
        if recorded.writeFailure != nil { Diagnostics.exitNow(1) }
        throw ExitCode(recorded.status.shellStatus)
    }
}

enum TemporaryFile {
    /// A fresh path in $TMPDIR (or /tmp).
    static func path(suffix: String) -> String {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(dir)/mapblame-XXXXXX\(suffix)".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
        if fd >= 0 { close(fd) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
