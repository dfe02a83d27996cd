import MapBlameModel

extension BaselineComparison {
    /// "@peak_anonymous_bytes": the most anonymous bytes the process had mapped at once, judged by
    /// the `bytes` tolerance (a key's tolerance in the file, else `--tolerance bytes=`, else none).
    /// Compared only when both sides know it (a baseline written before peaks, or measured from a
    /// JSON report, does not).
    package static func peakAnonymousRow(_ a: BaselineProcess?, _ b: BaselineProcess?, _ t: ToleranceSet) -> Row? {
        let x = a?.peakAnonymousBytes, y = b?.peakAnonymousBytes
        guard x != nil || y != nil, a == nil || b == nil || (x != nil && y != nil) else { return nil }
        return row(key: "@peak_anonymous_bytes", isTotal: true, x.map { BaselineCounts(mappedBytes: $0) },
                   y.map { BaselineCounts(mappedBytes: $0) }, site: "process total", backtrace: [], t, kinds: [.bytes])
    }
}
