import CShims
import Glibc
import MapBlameModel

/// One address space (mm) being traced: the model and libunwind's cache for it. Shared by the
/// threads of a process, and by a vfork child until it execs.
package final class SpaceState {
    /// The id of this address space in the trace (`process`/`exec` records name it).
    package let id: Int
    package var model: AddressSpace
    package let unwinder: OpaquePointer?
    /// For tasks running 32-bit code (libunwind, built for x86_64, cannot unwind them); made at
    /// their first backtrace (`unwinderFor32BitCode`).
    private var unwinder32: OpaquePointer?
    /// Its mapping calls, let through one at a time.
    package let calls = CallSerializer()
    /// Processes using this address space (more than one after vfork or clone(CLONE_VM)).
    package var users = 1
    /// The program called mseal (sealed mappings refuse munmap/mprotect with EPERM) or mapped huge
    /// pages (which refuse calls not aligned to their page size): results of munmap and mprotect
    /// are no longer predicted (`Tracer.predictsSuccess`).
    package var unpredictable = false
    /// Unwind tables of the modules met by backtraces (nil: none), by the model's
    /// mapping asked about: its start, file and offset, so code mapped anew at the same place is
    /// asked about again. Kept across `flushUnwinders` (ld.so's MAP_FIXED mappings flush at every
    /// library it loads, and each time a stack ends in ld.so's `_start`, which has no FDE).
    package var ehIndexes: [String: EhFrameIndex?] = [:]
    /// The thread being unwound, whose /proc entries an index is built from.
    package var unwindingTid: Int32 = 0

    /// `model`: a copy of the parent's at fork, with its task size; a fresh one gets this kernel's.
    package init(id: Int, model: AddressSpace? = nil) {
        self.id = id
        self.model = model ?? AddressSpace(taskSize: UserSpace.taskSize)
        unwinder = cshims_unwinder_create()
    }

    deinit {
        if let u = unwinder { cshims_unwinder_destroy(u) }
        if let u = unwinder32 { cshims_unwinder32_destroy(u) }
    }

    package func unwinderFor32BitCode() -> OpaquePointer? {
        if unwinder32 == nil { unwinder32 = cshims_unwinder32_create() }
        return unwinder32
    }

    /// Code was unmapped or replaced: the unwinders' tables of it must go.
    package func flushUnwinders() {
        if let u = unwinder { cshims_unwinder_flush(u) }
        if let u = unwinder32 { cshims_unwinder32_flush(u) }
    }

    /// The unwind table of the module mapped at `ip` (read on first use).
    package func ehIndex(at ip: UInt64) -> EhFrameIndex? {
        guard let segment = model.map.segment(containing: ip), let name = segment.value.name else { return nil }
        let key = "\(segment.range.lowerBound) \(segment.value.fileOffset) \(name)"
        if let known = ehIndexes[key] { return known }
        let opened = openModuleFromModel(at: ip, tid: unwindingTid) ?? ModuleFile.open(pid: unwindingTid, containing: ip)
        defer { if let opened { close(opened.fd) } }
        let index = opened.flatMap { EhFrameIndex(fd: $0.fd, entry: $0.entry) }
        ehIndexes[key] = .some(index)
        return index
    }
}

/// A traced thread group.
package final class ProcessState {
    package let pid: Int32
    package var space: SpaceState
    package var liveTids: Set<Int32>
    package var executable: String
    /// Its final snapshot is in the trace (at most one per executable image).
    package var hasFinalSnapshot = false
    /// A thread held at its exit stop until the final snapshot can be taken through it.
    package var snapshotHolder: TaskState?
    /// Its last thread is gone (or exec gave it a new space): counted out of `space.users`.
    private var leftSpace = false

    package init(pid: Int32, space: SpaceState, executable: String) {
        self.pid = pid
        self.space = space
        self.executable = executable
        self.liveTids = [pid]
    }

    /// The process stops using its address space (it exec'd, or its last thread went).
    package func leaveSpace() {
        guard !leftSpace else { return }
        leftSpace = true
        space.users -= 1
    }

    /// exec: a fresh address space of its own.
    package func enter(_ new: SpaceState) {
        leaveSpace()
        space = new
        leftSpace = false
        hasFinalSnapshot = false
    }
}

/// A mapping call seen at its seccomp (entry) stop, waiting for its exit stop.
package struct PendingCall {
    /// nil for clone/clone3/fork/vfork (stopped only to hold the address space still).
    package var call: MappingCall?
    package var registers: [UInt64]
    package var stack: Int
    package var filePath: String?
    /// How to read the result at the exit stop.
    package var abi: SyscallABI = .x86_64
    /// Where the call writes its result, if not in the return value (`DecodedCall.mapping`).
    package var resultPointer: UInt64?
}

/// A traced thread.
package final class TaskState {
    package let tid: Int32
    package var process: ProcessState
    package var pending: PendingCall?
    /// A new task's first stop is the SIGSTOP of auto-attach: swallow it.
    package var awaitingInitialStop: Bool
    /// A thread that exec() in another thread of its group has removed; only its exit remains.
    package var departed = false
    /// Attach only: stopped and kept stopped for the detach, which hands it `detachSignal`.
    package var held = false
    package var detachSignal: Int32 = 0

    package init(tid: Int32, process: ProcessState, awaitingInitialStop: Bool) {
        self.tid = tid
        self.process = process
        self.awaitingInitialStop = awaitingInitialStop
    }
}
