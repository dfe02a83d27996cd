/// The stack of a thread created by clone: [stack, stack + size) as passed to clone3, or the top
/// of the stack alone (clone passes only the top).
public struct ThreadStack: Sendable, Equatable {
    public var tid: Int32
    public var lowest: UInt64?
    public var top: UInt64
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
}

/// Everything recorded about one traced process (one thread group).
public struct ProcessRecord: Sendable {
    public var pid: Int32
    public var parentPid: Int32?
    public var executable: String?
    public var exit: ExitStatus?
    public var snapshot: FinalSnapshot?

    public init(pid: Int32, parentPid: Int32?, executable: String?) {
        self.pid = pid
        self.parentPid = parentPid
        self.executable = executable
    }
}

/// What a trace produced: the events, their interned stacks, and the processes.
/// The record layer stops here; symbolization and the join happen at report time.
public struct Recording: Sendable {
    public var command: [String]
    public var events: [MappingEvent] = []
    public var stacks: [[Frame]] = [[]]
    public var processes: [ProcessRecord] = []
    private var stackIndex: [[Frame]: Int] = [[]: 0]

    public init(command: [String]) {
        self.command = command
    }

    /// Interns a stack: each unique stack is stored once. Index 0 is the empty stack.
    public mutating func intern(_ frames: [Frame]) -> Int {
        if let i = stackIndex[frames] { return i }
        stacks.append(frames)
        stackIndex[frames] = stacks.count - 1
        return stacks.count - 1
    }

    public func event(_ id: Int) -> MappingEvent { events[id] }
}
