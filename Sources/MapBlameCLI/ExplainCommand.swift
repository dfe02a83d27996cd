import ArgumentParser
import MapBlame

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Classify every region of an already-running process from evidence, with no history.",
        discussion: """
            Attaches to every thread of PID with PTRACE_SEIZE, stops them with PTRACE_INTERRUPT only \
            long enough to read their stack pointers, /proc/PID/maps and smaps and a few bytes of \
            malloc headers (typically a few milliseconds), then detaches: the process continues \
            exactly as it was (a process that was stopped stays stopped). Each region gets a category, \
            a label, the evidence seen and a confidence (certain or likely): .bss from the ELF program \
            headers of the file mapped just below, thread stacks and their guard pages from the \
            threads' stack pointers, glibc malloc arenas from their heap_info, large mallocs from their \
            mmapped chunk header, [heap]/[stack]/[vdso], shared memory and files by name; the rest is \
            `unknown` with the reason. Unlike `mapblame run`, there are no backtraces: explain does not \
            know which code made a region. Needs permission to ptrace PID (same user and \
            kernel.yama.ptrace_scope 0, or root). Exits 0, 1 if PID cannot be examined, 2 for a usage error.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: ArgumentHelp("The process to explain.", valueName: "PID"))
    var pid: String

    @Option(name: .customLong("format"), help: "Output format: text or json (\(docReference("json-report.md"))).")
    var format: Format = .text

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the report to FILE instead of standard output (-).", valueName: "FILE"))
    var output: String?

    mutating func validate() throws {
        guard let n = Int32(pid), n > 0 else { throw ValidationError("PID must be a positive number, got '\(pid)'") }
        try OutputChecks.validate([("--output", output)])
    }

    func run() throws {
        let result: (report: Report, stoppedMicroseconds: UInt64)
        do {
            result = try Explainer.explain(pid: Int32(pid)!)
        } catch {
            throw CommandFailure(error.description, status: error.exitStatus)
        }
        let text = format == .json ? JSONReporter.render(result.report)
            : ExplainTextReporter.render(result.report, stoppedMicroseconds: result.stoppedMicroseconds)
        do {
            try OutputFile.write(text, to: output ?? "-")
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
    }
}
