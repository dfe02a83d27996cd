import Testing
@testable import MapBlame

/// Origins carry what they are as data (`Attribution`); labels are its words and baseline keys are
/// built from the data, so rewording any label leaves every key as it was.
@Suite("attribution: words apart from keys")
struct AttributionTests {
    /// One attribution of every kind the classifier makes, with numbers that vary between runs.
    static let everyKind: [(Category, Attribution.Kind)] = [
        (.stack, .mainStack(grownByKernel: false)), (.stack, .mainStack(grownByKernel: true)),
        (.heap, .execHeap), (.vdso, .kernelMapping(name: "[vdso]", atExec: true)),
        (.vdso, .kernelMapping(name: "[vvar_vclock]", atExec: false)), (.unknown, .presentAtExec),
        (.unknown, .untraced), (.file, .file(path: "/usr/lib/x86_64-linux-gnu/libm.so.6")),
        (.shm, .file(path: "/dev/shm/seg 7")), (.bss, .bss(file: "/usr/lib/x86_64-linux-gnu/libc.so.6")),
        (.heap, .heapGrowth(by: "malloc")), (.heap, .heapGrowth(by: "brk")), (.shm, .sysvSharedMemory(shmid: 98311)),
        (.shm, .sharedAnonymous), (.threadStack, .threadStack(tid: 4242, guardBelow: true)),
        (.threadStack, .threadStack(tid: nil, guardBelow: false)), (.guardPage, .stackGuard(tid: 4243)),
        (.loader, .loaderMemory(function: "_dl_map_object")), (.loader, .loaderMemory(function: nil)),
        (.mallocArena, .mallocArena(tid: 4244, entry: "calloc")),
        (.malloc, .largeMalloc(entry: "operator new[]", bytes: 1 << 20, call: .mmap)),
        (.malloc, .largeMalloc(entry: "malloc", bytes: 12288, call: .mremap)),
        (.allocator, .allocatorMemory(allocator: "jemalloc", product: "extent")),
        (.mmap, .directMapping(call: .mmap, bytes: 65536, library: nil)),
        (.mmap, .directMapping(call: .mremap, bytes: 32768, library: "dlopen")),
    ]

    /// The keys built from structure are the keys that were once parsed from the labels: users'
    /// baselines keep matching.
    @Test func keysFromStructureKeepTheirSpelling() {
        for (category, kind) in Self.everyKind {
            let attribution = Attribution(kind)
            let fromWords = BaselineKey.key(category: category, label: attribution.label(site: nil), site: nil)
            #expect(BaselineKey.key(category: category, attribution: attribution, site: nil) == fromWords, "\(kind)")
        }
    }

    /// Every origin of a real run (the demo: .bss, heap, large mallocs, arenas, thread stacks and
    /// their guard pages, files, the loader's memory) keeps its key when every label is reworded.
    @Test func rewordingEveryLabelChangesNoKey() throws {
        let trace = try MappingTrace.run([Build.demo])
        let origins = trace.report.processes.flatMap(\.regions).flatMap(\.origins)
        let structured = origins.filter { if case .described = $0.attribution.kind { return false } else { return true } }
        #expect(structured.count == origins.count, "every origin of a launched program has structure")
        let categories = Set(structured.map(\.category))
        for expected: Category in [.bss, .heap, .malloc, .mallocArena, .threadStack, .guardPage, .file, .stack] {
            #expect(categories.contains(expected), "the demo makes \(expected)")
        }
        for origin in structured {
            var reworded = origin
            reworded.label = "reworded: " + String(origin.label.reversed()) + " of 7 MiB at 0x1234"
            #expect(BaselineKey.key(of: reworded) == BaselineKey.key(of: origin), "\(origin.label)")
            #expect(reworded.attribution.label(site: reworded.site) == origin.label, "the words are the attribution's")
        }
    }

    /// Words-only origins (a JSON report read back) still get keys, from their label.
    @Test func wordsOnlyOriginsUseTheirLabel() {
        let origin = Origin(range: 0x1000..<0x2000, category: .threadStack, label: "stack of thread 77 (guard page below)")
        #expect(BaselineKey.key(of: origin) == "thread-stack:stack of thread (guard page below)")
    }
}
