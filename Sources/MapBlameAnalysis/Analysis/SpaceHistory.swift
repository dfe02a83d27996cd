import MapBlameModel

/// Watches a `SpaceReplay` (as its observer) and keeps, per process, the first moment of its most
/// anonymous bytes mapped and of its most VMAs, exactly: both are measured on the model after every
/// change, so no moment between two samples is missed. Each peak keeps the space as it was then
/// (a copy-on-write value: copied only when the replay changes it next), which the report walks to
/// name the sites that held the memory.
///
/// Cost: a walk of the changed space's segments per change for the VMA count, and one more for the
/// bytes when the change maps or unmaps (a protection change keeps them): linear in the mappings
/// alive, as the model's own updates are (they move the segments after the change).
package final class SpaceHistory {
    package private(set) var histories: [Int32: ProcessHistory] = [:]
    /// The last anonymous byte count per pid, reused when a change cannot have changed it.
    private var lastAnonymous: [Int32: UInt64] = [:]

    package init() {}

    /// Bytes with no file behind them, but the kernel's own pages ([vdso], [vvar], [vsyscall]).
    package static func anonymousBytes(_ model: AddressSpace) -> UInt64 {
        var total: UInt64 = 0
        for s in model.map.segments where !s.value.isFile && !(s.value.name?.hasPrefix("[v") ?? false) {
            total += UInt64(s.range.count)
        }
        return total
    }

    package func observe(_ change: SpaceReplay.Change, _ model: AddressSpace) {
        let pid = change.pid
        var history = histories.removeValue(forKey: pid) ?? ProcessHistory()
        let anonymous = change.remaps || lastAnonymous[pid] == nil ? SpaceHistory.anonymousBytes(model) : lastAnonymous[pid]!
        let peakCount = history.peakMappings?.moment.mappings ?? -1
        let mappings = model.mapsLineCount
        lastAnonymous[pid] = anonymous
        let moment = SpaceMoment(event: change.event, time: change.time, anonymousBytes: anonymous, mappings: mappings)
        if anonymous > history.peakAnonymous?.moment.anonymousBytes ?? 0 || history.peakAnonymous == nil {
            history.peakAnonymous = PeakMoment(moment: moment, model: model)
        }
        if mappings > peakCount {
            history.peakMappings = PeakMoment(moment: moment, model: model)
        }
        SpaceHistory.append(moment, to: &history.series)
        histories[pid] = history
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
