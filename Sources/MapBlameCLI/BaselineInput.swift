import ArgumentParser
import Glibc
import MapBlame

/// What `baseline`, `check` and `diff` measure: a program run under trace, or an existing trace
/// file, JSON report or baseline file (recognised by content).
struct BaselineInputOptions: ParsableArguments {
    @Option(name: .customLong("from"), help: ArgumentHelp("Measure FILE instead of running a program: a trace (mapblame record), a JSON report (mapblame run --json) or a baseline.", valueName: "FILE"))
    var from: String?

    @Option(name: .customLong("frames"), help: ArgumentHelp("Most frames per backtrace when running a program.", valueName: "N"))
    var frames: Int = 64

    @Flag(name: .customLong("no-aslr"), help: "Disable address-space randomization for the program.")
    var noASLR = false

    @Option(name: .customLong("debug-dir"), help: ArgumentHelp("Extra directory to search for separate debug info (repeatable).", valueName: "DIR"))
    var debugDirs: [String] = []

    @OptionGroup var allocators: AllocatorFramesOption

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The program to run and its arguments (after --).", valueName: "PROGRAM [ARGS...]"))
    var command: [String] = []

    mutating func validate() throws {
        try ProgramOptions.normalizePassthrough(&command)
        if from != nil && !command.isEmpty { throw ValidationError("give either --from FILE or -- PROGRAM [ARGS...], not both") }
        guard (0...1024).contains(frames) else { throw ValidationError("--frames \(frames): give 0 to 1024") }
        for dir in debugDirs where !FileChecks.isDirectory(dir) { throw ValidationError("--debug-dir \(dir): not a directory") }
    }

    /// Measures `from`, the program, or (`fallbackCommand`) the baseline's own command. Exits 1 with
    /// one line on stderr when the input cannot be read or the program cannot be traced.
    /// `programStdoutToStderr`: an output of mapblame's goes to standard output.
    func measure(fallbackCommand: [String] = [], programStdoutToStderr: Bool = false) throws -> Baseline {
        if let from { return try BaselineLoader.measure(path: from, debugDirs: debugDirs, allocators: allocators.validated) }
        let program = command.isEmpty ? fallbackCommand : command
        guard !program.isEmpty else {
            throw CommandFailure("nothing to measure: give -- PROGRAM [ARGS...] or --from FILE", status: 2)
        }
        var options = TraceOptions(maxFrames: frames, disableASLR: noASLR, shieldInterrupts: true)
        options.programStdoutToStderr = programStdoutToStderr
        let recorded: RecordResult
        do {
            let trace = try OutputFile.temporary(directory: OutputFile.temporaryDirectory, prefix: "mapblame-", suffix: ".trace")
            recorded = try Recorder.record(command: program, options: options, to: trace)
        } catch let error as RecordError {
            throw CommandFailure(error.description, status: error.exitStatus == 1 ? 1 : error.exitStatus)
        } catch {
            throw CommandFailure("\(error)", status: 1)
        }
        defer { unlink(recorded.path) }
        if let failure = recorded.writeFailure { throw CommandFailure(failure.description, status: 1) }
        if recorded.status != .code(0) {
            Diagnostics.writeStderr("mapblame: note: the program exited with status \(recorded.status.shellStatus)\n")
        }
        return try BaselineLoader.fromTrace(recorded.path, debugDirs: debugDirs, allocators: allocators.validated)
    }
}

enum BaselineLoader {
    /// A trace, JSON report or baseline (`Pipeline.baseline(measuring:)`); exit 1 with its one line.
    static func measure(path: String, debugDirs: [String], allocators: AllocatorFrames) throws -> Baseline {
        do {
            return try Pipeline.baseline(measuring: path, symbolizer: Symbolizer(debugDirectories: debugDirs), allocators: allocators)
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
    }

    static func fromTrace(_ path: String, debugDirs: [String], allocators: AllocatorFrames) throws -> Baseline {
        do {
            return try Pipeline.baseline(trace: path, symbolizer: Symbolizer(debugDirectories: debugDirs), allocators: allocators)
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
    }

    /// Reads a baseline or exits with one line and `status` (2 when the baseline is what `check`
    /// compares against: a bad baseline is a usage error, distinct from a regression's 1).
    static func readBaseline(_ path: String, status: Int32 = 1) throws -> Baseline {
        do { return try Pipeline.readBaseline(path) } catch { throw CommandFailure(error.description, status: status) }
    }
}

/// `--tolerance KIND=SPEC`, shared by `check` (and `baseline`, which stores them in the file).
struct ToleranceOptions: ParsableArguments {
    @Option(name: .customLong("tolerance"), help: ArgumentHelp("Allowed growth: count=+N, bytes=+N[KiB|MiB|GiB], bytes=N%, rss=..., combined with a comma (bytes=+64KiB,5%), or off. Repeatable.", valueName: "KIND=SPEC"))
    var tolerances: [String] = []

    func rule() throws -> ToleranceRule {
        var rule = ToleranceRule()
        for t in tolerances {
            do { try rule.apply(option: t) } catch { throw ValidationError("--tolerance \(error.description)") }
        }
        return rule
    }

    mutating func validate() throws { _ = try rule() }
}
