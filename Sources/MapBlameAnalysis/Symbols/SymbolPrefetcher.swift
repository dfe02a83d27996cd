import CShims
import Glibc
import MapBlameModel

/// Symbolizes the frames of each new stack on a background thread while the program runs, and
/// opens ahead the files it maps as code, so the report that follows a `run` or an `attach` finds
/// most of its symbols done. Opening a module's DWARF is the report's largest fixed cost
/// (libc6-dbg's compressed debug sections are inflated whole); here it overlaps with the program
/// instead of following it.
///
/// The thread runs under SCHED_IDLE, so it only takes CPU time that the program and the tracer
/// leave idle; on the CPUs mapblame was started with (with `--cpu N` too: unlike the tracing
/// thread, it gains nothing from sharing the program's CPU); and with every signal blocked, so the
/// tracer's own signals (the attach tick, the shielded SIGINT) still reach the tracing thread. It is
/// started by the first stack or code mapping, after the program was spawned. `finish` stops it
/// after the job it is on and hands the Symbolizer back: frames not reached yet are symbolized by
/// the report as usual. The symbolizer is only ever used by one thread at a time: the worker until
/// `finish` has joined it, the caller after.
public final class SymbolPrefetcher: @unchecked Sendable {
    private struct Frame {
        package let path: String
        package let fileOffset: UInt64
        package let isReturnAddress: Bool
    }

    package let symbolizer: Symbolizer
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `lock`.
    private var pending: [Frame] = []
    /// Files mapped as code, opened ahead (`Symbolizer.prepare`) when no frame is waiting: a
    /// program whose first libc frame comes at its exit (a printf's buffer) still finds libc's
    /// DWARF ready. At most `aheadLimit` of them, the first mapped, each once.
    private var ahead: [String] = []
    private var aheadSeen: Set<String> = []
    package static let aheadLimit = 64
    private var stopping = false
    /// The worker is on a job taken off `pending` or `ahead`.
    private var busy = false
    /// The worker's thread id, once it runs (tests look at its scheduling policy and CPU mask).
    private var workerTID: Int32?
    private var thread: pthread_t?
    /// The CPU mask mapblame had when this was made (nil if unreadable): the worker's, even once
    /// `--cpu` has pinned the tracing thread (whose mask a new thread would inherit).
    private var startMask: cshims_cpu_mask?

    /// Frames symbolized and files opened ahead by the worker (read after `finish`).
    package private(set) var prefetched = 0
    package private(set) var prepared = 0

    public init(symbolizer: Symbolizer) {
        self.symbolizer = symbolizer
        var mask = cshims_cpu_mask()
        if cshims_get_mask(&mask) == 0 { startMask = mask }
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(lock)
        wake.deallocate()
        lock.deallocate()
    }

    /// Queues the frames of a stack seen for the first time (called by the tracing thread).
    public func enqueue(_ frames: [MapBlameModel.Frame]) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !stopping else { return }
        for (position, frame) in frames.enumerated() {
            guard let module = frame.module, module.hasPrefix("/") else { continue }
            pending.append(Frame(path: module, fileOffset: frame.fileOffset, isReturnAddress: position > 0))
        }
        wakeWorker()
    }

    /// Queues a file mapped executable, to be opened ahead (called by the tracing thread).
    public func codeMapped(_ path: String) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !stopping, path.hasPrefix("/"), aheadSeen.count < Self.aheadLimit,
              aheadSeen.insert(path).inserted else { return }
        ahead.append(path)
        wakeWorker()
    }

    /// Stops the worker (after the job it is on) and returns the symbolizer with what it cached.
    public func finish() -> Symbolizer {
        pthread_mutex_lock(lock)
        stop()
        let running = thread
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
        if let running { pthread_join(running, nil) }
        return symbolizer
    }

    /// The worker's thread id, waiting for it to start if one was created (tests).
    package var worker: Int32? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        while thread != nil && workerTID == nil { pthread_cond_wait(wake, lock) }
        return workerTID
    }

    /// Whether a worker thread was started (tests).
    package var hasWorker: Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return thread != nil
    }

    /// Waits until every queued frame is symbolized (tests).
    package func waitUntilIdle() {
        pthread_mutex_lock(lock)
        while (busy || !pending.isEmpty || !ahead.isEmpty) && !stopping { pthread_cond_wait(wake, lock) }
        pthread_mutex_unlock(lock)
    }

    /// With `lock` held: no more jobs, queued ones dropped.
    private func stop() {
        stopping = true
        pending.removeAll()
        ahead.removeAll()
    }

    /// With `lock` held: starts the worker at the first job, else tells it there is one.
    private func wakeWorker() {
        if thread == nil { startThread() }
        pthread_cond_broadcast(wake)
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
            stop()
        }
    }

    /// The worker: one job at a time, the frames of stacks before the files to open ahead, until
    /// `finish`.
    private func work() {
        var idle = sched_param()
        _ = sched_setscheduler(0, Self.schedIdle, &idle)
        if var mask = startMask { _ = cshims_set_mask(&mask) }
        pthread_mutex_lock(lock)
        workerTID = cshims_gettid()
        pthread_cond_broadcast(wake)
        while true {
            while pending.isEmpty && ahead.isEmpty && !stopping { pthread_cond_wait(wake, lock) }
            if stopping { break }
            let frame = pending.popLast()
            let path = frame == nil ? ahead.removeFirst() : nil
            busy = true
            pthread_mutex_unlock(lock)
            if let frame {
                _ = symbolizer.symbolizeInlined(path: frame.path, fileOffset: frame.fileOffset,
                                                isReturnAddress: frame.isReturnAddress)
                prefetched += 1
            } else if let path {
                symbolizer.prepare(path: path)
                prepared += 1
            }
            pthread_mutex_lock(lock)
            busy = false
            pthread_cond_broadcast(wake)
        }
        pthread_mutex_unlock(lock)
    }

    /// Linux's SCHED_IDLE (sched.h defines it only with _GNU_SOURCE).
    private static let schedIdle: Int32 = 5
}
