import ArgumentParser
import Glibc
import MapBlame

/// What every tracing command (`run`, `record`, `attach`) shares: backtrace depth and the live
/// progress line.
struct TracingOptions: ParsableArguments {
    @Option(name: .customLong("frames"), help: ArgumentHelp("Most frames per backtrace (0 disables backtraces).", valueName: "N"))
    var frames: Int = 64

    @Flag(name: [.short, .customLong("quiet")], help: "No live progress line on stderr (it is only shown when stderr is a terminal).")
    var quiet = false

    @Flag(name: .customLong("no-python-frames"), help: "Do not read CPython 3.11's frames into the backtraces of Python processes (native frames only).")
    var noPythonFrames = false

    mutating func validate() throws {
        guard (0...1024).contains(frames) else { throw ValidationError("--frames \(frames): give 0 to 1024") }
    }

    /// Runs `body` with `options` taking --frames, and the progress line while it runs when stderr
    /// is a terminal and --quiet was not given.
    func tracing<T, E: Error>(_ options: TraceOptions, _ body: (TraceOptions) throws(E) -> T) throws(E) -> T {
        var options = options
        options.maxFrames = frames
        options.pythonFrames = !noPythonFrames
        let live = ProgressLine.enabled(quiet: quiet)
        if live { options.progress = ProgressLine.start() }
        defer { if live { ProgressLine.stop() } }
        return try body(options)
    }
}

/// How to launch and trace: shared by `run` and `record`.
struct ProgramOptions: ParsableArguments {
    @OptionGroup var tracing: TracingOptions

    @Option(name: .customLong("cpu"), help: ArgumentHelp("Run the tracer and the program on CPU N only: much cheaper stops for mapping-heavy programs, less parallelism for the program (the idle-priority symbol prefetch keeps mapblame's other CPUs).", valueName: "N"))
    var cpu: Int32?

    @Flag(name: .customLong("no-aslr"), help: "Disable address-space randomization for the program (reproducible addresses).")
    var noASLR = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The program to run and its arguments (after --).", valueName: "PROGRAM [ARGS...]"))
    var command: [String] = []

    /// Passthrough capture starts at the first word it does not know: drop a leading `--`, and
    /// reject an option we do not have (or answer --help) instead of running it as a program.
    static func normalizePassthrough(_ command: inout [String]) throws {
        if command.first == "--" {
            command.removeFirst()
        } else if let option = command.first, option.hasPrefix("-") {
            if option == "-h" || option == "--help" { throw CleanExit.helpRequest() }
            throw ValidationError("unknown option '\(option)' (put the program after --)")
        }
    }

    mutating func validate() throws {
        try Self.normalizePassthrough(&command)
        guard !command.isEmpty else { throw ValidationError("no program given: PROGRAM [ARGS...] must follow --") }
        if let cpu, cpu < 0 || cpu >= sysconf(Int32(_SC_NPROCESSORS_ONLN)) {
            throw ValidationError("--cpu \(cpu): this machine has CPUs 0-\(sysconf(Int32(_SC_NPROCESSORS_ONLN)) - 1)")
        }
    }

    /// Records the program into `output` (nil: the default name), with the progress line when wanted
    /// and the options `configure` adds (`ReportOutputs.recording`).
    func record(to output: OutputFile?, configure: (TraceOptions) -> TraceOptions = { $0 }) throws(RecordError) -> RecordResult {
        let options = configure(TraceOptions(disableASLR: noASLR, shieldInterrupts: true, cpu: cpu))
        return try tracing.tracing(options) { (options) throws(RecordError) in
            try Recorder.record(command: command, options: options, to: output)
        }
    }
}

/// How to analyse and what to write: shared by `run` and `report`.
struct AnalysisOptions: ParsableArguments {
    @Flag(name: .customLong("verify"), help: "Compare the model with the kernel's final map page by page, and the recorded categories with explain's evidence; exit 3 on a real mismatch or a label disagreement.")
    var verify = false

    @Flag(name: .customLong("all-events"), help: "List every recorded event in the JSON report, not only those behind today's regions.")
    var allEvents = false

    @Option(name: .customLong("debug-dir"), help: ArgumentHelp("Extra directory to search for separate debug info (repeatable).", valueName: "DIR"))
    var debugDirs: [String] = []

    @OptionGroup var allocators: AllocatorFramesOption

    @Flag(name: .customLong("no-cache"), help: "Neither read nor write the symbol cache ($XDG_CACHE_HOME/mapblame/symbols, else ~/.cache/mapblame/symbols).")
    var noCache = false

    mutating func validate() throws {
        for dir in debugDirs where !FileChecks.isDirectory(dir) {
            throw ValidationError("--debug-dir \(dir): not a directory")
        }
    }

    /// Replays `trace` and joins it: the one path from a trace file to a report.
    /// `symbolizer`: one that already holds symbols (`SymbolPrefetcher.finish`), else a new one.
    func analyse(trace: String, symbolizer: Symbolizer? = nil) throws(TraceReadError) -> Report {
        let symbolizer = symbolizer ?? makeSymbolizer()
        let report = try Pipeline.report(trace: trace, symbolizer: symbolizer, verify: verify, allEvents: allEvents,
                                         allocators: allocators.validated)
        symbolizer.saveCache()
        return report
    }

    func makeSymbolizer() -> Symbolizer {
        let symbolizer = Symbolizer(debugDirectories: debugDirs)
        if !noCache { symbolizer.cache = SymbolCache.standard() }
        return symbolizer
    }

    /// Exits 3 when --verify found a real mismatch, a label disagreement or a process without a
    /// final snapshot (nothing to compare its model with), after the report was written.
    func checkVerification(_ report: Report, programStatus: Int32?) throws {
        let verifications = report.processes.compactMap(\.verification)
        let mismatched = verifications.reduce(0) { $0 + $1.mismatchedPages }
        let labels = verifications.reduce(0) { $0 + ($1.labelDisagreements?.count ?? 0) }
        let unchecked = report.processes.filter { !$0.hasSnapshot }.map { String($0.pid) }
        guard verify && (mismatched > 0 || labels > 0 || !unchecked.isEmpty) else { return }
        var problems: [String] = []
        if mismatched > 0 { problems.append("\(mismatched) pages where the model disagrees with the kernel") }
        if labels > 0 { problems.append("\(labels) label disagreement\(labels == 1 ? "" : "s") with explain's evidence") }
        if !unchecked.isEmpty {
            problems.append("no final snapshot of process\(unchecked.count == 1 ? "" : "es") \(unchecked.joined(separator: ", "))")
        }
        let program = programStatus.map { " (the program itself exited with status \($0))" } ?? ""
        throw CommandFailure("verify: \(problems.joined(separator: "; "))\(program)", status: 3)
    }
}
