import CShims
import Glibc

/// Symbolizes the frames of each new stack on a background thread while the program runs, and
/// opens ahead the files it maps as code, so the report that follows a `run` or an `attach` finds
/// most of its symbols done. Opening a module's
/// DWARF is the report's largest fixed cost (libc6-dbg's compressed debug sections are inflated
/// whole); here it overlaps with the program instead of following it.
///
/// The thread runs under SCHED_IDLE, so it only takes CPU time that the program and the tracer
/// leave idle, on the CPUs mapblame was started with (with `--cpu N` too: it does not need to share
/// the program's CPU for cheap stops, as the tracing thread does), and with every signal blocked, so the tracer's own signals (the attach tick, the
/// shielded SIGINT) still reach the tracing thread. It is started by the first stack, after the
/// program was spawned. `finish` stops it between two frames and hands the Symbolizer back: frames
/// not reached yet are symbolized by the report as usual. The symbolizer is only ever used by one
/// thread at a time: the worker until `finish` has joined it, the caller after.
public final class SymbolPrefetcher: @unchecked Sendable {
    private struct Work {
        let path: String
        let fileOffset: UInt64
        let isReturnAddress: Bool
    }

    private let symbolizer: Symbolizer
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `lock`.
    private var pending: [Work] = []
    /// Files mapped as code, opened ahead (`Symbolizer.prepare`) when no frame is waiting: a
    /// program whose first libc frame comes at its exit (a printf's buffer) still finds libc's
    /// DWARF ready. At most `aheadLimit` of them, the first mapped, each once.
    private var ahead: [String] = []
    private var aheadSeen: Set<String> = []
    static let aheadLimit = 64
    private var stopping = false
    /// The worker is symbolizing a batch taken off `pending`.
    private var busy = false
    private var thread: pthread_t?
    /// The CPU mask mapblame had when this was made: the worker's, even once `--cpu` has pinned
    /// the tracing thread (whose mask a new thread would inherit) to the program's CPU.
    private var startMask = cshims_cpu_mask()
    private let hasStartMask: Bool

    /// Frames symbolized and files opened ahead by the worker (read after `finish`).
    public private(set) var prefetched = 0
    public private(set) var prepared = 0

    public init(symbolizer: Symbolizer) {
        self.symbolizer = symbolizer
        hasStartMask = cshims_get_mask(&startMask) == 0
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(lock)
        wake.deallocate()
        lock.deallocate()
    }

    /// `options` with this prefetcher told each new stack and each file mapped as code (after any
    /// observer they already had).
    public func observing(_ options: TraceOptions) -> TraceOptions {
        var observed = options
        let stacks = options.newStacks, code = options.codeMapped
        observed.newStacks = { frames in
            stacks?(frames)
            self.enqueue(frames)
        }
        observed.codeMapped = { path in
            code?(path)
            self.codeMapped(path)
        }
        return observed
    }

    /// Queues the frames of a stack seen for the first time (called by the tracing thread).
    public func enqueue(_ frames: [Frame]) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !stopping else { return }
        for (position, frame) in frames.enumerated() {
            guard let module = frame.module, module.hasPrefix("/") else { continue }
            pending.append(Work(path: module, fileOffset: frame.fileOffset, isReturnAddress: position > 0))
        }
        if thread == nil { startThread() }
        pthread_cond_broadcast(wake)
    }

    /// Queues a file mapped executable, to be opened ahead (called by the tracing thread).
    public func codeMapped(_ path: String) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !stopping, path.hasPrefix("/"), aheadSeen.count < Self.aheadLimit,
              aheadSeen.insert(path).inserted else { return }
        ahead.append(path)
        if thread == nil { startThread() }
        pthread_cond_broadcast(wake)
    }

    /// Stops the worker (after the frame it is on) and returns the symbolizer with what it cached.
    public func finish() -> Symbolizer {
        pthread_mutex_lock(lock)
        stopping = true
        pending.removeAll()
        ahead.removeAll()
        let running = thread
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
        if let running { pthread_join(running, nil) }
        return symbolizer
    }

    /// Whether a worker thread was started (tests).
    var hasWorker: Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return thread != nil
    }

    /// Waits until every queued frame is symbolized (tests).
    func waitUntilIdle() {
        pthread_mutex_lock(lock)
        while (busy || !pending.isEmpty || !ahead.isEmpty) && !stopping { pthread_cond_wait(wake, lock) }
        pthread_mutex_unlock(lock)
    }

    /// With `lock` held. A thread that cannot be created leaves the work to the report.
    private func startThread() {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var created = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&created, nil, { context in
            let prefetcher = Unmanaged<SymbolPrefetcher>.fromOpaque(context!).takeRetainedValue()
            prefetcher.work()
            return nil
        }, context)
        if rc == 0 {
            thread = created
        } else {
            Unmanaged<SymbolPrefetcher>.fromOpaque(context).release()
            stopping = true
            pending.removeAll()
            ahead.removeAll()
        }
    }

    private func work() {
        var idle = sched_param()
        _ = sched_setscheduler(0, Self.schedIdle, &idle)
        if hasStartMask { _ = cshims_set_mask(&startMask) }
        pthread_mutex_lock(lock)
        while true {
            while pending.isEmpty && ahead.isEmpty && !stopping { pthread_cond_wait(wake, lock) }
            if stopping { break }
            if pending.isEmpty {
                let path = ahead.removeFirst()
                busy = true
                pthread_mutex_unlock(lock)
                symbolizer.prepare(path: path)
                prepared += 1
                pthread_mutex_lock(lock)
                busy = false
                pthread_cond_broadcast(wake)
                continue
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            busy = true
            for item in batch {
                pthread_mutex_unlock(lock)
                _ = symbolizer.symbolizeInlined(path: item.path, fileOffset: item.fileOffset,
                                                isReturnAddress: item.isReturnAddress)
                prefetched += 1
                pthread_mutex_lock(lock)
                if stopping { break }
            }
            busy = false
            pthread_cond_broadcast(wake)
        }
        pthread_mutex_unlock(lock)
    }

    /// Linux's SCHED_IDLE (sched.h defines it only with _GNU_SOURCE).
    private static let schedIdle: Int32 = 5
}
