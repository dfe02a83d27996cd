// A trace file's bytes as found on disk → TraceReplayer.replay (TraceReader.read inside) and
// PeakMappings.compute, the two readers of `report`, `baseline`, `check` and `diff`. Most mutations
// break a record's CRC, so this target mostly exercises framing; fuzz-trace-records repairs the
// CRCs to reach the record decoder and the replayer.
import FuzzSupport
import MapBlame

InputFile.removeAtExit()
fuzzMain { bytes in
    InputFile.write(bytes)
    _ = try? TraceReplayer.replay(path: InputFile.path)
    _ = try? PeakMappings.compute(trace: InputFile.path)
}
