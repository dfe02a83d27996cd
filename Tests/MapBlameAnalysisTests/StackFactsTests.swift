import Testing
@testable import MapBlameAnalysis
import MapBlameModel

/// `StackFactsMemo`: a report's classifiers keep each recorded stack's site, maker and functions;
/// what they classify with it is what they classify without it.
@Suite struct StackFactsTests {
    static let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6", program = "/usr/bin/prog"

    static func frame(_ function: String, _ module: String) -> SymbolizedFrame {
        SymbolizedFrame(ip: 0x1000, module: module, moduleOffset: 0x1000, function: function, file: nil, line: nil)
    }

    /// Stacks of each path through `classify`: glibc malloc, a thread's stack, a direct mmap (from
    /// 32-bit code: the kernel entry in the [vdso] first), an arena, a brk, no frames at all.
    static let stacks: [[SymbolizedFrame]] = [
        [frame("__GI___mmap64", libc), frame("sysmalloc", libc), frame("_int_malloc", libc), frame("__libc_calloc", libc),
         frame("make_table", program), frame("main", program)],
        [frame("__GI___mmap64", libc), frame("allocate_stack", libc), frame("pthread_create", libc), frame("main", program)],
        [frame("__kernel_vsyscall", "[vdso]"), frame("mmap64", libc), frame("map_buffer", program), frame("main", program)],
        [frame("__GI___mmap64", libc), frame("new_heap", libc), frame("arena_get2", libc), frame("malloc", libc),
         frame("worker", program)],
        [frame("__brk", libc), frame("__sbrk", libc), frame("sysmalloc", libc), frame("malloc", libc), frame("main", program)],
        [],
    ]

    static func event(_ id: Int, _ syscall: MappingSyscall) -> MappingEvent {
        syscall == .brk
            ? MappingEvent(id: id, pid: 7, tid: 7, syscall: .brk, args: [0x5000_0000, 0, 0, 0, 0, 0], result: 0x5000_0000, stack: id)
            : MappingEvent(id: id, pid: 7, tid: 7, syscall: .mmap, args: [0, 0x21000, 3, 0x22, UInt64.max, 0],
                           result: 0x7f00_0000_0000, stack: id)
    }

    static func words(_ c: Classification) -> String {
        "\(c.category) | \(c.label) | \(c.site?.function ?? "-") | \(c.allocator ?? "-")"
    }

    @Test("Each stack classified through the memo (twice, the second from it) as without it")
    func memoChangesNothing() {
        let allocators = try! AllocatorFrames()
        let plain = Classifier(threadStacks: [], model: AddressSpace(), allocators: allocators)
        let memoized = Classifier(threadStacks: [], model: AddressSpace(), allocators: allocators, memo: StackFactsMemo())
        let entry = MapsEntry(start: 0x7f00_0000_0000, end: 0x7f00_0002_1000, perms: "rw-p", offset: 0, device: "00:00",
                              inode: 0, path: "")
        let created = Mapping(creator: 0, prot: 3, shared: false)
        for (id, stack) in Self.stacks.enumerated() {
            for syscall in [MappingSyscall.mmap, .brk] {
                let e = Self.event(id, syscall)
                let expected = Self.words(plain.classify(event: e, created: created, stack: stack, range: entry.start..<entry.end,
                                                         entry: entry))
                for _ in 0..<2 {
                    let got = Self.words(memoized.classify(event: e, created: created, stack: stack, range: entry.start..<entry.end,
                                                           entry: entry, stackID: id))
                    #expect(got == expected, "stack \(id), \(syscall)")
                }
            }
        }
        // The expected words themselves, so the comparison is not of two empty answers.
        let first = plain.classify(event: Self.event(0, .mmap), created: created, stack: Self.stacks[0], range: entry.start..<entry.end,
                                   entry: entry)
        #expect(first.category == .malloc && first.site?.function == "make_table" && first.allocator == "glibc malloc")
        let vdso = plain.facts(of: Self.stacks[2], id: nil)
        #expect(vdso.stack.first?.function == "mmap64" && vdso.site?.function == "map_buffer" && vdso.maker == nil)
    }

    @Test("The memo answers by shape id: positions, so each stack's own frames (its addresses); a stack too short for them is worked out")
    func keyedByShape() {
        let memoized = Classifier(threadStacks: [], model: AddressSpace(), allocators: try! AllocatorFrames(), memo: StackFactsMemo())
        #expect(memoized.facts(of: Self.stacks[0], id: 5).site?.function == "make_table")
        // The same shape in another process: other addresses, the same names.
        let moved = Self.stacks[0].map { f in var f = f; f.ip += 0x5000; return f }
        let facts = memoized.facts(of: moved, id: 5)
        #expect(facts.site?.function == "make_table" && facts.site?.ip == 0x6000 && facts.stack == moved)
        #expect(facts.maker?.name == "glibc malloc" && facts.functions.contains("calloc") && facts.mallocEntry == "calloc")
        // Id 5 is the first stack's shape: the memo does not look at the frames again, but a site
        // beyond a shorter stack's end is not taken from it.
        #expect(memoized.facts(of: Self.stacks[2], id: 5).site?.function == "map_buffer")
        #expect(memoized.facts(of: Self.stacks[2], id: nil).site?.function == "map_buffer")
        let vdso = memoized.facts(of: Self.stacks[2], id: 6)
        #expect(vdso.stack.count == 3 && vdso.site?.function == "map_buffer")
        #expect(memoized.facts(of: Self.stacks[2], id: 6).stack.first?.function == "mmap64")
        #expect(memoized.facts(of: Self.stacks[1], id: 7).functions.contains("pthread_create"))
    }
}
