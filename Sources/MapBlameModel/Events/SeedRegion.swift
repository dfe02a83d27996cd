/// A byte range that already existed when `mapblame attach` seized a process, with what `explain`'s
/// evidence said about it. Written in the `attach` record; the join uses it for pages no traced
/// event created.
public struct SeedRegion: Equatable, Sendable {
    public var range: Range<UInt64>
    public var category: Category
    public var label: String
    public var evidence: String
    /// "certain" or "likely".
    public var confidence: Confidence

    public init(range: Range<UInt64>, category: Category, label: String, evidence: String, confidence: Confidence) {
        self.range = range
        self.category = category
        self.label = label
        self.evidence = evidence
        self.confidence = confidence
    }
}
