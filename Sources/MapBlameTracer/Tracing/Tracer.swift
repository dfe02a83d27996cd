import CShims
import Glibc
import MapBlameModel

/// Launches a program under ptrace with the seccomp filter and records every mapping syscall of
/// it and its threads and children until all of them are gone. Thread-bound: ptrace requests only
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
    /// `mapblame attach`: no seccomp filter, every syscall stops (PTRACE_SYSCALL) at entry and exit.
    package var attached = false
    /// Attach only: when the session ends (--duration), and when waiting for every thread to stop
    /// for the detach gives up.
    package var deadline: Double?
    package var drainDeadline = 0.0
    /// Attach only: the session is ending; every stop holds its thread for the detach.
    package var draining = false
    /// Tracer and program share one CPU (--cpu, or an affinity mask of one CPU such as taskset's,
    /// which a launched program inherits): polling waitpid would only take the CPU the program
    /// needs to reach its next stop. Evaluated at the first wait, after `attached` is set.
    private lazy var onOneCPU = options.cpu != nil || (!attached && cshims_allowed_cpus() == 1)
    /// The CPython interpreters of the traced processes (`withPythonFrames`).
    package let python = PythonSupport()
    /// Backtrace buffer, reused at every stop (no allocation per event for it).
    private lazy var ips = [UInt64](repeating: 0, count: max(options.maxFrames, 1))

    package init(writer: TraceWriter, options: TraceOptions) {
        self.writer = writer
        self.options = options
    }

    /// Traces `command` to the end, streaming every record to `writer` (which the caller
    /// finishes). Returns the exit status and pid of the program itself.
    public static func run(command: [String], options: TraceOptions = TraceOptions(), writer: TraceWriter)
        throws(LaunchError) -> (status: ExitStatus, pid: Int32) {
        guard let program = command.first else { throw .emptyCommand }
        let path = try ProgramLocator.locate(program)
        if let notice = PrivilegeLoss.notice(path: path, uid: getuid(), gid: getgid()) { options.notice(notice) }
        let tracer = Tracer(writer: writer, options: options)
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
        while true {
            if attached {
                if !draining && (cshims_stop_requested() != 0 || deadline.map({ Tracer.now() >= $0 }) == true) {
                    beginDrain()
                }
                if draining && (tasks.values.allSatisfy(\.held) || Tracer.now() >= drainDeadline) {
                    finishAttach()
                    return
                }
            }
            if let progress = options.progress, Tracer.now() - last > 0.2 {
                last = Tracer.now()
                progress(snapshotProgress(elapsed: last - start))
            }
            var status: Int32 = 0
            let scope: Int32 = options.ownProcessGroup ? -rootPid : -1
            // Spinning only helps when the program runs on another CPU; on the same one it would
            // steal the CPU the program needs to reach its next stop.
            var tid: Int32 = 0
            if !onOneCPU {
                tid = Tracer.pollWait(scope, &status)
            } else if !writer.isDurable {  // else nothing to flush: no need to know whether we will sleep
                tid = waitpid(scope, &status, cshims_WALL | WNOHANG)
            }
            if tid == 0 {
                writer.flush()  // about to sleep: put what was recorded on disk first
                tid = waitpid(scope, &status, cshims_WALL)
            }
            if tid < 0 {
                if errno == EINTR { continue }
                guard scope != -1, !tasks.isEmpty else { return }  // ECHILD: every traced task is gone
                tid = waitOutsideGroup(&status)
                if tid < 0 { return }
            }
            dispatch(tid, status)
        }
    }

    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
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

    /// Polls waitpid for a short while before the caller blocks in it. A tracer asleep in waitpid
    /// lets its vCPU go idle, and waking an idle vCPU through the hypervisor costs tens of µs per
    /// stop (PTRACE-NOTES.md); the tracee's next stop usually comes within a few µs.
    /// Traced tasks that left the program's process group (setsid, setpgid): polled one by one.
    private func waitOutsideGroup(_ status: inout Int32) -> Int32 {
        while !tasks.isEmpty {
            for tid in tasks.keys {
                let r = waitpid(tid, &status, cshims_WALL | WNOHANG)
                if r > 0 { return r }
                if r < 0 && errno == ECHILD { tasks[tid] = nil }
            }
            usleep(1000)
        }
        return -1
    }

    private static func pollWait(_ scope: Int32, _ status: inout Int32) -> Int32 {
        var start = timespec(), now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while true {
            let tid = waitpid(scope, &status, cshims_WALL | WNOHANG)
            if tid != 0 { return tid }
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsed = (now.tv_sec - start.tv_sec) * 1_000_000_000 + (now.tv_nsec - start.tv_nsec)
            if elapsed > pollNanoseconds { return 0 }
        }
    }

    /// How long `pollWait` spins before sleeping: 50 µs halved the time of an unpinned mmap loop
    /// on this machine kind (bench/README.md); MAPBLAME_POLL_NS overrides it for measurements.
    package static let pollNanoseconds: Int = {
        getenv("MAPBLAME_POLL_NS").flatMap { Int(String(cString: $0)) } ?? 50_000
    }()

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
            } else if !draining && Ptrace.isGroupStop(signal) {
                Ptrace.listen(task.tid)  // group-stop: stay stopped until SIGCONT, as untraced
            } else {
                resume(task)
            }
        case 0:
            if signal == SIGTRAP | 0x80 {
                if attached { syscallStop(task) } else { syscallExit(task) }
            } else {
                resume(task, signal: signal)  // a signal for the program: deliver it unchanged
            }
        default:
            resume(task)
        }
    }

    /// Lets a stopped thread go on, delivering `signal` (0: none): to its syscall's exit stop when
    /// a call is pending (always, when attached: there is no seccomp filter to stop it at the next
    /// mapping call). While an attach session drains, the thread is held for the detach instead.
    package func resume(_ task: TaskState, signal: Int32 = 0) {
        if draining {
            task.held = true
            task.detachSignal = signal
        } else if task.pending != nil || attached {
            Ptrace.toSyscallExit(task.tid, signal: signal)
        } else {
            Ptrace.cont(task.tid, signal: signal)
        }
    }

    // MARK: syscalls

    package static let cloneUntraced: UInt64 = 0x0080_0000

    package func syscallEntry(_ task: TaskState) {
        if draining {
            resume(task)  // held at its entry: the call runs after the detach, untraced
            return
        }
        let space = task.process.space
        if let holder = space.inFlight, holder != task.tid {
            space.waiting.append(task)  // stays stopped until the call in flight completes
            return
        }
        guard let stop = decodeStop(task) else {
            resume(task)
            return
        }
        switch stop.call {
        case .mapping(let call, let registers, let resultPointer):
            mappingEntry(task, call: call, registers: registers, abi: stop.row.abi, resultPointer: resultPointer, regs: stop.regs)
        case .creation(let clone):
            // CLONE_UNTRACED would create a task with the seccomp filter and no tracer: its
            // mapping calls would fail with ENOSYS (LeakSanitizer's stop-the-world thread does
            // this). Clear the flag so the new task is followed like any other.
            if stop.row.role == .creation(.clone), clone.flags & Tracer.cloneUntraced != 0 {
                _ = cshims_clear_arg0_bits(task.tid, stop.row.abi == .i386 ? 1 : 0, Tracer.cloneUntraced)
            }
            space.inFlight = task.tid
            task.pending = PendingCall(call: nil, registers: [], stack: 0, filePath: nil)
            resume(task)
        case .seal:
            space.unpredictable = true
            resume(task)
        case .other:
            resume(task)
        }
    }

    /// A mapping call at its entry: backtrace, munmap applied at once, and either recorded now
    /// (a predicted result) or left pending until its exit stop.
    private func mappingEntry(_ task: TaskState, call: MappingCall, registers: [UInt64], abi: SyscallABI,
                              resultPointer: UInt64?, regs: cshims_regs) {
        let space = task.process.space
        space.inFlight = task.tid
        var pending = PendingCall(call: call, registers: registers, stack: 0, filePath: nil, abi: abi, resultPointer: resultPointer)
        if case .mmap(_, _, _, let flags, let fd, _) = call {
            if !flags.contains(.anonymous) { pending.filePath = ProcFile.readLink("/proc/\(task.tid)/fd/\(fd)") }
            if flags.contains(.hugeTLB) { space.unpredictable = true }
        }
        pending.stack = backtrace(task, regs: regs)
        let exitless = predictsSuccess(call, task: task)
        if case .munmap(let address, let length) = call {
            let removed = space.model.unmap(address: address, length: length)
            if removed.contains(where: { $0.value.prot & MemoryFlags.protExec != 0 }) { space.flushUnwinders() }
        } else if mayReplaceCode(call, space: space) {
            space.flushUnwinders()  // the unwinders' tables of that code would outlive it
        }
        if exitless {  // recorded now; no exit stop (Tracer+Exitless.swift)
            record(task, call: call, registers: registers, result: 0, stack: pending.stack, filePath: pending.filePath)
            resume(task)
            return
        }
        task.pending = pending
        resume(task)
    }

    /// The call in flight in `space` is done (or its thread is gone): let the next one through.
    package func release(_ space: SpaceState, holder: Int32) {
        guard space.inFlight == holder else { return }
        space.inFlight = nil
        while space.inFlight == nil, !space.waiting.isEmpty {
            let next = space.waiting.removeFirst()
            guard tasks[next.tid] === next, !next.departed else { continue }
            syscallEntry(next)
        }
    }

    package func syscallExit(_ task: TaskState) {
        guard let pending = task.pending else {
            resume(task)
            return
        }
        task.pending = nil
        let space = task.process.space
        guard let call = pending.call else {  // clone family: nothing to record
            release(space, holder: task.tid)
            resume(task)
            return
        }
        let result = Ptrace.registers(task.tid).map {
            SyscallDecoder.completedResult(rax: $0.rax, abi: pending.abi, resultPointer: pending.resultPointer, tid: task.tid)
        } ?? -Int64(ESRCH)
        record(task, call: call, registers: pending.registers, result: result, stack: pending.stack, filePath: pending.filePath)
        resume(task)
    }

    /// Writes a completed call, applies it to the model and lets the next call of the address
    /// space through.
    package func record(_ task: TaskState, call: MappingCall, registers: [UInt64], result: Int64, stack: Int,
                        filePath: String?) {
        let process = task.process
        var event = MappingEvent(id: writer.eventCount, pid: process.pid, tid: task.tid, call: call, registers: registers,
                                 result: result, stack: stack, filePath: filePath)
        event.time = writer.elapsed()
        if !event.failed {
            decorate(&event, process: process)
        }
        writer.append(.event(event))
        if let path = event.filePath, case .mmap(_, _, let protection, _, _, _) = event.call, !event.failed, protection.contains(.exec) {
            writer.moduleHandles?.register(path: path, pid: task.tid, address: UInt64(bitPattern: event.result))
            options.codeMapped?(path)
        }
        process.space.model.apply(event)
        release(process.space, holder: task.tid)
    }

    /// Context only known at the exit stop: a bss tail's file, a shm segment's size and name.
    private func decorate(_ event: inout MappingEvent, process: ProcessState) {
        let address = UInt64(bitPattern: event.result)
        switch event.call {
        case .mmap(_, _, _, let flags, _, _) where flags.isSuperset(of: [.anonymous, .fixed]):
            if address > 0, let below = process.space.model.map.segment(containing: address - 1), below.value.isFile {
                event.fileBelow = below.value.name
            }
        case .shmat:
            if let entry = ProcFile.maps(event.tid)?.first(where: { $0.start == address }) {
                event.length = entry.size
                event.filePath = entry.path
            }
        default: break
        }
    }

    /// Whether a MAP_FIXED mmap or an mremap reaches executable memory (munmap is checked with
    /// the model's own unmap): code mapped over or moved, whose unwind tables must be forgotten.
    private func mayReplaceCode(_ call: MappingCall, space: SpaceState) -> Bool {
        var ranges: [(start: UInt64, length: UInt64)] = []
        switch call {
        case .mmap(let address, let length, _, let flags, _, _) where flags.contains(.fixed):
            ranges = [(address, length)]
        case .mremap(let old, let oldLength, let newLength, let flags, let new):
            ranges = [(old, oldLength)]
            if flags.contains(.fixed) { ranges.append((new, newLength)) }
        default:
            return false
        }
        return ranges.contains { start, length in
            guard let range = space.model.span(start, length) else { return false }  // EINVAL: replaces nothing
            return space.model.map.segments(in: range).contains { $0.value.prot & MemoryFlags.protExec != 0 }
        }
    }

    /// The model's file mapping containing an address, and its path when asked, for the
    /// unwinder's per-module tables (the context is the SpaceState being unwound).
    private static let mappingOf: cshims_mapping_lookup = { context, ip, start, end, path, pathSize in
        guard let context else { return -1 }
        let space = Unmanaged<SpaceState>.fromOpaque(context).takeUnretainedValue()
        guard let segment = space.model.map.segment(containing: ip), segment.value.isFile,
              let name = segment.value.name, name.hasPrefix("/") else { return -1 }
        start.pointee = segment.range.lowerBound
        end.pointee = segment.range.upperBound
        guard let path else { return 0 }
        let bytes = Array(name.utf8)
        guard bytes.count < pathSize else { return -1 }
        bytes.withUnsafeBufferPointer { UnsafeMutableRawPointer(path).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        path[bytes.count] = 0
        return 0
    }

    /// The unwind table of the module at `ip` (the context is the SpaceState).
    private static let indexOf: cshims_index_lookup = { context, ip, table in
        guard let context else { return -1 }
        let space = Unmanaged<SpaceState>.fromOpaque(context).takeUnretainedValue()
        guard let index = space.ehIndex(at: ip) else { return -1 }
        table.pointee = cshims_eh_index(entries: index.entries.flatMap { UnsafePointer($0.baseAddress) },
                                        remote_table: index.remoteTable, count: index.count, segbase: index.segbase,
                                        start_ip: index.code.lowerBound, end_ip: index.code.upperBound,
                                        eh_frame: index.ehFrame?.mapping.bytes.assumingMemoryBound(to: UInt8.self),
                                        eh_frame_start: index.ehFrame?.start ?? 0,
                                        eh_frame_size: UInt64(index.ehFrame?.mapping.length ?? 0))
        return 0
    }

    /// Fills `ips` with the stopped task's call stack: libunwind for 64-bit code, libdwfl for
    /// 32-bit code. Returns how many frames, 0 or less for none.
    private func unwind(_ task: TaskState, regs: cshims_regs) -> Int {
        guard options.maxFrames > 0 else { return 0 }
        var registers = regs
        let space = task.process.space
        if regs.cs == Tracer.user32CodeSegment {
            guard let u = space.unwinderFor32BitCode() else { return 0 }
            return Int(cshims_backtrace32(u, task.tid, &registers, &ips, Int32(options.maxFrames)))
        }
        guard let u = space.unwinder else { return 0 }
        let context = Unmanaged.passUnretained(space).toOpaque()
        space.unwindingTid = task.tid
        cshims_unwinder_set_code_check(u, Tracer.isCode)
        return Int(cshims_backtrace(u, task.tid, &registers, &ips, Int32(options.maxFrames), Tracer.mappingOf,
                                    Tracer.indexOf, context))
    }

    private func backtrace(_ task: TaskState, regs: cshims_regs) -> Int {
        let model = task.process.space.model
        var count = unwind(task, regs: regs)
        if count <= 0 {
            ips[0] = regs.rip
            count = options.maxFrames > 0 ? 1 : 0
        }
        let frames = ips[0..<count].map { ip -> Frame in
            guard let s = model.map.segment(containing: ip) else { return Frame(ip: ip, module: nil, fileOffset: ip) }
            return Frame(ip: ip, module: s.value.name, fileOffset: ip - s.range.lowerBound + s.value.fileOffset)
        }
        return writer.stackID(withPythonFrames(frames, task: task, regs: regs), pid: task.tid)
    }
}

/// Calls `body` with a NULL-terminated argv built from `strings`.
package func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
