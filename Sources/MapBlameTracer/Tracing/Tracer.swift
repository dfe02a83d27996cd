import CShims
import Glibc
import MapBlameModel

/// Launches a program under ptrace with the seccomp filter (or attaches to a running one) and
/// records every mapping syscall of it and its threads and children until all of them are gone
/// (or the attach session ends). A small loop: wait for a stop, classify it, act, resume; how
/// threads stop and go on is its `StopPolicy`'s business. Thread-bound: ptrace requests only
/// work from the thread that launched the tracee, so `run` is synchronous and the type is not
/// Sendable.
public final class Tracer {
    package let writer: TraceWriter
    package var nextSpaceID = 0
    package let options: TraceOptions
    package var tasks: [Int32: TaskState] = [:]
    /// Stops of new tasks that arrived before their parent's clone/fork event.
    package var unclaimedStops: Set<Int32> = []
    package var rootPid: Int32 = 0
    package var launchPipe: Int32 = -1
    /// SIGINT and SIGQUIT as they were before the launch ignored them (`shieldInterrupts`).
    package var shieldedInterrupts: (sigaction, sigaction)?
    package var rootExit: ExitStatus?
    /// How threads stop and go on: launched under the seccomp filter, or attached.
    package let policy: any StopPolicy
    /// Tracer and program share one CPU (--cpu, or an affinity mask of one CPU such as taskset's,
    /// which a launched program inherits): polling waitpid would only take the CPU the program
    /// needs to reach its next stop.
    package let onOneCPU: Bool
    /// The CPython interpreters of the traced processes (`withPythonFrames`).
    package let python = PythonSupport()
    /// Backtrace buffer, reused at every stop (no allocation per event for it).
    package lazy var ips = [UInt64](repeating: 0, count: max(options.maxFrames, 1))

    package init(writer: TraceWriter, options: TraceOptions, policy: any StopPolicy) {
        self.writer = writer
        self.options = options
        self.policy = policy
        onOneCPU = options.cpu != nil || (policy.inheritsAffinity && cshims_allowed_cpus() == 1)
    }

    /// Traces `command` to the end, streaming every record to `writer` (which the caller
    /// finishes). Returns the exit status and pid of the program itself.
    public static func run(command: [String], options: TraceOptions = TraceOptions(), writer: TraceWriter)
        throws(LaunchError) -> (status: ExitStatus, pid: Int32) {
        guard let program = command.first else { throw .emptyCommand }
        let path = try ProgramLocator.locate(program)
        if let notice = PrivilegeLoss.notice(path: path, uid: getuid(), gid: getgid()) { options.notice(notice) }
        let tracer = Tracer(writer: writer, options: options, policy: LaunchStops())
        if let cpu = options.cpu, cshims_pin_self(cpu) != 0 {  // the program inherits it at fork
            throw .systemCall("sched_setaffinity(CPU \(cpu))", errno: errno)
        }
        try tracer.launch(path: path, command: command)
        defer { tracer.restoreInterrupts() }
        tracer.loop()
        try tracer.checkLaunch(path: program)
        return (tracer.rootExit ?? .code(0), tracer.rootPid)
    }

    package func newSpace(copying model: AddressSpace? = nil) -> SpaceState {
        defer { nextSpaceID += 1 }
        return SpaceState(id: nextSpaceID, model: model)
    }

    // MARK: launching

    private func launch(path: String, command: [String]) throws(LaunchError) {
        var pid: Int32 = 0, pipe: Int32 = -1, stage: Int32 = 0
        var flags: Int32 = options.disableASLR ? Int32(cshims_spawn_no_aslr) : 0
        if options.ownProcessGroup { flags |= Int32(cshims_spawn_own_group) }
        if options.programStdoutToStderr { flags |= Int32(cshims_spawn_stdout_to_stderr) }
        if options.shieldInterrupts, let previous = Tracer.ignoreInterrupts() {
            flags |= Int32(cshims_spawn_default_sigint)
            shieldedInterrupts = previous
        }
        let rc = withCStrings(command) { argv in
            cshims_spawn_traced(path, argv, environ, flags, SeccompFilter.program, Int32(SeccompFilter.program.count),
                                &pid, &pipe, &stage)
        }
        if rc != 0 && stage == Int32(cshims_stage_traceme.rawValue) { throw .traceRefused(command[0], errno: rc) }
        guard rc == 0 else { throw .systemCall("fork", errno: rc) }
        rootPid = pid
        launchPipe = pipe
        let process = ProcessState(pid: pid, space: newSpace(), executable: path)
        writer.append(.process(pid: pid, parentPid: nil, space: process.space.id, parentSpace: nil, shares: false,
                               executable: path, time: writer.elapsed()))
        tasks[pid] = TaskState(tid: pid, process: process, awaitingInitialStop: false)
    }

    /// Reads the launch pipe once: an error there means the child never reached the program.
    package func checkLaunch(path: String) throws(LaunchError) {
        guard launchPipe >= 0 else { return }
        var stage: Int32 = 0
        let err = cshims_spawn_result(launchPipe, &stage)
        launchPipe = -1
        guard err != 0 else { return }
        switch cshims_stage(UInt32(stage)) {
        case cshims_stage_traceme: throw .traceRefused(path, errno: err)
        case cshims_stage_seccomp: throw .seccompRefused(path, errno: err)
        case cshims_stage_personality: throw .systemCall("personality(ADDR_NO_RANDOMIZE)", errno: err)
        default: throw .execFailed(path, errno: err)
        }
    }

    // MARK: the loop: wait, classify, act, resume

    package func loop() {
        var last = Tracer.now()
        let start = last
        while !policy.sessionOver(self) {
            if let progress = options.progress, Tracer.now() - last > 0.2 {
                last = Tracer.now()
                progress(snapshotProgress(elapsed: last - start))
            }
            switch nextStop() {
            case .stop(let tid, let status): dispatch(tid, status)
            case .interrupted: continue
            case .done: return
            }
        }
    }

    private func snapshotProgress(elapsed: Double) -> TraceProgress {
        var spaces: [ObjectIdentifier: SpaceState] = [:]
        var processes = Set<Int32>()
        for task in tasks.values where !task.departed {
            spaces[ObjectIdentifier(task.process.space)] = task.process.space
            processes.insert(task.process.pid)
        }
        var mappings = 0, anonymous: UInt64 = 0
        for space in spaces.values {
            mappings += space.model.map.segments.count
            for s in space.model.map.segments where !s.value.isFile { anonymous += UInt64(s.range.count) }
        }
        return TraceProgress(events: writer.eventCount, processes: processes.count, mappings: mappings,
                             anonymousBytes: anonymous, elapsedSeconds: elapsed)
    }

    private func dispatch(_ tid: Int32, _ status: Int32) {
        if cshims_wifexited(status) != 0 || cshims_wifsignaled(status) != 0 {
            reap(tid, cshims_wifexited(status) != 0 ? .code(cshims_wexitstatus(status)) : .signal(cshims_wtermsig(status)))
            return
        }
        guard cshims_wifstopped(status) != 0 else { return }
        let signal = cshims_wstopsig(status)
        let event = cshims_wptrace_event(status)
        guard let task = tasks[tid] else {
            if event == cshims_PTRACE_EVENT_EXIT {
                // A task whose creator was killed in its clone/fork event stop (a group exit came
                // meanwhile): that event never arrives, and the task, killed too, is leaving.
                // Held here it would keep its process, and mapblame, from ever ending.
                unclaimedStops.remove(tid)
                Ptrace.cont(tid)
            } else {
                unclaimedStops.insert(tid)  // a new task whose creation event has not arrived yet
            }
            return
        }
        if task.departed {
            resume(task)
            return
        }
        switch event {
        case cshims_PTRACE_EVENT_SECCOMP: syscallEntry(task)
        case cshims_PTRACE_EVENT_CLONE, cshims_PTRACE_EVENT_FORK, cshims_PTRACE_EVENT_VFORK: newTask(parent: task, event: event)
        case cshims_PTRACE_EVENT_EXEC: exec(task)
        case cshims_PTRACE_EVENT_EXIT: exitStop(task)
        case cshims_PTRACE_EVENT_STOP:
            if task.awaitingInitialStop {  // a new task's first stop under PTRACE_SEIZE
                task.awaitingInitialStop = false
                resume(task)
            } else if Ptrace.isGroupStop(signal) {
                policy.groupStop(task)
            } else {
                resume(task)
            }
        case 0:
            if signal == SIGTRAP | 0x80 {
                policy.syscallStop(task, tracer: self)
            } else {
                resume(task, signal: signal)  // a signal for the program: deliver it unchanged
            }
        default:
            resume(task)
        }
    }

    /// Lets a stopped thread go on, delivering `signal` (0: none), as the policy says.
    package func resume(_ task: TaskState, signal: Int32 = 0) {
        policy.resume(task, signal: signal)
    }
}

/// Calls `body` with a NULL-terminated argv built from `strings`.
package func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
