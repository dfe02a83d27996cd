import MapBlameAnalysis
import MapBlameModel

/// The one path from a trace file to what is made of it: a report, a baseline. The CLI's `run`,
/// `report`, `baseline`, `check` and `diff`, and `MappingTrace`, all go through here.
public enum Pipeline {
    /// Replays the trace at `path` and joins it with its final snapshots.
    public static func report(trace path: String, symbolizer: Symbolizer, verify: Bool = false, allEvents: Bool = false,
                              allocators: AllocatorFrames? = nil) throws(TraceReadError) -> Report {
        let recording = try TraceReplayer.replay(path: path, keepAllEvents: allEvents)
        var builder = ReportBuilder(recording: recording, symbolizer: symbolizer, verify: verify, allEvents: allEvents,
                                    allocators: allocators)
        return builder.build()
    }

    /// The baseline of a trace: its report's keys, and the peak number of mappings of each process.
    public static func baseline(trace path: String, symbolizer: Symbolizer, allocators: AllocatorFrames? = nil)
        throws(TraceReadError) -> Baseline {
        let report = try report(trace: path, symbolizer: symbolizer, allocators: allocators)
        return Baseline(report: report, peakMappings: try PeakMappings.compute(trace: path))
    }
}
