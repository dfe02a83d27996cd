import MapBlameModel

/// The address spaces of a trace, replayed record by record: the one copy of how a new process,
/// an exec, an attach and each event change the models. `TraceReplayer` builds the report on it,
/// `PeakMappings` counts mappings with it.
package struct SpaceReplay {
    package private(set) var spaces: [Int: AddressSpace] = [:]
    private(set) var spaceOfPid: [Int32: Int] = [:]

    /// A change of the space `pid` uses: its creation, a seed (exec, attach) or an event.
    package struct Change {
        package var pid: Int32
        /// The space it uses (shared by a vfork child and its parent).
        package var space: Int
        /// The event (or seed pseudo-event) applied; nil for the creation.
        package var event: Int?
        package var time: UInt64?
    }

    /// Told after every change, with the space as it is now (`SpaceHistory` finds the peaks on
    /// it): observers ride along this replay instead of replaying the trace again.
    package var observer: ((Change, AddressSpace) -> Void)?
    /// Told before an event changes a space, with the space as it still is: the moment to keep a
    /// copy of it (copy-on-write: a reference now, a real copy when the event changes it).
    package var willApply: ((_ space: Int, MappingEvent, AddressSpace) -> Void)?

    private func notify(pid: Int32, event: Int?, time: UInt64?) {
        guard let observer, let space = spaceOfPid[pid], let model = spaces[space] else { return }
        observer(Change(pid: pid, space: space, event: event, time: time), model)
    }

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
    package mutating func newProcess(pid: Int32, space: Int, parentSpace: Int?, shares: Bool, time: UInt64? = nil) {
        if let parentSpace, shares {
            spaceOfPid[pid] = parentSpace
        } else {
            spaces[space] = parentSpace.flatMap { spaces[$0] } ?? SpaceReplay.emptySpace()
            spaceOfPid[pid] = space
        }
        notify(pid: pid, event: nil, time: time)
    }

    /// A new space seeded from /proc/PID/maps (exec, attach), its regions made by event `event`.
    package mutating func seed(pid: Int32, space: Int, maps: String, event: Int, time: UInt64? = nil) {
        var model = SpaceReplay.emptySpace()
        model.seed(fromExec: (try? MapsEntry.parseMaps(maps)) ?? [], event: event)
        spaces[space] = model
        spaceOfPid[pid] = space
        notify(pid: pid, event: event, time: time)
    }

    /// A mapping call of `e.pid` (munmap removes what the kernel removed; others apply themselves).
    package mutating func apply(_ e: MappingEvent) {
        guard let space = spaceOfPid[e.pid] else { return }
        if let willApply, let model = spaces[space] { willApply(space, e, model) }
        if e.syscall == .munmap {
            if !e.failed, case .munmap(let address, let length) = e.call { spaces[space]?.unmap(address: address, length: length) }
        } else {
            spaces[space]?.apply(e)
        }
        notify(pid: e.pid, event: e.id, time: e.time)
    }
}
