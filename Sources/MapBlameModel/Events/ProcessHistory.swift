/// A process's address space at one moment of the recording, as the replay of its trace saw it.
public struct SpaceMoment: Sendable, Equatable {
    /// The event just applied (an exec's or attach's pseudo-event for a seed); nil: the process's
    /// creation (a fork's copy, or the empty space of the launched program).
    public var event: Int?
    /// ns since the recording started; nil in traces written before timestamps.
    public var time: UInt64?
    /// Bytes of private and shared anonymous memory mapped (no file behind them; [vdso], [vvar]
    /// and [vsyscall] left out): what the program itself asked for, touched or not.
    public var anonymousBytes: UInt64
    /// Lines /proc/PID/maps would have (the model's count of VMAs: `AddressSpace.mapsLineCount`).
    public var mappings: Int

    package init(event: Int?, time: UInt64?, anonymousBytes: UInt64, mappings: Int) {
        self.event = event
        self.time = time
        self.anonymousBytes = anonymousBytes
        self.mappings = mappings
    }
}

/// The moment a quantity was highest, with the space (to name what held the memory).
public struct PeakMoment: Sendable {
    public var moment: SpaceMoment
    /// The space at that moment, or later but before any call changed or removed what it held:
    /// its segments whose creator is above `cutoff` were added after the moment (only calls that
    /// add, such as an mmap without MAP_FIXED, came between) and are not part of the peak.
    public var model: AddressSpace
    /// The highest event id applied at the moment.
    public var cutoff: Int

    package init(moment: SpaceMoment, model: AddressSpace, cutoff: Int) {
        self.moment = moment
        self.model = model
        self.cutoff = cutoff
    }
}

/// A process's history from the replay: its two peaks (the first moment each was reached) and a
/// bounded series of moments for a time axis.
public struct ProcessHistory: Sendable {
    /// Most anonymous bytes mapped at once.
    public var peakAnonymous: PeakMoment?
    /// Most VMAs at once (the number `vm.max_map_count` limits).
    public var peakMappings: PeakMoment?
    /// Moments in recording order, at most `ProcessHistory.seriesLimit` (halved by keeping the
    /// larger of each pair when full, so memory stays flat; the peaks above are exact).
    public var series: [SpaceMoment] = []

    package static let seriesLimit = 2048

    package init() {}
}
