import Testing
@testable import MapBlameAnalysis
import MapBlameModel

/// The site rules of `Classifier` on hand-made stacks (pure: no tracing).
@Suite struct ClassifierTests {
    /// A classifier with the built-in allocator table only (a new one per use: it caches).
    static var classifier: Classifier { Classifier(threadStacks: [], model: AddressSpace(), allocators: try! AllocatorFrames()) }

    static func frame(_ function: String, _ module: String) -> SymbolizedFrame {
        SymbolizedFrame(ip: 0x1000, module: module, moduleOffset: 0x1000, function: function, file: nil, line: nil)
    }

    @Test("Static executable: glibc's names inside the program are libc, GCC's clone suffixes too")
    func libcInsideTheProgram() {
        let program = "/srv/layout"
        let stack = [Self.frame("__mmap64", program), Self.frame("sysmalloc_mmap.constprop.0", program),
                     Self.frame("_int_malloc", program), Self.frame("malloc", program),
                     Self.frame("my_function", program), Self.frame("main", program),
                     Self.frame("__libc_start_call_main", program), Self.frame("_start", program)]
        #expect(Classifier.modulesEmbeddingLibc(stack) == [program])
        #expect(Self.classifier.site(of: stack)?.function == "my_function")
        #expect(Self.classifier.mallocEntry(of: stack) == "malloc")
        #expect(Self.classifier.maker(of: stack)?.name == "glibc malloc")
        // libc's own start-up work has no site in the program.
        let startup = [Self.frame("__brk", program), Self.frame("_dl_early_allocate", program),
                       Self.frame("__libc_setup_tls", program), Self.frame("__libc_start_main_impl", program),
                       Self.frame("_start", program)]
        #expect(Self.classifier.site(of: startup) == nil)
    }

    @Test("Dynamic executable: the program's own underscore names stay sites")
    func dynamicProgramKeepsItsNames() {
        let program = "/usr/bin/prog", libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
        let stack = [Self.frame("__GI___mmap64", libc), Self.frame("_private_helper", program),
                     Self.frame("main", program), Self.frame("__libc_start_call_main", libc)]
        #expect(Classifier.modulesEmbeddingLibc(stack).isEmpty)
        #expect(Self.classifier.site(of: stack)?.function == "_private_helper")
    }
}
