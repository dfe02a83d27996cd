/// A value stored in an `IntervalMap` that knows how to describe a piece of itself.
public protocol IntervalValue: Equatable, Sendable {
    /// The value for the part of a segment that starts `delta` bytes after the segment's start
    /// (a file mapping's offset moves along with its start).
    func advanced(by delta: UInt64) -> Self
}

/// A sorted set of non-overlapping half-open address ranges, each with a value. Writing a range
/// replaces whatever was there (splitting neighbours at the boundaries); removing a range splits
/// segments that straddle it. Adjacent segments are never merged: each keeps its own origin.
public struct IntervalMap<Value: IntervalValue>: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var range: Range<UInt64>
        public var value: Value
        public init(_ range: Range<UInt64>, _ value: Value) {
            self.range = range
            self.value = value
        }
    }

    public private(set) var segments: [Segment] = []

    public init() {}

    public var isEmpty: Bool { segments.isEmpty }

    /// Index of the first segment whose end is above `address`. Inlinable with `segment(containing:)`:
    /// the tracer asks it for every frame of every backtrace, and unspecialized across the module
    /// boundary each call looked up the generic metadata and copied through value witnesses.
    @inlinable
    func firstIndex(endingAfter address: UInt64) -> Int {
        var low = 0, high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].range.upperBound <= address { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The segment containing `address`, if any.
    @inlinable
    public func segment(containing address: UInt64) -> Segment? {
        let i = firstIndex(endingAfter: address)
        guard i < segments.count, segments[i].range.contains(address) else { return nil }
        return segments[i]
    }

    /// The pieces of segments that lie inside `range`, clipped to it.
    public func segments(in range: Range<UInt64>) -> [Segment] {
        guard !range.isEmpty else { return [] }
        var result: [Segment] = []
        var i = firstIndex(endingAfter: range.lowerBound)
        while i < segments.count, segments[i].range.lowerBound < range.upperBound {
            let s = segments[i]
            let lo = max(s.range.lowerBound, range.lowerBound)
            let hi = min(s.range.upperBound, range.upperBound)
            result.append(Segment(lo..<hi, s.value.advanced(by: lo - s.range.lowerBound)))
            i += 1
        }
        return result
    }

    /// Removes `range`, keeping the parts of straddling segments outside it.
    /// Returns what was removed, clipped to `range`.
    @discardableResult
    public mutating func remove(_ range: Range<UInt64>) -> [Segment] {
        guard !range.isEmpty else { return [] }
        let removed = segments(in: range)
        let first = firstIndex(endingAfter: range.lowerBound)
        var last = first
        var kept: [Segment] = []
        while last < segments.count, segments[last].range.lowerBound < range.upperBound {
            let s = segments[last]
            if s.range.lowerBound < range.lowerBound {
                // Head of the segment survives (removal covers its tail or middle).
                kept.append(Segment(s.range.lowerBound..<range.lowerBound, s.value))
            }
            if s.range.upperBound > range.upperBound {
                // Tail survives (removal covers its head or middle); its value moves along.
                let delta = range.upperBound - s.range.lowerBound
                kept.append(Segment(range.upperBound..<s.range.upperBound, s.value.advanced(by: delta)))
            }
            last += 1
        }
        segments.replaceSubrange(first..<last, with: kept)
        checkInvariants(around: first..<first + kept.count)
        return removed
    }

    /// Writes `value` over `range`, replacing anything there.
    public mutating func assign(_ range: Range<UInt64>, _ value: Value) {
        guard !range.isEmpty else { return }
        remove(range)
        let i = firstIndex(endingAfter: range.lowerBound)
        segments.insert(Segment(range, value), at: i)
        checkInvariants(around: i..<i + 1)
    }

    /// Applies `change` to the mapped parts of `range`, splitting segments at its boundaries.
    /// Holes stay holes.
    public mutating func update(_ range: Range<UInt64>, _ change: (inout Value) -> Void) {
        let pieces = segments(in: range)
        guard !pieces.isEmpty else { return }
        remove(range)
        let first = firstIndex(endingAfter: range.lowerBound)
        var i = first
        for var piece in pieces {
            change(&piece.value)
            segments.insert(piece, at: i)
            i += 1
        }
        checkInvariants(around: first..<i)
    }

    /// Sorted, non-overlapping, non-empty. Checked after every mutation in debug builds, on the
    /// segments at `indices` (those just written) and their neighbours: the rest held before and
    /// did not change. (Checking every segment made a debug build quadratic: tracing 40,000 VMAs
    /// took minutes.)
    private func checkInvariants(around indices: Range<Int>) {
        #if DEBUG
        for i in max(indices.lowerBound, 0)..<min(indices.upperBound + 1, segments.count) {
            let s = segments[i]
            assert(!s.range.isEmpty, "empty segment \(s.range)")
            if i > 0 { assert(segments[i - 1].range.upperBound <= s.range.lowerBound, "overlap at \(s.range)") }
        }
        #endif
    }
}
