import CShims
import Glibc
import MapBlameModel

/// `mapblame attach PID`: seize a running process, seed the model from its maps with explain's
/// evidence, trace with PTRACE_SYSCALL (a running process cannot be given a seccomp filter), and on
/// Ctrl-C, at the deadline or when the process exits, stop every thread, snapshot and detach.
extension Tracer {
    /// PTRACE_O_* values (linux/ptrace.h): TRACESYSGOOD, TRACEFORK, TRACEVFORK, TRACECLONE,
    /// TRACEEXEC, TRACEEXIT. No EXITKILL: if mapblame dies, the kernel detaches and the process
    /// goes on.
    package static let attachOptions: UInt64 = 0x01 | 0x08 | 0x10 | 0x40
    package static let followForkOptions: UInt64 = 0x02 | 0x04
    /// How often a blocked waitpid is interrupted to look at the deadline and Ctrl-C.
    package static let tickMilliseconds: Int32 = 100
    /// How long the end of a session waits for every thread to stop before detaching anyway.
    package static let drainSeconds = 5.0

    /// Traces the running process `pid` (and, with `follow`, the children it forks meanwhile)
    /// until SIGINT/SIGTERM/SIGHUP, `duration` seconds, or its exit, streaming to `writer`.
    /// Returns the process's exit status if it ended while attached, nil if it runs on. `seeds`
    /// classifies the regions that exist at attach time from the snapshot's evidence (the analysis
    /// layer's `Explainer.seeds`; the tracer knows no words).
    public static func attach(pid: Int32, options: TraceOptions = TraceOptions(), follow: Bool = true,
                              duration: Double? = nil, writer: TraceWriter,
                              seeds: (ExplainSnapshot) -> [SeedRegion]) throws(ExplainError) -> ExitStatus? {
        try ExplainSnapshot.checkProcess(pid)
        guard getpid() != pid else { throw ExplainError(description: "cannot attach to \(pid): that is mapblame itself") }
        let tracer = Tracer(writer: writer, options: options, policy: AttachStops(duration: duration))
        tracer.rootPid = pid
        guard cshims_stop_signals_install(tickMilliseconds) == 0 else {
            throw ExplainError(description: "cannot install signal handlers: \(String(cString: strerror(errno)))")
        }
        defer { cshims_stop_signals_remove() }
        try tracer.seize(pid: pid, ptraceOptions: attachOptions | (follow ? followForkOptions : 0), seeds: seeds)
        tracer.loop()
        return tracer.rootExit
    }

    /// Stops every thread, sets the ptrace options, captures maps and smaps, lets the threads go
    /// on (now traced), then writes the `process` and `attach` records. On failure every thread
    /// is detached again, as it was.
    private func seize(pid: Int32, ptraceOptions: UInt64, seeds: (ExplainSnapshot) -> [SeedRegion]) throws(ExplainError) {
        var freeze = ProcessFreeze(pid: pid)
        let began = ExplainSnapshot.monotonicMicroseconds()
        var snapshot: ExplainSnapshot
        do throws(ExplainError) {
            try freeze.stopAll()
            for thread in freeze.sortedStopped
            where cshims_ptrace(cshims_PTRACE_SETOPTIONS, thread.tid, 0, ptraceOptions) != 0 && errno != ESRCH {
                throw ExplainError(description: "cannot trace \(pid): PTRACE_SETOPTIONS: \(String(cString: strerror(errno)))")
            }
            snapshot = try ExplainSnapshot.capture(pid: pid, stopped: freeze.sortedStopped, began: began)
        } catch {
            freeze.detachAll()
            throw error
        }
        let threads = freeze.handOver()
        let executable = snapshot.executable ?? "pid \(pid)"
        let process = ProcessState(pid: pid, space: newSpace(), executable: executable)
        process.liveTids = Set(threads.map(\.tid))
        if let first = threads.first { adopt(executableOf: first.tid, into: process.space) }
        for thread in threads {
            let task = TaskState(tid: thread.tid, process: process, awaitingInitialStop: false)
            tasks[thread.tid] = task
            if thread.groupStopped {
                Ptrace.listen(thread.tid)  // it was stopped (Ctrl-Z): it stays so until SIGCONT
            } else {
                resume(task, signal: thread.pendingSignal)
            }
        }
        // The threads run again (each stops at its next syscall, which waits for the loop):
        // classify from what was captured while they were stopped.
        snapshot.parseUsage()
        let seeds = seeds(snapshot)
        writer.append(.process(pid: pid, parentPid: nil, space: process.space.id, parentSpace: nil, shares: false,
                               executable: executable, time: writer.elapsed()))
        let id = writer.eventCount
        writer.append(.attach(pid: pid, tid: threads.first?.tid ?? pid, space: process.space.id, executable: executable,
                              maps: snapshot.mapsText, seeds: seeds))
        registerCode(snapshot.maps, pid: process.pid)
        process.space.model.seed(fromExec: snapshot.maps, event: id)
        writer.flush()
    }
}
