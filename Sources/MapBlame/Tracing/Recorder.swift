import Glibc

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
        let base = program.split(separator: "/").last.map(String.init) ?? "program"
        let name = "mapblame-\(base)-\(pid).trace"
        return directory == "." ? name : "\(directory)/\(name)"
    }

    /// Records `command` into `path`, or into the default name when `path` is nil (decided once
    /// the program's pid is known).
    public static func record(command: [String], options: TraceOptions, to path: String?,
                              directory: String = ".") throws(RecordError) -> RecordResult {
        let working = path ?? defaultPath(program: ".partial", pid: getpid(), directory: directory)
        let writer = try openWriter(working, command: command, options: options)
        let outcome: (status: ExitStatus, pid: Int32)
        do {
            outcome = try Tracer.run(command: command, options: options, writer: writer)
        } catch {
            unlink(working)
            throw .launch(error)
        }
        var failure: TraceWriteError?
        do { try writer.finish() } catch { failure = error }
        var final = working
        if path == nil {
            final = defaultPath(program: command[0], pid: outcome.pid, directory: directory)
            if rename(working, final) != 0 { final = working }
        }
        return RecordResult(status: outcome.status, pid: outcome.pid, path: final, events: writer.eventCount,
                            bytes: writer.bytesWritten, writeFailure: failure)
    }

    /// Records the running process `pid` into `path` until Ctrl-C (SIGINT, SIGTERM, SIGHUP),
    /// `duration` seconds or its exit (`Tracer.attach`). The trace's command is its command line.
    public static func attach(pid: Int32, options: TraceOptions, follow: Bool, duration: Double?,
                              to path: String) throws(RecordError) -> RecordResult {
        let argv = ProcFile.commandLine(pid)
        let writer = try openWriter(path, command: argv.isEmpty ? ["pid \(pid)"] : argv, options: options)
        let exit: ExitStatus?
        do {
            exit = try Tracer.attach(pid: pid, options: options, follow: follow, duration: duration, writer: writer)
        } catch {
            unlink(path)
            throw .attach(error)
        }
        var failure: TraceWriteError?
        do { try writer.finish() } catch { failure = error }
        return RecordResult(status: exit ?? .code(0), pid: pid, path: path, events: writer.eventCount,
                            bytes: writer.bytesWritten, writeFailure: failure)
    }

    private static func openWriter(_ path: String, command: [String], options: TraceOptions) throws(RecordError) -> TraceWriter {
        do {
            let writer = try TraceWriter(path: path, command: command, maxFrames: options.maxFrames)
            writer.onNewStack = options.newStacks
            writer.syncsOnFinish = options.syncTrace
            return writer
        } catch {
            throw .write(error)
        }
    }
}
