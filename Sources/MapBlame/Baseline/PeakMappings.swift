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

    struct State {
        var spaces: [Int: AddressSpace] = [:]
        var spaceOfPid: [Int32: Int] = [:]
        var peak: [Int32: Int] = [:]

        mutating func apply(_ record: TraceRecord) {
            switch record {
            case let .process(pid, _, space, parentSpace, shares, _):
                if let parentSpace, shares {
                    spaceOfPid[pid] = parentSpace
                } else {
                    spaces[space] = parentSpace.flatMap { spaces[$0] } ?? PeakMappings.emptySpace()
                    spaceOfPid[pid] = space
                }
                note(pid)
            case let .exec(pid, _, space, _, maps):
                var model = PeakMappings.emptySpace()
                model.seed(fromExec: (try? MapsEntry.parseMaps(maps)) ?? [], event: 0)
                spaces[space] = model
                spaceOfPid[pid] = space
                note(pid)
            case .event(let e):
                guard let space = spaceOfPid[e.pid] else { return }
                if e.syscall == .munmap {
                    if !e.failed { spaces[space]?.unmap(address: e.args[0], length: e.args[1]) }
                } else {
                    spaces[space]?.apply(e)
                }
                note(e.pid)
            default:
                break
            }
        }

        mutating func note(_ pid: Int32) {
            guard let space = spaceOfPid[pid], let model = spaces[space] else { return }
            // A merged count never exceeds the segment count: skip the walk when it cannot win.
            if model.map.segments.count <= peak[pid] ?? 0 { return }
            peak[pid] = max(peak[pid] ?? 0, PeakMappings.lines(model))
        }
    }

    static func emptySpace() -> AddressSpace {
        var space = AddressSpace()
        space.taskSize = 0x00ff_ffff_ffff_f000
        return space
    }

    /// What `mapsView().count` would be, without building the entries.
    static func lines(_ model: AddressSpace) -> Int {
        var count = 0
        var previous: Mapping?
        var previousEnd: UInt64 = 0
        var previousFileEnd: UInt64 = 0
        for s in model.map.segments {
            let v = s.value
            let size = UInt64(s.range.count)
            if let p = previous, previousEnd == s.range.lowerBound, p.prot == v.prot, p.shared == v.shared,
               p.name == v.name, p.isFile == v.isFile, !v.isFile || previousFileEnd == v.fileOffset {
                // same line
            } else {
                count += 1
            }
            previous = v
            previousEnd = s.range.upperBound
            previousFileEnd = v.fileOffset &+ size
        }
        return count
    }
}
