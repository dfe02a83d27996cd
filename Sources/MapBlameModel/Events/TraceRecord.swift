/// The records of a trace file (docs/trace-format.md). The tracer writes them as things happen;
/// `TraceReplayer` reads them back in order to rebuild every process's address space.
public enum TraceRecord: Equatable, Sendable {
    /// First record: format version, the traced command and recording options.
    case header(version: Int, command: [String], maxFrames: Int, startTime: UInt64)
    /// A module file, written the first time a frame points into it.
    case module(id: Int, path: String, size: UInt64, mtime: UInt64, inode: UInt64, buildID: String)
    /// A unique backtrace, written the first time it is seen.
    case stack(id: Int, frames: [StackFrame])
    /// A new process. `space` names its address space: a fork gets a copy of `parentSpace`, a
    /// vfork or clone(CLONE_VM) child shares it (`shares`), the launched program starts empty.
    /// `time`: when (ns since the recording started, CLOCK_MONOTONIC); nil in older traces.
    case process(pid: Int32, parentPid: Int32?, space: Int, parentSpace: Int?, shares: Bool, executable: String, time: UInt64? = nil)
    /// execve: the process gets a new address space `space`, seeded from /proc/PID/maps. Takes the
    /// next event id.
    case exec(pid: Int32, tid: Int32, space: Int, executable: String, maps: String, time: UInt64? = nil)
    /// `mapblame attach` seized the running process `pid`: its address space `space` is seeded from
    /// /proc/PID/maps as it was then, and `seeds` say what explain's evidence made of each range.
    /// Takes the next event id, as exec does.
    case attach(pid: Int32, tid: Int32, space: Int, executable: String, maps: String, seeds: [SeedRegion])
    /// `mapblame attach` let the process go on (after its snapshot record); it was still running.
    case detach(pid: Int32)
    /// A mapping syscall with its result. Takes the next event id.
    case event(MappingEvent)
    /// A thread created with clone(CLONE_THREAD) and its stack.
    case thread(pid: Int32, tid: Int32, stackLow: UInt64?, stackTop: UInt64)
    /// /proc/PID/maps and smaps at the last thread's exit stop.
    case snapshot(pid: Int32, maps: String, smaps: String)
    /// Evidence read with the snapshot before it (threads' registers, malloc's headers): what
    /// `--verify` classifies the snapshot from, as `explain` would.
    case evidence(pid: Int32, SnapshotEvidence)
    /// Which pages of each private anonymous region of the snapshot before it were resident or
    /// swapped (/proc/PID/pagemap): every origin's exact resident bytes.
    case residency(pid: Int32, [PageResidency])
    /// How the process ended.
    case exit(pid: Int32, status: ExitStatus, time: UInt64? = nil)
    /// The process's perf map (names of its JIT code), read with its snapshot.
    case perfMap(pid: Int32, symbols: [JitSymbol])
    /// Clean end of the recording.
    case end(events: Int)
}

extension TraceRecord {
    /// Events, execs and attaches are numbered in file order: each takes the next event id.
    package var takesEventID: Bool {
        switch self {
        case .event, .exec, .attach: return true
        default: return false
        }
    }
}

/// A frame as stored in the trace: the module is an id of a `module` record.
public struct StackFrame: Equatable, Hashable, Sendable {
    public var ip: UInt64
    public var module: Int?
    public var fileOffset: UInt64
    /// A Python frame (written in a record of type 16, `TraceCodec`).
    public var python: PythonFrame?

    package init(ip: UInt64, module: Int? = nil, fileOffset: UInt64, python: PythonFrame? = nil) {
        self.ip = ip
        self.module = module
        self.fileOffset = fileOffset
        self.python = python
    }
}
