import Foundation
import Testing
@testable import MapBlame

/// `--verify`'s label check: explain's certain verdicts on the exit snapshot against the recorded
/// categories.
@Suite("Label check")
struct LabelCheckTests {
    /// The arena/stacks fixture, recorded, replayed and joined with --verify: the process, its
    /// recorded regions and explain's verdicts from the evidence in the trace.
    static func arenaStacks() throws -> (process: ProcessReport, evidence: [RegionReport], values: [String: String]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-labels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.trace").path
        let recorded = try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "arena-stacks", "20"])
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let recording = try TraceReplayer.replay(path: trace)
        var builder = ReportBuilder(recording: recording, symbolizer: Symbolizer(), verify: true)
        let process = try #require(builder.build().processes.first)
        let snapshot = try #require(recording.processes.first?.snapshot)
        let evidence = try #require(LabelCheck.evidenceRegions(snapshot, pid: process.pid, executable: process.executable))
        return (process, evidence, recorded.values)
    }

    @Test func theArenaFixtureAgreesAndAWrongCategoryIsCaught() throws {
        let (process, evidence, values) = try Self.arenaStacks()
        let verification = try #require(process.verification)
        #expect(verification.labelDisagreements == [], "\(verification.labelDisagreements ?? [])")
        #expect(verification.agrees)

        // The arena's heap region, recorded as what the old classifier called it: a thread stack.
        let arena = hex(values["arena"])
        let index = try #require(process.regions.firstIndex { $0.entry.start <= arena && arena < $0.entry.end })
        #expect(process.regions[index].category == .mallocArena)
        var wrong = process.regions
        for i in wrong[index].origins.indices { wrong[index].origins[i].category = .threadStack }
        let found = LabelCheck.disagreements(recorded: wrong, evidence: evidence)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.range == wrong[index].entry.start..<wrong[index].entry.end)
        #expect(found.first?.recordedCategory == .threadStack)
        #expect(found.first?.evidenceCategory == .mallocArena)
        #expect(found.first?.evidence.contains("heap_info at the start") == true)

        // Its PROT_NONE reserve recorded as a guard page: caught too.
        let reserve = hex(values["arena_reserve"])
        let tail = try #require(wrong.firstIndex { $0.entry.start <= reserve && reserve < $0.entry.end })
        for i in wrong[tail].origins.indices { wrong[tail].origins[i].category = .guardPage }
        #expect(LabelCheck.disagreements(recorded: wrong, evidence: evidence).count == 2)

        // The executable's .bss recorded as a direct mmap: its ELF headers say otherwise.
        let bss = try #require(wrong.firstIndex { $0.category == .bss && $0.label.hasSuffix("/mbfixture") })
        for i in wrong[bss].origins.indices { wrong[bss].origins[i].category = .mmap }
        let all = LabelCheck.disagreements(recorded: wrong, evidence: evidence)
        #expect(all.count == 3)
        #expect(all.contains { $0.evidenceCategory == .bss && $0.recordedCategory == .mmap && $0.evidence.contains("PT_LOAD memsz") })
    }

    /// A stack pointer proves a stack lives in the memory, not who mapped it; a certain arena,
    /// bss, file or shm verdict allows only its own category; unknown claims nothing.
    @Test func whichRecordedCategoriesAStackPointerAllows() {
        #expect(LabelCheck.agrees(evidence: .threadStack, recorded: .allocator))
        #expect(LabelCheck.agrees(evidence: .threadStack, recorded: .mmap))
        #expect(!LabelCheck.agrees(evidence: .threadStack, recorded: .file))
        #expect(!LabelCheck.agrees(evidence: .threadStack, recorded: .guardPage))
        #expect(LabelCheck.agrees(evidence: .guardPage, recorded: .allocator))
        #expect(!LabelCheck.agrees(evidence: .guardPage, recorded: .heap))
        #expect(!LabelCheck.agrees(evidence: .mallocArena, recorded: .threadStack))
        #expect(!LabelCheck.agrees(evidence: .file, recorded: .shm))
        #expect(!LabelCheck.agrees(evidence: .shm, recorded: .file))
        #expect(LabelCheck.agrees(evidence: .bss, recorded: .unknown))
    }

    /// Explain says the same as run about shared mappings (a verdict that disagreed would be a
    /// label disagreement on every program that maps a locale file).
    @Test func explainCallsASharedFileMappingAFile() {
        let entries = [
            MapsEntry(start: 0x7f00_0000_0000, end: 0x7f00_0000_1000, perms: "r--s", offset: 0, device: "fe:00", inode: 332619,
                      path: "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"),
            MapsEntry(start: 0x7f00_0000_1000, end: 0x7f00_0000_2000, perms: "rw-s", offset: 0, device: "00:01", inode: 77,
                      path: "/dev/zero (deleted)"),
            MapsEntry(start: 0x7f00_0000_2000, end: 0x7f00_0000_3000, perms: "rw-s", offset: 0, device: "00:01", inode: 78,
                      path: "/memfd:x (deleted)"),
            MapsEntry(start: 0x7f00_0000_3000, end: 0x7f00_0000_4000, perms: "rw-p", offset: 0, device: "00:05", inode: 4,
                      path: "/dev/zero"),
        ]
        let snapshot = ExplainSnapshot(pid: 1, executable: nil, threads: [], maps: entries, mapsText: "", smapsText: nil,
                                       usage: [:], malloc: [:], stoppedMicroseconds: 0)
        let regions = EvidenceClassifier(snapshot: snapshot) { _ in nil }.classify()
        #expect(regions.map(\.category) == [.file, .shm, .shm, .file])
        #expect(regions.allSatisfy { $0.confidence == .certain })
    }
}

/// The allocator table's matching, on hand-made frames.
@Suite("Allocator frames")
struct AllocatorFramesTests {
    static func frame(_ function: String?, _ module: String) -> SymbolizedFrame {
        SymbolizedFrame(ip: 0x1000, module: module, moduleOffset: 0x1000, function: function, file: nil, line: nil)
    }

    /// An allocator recognised by its module wins over glibc malloc's names it exports too, and
    /// ld.so's own malloc is the loader's.
    @Test func modulesComeBeforeGlibcNames() throws {
        let frames = try AllocatorFrames()
        #expect(frames.allocator(of: Self.frame("malloc", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"))?.name == "jemalloc")
        #expect(frames.allocator(of: Self.frame("__libc_malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6"))?.name == "glibc malloc")
        #expect(frames.allocator(of: Self.frame("calloc", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"))?.name == "ld.so")
        #expect(frames.allocator(of: Self.frame("runtime.sysMmap", "/tmp/prog"))?.name == "Go runtime")
        #expect(frames.allocator(of: Self.frame("runtime/debug.SetGCPercent", "/tmp/prog")) == nil)
        #expect(frames.allocator(of: Self.frame("my_malloc", "/usr/sbin/mariadbd")) == nil)
    }

    @Test func userPatternsNameTheirFunctions() throws {
        let frames = try AllocatorFrames(patterns: ["^my_(malloc|calloc)$", "^monoeg_g_"])
        #expect(frames.allocator(of: Self.frame("my_malloc", "/usr/sbin/mariadbd"))?.name == "my_malloc")
        #expect(frames.allocator(of: Self.frame("monoeg_g_calloc", "/usr/lib/libmonosgen-2.0.so.1"))?.name == "monoeg_g_calloc")
        #expect(frames.allocator(of: Self.frame("my_malloc_size", "/usr/sbin/mariadbd")) == nil)
        #expect(throws: AllocatorFrames.PatternError.self) { try AllocatorFrames(patterns: ["("]) }
        #expect(throws: AllocatorFrames.PatternError.self) { try AllocatorFrames(patterns: [""]) }
    }

    /// What the Go runtime made, from its frames: the first rule in table order.
    @Test func productsFollowTheTableOrder() throws {
        let frames = try AllocatorFrames()
        let stack = ["runtime.sysMmap", "runtime.sysAllocOS", "runtime.sysAlloc", "runtime.persistentalloc1",
                     "runtime.persistentalloc", "runtime.(*mheap).sysAlloc", "runtime.(*mheap).grow"].map { Self.frame($0, "/tmp/prog") }
        #expect(frames.product(of: Allocator.goRuntime, stack: stack) == "runtime metadata")
        let arena = ["runtime.sysMmap", "runtime.sysReserveOS", "runtime.sysReserve", "runtime.(*mheap).sysAlloc"].map { Self.frame($0, "/tmp/prog") }
        #expect(frames.product(of: Allocator.goRuntime, stack: arena) == "heap arena")
    }
}

/// `report --verify` on a hand-written trace whose evidence contradicts its words: an anonymous
/// mmap from the program's own code (recorded `mmap`) whose start holds a glibc arena's heap_info.
@Suite("Label check from the command line")
struct LabelCheckCommandTests {
    static let start: UInt64 = 0x7f00_0400_0000  // 64 MiB-aligned

    static func writeTrace(_ path: String) throws {
        let output = try OutputFile.open(path)
        let writer = TraceWriter(output: output, command: ["/x"], maxFrames: 64)
        // A backtrace into the program's own code: the classifier calls it a direct mmap.
        let mmap = MappingEvent(id: 1, pid: 100, tid: 100, syscall: .mmap, args: [0, 0x21000, 3, 0x22, UInt64.max, 0],
                                result: Int64(start), stack: 1)
        let heapInfo: [UInt64] = [start + 48, 0, 0x21000, 0x21000, 4096]
        for record: TraceRecord in [
            .module(id: 0, path: "/nonexistent/prog", size: 0, mtime: 0, inode: 0, buildID: ""),
            .stack(id: 1, frames: [StackFrame(ip: 0x40_1000, module: 0, fileOffset: 0x1000)]),
            .process(pid: 100, parentPid: nil, space: 0, parentSpace: nil, shares: false, executable: "/x"),
            .exec(pid: 100, tid: 100, space: 1, executable: "/x", maps: ""),
            .event(mmap),
            .snapshot(pid: 100, maps: "7f0004000000-7f0004021000 rw-p 00000000 00:00 0 \n", smaps: ""),
            .evidence(pid: 100, SnapshotEvidence(threads: [], regions: [SnapshotEvidence.Region(start: start, head: heapInfo, chunkSizes: [])])),
            .exit(pid: 100, status: .code(0)),
        ] { writer.append(record) }
        try writer.finish()
        try output.publish()
    }

    @Test func aDisagreementIsListedAndExits3() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-labelcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.trace").path
        try Self.writeTrace(trace)

        let plain = try runCommand([Build.mapblame, "report", trace])
        #expect(plain.status == 0, "without --verify nothing is checked: \(plain.stderr)")

        let text = try runCommand([Build.mapblame, "report", "--verify", trace])
        #expect(text.status == 3)
        #expect(text.stderr == "mapblame: verify: 1 label disagreement with explain's evidence\n", "\(text.stderr)")
        #expect(text.stdout.contains("verify labels: 1 label disagreement with explain's certain evidence"), "\(text.stdout)")
        #expect(text.stdout.contains("7f0004000000-7f0004021000 recorded mmap: mmap(135168) from prog+0x1000; evidence malloc-arena: glibc malloc arena"),
                "\(text.stdout)")

        let json = try runCommand([Build.mapblame, "report", "--verify", "--format", "json", trace])
        #expect(json.status == 3)
        let root = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let verify = ((root?["processes"] as? [[String: Any]])?.first?["verify"] as? [String: Any])
        let list = try #require(verify?["label_disagreements"] as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["start"] as? String == "0x7f0004000000" && list.first?["end"] as? String == "0x7f0004021000")
        #expect(list.first?["recorded_category"] as? String == "mmap" && list.first?["evidence_category"] as? String == "malloc-arena")
        #expect((list.first?["evidence"] as? String)?.contains("heap_info at the start") == true)
    }
}
