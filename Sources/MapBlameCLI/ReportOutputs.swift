import ArgumentParser
import Glibc
import MapBlame

/// Where the reports of a trace just recorded go, and what they show: shared by `run` and
/// `attach`. Every FILE may be `-` for standard output (README "Output files").
struct ReportOutputs: ParsableArguments {
    @OptionGroup var outputs: OutputOptions
    @OptionGroup var view: ViewOptions

    @Option(name: .customLong("trace"), help: ArgumentHelp("Keep the trace in FILE (docs/trace-format.md) for `mapblame report`.", valueName: "FILE"))
    var trace: String?

    mutating func validate() throws {
        try outputs.validate(command: "this command", textOnStandardError: true, others: [("--trace", trace)])
    }

    /// Where the trace is recorded: the --trace file itself when it is a regular file (the reports
    /// read it back), else a temporary file (`temporary`), copied to --trace (standard output, a
    /// FIFO, a device) once recorded, and removed once read.
    func traceFile() throws(OutputError) -> (file: OutputFile, temporary: Bool) {
        if let trace, OutputFile.isRegularFile(trace) { return (try OutputFile.open(trace), false) }
        return (try OutputFile.temporary(directory: OutputFile.temporaryDirectory, prefix: "mapblame-", suffix: ".trace"), true)
    }

    /// Records the trace these reports will read, into `traceFile()`: `record` gets the file and
    /// what to add to its options (`recording`). Exits with one line if that fails. Returns the
    /// result and whether the trace is temporary.
    func record(prefetcher: SymbolPrefetcher,
                _ record: (OutputFile, (TraceOptions) -> TraceOptions) throws(RecordError) -> RecordResult)
        throws -> (recorded: RecordResult, temporary: Bool) {
        do {
            let trace = try traceFile()
            let recorded = try record(trace.file) { recording($0, prefetcher: prefetcher, temporary: trace.temporary) }
            return (recorded, trace.temporary)
        } catch let error as RecordError {
            throw CommandFailure(error.description, status: error.exitStatus)
        } catch {
            throw CommandFailure("\(error)", status: 1)
        }
    }

    /// `options` for recording the trace these reports will read: `prefetcher` told each new stack
    /// and each file mapped as code, no fsync at the end unless --trace keeps the trace in a file
    /// (else it is read once and deleted), and the program's stdout on stderr when one of these
    /// outputs is standard output.
    func recording(_ options: TraceOptions, prefetcher: SymbolPrefetcher, temporary: Bool) -> TraceOptions {
        var options = prefetcher.observing(options)
        options.syncTrace = !temporary
        options.programStdoutToStderr = outputs.usesStandardOutput(textOnStandardError: true) || trace == "-"
        return options
    }

    /// Reports a trace just recorded (`run`, `attach`) with the symbolizer that prefetched its
    /// symbols: every report asked for, then the --verify check. A `temporary` trace is first
    /// copied to --trace if given, and deleted once read. Exits 1 (after the reports) if the trace
    /// could not be written completely.
    func report(_ recorded: RecordResult, temporary: Bool, analysis: AnalysisOptions, symbolizer: Symbolizer,
                programStatus: Int32?) throws {
        if let failure = recorded.writeFailure { Diagnostics.writeStderr("mapblame: \(failure.description)\n") }
        let report: Report
        do {
            defer { if temporary { unlink(recorded.path) } }
            if temporary, let trace { try OutputFile.copy(recorded.path, to: trace) }
            report = try analysis.analyse(trace: recorded.path, symbolizer: symbolizer)
        } catch {
            throw CommandFailure("\(error)", status: 1)
        }
        try write(view.select(report))
        try analysis.checkVerification(report, programStatus: programStatus)
        if recorded.writeFailure != nil { throw ExitCode(1) }
    }

    /// Writes every output asked for; the text one to --output, else to standard error.
    func write(_ report: Report) throws {
        try outputs.write(textOnStandardError: true) { format in
            view.render(report, format: format, weight: outputs.weight) { TextReporter.render($0, options: view.text) }
        }
    }
}
