import MapBlameTestSupport
import Testing
@testable import MapBlameModel

/// `IntervalMap` as a pure data structure: before/after tables for every operation, then a
/// model-based randomized comparison against a naive per-page reference.
@Suite struct IntervalMapTests {

    // MARK: values and helpers

    /// A plain label: pieces of it stay the same label.
    struct Tag: IntervalValue, CustomStringConvertible {
        var name: String
        func advanced(by delta: UInt64) -> Tag { self }
        var description: String { name }
    }

    typealias Map = IntervalMap<Tag>

    /// A step of a table case.
    enum Op: Sendable, CustomStringConvertible {
        case assign(Range<UInt64>, String)
        /// Removes the range; the pieces it returns must equal `removed`.
        case remove(Range<UInt64>, removed: [Seg])
        /// Renames the mapped parts of the range to `name + "'"`.
        case update(Range<UInt64>)

        var description: String {
            switch self {
            case .assign(let r, let n): "assign(\(r), \(n))"
            case .remove(let r, _): "remove(\(r))"
            case .update(let r): "update(\(r))"
            }
        }
    }

    struct Seg: Sendable, Equatable, CustomStringConvertible {
        var range: Range<UInt64>
        var name: String
        init(_ range: Range<UInt64>, _ name: String) {
            self.range = range
            self.name = name
        }
        var description: String { "(\(range),\(name))" }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var ops: [Op]
        var expected: [Seg]
        init(_ label: String, _ ops: [Op], _ expected: [(Range<UInt64>, String)]) {
            self.label = label
            self.ops = ops
            self.expected = expected.map { Seg($0.0, $0.1) }
        }
        var testDescription: String { label }
    }

    static func layout(_ map: Map) -> [Seg] {
        map.segments.map { Seg($0.range, $0.value.name) }
    }

    static func run(_ c: Case) -> Map {
        var map = Map()
        for op in c.ops {
            switch op {
            case .assign(let r, let n):
                map.assign(r, Tag(name: n))
            case .remove(let r, let removed):
                let got = map.remove(r).map { Seg($0.range, $0.value.name) }
                #expect(got == removed, "\(c.label): \(op) returned \(got)")
            case .update(let r):
                map.update(r) { $0.name += "'" }
            }
        }
        return map
    }

    // MARK: tables

    static let assignCases: [Case] = [
        Case("into empty map", [.assign(2..<8, "A")], [(2..<8, "A")]),
        Case("empty range is a no-op", [.assign(2..<8, "A"), .assign(5..<5, "B")], [(2..<8, "A")]),
        Case("over the middle", [.assign(2..<8, "A"), .assign(4..<6, "B")],
             [(2..<4, "A"), (4..<6, "B"), (6..<8, "A")]),
        Case("over the head", [.assign(2..<8, "A"), .assign(2..<5, "B")],
             [(2..<5, "B"), (5..<8, "A")]),
        Case("over the head, starting before it", [.assign(2..<8, "A"), .assign(0..<5, "B")],
             [(0..<5, "B"), (5..<8, "A")]),
        Case("over the tail", [.assign(2..<8, "A"), .assign(5..<8, "B")],
             [(2..<5, "A"), (5..<8, "B")]),
        Case("over the tail, ending after it", [.assign(2..<8, "A"), .assign(5..<10, "B")],
             [(2..<5, "A"), (5..<10, "B")]),
        Case("exactly the whole segment", [.assign(2..<8, "A"), .assign(2..<8, "B")], [(2..<8, "B")]),
        Case("covering the whole segment and more", [.assign(2..<8, "A"), .assign(1..<9, "B")], [(1..<9, "B")]),
        Case("spanning several segments and holes",
             [.assign(0..<4, "A"), .assign(4..<6, "B"), .assign(8..<12, "C"), .assign(14..<16, "D"),
              .assign(2..<10, "E")],
             [(0..<2, "A"), (2..<10, "E"), (10..<12, "C"), (14..<16, "D")]),
        Case("into a hole between segments", [.assign(0..<2, "A"), .assign(6..<8, "B"), .assign(3..<5, "C")],
             [(0..<2, "A"), (3..<5, "C"), (6..<8, "B")]),
        Case("adjacent segments are not merged", [.assign(0..<2, "A"), .assign(2..<4, "A")],
             [(0..<2, "A"), (2..<4, "A")]),
        Case("before everything", [.assign(10..<12, "A"), .assign(1..<3, "B")], [(1..<3, "B"), (10..<12, "A")]),
        Case("after everything", [.assign(1..<3, "A"), .assign(10..<12, "B")], [(1..<3, "A"), (10..<12, "B")]),
        Case("at the very top of the address space",
             [.assign(UInt64.max - 8..<UInt64.max, "A"), .assign(UInt64.max - 4..<UInt64.max, "B")],
             [(UInt64.max - 8..<UInt64.max - 4, "A"), (UInt64.max - 4..<UInt64.max, "B")]),
    ]

    static let removeCases: [Case] = [
        Case("head", [.assign(2..<8, "A"), .remove(2..<4, removed: [Seg(2..<4, "A")])], [(4..<8, "A")]),
        Case("head, starting in the hole before it",
             [.assign(2..<8, "A"), .remove(0..<4, removed: [Seg(2..<4, "A")])], [(4..<8, "A")]),
        Case("middle", [.assign(2..<8, "A"), .remove(4..<6, removed: [Seg(4..<6, "A")])],
             [(2..<4, "A"), (6..<8, "A")]),
        Case("tail", [.assign(2..<8, "A"), .remove(6..<8, removed: [Seg(6..<8, "A")])], [(2..<6, "A")]),
        Case("tail, ending in the hole after it",
             [.assign(2..<8, "A"), .remove(6..<20, removed: [Seg(6..<8, "A")])], [(2..<6, "A")]),
        Case("whole", [.assign(2..<8, "A"), .remove(2..<8, removed: [Seg(2..<8, "A")])], []),
        Case("whole and more", [.assign(2..<8, "A"), .remove(0..<10, removed: [Seg(2..<8, "A")])], []),
        Case("spanning several segments",
             [.assign(0..<4, "A"), .assign(4..<6, "B"), .assign(8..<12, "C"),
              .remove(2..<10, removed: [Seg(2..<4, "A"), Seg(4..<6, "B"), Seg(8..<10, "C")])],
             [(0..<2, "A"), (10..<12, "C")]),
        Case("hole only", [.assign(0..<2, "A"), .assign(6..<8, "B"), .remove(2..<6, removed: [])],
             [(0..<2, "A"), (6..<8, "B")]),
        Case("empty range", [.assign(0..<8, "A"), .remove(4..<4, removed: [])], [(0..<8, "A")]),
        Case("from an empty map", [.remove(0..<100, removed: [])], []),
        Case("ending exactly where a segment starts",
             [.assign(0..<2, "A"), .assign(4..<6, "B"), .remove(2..<4, removed: [])],
             [(0..<2, "A"), (4..<6, "B")]),
    ]

    static let updateCases: [Case] = [
        Case("middle of a segment", [.assign(2..<8, "A"), .update(4..<6)],
             [(2..<4, "A"), (4..<6, "A'"), (6..<8, "A")]),
        Case("head", [.assign(2..<8, "A"), .update(0..<4)], [(2..<4, "A'"), (4..<8, "A")]),
        Case("tail", [.assign(2..<8, "A"), .update(6..<10)], [(2..<6, "A"), (6..<8, "A'")]),
        Case("whole", [.assign(2..<8, "A"), .update(2..<8)], [(2..<8, "A'")]),
        Case("sub-range with holes: holes stay holes, each segment keeps its own piece",
             [.assign(0..<4, "A"), .assign(6..<8, "B"), .assign(8..<10, "C"), .assign(12..<16, "D"),
              .update(2..<14)],
             [(0..<2, "A"), (2..<4, "A'"), (6..<8, "B'"), (8..<10, "C'"), (12..<14, "D'"), (14..<16, "D")]),
        Case("hole only", [.assign(0..<2, "A"), .assign(6..<8, "B"), .update(2..<6)],
             [(0..<2, "A"), (6..<8, "B")]),
        Case("empty range", [.assign(0..<8, "A"), .update(3..<3)], [(0..<8, "A")]),
        Case("twice over overlapping ranges", [.assign(0..<8, "A"), .update(2..<6), .update(4..<8)],
             [(0..<2, "A"), (2..<4, "A'"), (4..<6, "A''"), (6..<8, "A'")]),
    ]

    @Test("assign", arguments: assignCases)
    func assign(_ c: Case) {
        #expect(Self.layout(Self.run(c)) == c.expected, "\(c.label)")
    }

    @Test("remove", arguments: removeCases)
    func remove(_ c: Case) {
        #expect(Self.layout(Self.run(c)) == c.expected, "\(c.label)")
    }

    @Test("update", arguments: updateCases)
    func update(_ c: Case) {
        #expect(Self.layout(Self.run(c)) == c.expected, "\(c.label)")
    }

    @Test("update hands each piece to the closure once, in address order")
    func updateCallsClosurePerPiece() {
        var map = Map()
        map.assign(0..<4, Tag(name: "A"))
        map.assign(6..<8, Tag(name: "B"))
        map.assign(8..<10, Tag(name: "C"))
        var seen: [String] = []
        map.update(2..<9) { seen.append($0.name) }
        #expect(seen == ["A", "B", "C"])
        #expect(Self.layout(map) == [Seg(0..<2, "A"), Seg(2..<4, "A"), Seg(6..<8, "B"), Seg(8..<9, "C"),
                                     Seg(9..<10, "C")])
        seen = []
        map.update(4..<6) { seen.append($0.name) }
        #expect(seen.isEmpty, "a hole-only update must not call the closure")
    }

    @Test("segments(in:) clips to the query range")
    func segmentsInClips() {
        var map = Map()
        map.assign(0..<4, Tag(name: "A"))
        map.assign(6..<8, Tag(name: "B"))
        map.assign(8..<12, Tag(name: "C"))
        let table: [(Range<UInt64>, [Seg])] = [
            (2..<10, [Seg(2..<4, "A"), Seg(6..<8, "B"), Seg(8..<10, "C")]),
            (0..<12, [Seg(0..<4, "A"), Seg(6..<8, "B"), Seg(8..<12, "C")]),
            (1..<3, [Seg(1..<3, "A")]),
            (4..<6, []),
            (3..<7, [Seg(3..<4, "A"), Seg(6..<7, "B")]),
            (12..<20, []),
            (11..<20, [Seg(11..<12, "C")]),
            (8..<8, []),
            (7..<9, [Seg(7..<8, "B"), Seg(8..<9, "C")]),
        ]
        for (query, expected) in table {
            let got = map.segments(in: query).map { Seg($0.range, $0.value.name) }
            #expect(got == expected, "segments(in: \(query))")
        }
        #expect(Self.layout(map) == [Seg(0..<4, "A"), Seg(6..<8, "B"), Seg(8..<12, "C")], "query must not mutate")
    }

    @Test("segment(containing:) at boundaries: start inclusive, end exclusive")
    func segmentContaining() {
        var map = Map()
        map.assign(2..<4, Tag(name: "A"))
        map.assign(4..<6, Tag(name: "B"))
        map.assign(8..<10, Tag(name: "C"))
        let table: [(UInt64, String?)] = [
            (0, nil), (1, nil), (2, "A"), (3, "A"), (4, "B"), (5, "B"), (6, nil), (7, nil),
            (8, "C"), (9, "C"), (10, nil), (UInt64.max, nil),
        ]
        for (address, expected) in table {
            #expect(map.segment(containing: address)?.value.name == expected, "segment(containing: \(address))")
        }
        #expect(map.segment(containing: 5)?.range == 4..<6)
        #expect(Map().segment(containing: 0) == nil)
    }

    // MARK: file offsets

    static let page = MemoryFlags.pageSize

    static func file(_ creator: Int, offset: UInt64) -> Mapping {
        Mapping(creator: creator, prot: MemoryFlags.protRead, shared: false, name: "/lib/f.so", isFile: true,
                fileOffset: offset)
    }

    @Test("a file mapping's offset advances on tail pieces, not on head pieces")
    func fileOffsetAdvances() {
        let p = Self.page
        var map = IntervalMap<Mapping>()
        map.assign(10 * p..<20 * p, Self.file(1, offset: 0x8000))
        // Punch a hole in the middle: head keeps 0x8000, tail starts 6 pages in.
        let removed = map.remove(12 * p..<16 * p)
        #expect(removed.map(\.value.fileOffset) == [0x8000 + 2 * p])
        #expect(map.segments.map(\.range) == [10 * p..<12 * p, 16 * p..<20 * p])
        #expect(map.segments.map(\.value.fileOffset) == [0x8000, 0x8000 + 6 * p])
        // Assign over the head of the tail piece: what is left moves along again.
        map.assign(15 * p..<17 * p, Self.file(2, offset: 0))
        #expect(map.segments.map(\.range) == [10 * p..<12 * p, 15 * p..<17 * p, 17 * p..<20 * p])
        #expect(map.segments.map(\.value.fileOffset) == [0x8000, 0, 0x8000 + 7 * p])
        #expect(map.segments.map(\.value.creator) == [1, 2, 1])
        // update keeps offsets of every piece, including the middle one.
        map.update(18 * p..<19 * p) { $0.prot = MemoryFlags.protRead | MemoryFlags.protExec }
        #expect(map.segments.map(\.range) == [10 * p..<12 * p, 15 * p..<17 * p, 17 * p..<18 * p,
                                              18 * p..<19 * p, 19 * p..<20 * p])
        #expect(map.segments.map(\.value.fileOffset) == [0x8000, 0, 0x8000 + 7 * p, 0x8000 + 8 * p, 0x8000 + 9 * p])
        #expect(map.segments.map(\.value.prot) == [1, 1, 1, 5, 1])
        // segments(in:) and segment(containing:) report the offset at the start of what they return.
        #expect(map.segments(in: 11 * p..<12 * p).map(\.value.fileOffset) == [0x8000 + p])
        #expect(map.segment(containing: 11 * p + 5)?.value.fileOffset == 0x8000)
    }

    @Test("an anonymous mapping's offset never moves")
    func anonymousOffsetStays() {
        let p = Self.page
        var map = IntervalMap<Mapping>()
        map.assign(0..<8 * p, Mapping(creator: 1, prot: 3, shared: false))
        map.remove(2 * p..<3 * p)
        map.update(5 * p..<6 * p) { $0.prot = 1 }
        #expect(map.segments.map(\.value.fileOffset) == [0, 0, 0, 0])
        #expect(map.segments(in: 7 * p..<8 * p).map(\.value.fileOffset) == [0])
    }

    // MARK: model-based randomized test


    @Test("SplitMix64 reproduces the reference sequence")
    func splitMixReference() {
        // First outputs for seed 1234567 from the reference C implementation.
        var g = SplitMix64(seed: 1_234_567)
        #expect(g.next() == 6_457_827_717_110_365_317)
        #expect(g.next() == 3_203_168_211_198_807_973)
        #expect(g.next() == 9_817_491_932_198_370_423)
    }

    /// What the reference knows about one page: its value (file offset already advanced to this page)
    /// and which piece it belongs to. Two adjacent pages are in the same segment iff they share `piece`.
    struct RefPage: Equatable {
        var piece: Int
        var value: Mapping
    }

    struct Reference {
        static let pages: UInt64 = 64
        static let base: UInt64 = 0x7f00_0000_0000
        var pages = [RefPage?](repeating: nil, count: Int(Reference.pages))
        var nextPiece = 0

        static func address(_ page: UInt64) -> UInt64 { base + page * MemoryFlags.pageSize }

        /// The segments an interval map must hold for this state, clipped to `pageRange`.
        func segments(pageRange: Range<UInt64> = 0..<Reference.pages) -> [IntervalMap<Mapping>.Segment] {
            var result: [IntervalMap<Mapping>.Segment] = []
            var runStart = -1
            var runPiece = -1
            let lo = Int(pageRange.lowerBound), hi = Int(pageRange.upperBound)
            for p in lo...hi {
                let piece = p < hi ? pages[p]?.piece ?? -1 : -1
                if runStart >= 0, piece != runPiece {
                    result.append(.init(Self.address(UInt64(runStart))..<Self.address(UInt64(p)),
                                        pages[runStart]!.value))
                    runStart = -1
                }
                if piece >= 0, runStart < 0 {
                    runStart = p
                    runPiece = piece
                }
            }
            return result
        }

        mutating func assign(_ r: Range<UInt64>, _ value: Mapping) {
            nextPiece += 1
            for p in r {
                pages[Int(p)] = RefPage(piece: nextPiece,
                                        value: value.advanced(by: (p - r.lowerBound) * MemoryFlags.pageSize))
            }
        }

        mutating func remove(_ r: Range<UInt64>) {
            for p in r { pages[Int(p)] = nil }
        }

        mutating func update(_ r: Range<UInt64>, _ change: (inout Mapping) -> Void) {
            var renamed: [Int: Int] = [:]
            for p in r {
                guard var page = pages[Int(p)] else { continue }
                if renamed[page.piece] == nil {
                    nextPiece += 1
                    renamed[page.piece] = nextPiece
                }
                page.piece = renamed[page.piece]!
                change(&page.value)
                pages[Int(p)] = page
            }
        }
    }

    static func randomRange(_ g: inout SplitMix64) -> Range<UInt64> {
        let a = UInt64.random(in: 0...Reference.pages, using: &g)
        let b = UInt64.random(in: 0...Reference.pages, using: &g)
        return min(a, b)..<max(a, b)
    }

    static func byteRange(_ pages: Range<UInt64>) -> Range<UInt64> {
        Reference.address(pages.lowerBound)..<Reference.address(pages.upperBound)
    }

    static func describe(_ segments: [IntervalMap<Mapping>.Segment]) -> String {
        segments.map {
            let lo = ($0.range.lowerBound - Reference.base) / MemoryFlags.pageSize
            let hi = ($0.range.upperBound - Reference.base) / MemoryFlags.pageSize
            let v = $0.value
            return "[\(lo)..<\(hi) c\(v.creator) p\(v.prot)\(v.isFile ? " off 0x\(String(v.fileOffset, radix: 16))" : "")"
                + "\(v.lastProtect.map { " mp\($0)" } ?? "")]"
        }.joined(separator: " ")
    }

    /// Runs one seed; returns a failure description or nil.
    static func runSeed(_ seed: UInt64, steps: Int) -> String? {
        var g = SplitMix64(seed: seed)
        var map = IntervalMap<Mapping>()
        var ref = Reference()
        // Names of at most 15 bytes are stored inline: no allocation or refcounting per copy.
        let files = ["/lib/a.so", "/lib/b.so", "/data/blob"]
        for step in 1...steps {
            let pages = randomRange(&g)
            let bytes = byteRange(pages)
            let kind = g.next() % 10
            let opText: String
            if kind < 4 {
                let isFile = g.next() % 2 == 0
                let value = Mapping(creator: step, prot: g.next() % 8, shared: g.next() % 4 == 0,
                                    name: isFile ? files[Int(g.next() % 3)] : nil, isFile: isFile,
                                    fileOffset: isFile ? (g.next() % 32) * MemoryFlags.pageSize : 0)
                opText = "assign(\(pages), c\(step)\(isFile ? " off 0x\(String(value.fileOffset, radix: 16))" : ""))"
                map.assign(bytes, value)
                ref.assign(pages, value)
            } else if kind < 7 {
                opText = "remove(\(pages))"
                let expectedRemoved = ref.segments(pageRange: pages)
                let removed = map.remove(bytes)
                ref.remove(pages)
                if removed != expectedRemoved {
                    return "seed \(seed) step \(step) \(opText): removed \(describe(removed)), "
                        + "expected \(describe(expectedRemoved))"
                }
            } else {
                let prot = g.next() % 8
                opText = "update(\(pages), p\(prot) mp\(step))"
                let change: (inout Mapping) -> Void = {
                    $0.prot = prot
                    $0.lastProtect = step
                }
                map.update(bytes, change)
                ref.update(pages, change)
            }
            let expected = ref.segments()
            if map.segments != expected {
                return "seed \(seed) step \(step) after \(opText):\n  got      \(describe(map.segments))\n"
                    + "  expected \(describe(expected))"
            }
            // Queries against the same state.
            let query = randomRange(&g)
            let clipped = map.segments(in: byteRange(query))
            let expectedClipped = ref.segments(pageRange: query)
            if clipped != expectedClipped {
                return "seed \(seed) step \(step) segments(in: pages \(query)): got \(describe(clipped)), "
                    + "expected \(describe(expectedClipped))"
            }
            let probePage = g.next() % (Reference.pages + 2)
            let probe = Reference.address(probePage) + g.next() % MemoryFlags.pageSize
            let found = map.segment(containing: probe)
            let expectedFound = expected.first { $0.range.contains(probe) }
            if found != expectedFound {
                return "seed \(seed) step \(step) segment(containing: page \(probePage)): got "
                    + "\(found.map { describe([$0]) } ?? "nil"), expected \(expectedFound.map { describe([$0]) } ?? "nil")"
            }
        }
        return nil
    }

    /// 200 seeds x 300 operations, split in chunks so they run in parallel.
    @Test("random assign/remove/update agree with a per-page reference model", arguments: 0..<8)
    func randomizedAgainstReference(chunk: Int) {
        for seed in UInt64(chunk * 25)..<UInt64(chunk * 25 + 25) {
            if let failure = Self.runSeed(seed, steps: 300) {
                Issue.record(Comment(rawValue: failure))
                return
            }
        }
    }

    @Test("the reference model itself notices a wrong map (guards against a vacuous comparison)")
    func referenceDetectsDifferences() {
        var ref = Reference()
        let v = Mapping(creator: 1, prot: 3, shared: false, name: "/f", isFile: true, fileOffset: 0x1000)
        ref.assign(2..<6, v)
        ref.update(3..<4) { $0.prot = 1 }
        var map = IntervalMap<Mapping>()
        map.assign(Self.byteRange(2..<6), v)
        #expect(map.segments != ref.segments(), "the update split must be visible")
        map.update(Self.byteRange(3..<4)) { $0.prot = 1 }
        #expect(map.segments == ref.segments())
        #expect(ref.segments().map(\.value.fileOffset) == [0x1000, 0x2000, 0x3000])
        // Same values, different boundaries: a merged map would not match.
        var merged = IntervalMap<Mapping>()
        ref = Reference()
        ref.assign(0..<2, Mapping(creator: 1, prot: 3, shared: false))
        ref.assign(2..<4, Mapping(creator: 1, prot: 3, shared: false))
        merged.assign(Self.byteRange(0..<4), Mapping(creator: 1, prot: 3, shared: false))
        #expect(merged.segments != ref.segments())
    }
}
