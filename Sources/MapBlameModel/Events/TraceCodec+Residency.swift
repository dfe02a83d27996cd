/// Record 14, `residency`: pid, region count, regions: (start, run count, runs: varint of
/// pages << 2 | state). Run-length coding keeps a fully touched or untouched 1 GiB region at a few
/// bytes.
extension TraceCodec {
    static func encodeResidency(pid: Int32, _ regions: [PageResidency], into w: inout ByteWriter) {
        w.varint(UInt64(pid))
        w.varint(UInt64(regions.count))
        for region in regions {
            w.varint(region.start)
            w.varint(UInt64(region.runs.count))
            for run in region.runs { w.varint(run.pages << 2 | UInt64(run.state.rawValue)) }
        }
    }

    static func decodeResidency(_ r: inout ByteReader) -> TraceRecord? {
        guard let pid = r.pid(), let n = r.int(), n < 1 << 24 else { return nil }
        var regions: [PageResidency] = []
        for _ in 0..<n {
            guard let start = r.varint(), start % MemoryFlags.pageSize == 0, let m = r.int(), m < 1 << 36 else { return nil }
            var region = PageResidency(start: start, runs: [])
            var pages: UInt64 = 0
            for _ in 0..<m {
                guard let v = r.varint(), v >> 2 > 0, let state = PageResidency.State(rawValue: UInt8(v & 3)) else { return nil }
                pages += v >> 2
                // A region ends below 2^64: more pages than that is corruption.
                guard pages <= (UInt64.max - start) / MemoryFlags.pageSize else { return nil }
                region.runs.append(PageResidency.Run(pages: v >> 2, state: state))
            }
            regions.append(region)
        }
        return .residency(pid: pid, regions)
    }
}
