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
        let tracer = Tracer(writer: writer, options: options)
        tracer.attached = true
        tracer.rootPid = pid
        guard cshims_stop_signals_install(tickMilliseconds) == 0 else {
            throw ExplainError(description: "cannot install signal handlers: \(String(cString: strerror(errno)))")
        }
        defer { cshims_stop_signals_remove() }
        try tracer.seize(pid: pid, ptraceOptions: attachOptions | (follow ? followForkOptions : 0), seeds: seeds)
        tracer.deadline = duration.map { Tracer.now() + $0 }
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

    /// A syscall stop without the seccomp filter: at an entry, mapping and clone-family calls go
    /// the way seccomp stops go in `run`; every other call just continues.
    package func syscallStop(_ task: TaskState) {
        switch Ptrace.syscallStop(task.tid) {
        case .entry(let number, let arch):
            if let abi = SyscallABI(auditArch: arch), TracedSyscall.lookup(number, abi: abi) != nil {
                syscallEntry(task)
            } else {
                resume(task)
            }
        case .exit:
            syscallExit(task)
        case .unknown:
            resume(task)
        }
    }

    /// The session ends: threads waiting for the address space are already stopped; every other
    /// one is interrupted, and each is held at its next stop (a call in flight completes first).
    package func beginDrain() {
        draining = true
        drainDeadline = Tracer.now() + Tracer.drainSeconds
        for task in tasks.values {
            let space = task.process.space
            for waiting in space.waiting { waiting.held = true }
            space.waiting.removeAll()
        }
        for task in tasks.values where !task.held {
            _ = cshims_ptrace(ProcessFreeze.PTRACE_INTERRUPT, task.tid, 0, 0)
        }
    }

    /// Every thread is held (or the drain timed out): snapshot each process that is still alive,
    /// then detach from every thread, handing back the signals they were stopped with.
    package func finishAttach() {
        var seen = Set<Int32>()
        for task in tasks.values where task.held && !task.departed && !task.process.liveTids.isEmpty {
            let process = task.process
            guard seen.insert(process.pid).inserted else { continue }
            let held = tasks.values.filter { $0.process === process && $0.held && !$0.departed }.map(\.tid)
            appendSnapshot(pid: process.pid, from: "/proc/\(process.pid)/task/\(task.tid)", threads: [task.tid] + held.filter { $0 != task.tid })
            writer.append(.detach(pid: process.pid))
        }
        for task in tasks.values {
            if !task.held {
                // Never seen stopped since the drain began: PTRACE_DETACH needs a stop. Try once
                // more; if it still runs, mapblame's exit detaches it.
                _ = cshims_ptrace(ProcessFreeze.PTRACE_INTERRUPT, task.tid, 0, 0)
            }
            _ = cshims_ptrace(cshims_PTRACE_DETACH, task.tid, 0, UInt64(task.detachSignal))
        }
        for tid in unclaimedStops { _ = cshims_ptrace(cshims_PTRACE_DETACH, tid, 0, 0) }
        tasks.removeAll()
        unclaimedStops.removeAll()
        writer.flush()
    }
}
