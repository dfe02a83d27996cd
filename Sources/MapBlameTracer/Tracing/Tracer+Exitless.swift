import MapBlameModel

/// munmap and mprotect calls whose result the model can tell in advance need no exit stop: the
/// tracer records them at the seccomp stop and lets the thread go with PTRACE_CONT. One stop
/// instead of two, for the calls that make up about half of a typical program's mapping calls.
///
/// A prediction must be certain, so it is only made when
/// - no other thread or process can make a mapping call in the same address space before this one
///   completes (one live thread, one process using the space): the order the model applies calls
///   in is then the kernel's, although the call runs after the tracer has already moved on;
/// - the program never called mseal nor mapped huge pages (`SpaceState.unpredictable`);
/// - the range is page-aligned, non-empty, inside the user address space, and everything mapped in
///   it is private anonymous memory without a name (file mappings can refuse PROT_WRITE or
///   PROT_EXEC with EACCES; [stack], [vdso] and the like are left alone);
/// - munmap: the address space is far from vm.max_map_count (a split could fail with ENOMEM);
/// - mprotect (not pkey_mprotect): only PROT_READ/WRITE/EXEC, every byte mapped, and no byte
///   becomes writable (making memory writable is charged to the commit limit and RLIMIT_DATA, and
///   can fail with ENOMEM). Guard pages, read-only-after-init and W^X flips qualify.
/// A program's own seccomp filter that denies one of these calls stops it before mapblame's
/// filter would (SECCOMP_RET_ERRNO takes precedence over SECCOMP_RET_TRACE): no stop, no event.
/// An LSM (SELinux execmem) refusing PROT_EXEC is not predicted; `--verify` would show it.
extension Tracer {
    /// Segments below which a split cannot reach the default vm.max_map_count (65530).
    package static let mapCountMargin = 60_000

    package func predictsSuccess(_ call: MappingCall, task: TaskState) -> Bool {
        let space = task.process.space
        let address: UInt64, length: UInt64, protection: Protection?
        switch call {
        case .munmap(let a, let l): (address, length, protection) = (a, l, nil)
        case .mprotect(let a, let l, let p): (address, length, protection) = (a, l, p)
        default: return false
        }
        guard policy.predictsResults,  // not when attached (`AttachStops.predictsResults`)
              !space.unpredictable, space.users == 1,
              task.process.liveTids.count == 1, length > 0, let range = space.model.span(address, length) else { return false }
        let writable = MemoryFlags.protWrite
        guard space.model.map.segments.count < Tracer.mapCountMargin,
              protection.map({ $0.isSubset(of: [.read, .write, .exec]) }) ?? true else { return false }
        var cursor = range.lowerBound
        for segment in space.model.map.segments(in: range) {
            let m = segment.value
            guard !m.isFile, !m.shared, m.name == nil else { return false }
            if let protection {
                // Every byte mapped, none becoming writable.
                guard segment.range.lowerBound == cursor, !protection.contains(.write) || m.prot & writable != 0 else { return false }
            }
            cursor = segment.range.upperBound
        }
        return protection == nil || cursor == range.upperBound
    }
}
