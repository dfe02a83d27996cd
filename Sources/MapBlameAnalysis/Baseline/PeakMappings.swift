import MapBlameModel

/// The peak number of mappings of each process during a recording, from its trace.
///
/// An approximation of the kernel's VMA count: after every event the process's model is counted as
/// /proc/PID/maps lines would be (adjacent segments with the same protection, sharing and name
/// are one line, as `AddressSpace.mapsView` merges them), and the highest count is kept. The
/// kernel also keeps apart anonymous mappings the model would join (different flags, anon_vma),
/// and does not show [vsyscall] in the model, so the real peak can differ by a few; the final
/// count (`regions`) is exact.
public enum PeakMappings {
    /// Peak by pid. Processes sharing an address space (vfork) each see the shared space's peak
    /// while they use it.
    public static func compute(trace path: String) throws(TraceReadError) -> [Int32: Int] {
        var state = State()
        _ = try TraceReader.read(path: path) { state.apply($0) }
        return state.peak
    }

    /// The replay (`SpaceReplay`, as the report's) and the highest count seen per pid.
    package struct State {
        package var replay = SpaceReplay()
        package var peak: [Int32: Int] = [:]

        package init(peak: [Int32: Int] = [:]) {
            self.peak = peak
        }

        package mutating func apply(_ record: TraceRecord) {
            switch record {
            case let .process(pid, _, space, parentSpace, shares, _, _):
                replay.newProcess(pid: pid, space: space, parentSpace: parentSpace, shares: shares)
                note(pid)
            case let .exec(pid, _, space, _, maps, _), let .attach(pid, _, space, _, maps, _):
                replay.seed(pid: pid, space: space, maps: maps, event: 0)
                note(pid)
            case .event(let e):
                replay.apply(e)
                note(e.pid)
            default:
                break
            }
        }

        package mutating func note(_ pid: Int32) {
            guard let model = replay.model(of: pid) else { return }
            // A merged count never exceeds the segment count: skip the walk when it cannot win.
            if model.map.segments.count <= peak[pid] ?? 0 { return }
            peak[pid] = max(peak[pid] ?? 0, model.mapsLineCount)
        }
    }
}
