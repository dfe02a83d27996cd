import CShims
import Glibc
import MapBlameModel

/// Mapping calls at their entry and exit stops: decoded, backtraced, let through one at a time per
/// address space (`CallSerializer`), recorded and applied to the model.
extension Tracer {
    package static let cloneUntraced: UInt64 = 0x0080_0000

    package func syscallEntry(_ task: TaskState) {
        let space = task.process.space
        if space.calls.mustWait(task) { return }  // stays stopped until the call in flight completes
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
            space.calls.begin(task.tid)
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
        space.calls.begin(task.tid)
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
        guard space.calls.end(holder) else { return }
        while let next = space.calls.next() {
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
        let space = process.space
        space.model.apply(event)
        if let path = event.filePath, case .mmap(_, _, let protection, _, _, _) = event.call, !event.failed, protection.contains(.exec) {
            // Opened through the model's new mapping (map_files), not a read of /proc/TID/maps.
            writer.moduleHandles?.register(path: path, pid: task.tid, address: UInt64(bitPattern: event.result),
                                           open: { space.openModuleFromModel(at: $0, tid: task.tid) })
            options.codeMapped?(path)
        }
        release(space, holder: task.tid)
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
}
