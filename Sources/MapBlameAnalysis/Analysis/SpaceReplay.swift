import MapBlameModel

/// The address spaces of a trace, replayed record by record: the one copy of how a new process,
/// an exec, an attach and each event change the models. `TraceReplayer` builds the report on it,
/// `PeakMappings` counts mappings with it.
package struct SpaceReplay {
    private(set) var spaces: [Int: AddressSpace] = [:]
    private(set) var spaceOfPid: [Int32: Int] = [:]

    package init(spaces: [Int: AddressSpace] = [:], spaceOfPid: [Int32: Int] = [:]) {
        self.spaces = spaces
        self.spaceOfPid = spaceOfPid
    }

    /// The model `pid` uses now.
    package func model(of pid: Int32) -> AddressSpace? {
        spaceOfPid[pid].flatMap { spaces[$0] }
    }

    /// A model for replay: only calls the kernel accepted are applied, so the widest user address
    /// space is the right bound.
    package static func emptySpace() -> AddressSpace {
        var space = AddressSpace()
        space.taskSize = 0x00ff_ffff_ffff_f000
        return space
    }

    /// A new process: a copy of its parent's space (fork), the parent's space itself (vfork,
    /// CLONE_VM), or an empty one.
    package mutating func newProcess(pid: Int32, space: Int, parentSpace: Int?, shares: Bool) {
        if let parentSpace, shares {
            spaceOfPid[pid] = parentSpace
        } else {
            spaces[space] = parentSpace.flatMap { spaces[$0] } ?? SpaceReplay.emptySpace()
            spaceOfPid[pid] = space
        }
    }

    /// A new space seeded from /proc/PID/maps (exec, attach), its regions made by event `event`.
    package mutating func seed(pid: Int32, space: Int, maps: String, event: Int) {
        var model = SpaceReplay.emptySpace()
        model.seed(fromExec: (try? MapsEntry.parseMaps(maps)) ?? [], event: event)
        spaces[space] = model
        spaceOfPid[pid] = space
    }

    /// A mapping call of `e.pid` (munmap removes what the kernel removed; others apply themselves).
    package mutating func apply(_ e: MappingEvent) {
        guard let space = spaceOfPid[e.pid] else { return }
        if e.syscall == .munmap {
            if !e.failed, case .munmap(let address, let length) = e.call { spaces[space]?.unmap(address: address, length: length) }
        } else {
            spaces[space]?.apply(e)
        }
    }
}
