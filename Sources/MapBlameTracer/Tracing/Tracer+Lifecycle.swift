import CShims
import Glibc
import MapBlameModel

/// Threads and processes coming and going: clone/fork/vfork events, exec, exit stops, reaping.
extension Tracer {
    package static let cloneVM: UInt64 = 0x100
    package static let cloneThread: UInt64 = 0x10000

    package func newTask(parent: TaskState, event: Int32) {
        guard let message = Ptrace.eventMessage(parent.tid) else {
            resume(parent)
            return
        }
        let tid = Int32(truncatingIfNeeded: message)
        let clone = cloneArguments(parent) ?? Tracer.undecodedClone(tid: tid, event: event)
        let process: ProcessState
        if clone.flags & Tracer.cloneThread != 0 {
            process = parent.process
            process.liveTids.insert(tid)
            writer.append(.thread(pid: process.pid, tid: tid, stackLow: clone.stackLow, stackTop: clone.stackTop ?? 0))
        } else {
            let shares = clone.flags & Tracer.cloneVM != 0
            let space = shares ? parent.process.space : newSpace(copying: parent.process.space.model)
            if shares { space.users += 1 }
            process = ProcessState(pid: tid, space: space, executable: parent.process.executable)
            writer.append(.process(pid: tid, parentPid: parent.process.pid, space: space.id,
                                   parentSpace: parent.process.space.id, shares: shares, executable: process.executable,
                                   time: writer.elapsed()))
        }
        let task = TaskState(tid: tid, process: process, awaitingInitialStop: true)
        tasks[tid] = task
        parent.pending = nil  // the copy is made: the clone's exit stop is not needed
        release(parent.process.space, holder: parent.tid)
        if unclaimedStops.remove(tid) != nil {
            task.awaitingInitialStop = false
            resume(task)
        }
        resume(parent)
    }

    /// Clone flags and the new thread's stack, read from the parent stopped in clone/clone3/fork/vfork;
    /// nil when they cannot be read (a parent a group exit is killing).
    package func cloneArguments(_ parent: TaskState) -> CloneArguments? {
        guard case .creation(let clone)? = decodeStop(parent)?.call else { return nil }
        return clone
    }

    /// What the kernel says of a new task whose creating call could not be read: a thread if its
    /// thread group is another task's (/proc/TID/status), else as the event says (a clone event
    /// without one is a thread: a process made by clone has its own exit signal, reported as fork).
    /// Taking a thread for a process listed it as one more process, without a snapshot.
    package static func undecodedClone(tid: Int32, event: Int32) -> CloneArguments {
        let tgid = ProcFile.read("/proc/\(tid)/status").flatMap { ProcFile.statusField($0, "Tgid") }.flatMap { Int32($0) }
        let thread = tgid.map { $0 != tid } ?? (event == cshims_PTRACE_EVENT_CLONE)
        return CloneArguments(flags: thread ? cloneThread | cloneVM : 0)
    }

    /// The program's and ld.so's files, mapped by the kernel at exec (no mmap to see them by):
    /// opened now, while the process that sees them is stopped (`ModuleHandles`).
    package func registerCode(_ entries: [MapsEntry], pid: Int32) {
        for entry in entries where entry.isFile && entry.perms.contains("x") {
            writer.moduleHandles?.register(path: entry.path, pid: pid, address: entry.start)
        }
    }

    package func exec(_ task: TaskState) {
        let process = task.process
        if let former = Ptrace.eventMessage(task.tid).map({ Int32(truncatingIfNeeded: $0) }), former != task.tid {
            tasks[former] = nil  // a non-leader thread exec'd and took over the leader's tid
        }
        for other in tasks.values where other.process === process && other.tid != task.tid {
            other.departed = true
        }
        let launching = task.tid == rootPid && launchPipe >= 0  // noticed at the launch already
        if launching {
            try? checkLaunch(path: "")  // exec succeeded: the pipe was closed by it
        }
        task.pending = nil
        release(process.space, holder: process.space.calls.holder ?? task.tid)
        process.liveTids = [task.tid]
        process.executable = ProcFile.readLink("/proc/\(task.tid)/exe") ?? process.executable
        if !launching, let notice = PrivilegeLoss.notice(afterExecOf: task.tid, path: process.executable) {
            options.notice(notice)
        }
        let maps = ProcFile.read("/proc/\(task.tid)/maps") ?? ""
        let id = writer.eventCount
        let space = newSpace()
        adopt(executableOf: task.tid, into: space)
        writer.append(.exec(pid: process.pid, tid: task.tid, space: space.id, executable: process.executable, maps: maps,
                            time: writer.elapsed()))
        let entries = (try? MapsEntry.parseMaps(maps)) ?? []
        registerCode(entries, pid: task.tid)
        space.model.seed(fromExec: entries, event: id)
        process.enter(space)
        resume(task)
    }

    /// PTRACE_EVENT_EXIT: the thread is about to go. The process's final snapshot is taken at its
    /// last thread's exit stop, or earlier at the first exit stop after which no thread of it can
    /// map anything any more (the group is leaving): threads killed by a group exit may go
    /// without an exit stop of their own, and waiting for the last thread's would then wait for a
    /// stop that never comes (the process was reported from the model alone).
    package func exitStop(_ task: TaskState) {
        let process = task.process
        process.space.calls.forget(task)
        let regs = Ptrace.registers(task.tid)
        if let pending = task.pending { finishInterruptedCall(task, pending, regs: regs) }
        process.liveTids.remove(task.tid)
        if process.liveTids.isEmpty { process.leaveSpace() }
        if !process.hasFinalSnapshot && process.snapshotHolder == nil
            && (process.liveTids.isEmpty || groupIsLeaving(process, regs: regs)) {
            process.snapshotHolder = task
        }
        takeHeldSnapshot(process)
        if process.snapshotHolder !== task { resume(task) }
    }

    /// The snapshot of a leaving process, through the thread held at its exit stop (its address
    /// space lives while that thread does), once no other thread of it has a mapping call in
    /// flight: the call's exit stop (or the thread's exit stop, where it is recorded), or the
    /// thread's end, comes first. Not when that thread is the leader, whose end the kernel reports
    /// only after every other thread's, the held one's too.
    package func takeHeldSnapshot(_ process: ProcessState) {
        guard let holder = process.snapshotHolder else { return }
        if let busy = process.space.calls.holder, busy != holder.tid, busy != process.pid,
           tasks[busy]?.process === process { return }
        process.snapshotHolder = nil
        process.hasFinalSnapshot = true
        appendSnapshot(pid: process.pid, from: "/proc/\(holder.tid)", threads: [holder.tid])
        writer.flush()
        resume(holder)
    }

    /// exit and exit_group, in the ABI of the code that made the call (x86_64; i386 while CS is
    /// the 32-bit code segment).
    package static func exitCalls(_ regs: cshims_regs) -> (exit: UInt64, group: UInt64) {
        regs.cs == 0x23 ? (1, 252) : (60, 231)
    }

    /// Whether, at a thread's exit stop, its whole thread group is going: it called exit_group,
    /// or it did not call exit (it was killed: a fatal signal, a group exit) and every other
    /// thread of the process is gone or killed too (not so when another thread is in execve,
    /// which kills the others the same way but goes on).
    package func groupIsLeaving(_ process: ProcessState, regs: cshims_regs?) -> Bool {
        guard let regs else { return process.liveTids.allSatisfy(ThreadDeparture.isLeaving) }
        switch regs.orig_rax {
        case Tracer.exitCalls(regs).group: return true
        case Tracer.exitCalls(regs).exit: return false
        default: return process.liveTids.allSatisfy(ThreadDeparture.isLeaving)
        }
    }

    /// A thread killed between the entry and the exit stop of its mapping call: recorded with the
    /// result register, which still holds the entry's -ENOSYS if the kill came at the seccomp
    /// stop and the call was skipped (a failed call: the replay applies nothing, not even the
    /// munmap the live model applied at the entry).
    private func finishInterruptedCall(_ task: TaskState, _ pending: PendingCall, regs: cshims_regs?) {
        task.pending = nil
        guard let call = pending.call, let regs, TracedSyscall.lookup(regs.orig_rax, abi: pending.abi) != nil else {
            release(task.process.space, holder: task.tid)
            return
        }
        let result = SyscallDecoder.completedResult(rax: regs.rax, abi: pending.abi, resultPointer: pending.resultPointer,
                                                    tid: task.tid)
        record(task, call: call, registers: pending.registers, result: result, stack: pending.stack, filePath: pending.filePath)
    }

    package func reap(_ tid: Int32, _ status: ExitStatus) {
        unclaimedStops.remove(tid)
        guard let task = tasks.removeValue(forKey: tid) else { return }
        task.process.liveTids.remove(tid)
        if task.process.liveTids.isEmpty { task.process.leaveSpace() }
        task.process.space.calls.forget(task)
        if task.pending != nil { release(task.process.space, holder: tid) }
        if task.process.snapshotHolder === task { task.process.snapshotHolder = nil }  // killed while held
        takeHeldSnapshot(task.process)
        guard tid == task.process.pid, !task.departed else { return }
        writer.append(.exit(pid: task.process.pid, status: status, time: writer.elapsed()))
        writer.flush()
        if tid == rootPid { rootExit = status }
    }

    /// A process's final map and memory use, read through `dir` (the /proc directory of one of its
    /// threads, stopped): the snapshot record the join reads; then the evidence `--verify` checks
    /// the labels against, read from `threads` (stopped, the first one alive), while the memory is
    /// still there.
    package func appendSnapshot(pid: Int32, from dir: String, threads: [Int32]) {
        defer { appendPerfMap(pid: pid, from: dir) }
        let maps = ProcFile.read("\(dir)/maps") ?? ""
        let smaps = ProcFile.read("\(dir)/smaps") ?? ""
        writer.append(.snapshot(pid: pid, maps: maps, smaps: smaps))
        guard let reader = threads.first, let entries = try? MapsEntry.parseMaps(maps) else { return }
        // Right after smaps, while the process is still stopped: the pages it counted.
        let usage = (try? SmapsUsage.parseSmaps(smaps)) ?? [:]
        writer.append(.residency(pid: pid, PagemapReader.read(dir: dir, maps: entries, usage: usage)))
        let registers = threads.compactMap { tid in
            Ptrace.registers(tid).map { SnapshotEvidence.Thread(tid: tid, rsp: $0.rsp, rip: $0.rip) }
        }
        let regions = MallocEvidence.probeAll(maps: entries, tid: reader).sorted { $0.key < $1.key }
            .map { SnapshotEvidence.Region(start: $0.key, $0.value) }
        writer.append(.evidence(pid: pid, SnapshotEvidence(threads: registers, regions: regions)))
    }
}
