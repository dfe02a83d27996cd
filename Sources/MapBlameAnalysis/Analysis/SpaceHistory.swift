import MapBlameModel

/// Watches a `SpaceReplay` (as its observer) and keeps, per process, the first moment of its most
/// anonymous bytes mapped and of its most VMAs, exactly: both are measured on the model after every
/// change, so no moment between two samples is missed. Each peak keeps the space (to name the
/// sites that held the memory), taken as late as possible: when a call that changes or removes
/// what the space holds does not beat it, that call is undone on a copy of the space. Calls that
/// only add (an mmap without MAP_FIXED) do not force it, and what they added is told apart by its
/// creator's id (`PeakMoment.cutoff`). So a program whose mappings (or VMAs) only grow costs one
/// copy of its space, not one per call.
///
/// Cost: a call changes only the range its arguments name (`touched`), so both numbers are
/// measured there before and after it (the segments in it and one on each side) and the whole
/// space is walked only for a new space and for the rare calls whose range is not known up front
/// (mremap, shmdt, a brk before the first).
package final class SpaceHistory {
    private struct Peak {
        var moment: SpaceMoment
        var space: Int
        var cutoff: Int
        var model: AddressSpace?
    }

    private struct State {
        var anonymous: Peak?
        var mappings: Peak?
        var series: [SpaceMoment] = []
    }

    /// The numbers of a space after the last change, and the measure of the range the event
    /// being applied touches, taken before it.
    private var current: [Int: (anonymous: UInt64, mappings: Int)] = [:]
    private var before: Before?

    /// The touched range of the event being applied, measured before it; with the segments that
    /// were there (and the break), when a peak waits in the space: what undoes the event.
    private struct Before {
        var space: Int
        var event: Int
        var range: Range<UInt64>
        var anonymous: UInt64
        var lines: Int
        var preimage: [IntervalMap<Mapping>.Segment]?
        var brk: UInt64?
    }

    private var states: [Int32: State] = [:]
    /// Peaks not yet given their space, by the space they are in.
    private var pending: [Int: Set<Int32>] = [:]
    /// The highest event id applied so far (events and seeds are numbered in file order).
    private var lastEvent = -1

    package init() {}

    /// Bytes with no file behind them, but the kernel's own pages ([vdso], [vvar], [vsyscall]).
    package static func anonymousBytes(_ model: AddressSpace) -> UInt64 {
        var total: UInt64 = 0
        for s in model.map.segments where !s.value.isFile && !(s.value.name?.hasPrefix("[v") ?? false) {
            total += UInt64(s.range.count)
        }
        return total
    }

    /// Whether `e` can only add segments of its own (or change nothing): the space before it is
    /// the space after it without the segments `e` created.
    package static func onlyAdds(_ e: MappingEvent) -> Bool {
        if e.failed { return true }
        if case .mmap(_, _, _, let flags, _, _) = e.call { return !flags.contains(.fixed) }
        return false
    }

    package func observe(_ change: SpaceReplay.Change, _ model: AddressSpace) {
        let pid = change.pid
        if let e = change.event { lastEvent = max(lastEvent, e) }
        var state = states.removeValue(forKey: pid) ?? State()
        let anonymous: UInt64, mappings: Int
        if let b = before, b.space == change.space, b.event == change.event, let last = current[change.space] {
            anonymous = last.anonymous + SpaceHistory.anonymousBytes(model, in: b.range) - b.anonymous
            mappings = last.mappings + model.lineStarts(near: b.range) - b.lines
        } else {
            anonymous = SpaceHistory.anonymousBytes(model)
            mappings = model.mapsLineCount
        }
        current[change.space] = (anonymous, mappings)
        let moment = SpaceMoment(event: change.event, time: change.time, anonymousBytes: anonymous, mappings: mappings)
        let peak = Peak(moment: moment, space: change.space, cutoff: lastEvent, model: nil)
        let newAnonymous = state.anonymous.map { anonymous > $0.moment.anonymousBytes } ?? true
        let newMappings = state.mappings.map { mappings > $0.moment.mappings } ?? true
        states[pid] = state
        // Peaks waiting in this space that this change did not beat: the space before the change
        // was theirs (the change is undone on a copy: the only copy a peak costs).
        if let b = before, b.space == change.space, b.event == change.event, let preimage = b.preimage {
            var undone: AddressSpace?
            for waiting in pending[change.space] ?? [] {
                let beaten = waiting == pid ? (newAnonymous, newMappings) : (false, false)
                if !beaten.0, states[waiting]?.anonymous?.space == change.space, states[waiting]?.anonymous?.model == nil {
                    undone = undone ?? SpaceHistory.undo(model, b, preimage)
                    states[waiting]?.anonymous?.model = undone
                }
                if !beaten.1, states[waiting]?.mappings?.space == change.space, states[waiting]?.mappings?.model == nil {
                    undone = undone ?? SpaceHistory.undo(model, b, preimage)
                    states[waiting]?.mappings?.model = undone
                }
            }
            if undone != nil { pending[change.space] = nil }
        }
        before = nil
        state = states.removeValue(forKey: pid)!
        if newAnonymous {
            state.anonymous = peak
            pending[change.space, default: []].insert(pid)
        }
        if newMappings {
            state.mappings = peak
            pending[change.space, default: []].insert(pid)
        }
        SpaceHistory.append(moment, to: &state.series)
        states[pid] = state
    }

    /// `model` as it was before the change `b` measured: its touched range put back.
    private static func undo(_ model: AddressSpace, _ b: Before, _ preimage: [IntervalMap<Mapping>.Segment]) -> AddressSpace {
        var space = model
        space.map.remove(b.range)
        for piece in preimage { space.map.assign(piece.range, piece.value) }
        space.brk = b.brk
        return space
    }

    /// Before `e` changes `space`: the range it touches is measured. Peaks waiting there keep
    /// waiting when `e` only adds; otherwise they are given the space after `e` with `e` undone
    /// (`observe`), unless `e` beats them, or now when `e`'s range is not known.
    package func willApply(space: Int, _ e: MappingEvent, _ model: AddressSpace) {
        guard let range = SpaceHistory.touched(e, model) else {
            before = nil
            if pending[space] != nil { capture(space: space, model) }
            return
        }
        let waits = pending[space] != nil && !SpaceHistory.onlyAdds(e)
        before = Before(space: space, event: e.id, range: range, anonymous: SpaceHistory.anonymousBytes(model, in: range),
                        lines: model.lineStarts(near: range), preimage: waits ? model.map.segments(in: range) : nil,
                        brk: model.brk)
    }

    /// The one range `e` can change in `model` (as `AddressSpace.apply` and `unmap` apply it), an
    /// empty one when it changes nothing, nil when not known before it is applied.
    package static func touched(_ e: MappingEvent, _ model: AddressSpace) -> Range<UInt64>? {
        let nothing: Range<UInt64> = 0..<0
        if let (address, length, _) = e.call.protectionChange {
            if e.failed && e.result != -12 { return nothing }  // ENOMEM changed the mapped run (apply)
            return model.protectSpan(address, length) ?? nothing
        }
        if e.failed { return nothing }
        switch e.call {
        case .mmap(_, let length, _, _, _, _):
            return model.span(UInt64(bitPattern: e.result), length) ?? nothing
        case .munmap(let address, let length):
            return length > 0 ? model.span(address, length) ?? nothing : nothing
        case .brk:
            guard let old = model.brk else { return nil }
            let oldEnd = MemoryFlags.pageUp(old), newEnd = MemoryFlags.pageUp(UInt64(bitPattern: e.result))
            return min(oldEnd, newEnd)..<max(oldEnd, newEnd)
        case .shmat:
            let start = UInt64(bitPattern: e.result)
            return start..<(start + (e.length ?? MemoryFlags.pageSize))
        case .mprotect, .pkeyMprotect, .mremap, .shmdt, .execve:
            return nil
        }
    }

    /// Anonymous bytes (as `anonymousBytes`) of the part of `model` inside `range`.
    package static func anonymousBytes(_ model: AddressSpace, in range: Range<UInt64>) -> UInt64 {
        // A binary search and a walk of the overlapping segments, clipped: no array is built
        // (this runs twice per event).
        let segments = model.map.segments
        var low = 0, high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].range.upperBound <= range.lowerBound { low = mid + 1 } else { high = mid }
        }
        var total: UInt64 = 0
        var i = low
        while i < segments.count, segments[i].range.lowerBound < range.upperBound {
            let s = segments[i]
            if !s.value.isFile && !(s.value.name?.hasPrefix("[v") ?? false) {
                total += min(s.range.upperBound, range.upperBound) - max(s.range.lowerBound, range.lowerBound)
            }
            i += 1
        }
        return total
    }

    private func capture(space: Int, _ model: AddressSpace) {
        for pid in pending.removeValue(forKey: space) ?? [] {
            if states[pid]?.anonymous?.space == space, states[pid]?.anonymous?.model == nil { states[pid]?.anonymous?.model = model }
            if states[pid]?.mappings?.space == space, states[pid]?.mappings?.model == nil { states[pid]?.mappings?.model = model }
        }
    }

    /// The spaces kept by peaks (their creators must stay known).
    package var keptModels: [AddressSpace] {
        states.values.flatMap { [$0.anonymous?.model, $0.mappings?.model].compactMap { $0 } }
    }

    /// Each process's history, the peaks still waiting given the spaces as they are at the end.
    package func histories(spaces: [Int: AddressSpace]) -> [Int32: ProcessHistory] {
        for space in Array(pending.keys) {
            if let model = spaces[space] { capture(space: space, model) }
        }
        var result: [Int32: ProcessHistory] = [:]
        for (pid, state) in states {
            var history = ProcessHistory()
            history.series = state.series
            func done(_ p: Peak?) -> PeakMoment? {
                guard let p, let model = p.model else { return nil }
                return PeakMoment(moment: p.moment, model: model, cutoff: p.cutoff)
            }
            history.peakAnonymous = done(state.anonymous)
            history.peakMappings = done(state.mappings)
            result[pid] = history
        }
        return result
    }

    /// Appends to a bounded series: when full, each pair of neighbours becomes the one with more
    /// anonymous bytes (the shape of the curve survives at half the resolution).
    package static func append(_ moment: SpaceMoment, to series: inout [SpaceMoment]) {
        if series.count >= ProcessHistory.seriesLimit {
            var halved: [SpaceMoment] = []
            halved.reserveCapacity(ProcessHistory.seriesLimit)
            var i = 0
            while i + 1 < series.count {
                halved.append(series[i].anonymousBytes >= series[i + 1].anonymousBytes ? series[i] : series[i + 1])
                i += 2
            }
            if i < series.count { halved.append(series[i]) }
            series = halved
        }
        series.append(moment)
    }
}
