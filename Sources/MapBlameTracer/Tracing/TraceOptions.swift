import Glibc
import MapBlameModel

/// How to trace.
public struct TraceOptions: Sendable {
    /// Most frames of each backtrace (0 records no backtraces).
    public var maxFrames: Int = 64
    /// Read CPython's frames at each stop of a CPython 3.11 process and put them into its
    /// backtraces (`--no-python-frames` turns it off).
    public var pythonFrames = true
    /// Run the program with ADDR_NO_RANDOMIZE (personality), for reproducible addresses.
    public var disableASLR = false
    /// Ignore SIGINT and SIGQUIT in the tracer while tracing (the program gets them from the terminal
    /// and decides; the tracer survives to write the report). The program itself keeps their default.
    public var shieldInterrupts = false
    /// Run the tracer and the program on this CPU only (tracer and tracee then never wait for a
    /// cross-CPU wake-up; the program loses parallelism).
    public var cpu: Int32?
    /// Put the program in its own process group and wait only for that group, so a tracer inside
    /// a process with other children (a test runner) does not collect their statuses. Traced
    /// descendants that leave the group are then followed by polling.
    public var ownProcessGroup = false
    /// Give the program mapblame's stderr as its stdout too: an output of mapblame's goes to
    /// standard output (`-`), and the program's own output must not mix into it.
    public var programStdoutToStderr = false
    /// Called about five times a second while tracing (from the tracing thread).
    public var progress: (@Sendable (TraceProgress) -> Void)?
    /// Whether the trace file is fsynced when recording ends (false for a temporary trace).
    public var syncTrace = true
    /// Told the frames of each stack recorded for the first time (from the tracing thread):
    /// `SymbolPrefetcher.enqueue`.
    public var newStacks: (@Sendable ([Frame]) -> Void)?
    /// Told the path of each file mapped executable (from the tracing thread):
    /// `SymbolPrefetcher.codeMapped`.
    public var codeMapped: (@Sendable (String) -> Void)?
    /// Where the code files of the traced processes are held open for the report (the symbolizer's,
    /// `SymbolPrefetcher.observing`); the recorder makes its own when nil.
    public var moduleHandles: ModuleHandles?
    /// Told one-line notices for the user (from the tracing thread): a program that loses its
    /// set-id bits or file capabilities (`PrivilegeLoss`). Default: `mapblame: LINE` on stderr.
    public var notice: @Sendable (String) -> Void = { line in
        let bytes = Array("mapblame: \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    public init(maxFrames: Int = 64, disableASLR: Bool = false, shieldInterrupts: Bool = false, cpu: Int32? = nil) {
        self.cpu = cpu
        self.maxFrames = maxFrames
        self.disableASLR = disableASLR
        self.shieldInterrupts = shieldInterrupts
    }
}

/// What the tracer has seen so far, for a live progress line.
public struct TraceProgress: Sendable {
    public var events: Int
    public var processes: Int
    /// Segments in the models of the live address spaces.
    public var mappings: Int
    public var anonymousBytes: UInt64
    public var elapsedSeconds: Double
}
