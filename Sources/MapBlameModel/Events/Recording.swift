/// The stack of a thread created by clone: [stack, stack + size) as passed to clone3, or the top
/// of the stack alone (clone passes only the top).
public struct ThreadStack: Sendable, Equatable {
    public var tid: Int32
    public var lowest: UInt64?
    public var top: UInt64
    /// The event whose bytes held the top of the stack when the thread was created: the mapping the
    /// stack is in. (Matching a stack against the range a call once mapped instead would let a
    /// stack placed in a trimmed-off part of an earlier reservation claim that reservation.)
    public var creator: Int?

    public init(tid: Int32, lowest: UInt64?, top: UInt64, creator: Int? = nil) {
        self.tid = tid
        self.lowest = lowest
        self.top = top
        self.creator = creator
    }
}

/// The final state of one traced process, taken at its last PTRACE_EVENT_EXIT stop.
public struct FinalSnapshot: Sendable {
    /// /proc/PID/maps at the exit stop.
    public var maps: [MapsEntry]
    /// /proc/PID/smaps usage by region start.
    public var usage: [UInt64: SmapsUsage]
    /// The model at the same moment.
    public var model: AddressSpace
    /// Threads the process created (for naming thread stacks).
    public var threadStacks: [ThreadStack]
    /// True when the process ended without a snapshot in the trace (cut short): `maps` is then the
    /// model's own view, not the kernel's.
    public var fromModel = false
    /// What explain's evidence looked like at the snapshot (nil in traces written before it was
    /// recorded, or when the process could not be read).
    public var evidence: SnapshotEvidence? = nil
    /// Which pages of each private anonymous region were resident or swapped, by region start
    /// (/proc/PID/pagemap; empty in traces written before it was recorded).
    public var residency: [UInt64: PageResidency] = [:]

    package init(maps: [MapsEntry], usage: [UInt64: SmapsUsage], model: AddressSpace, threadStacks: [ThreadStack], evidence: SnapshotEvidence? = nil,
                 fromModel: Bool = false) {
        self.maps = maps
        self.usage = usage
        self.model = model
        self.threadStacks = threadStacks
        self.evidence = evidence
        self.fromModel = fromModel
    }
}

/// Everything recorded about one traced process (one thread group).
public struct ProcessRecord: Sendable {
    public var pid: Int32
    public var parentPid: Int32?
    public var executable: String?
    public var exit: ExitStatus?
    public var snapshot: FinalSnapshot?
    /// `mapblame attach` detached from it while it was still running.
    public var detached = false
    /// Its perf map, in file order (empty: it wrote none).
    public var jitSymbols: [JitSymbol] = []
    /// When it was created and when it ended, in ns since the recording started (nil in traces
    /// written before timestamps).
    public var startTime: UInt64?
    public var exitTime: UInt64?
    /// Its peaks and a series of moments, from the replay (nil when not replayed with history).
    public var history: ProcessHistory?

    public init(pid: Int32, parentPid: Int32?, executable: String?) {
        self.pid = pid
        self.parentPid = parentPid
        self.executable = executable
    }
}

/// A module file as it was when recorded (to tell whether it changed on disk since).
public struct ModuleInfo: Sendable, Equatable {
    public var path: String
    public var size: UInt64
    public var mtime: UInt64
    public var inode: UInt64
    public var buildID: String

    package init(path: String, size: UInt64, mtime: UInt64, inode: UInt64, buildID: String) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.inode = inode
        self.buildID = buildID
    }
}

/// A trace replayed: the events, their interned stacks, the modules, and each process with its
/// final snapshot and the model rebuilt at that moment. The input of the join.
public struct Recording: Sendable {
    public var command: [String]
    /// Events by id: all of them when the replay was asked to keep them all, otherwise only those
    /// an address space still refers to (what the reports name), so memory does not grow with
    /// the length of the trace.
    public var events: [Int: MappingEvent] = [:]
    /// Whether `events` holds every recorded event.
    public var keepsAllEvents = false
    /// Mapping events recorded per pid (exec events not counted), whether kept or not.
    public var eventCounts: [Int32: Int] = [:]
    /// Index 0 is the empty stack.
    public var stacks: [[Frame]] = [[]]
    public var modules: [ModuleInfo] = []
    public var processes: [ProcessRecord] = []
    /// Where the trace was cut short (byte offset of its incomplete last record), if it was.
    public var truncatedAt: Int?
    /// Whether the recording ended cleanly (its end record was read).
    public var complete = true
    /// For `mapblame attach`: what each attach pseudo-event (by event id) found already mapped.
    public var seeds: [Int: [SeedRegion]] = [:]
    /// The trace was recorded by `mapblame attach` (the command is the process's command line).
    public var attached: Bool { !seeds.isEmpty }

    public init(command: [String]) {
        self.command = command
    }

    /// A kept event (every event an address space refers to is kept).
    public func event(_ id: Int) -> MappingEvent { events[id]! }
}
