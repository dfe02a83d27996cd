import ArgumentParser
import Glibc
import MapBlame

struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Trace a running process for a while, then attribute every region of its memory map.",
        discussion: """
            Seizes every thread of PID (PTRACE_SEIZE), classifies the regions that already exist as \
            `mapblame explain` does, then traces its mapping syscalls with backtraces, following new \
            threads and (unless --no-follow) the children it forks. A seccomp filter cannot be added to \
            a running process, so every syscall of the process stops twice while attached: a program \
            making many syscalls runs several times slower during the session (not before or after). \
            The session ends on Ctrl-C (or SIGTERM/SIGHUP to mapblame), after --duration seconds, or \
            when the process exits. mapblame then stops every thread, reads maps and smaps, and detaches: \
            the process runs on as before, with its signals and exit status untouched. Regions created \
            while attached get traced origins with backtraces; older ones get explain's evidence. \
            The text report goes to standard error (or -o), like run's; the HTML and folded outputs mark \
            regions older than the attach as such. Unknown regions end with the command that would \
            name their code. Needs permission to ptrace PID (same user and \
            kernel.yama.ptrace_scope 0, or root). \(ExitStatuses.attach)
            """
    )

    @Argument(help: ArgumentHelp("The process to attach to.", valueName: "PID"))
    var pid: String

    @Option(name: .customLong("duration"), help: ArgumentHelp("End the session after DURATION: seconds (30, 2.5) or with a unit (500ms, 2s, 5m, 1h); default: until Ctrl-C or the process exits.", valueName: "DURATION"), transform: SessionDuration.parse)
    var duration: SessionDuration?

    @Flag(name: .customLong("no-follow"), help: "Trace only PID's own threads, not the children it forks while attached.")
    var noFollow = false

    @OptionGroup var tracing: TracingOptions
    @OptionGroup var outputs: ReportOutputs
    @OptionGroup var analysis: AnalysisOptions

    mutating func validate() throws {
        guard let n = Int32(pid), n > 0 else { throw ValidationError("PID \(pid): not a process id (a positive number)") }
    }

    func run() throws {
        let prefetcher = SymbolPrefetcher(symbolizer: analysis.makeSymbolizer())
        let (recorded, temporary) = try outputs.record(prefetcher: prefetcher) { (file, configure) throws(RecordError) in
            try tracing.tracing(configure(TraceOptions())) { (options) throws(RecordError) in
                try Recorder.attach(pid: Int32(pid)!, options: options, follow: !noFollow, duration: duration?.seconds, to: file,
                                    seeds: Explainer.seeds)
            }
        }
        try outputs.report(recorded, temporary: temporary, analysis: analysis, symbolizer: prefetcher.finish(), programStatus: nil)
    }
}
