/// A frame of a backtrace after symbolization.
public struct SymbolizedFrame: Sendable, Hashable {
    public var ip: UInt64
    public var module: String?
    /// The address inside the module's ELF address space (what addr2line takes).
    public var moduleOffset: UInt64
    public var function: String?
    public var file: String?
    public var line: Int?

    package init(ip: UInt64, module: String? = nil, moduleOffset: UInt64, function: String? = nil, file: String? = nil, line: Int? = nil) {
        self.ip = ip
        self.module = module
        self.moduleOffset = moduleOffset
        self.function = function
        self.file = file
        self.line = line
    }
    /// The module file is not the one recorded (its build-id differs, or it is gone): no names are
    /// given rather than wrong ones.
    public var moduleChanged = false
    /// A call the compiler inlined into the next frame: same instruction pointer, its own function
    /// and source location.
    public var inlined = false
    public var kind: FrameKind = .native

    /// "parse_config (config.c:88)", "parse_config", or "libfoo.so+0x1f2a3".
    public var shortDescription: String {
        if let f = function {
            if let file, let line { return "\(f) (\(file.split(separator: "/").last ?? ""):\(line))" }
            return f
        }
        let base = module.map { String($0.split(separator: "/").last ?? "") } ?? "??"
        return "\(base)+0x\(String(moduleOffset, radix: 16))" + (moduleChanged ? " (module changed since recording)" : "")
    }
}

/// A byte range of a final region, with the event that created it.
public struct Origin: Sendable {
    public var range: Range<UInt64>
    /// The creating event, nil when no traced event covers the bytes.
    public var event: Int?
    public var syscall: MappingSyscall?
    public var category: Category
    public var label: String
    /// The first frame outside libc, ld.so and every allocator.
    public var site: SymbolizedFrame?
    /// The allocator that mapped the bytes ("glibc malloc", "ld.so", "jemalloc", "Go runtime",
    /// a function named with --allocator-frames), nil when none did.
    public var allocator: String? = nil
    /// What the origin is, as data (`label` is its words); baseline keys are built from it.
    public var attribution: Attribution

    package init(range: Range<UInt64>, event: Int? = nil, syscall: MappingSyscall? = nil, category: Category, label: String,
                 site: SymbolizedFrame? = nil, allocator: String? = nil, attribution: Attribution? = nil) {
        self.range = range
        self.event = event
        self.syscall = syscall
        self.category = category
        self.label = label
        self.site = site
        self.allocator = allocator
        self.attribution = attribution ?? Attribution(.described(label))
    }
}

/// One line of the final /proc/PID/maps with its attribution.
public struct RegionReport: Sendable {
    public var entry: MapsEntry
    public var usage: SmapsUsage
    public var category: Category
    public var label: String
    public var origins: [Origin]
    /// For regions classified from evidence rather than traced events (`mapblame explain`): what
    /// was seen, and how sure the classification is ("certain", "likely").
    public var evidence: String? = nil
    public var confidence: Confidence? = nil
    /// Each origin's exact resident and swapped bytes (parallel to `origins`), from
    /// /proc/PID/pagemap; nil where it was not read (a file, shared memory, an older trace).
    public var resident: [ResidentBytes]? = nil

    package init(entry: MapsEntry, usage: SmapsUsage, category: Category, label: String, origins: [Origin], evidence: String? = nil, confidence: Confidence? = nil) {
        self.entry = entry
        self.usage = usage
        self.category = category
        self.label = label
        self.origins = origins
        self.evidence = evidence
        self.confidence = confidence
    }
}

public struct EventReport: Sendable {
    public var event: MappingEvent
    public var stack: [SymbolizedFrame]

    package init(event: MappingEvent, stack: [SymbolizedFrame]) {
        self.event = event
        self.stack = stack
    }
}

public struct ProcessReport: Sendable {
    public var pid: Int32
    public var parentPid: Int32?
    public var executable: String?
    public var exit: ExitStatus?
    /// False when the process ended without an exit stop snapshot (regions are then empty).
    public var hasSnapshot: Bool
    public var regions: [RegionReport]
    /// Every event an origin names, in id order.
    public var events: [EventReport]
    /// Model-versus-kernel comparison, when asked for (`--verify`).
    public var verification: Verification?
    /// How many mapping events the tracer recorded for this process (all of them, not only the
    /// ones listed in `events`).
    public var eventsRecorded: Int = 0

    package init(pid: Int32, parentPid: Int32? = nil, executable: String? = nil, exit: ExitStatus? = nil, hasSnapshot: Bool, regions: [RegionReport], events: [EventReport], verification: Verification? = nil, eventsRecorded: Int = 0) {
        self.pid = pid
        self.parentPid = parentPid
        self.executable = executable
        self.exit = exit
        self.hasSnapshot = hasSnapshot
        self.regions = regions
        self.events = events
        self.verification = verification
        self.eventsRecorded = eventsRecorded
    }
    /// `mapblame attach` let it go on running (its regions are as they were at detach).
    public var detached = false
    /// When it was created and ended, ns since the recording started (nil: not recorded).
    public var startTime: UInt64?
    public var exitTime: UInt64?
    /// Its peak of anonymous bytes and of VMAs (empty when the trace was not replayed for them).
    public var peaks: [PeakReport] = []
    /// Its anonymous bytes and VMAs over time (`ProcessHistory.series`).
    public var series: [SpaceMoment] = []
}

/// The result of joining a recording with its final snapshots: what every reporter renders.
public struct Report: Sendable {
    public var command: [String]
    public var processes: [ProcessReport]
    /// Byte offset where the trace was cut short (its writer was killed, the disk filled), if it was.
    public var truncatedAt: Int? = nil
    /// Whether the recording ended cleanly.
    public var complete = true
    /// Recorded by `mapblame attach`: regions older than the attach carry explain's evidence.
    public var attached = false
    /// The build-id of each module file the backtraces point into, by path (hex; from the trace's
    /// module records), for the profiles that name them (`--format pprof`).
    public var buildIDs: [String: String] = [:]

    public init(command: [String], processes: [ProcessReport], truncatedAt: Int? = nil, complete: Bool = true) {
        self.command = command
        self.processes = processes
        self.truncatedAt = truncatedAt
        self.complete = complete
    }
}
