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
            kernel.yama.ptrace_scope 0, or root). `mapblame explain PID ADDR...` (or --address) shows only \
            the regions holding those addresses. Regions left unknown end with the command that would \
            name their code. \(ExitStatuses.explain)
            """
    )

    @Argument(help: ArgumentHelp("The process to explain.", valueName: "PID"))
    var pid: String

    @Argument(help: ArgumentHelp("Addresses to explain (as --address): only the regions holding them.", valueName: "ADDR"))
    var addressArguments: [String] = []

    @OptionGroup var outputs: OutputOptions
    @OptionGroup var view: ViewOptions

    mutating func validate() throws {
        guard let n = Int32(pid), n > 0 else { throw ValidationError("PID \(pid): not a process id (a positive number)") }
        for text in addressArguments where AddressFocus.parse(text) == nil {
            throw ValidationError("\(text): not a hexadecimal address (like 0x7faa0461f000 or 7faa0461f000)")
        }
        view.addressTexts += addressArguments
        try outputs.validate(command: "explain", textOnStandardError: false)
    }

    func run() throws {
        let result: (report: Report, stoppedMicroseconds: UInt64)
        do {
            result = try Explainer.explain(pid: Int32(pid)!)
        } catch {
            throw CommandFailure(error.description, status: error.exitStatus)
        }
        let report = try view.select(result.report)
        try outputs.write(textOnStandardError: false) { format in
            view.render(report, format: format, weight: outputs.weight, explain: true) {
                ExplainTextReporter.render($0, stoppedMicroseconds: result.stoppedMicroseconds, options: view.text)
            }
        }
    }
}
