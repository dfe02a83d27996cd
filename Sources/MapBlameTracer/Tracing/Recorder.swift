import Glibc
import MapBlameModel

/// What `Recorder.record` produced.
public struct RecordResult: Sendable {
    /// The program's own exit status.
    public var status: ExitStatus
    public var pid: Int32
    /// The trace file (renamed to its final name if a default name was asked for).
    public var path: String
    public var events: Int
    public var bytes: Int
    /// Set when the trace could not be written completely (disk full...): it holds what was
    /// written before.
    public var writeFailure: TraceWriteError?
}

public enum RecordError: Error, CustomStringConvertible {
    case launch(LaunchError)
    case attach(ExplainError)
    case write(TraceWriteError)

    public var description: String {
        switch self {
        case .launch(let e): return e.description
        case .attach(let e): return e.description
        case .write(let e): return e.description
        }
    }

    public var exitStatus: Int32 {
        switch self {
        case .launch(let e): return e.exitStatus
        case .attach(let e): return e.exitStatus
        case .write: return 1
        }
    }
}

/// Record: run a program under trace, streaming to a trace file.
public enum Recorder {
    /// The default trace name, `mapblame-PROGRAM-PID.trace`, in `directory`.
    public static func defaultPath(program: String, pid: Int32, directory: String = ".") -> String {
        defaultStem(program: program, pid: pid, directory: directory) + ".trace"
    }

    private static func defaultStem(program: String, pid: Int32, directory: String) -> String {
        let base = program.split(separator: "/").last.map(String.init) ?? "program"
        let name = "mapblame-\(base)-\(pid)"
        return directory == "." ? name : "\(directory)/\(name)"
    }

    /// Records `command` into `output` (`OutputFile.open`), or, when it is nil, into the default
    /// name in `directory`, chosen once the program's pid is known and never replacing a file
    /// there (`-2`, `-3`... when the name is taken). A named output takes its place as soon as the
    /// program is found (so a recorder killed later leaves what it wrote); until then a file
    /// already at that name is untouched.
    public static func record(command: [String], options: TraceOptions, to output: OutputFile?,
                              directory: String = ".") throws(RecordError) -> RecordResult {
        let program = command.first ?? ""
        let working: OutputFile
        do {
            _ = try ProgramLocator.locate(program)
            if let output {
                working = output
                try working.publish()
            } else {
                let base = program.split(separator: "/").last.map(String.init) ?? "program"
                working = try OutputFile.temporary(directory: directory, prefix: "mapblame-\(base).partial-", suffix: ".trace", shared: true)
            }
        } catch let error as LaunchError {
            throw .launch(error)
        } catch {
            throw .write(TraceWriteError(output: error as? OutputError ?? OutputError(description: "\(error)"), path: output?.name ?? directory))
        }
        let writer = openWriter(working, command: command, options: options)
        let outcome: (status: ExitStatus, pid: Int32)
        do {
            outcome = try Tracer.run(command: command, options: options, writer: writer)
        } catch {
            working.discard()
            throw .launch(error)
        }
        var failure: TraceWriteError?
        do { try writer.finish() } catch { failure = error }
        if output == nil {
            working.publish(as: defaultStem(program: program, pid: outcome.pid, directory: directory), extension: ".trace")
        }
        return RecordResult(status: outcome.status, pid: outcome.pid, path: working.path ?? working.name,
                            events: writer.eventCount, bytes: writer.bytesWritten, writeFailure: failure)
    }

    /// Records the running process `pid` into `output` (published at once, like `record`'s) until Ctrl-C (SIGINT, SIGTERM, SIGHUP),
    /// `duration` seconds or its exit (`Tracer.attach`). The trace's command is its command line.
    /// `seeds` classifies what exists at attach time (`Explainer.seeds`).
    public static func attach(pid: Int32, options: TraceOptions, follow: Bool, duration: Double?,
                              to output: OutputFile, seeds: (ExplainSnapshot) -> [SeedRegion]) throws(RecordError) -> RecordResult {
        let argv = ProcFile.commandLine(pid)
        // In place once the process is known to exist (a killed tracer leaves what it wrote; a
        // mistyped PID leaves a file already at that name alone).
        if kill(pid, 0) == 0 {
            do { try output.publish() } catch { throw .write(TraceWriteError(output: error, path: output.name)) }
        }
        let writer = openWriter(output, command: argv.isEmpty ? ["pid \(pid)"] : argv, options: options)
        let exit: ExitStatus?
        do {
            exit = try Tracer.attach(pid: pid, options: options, follow: follow, duration: duration, writer: writer, seeds: seeds)
        } catch {
            output.discard()
            throw .attach(error)
        }
        var failure: TraceWriteError?
        do {
            try writer.finish()
            try output.publish()
        } catch let error as TraceWriteError {
            failure = error
        } catch {
            failure = TraceWriteError(output: error as? OutputError ?? OutputError(description: "\(error)"), path: output.name)
        }
        return RecordResult(status: exit ?? .code(0), pid: pid, path: output.path ?? output.name, events: writer.eventCount,
                            bytes: writer.bytesWritten, writeFailure: failure)
    }

    private static func openWriter(_ output: OutputFile, command: [String], options: TraceOptions) -> TraceWriter {
        let writer = TraceWriter(output: output, command: command, maxFrames: options.maxFrames)
        writer.onNewStack = options.newStacks
        writer.moduleHandles = options.moduleHandles ?? ModuleHandles()
        writer.syncsOnFinish = options.syncTrace
        return writer
    }
}
