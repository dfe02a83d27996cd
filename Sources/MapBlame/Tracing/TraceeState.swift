import CShims

/// One address space (mm) being traced: the model and libunwind's cache for it. Shared by the
/// threads of a process, and by a vfork child until it execs.
final class SpaceState {
    /// The id of this address space in the trace (`process`/`exec` records name it).
    let id: Int
    var model: AddressSpace
    let unwinder: OpaquePointer?
    /// The thread whose mapping (or clone) call is between its entry and exit stops. The kernel
    /// serializes these calls on the mm lock anyway; letting one through at a time makes the
    /// order the model sees the order the kernel applied them.
    var inFlight: Int32?
    /// Threads stopped at a seccomp entry stop, waiting for `inFlight` to finish.
    var waiting: [TaskState] = []
    /// Processes using this address space (more than one after vfork or clone(CLONE_VM)).
    var users = 1
    /// The program called mseal (sealed mappings refuse munmap/mprotect with EPERM) or mapped huge
    /// pages (which refuse calls not aligned to their page size): results of munmap and mprotect
    /// are no longer predicted (`Tracer.predictsSuccess`).
    var unpredictable = false

    init(id: Int, model: AddressSpace = AddressSpace()) {
        self.id = id
        self.model = model
        self.model.taskSize = UserSpace.taskSize
        unwinder = cshims_unwinder_create()
    }

    deinit {
        if let u = unwinder { cshims_unwinder_destroy(u) }
    }
}

/// A traced thread group.
final class ProcessState {
    let pid: Int32
    var space: SpaceState
    var liveTids: Set<Int32>
    var executable: String
    /// Its final snapshot is in the trace (at most one per executable image).
    var hasFinalSnapshot = false
    /// A thread held at its exit stop until the final snapshot can be taken through it.
    var snapshotHolder: TaskState?
    /// Its last thread is gone (or exec gave it a new space): counted out of `space.users`.
    private var leftSpace = false

    init(pid: Int32, space: SpaceState, executable: String) {
        self.pid = pid
        self.space = space
        self.executable = executable
        self.liveTids = [pid]
    }

    /// The process stops using its address space (it exec'd, or its last thread went).
    func leaveSpace() {
        guard !leftSpace else { return }
        leftSpace = true
        space.users -= 1
    }

    /// exec: a fresh address space of its own.
    func enter(_ new: SpaceState) {
        leaveSpace()
        space = new
        leftSpace = false
        hasFinalSnapshot = false
    }
}

/// A mapping call seen at its seccomp (entry) stop, waiting for its exit stop.
struct PendingCall {
    /// nil for clone/clone3/fork/vfork (stopped only to hold the address space still).
    var syscall: MappingSyscall?
    var args: [UInt64]
    var stack: Int
    var filePath: String?
}

/// A traced thread.
final class TaskState {
    let tid: Int32
    var process: ProcessState
    var pending: PendingCall?
    /// A new task's first stop is the SIGSTOP of auto-attach: swallow it.
    var awaitingInitialStop: Bool
    /// A thread that exec() in another thread of its group has removed; only its exit remains.
    var departed = false
    /// Attach only: stopped and kept stopped for the detach, which hands it `detachSignal`.
    var held = false
    var detachSignal: Int32 = 0

    init(tid: Int32, process: ProcessState, awaitingInitialStop: Bool) {
        self.tid = tid
        self.process = process
        self.awaitingInitialStop = awaitingInitialStop
    }
}
