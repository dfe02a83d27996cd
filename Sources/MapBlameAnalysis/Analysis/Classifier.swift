import MapBlameModel

/// What the classifier made of an origin: category and words, the site, and the allocator that
/// mapped it (if one did).
package struct Classification {
    package var category: Category
    package var label: String
    package var site: SymbolizedFrame?
    package var allocator: String? = nil
}

/// Decides what an origin is, in a category and in words, from its event, its symbolized stack
/// and the process context. Pure: no I/O.
package struct Classifier {
    /// Threads of the process with their stacks (for naming thread stacks).
    package var threadStacks: [ThreadStack]
    /// The model at the snapshot (to look at neighbouring bytes, e.g. a guard page below a stack).
    package var model: AddressSpace
    /// The allocators whose frames are never the site (`Allocator.table` and --allocator-frames).
    package var allocators: AllocatorFrames

    package init(threadStacks: [ThreadStack], model: AddressSpace, allocators: AllocatorFrames) {
        self.threadStacks = threadStacks
        self.model = model
        self.allocators = allocators
    }

    package static let arenaFunctions: Set<String> = ["new_heap", "alloc_new_heap", "int_new_arena", "arena_get2", "arena_get_retry"]
    package static let threadFunctions: Set<String> = ["allocate_stack", "pthread_create", "pthread_create_2_1"]

    /// libc, ld.so and the thread library: code that is never "the site".
    package static func isSystemModule(_ path: String?) -> Bool {
        guard let path else { return false }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.hasPrefix("libc.so") || base.hasPrefix("libc-") || isLoaderModule(path)
            || base.hasPrefix("libpthread") || base.hasPrefix("libdl.so")
    }

    package static func isLoaderModule(_ path: String?) -> Bool {
        guard let path else { return false }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return Allocator.loader.modules.contains { base.hasPrefix($0) }
    }

    /// glibc's internal spellings reduced to the public name: "__GI___libc_malloc" → "malloc",
    /// "__GI___mmap64" → "mmap64", "__libc_calloc" → "calloc", and the copies GCC makes of a
    /// function in a static libc: "sysmalloc_mmap.constprop.0" → "sysmalloc_mmap".
    package static func glibcBaseName(_ name: String) -> String {
        var s = Substring(name).drop(while: { $0 == "_" })
        if s.hasPrefix("GI_") { s = s.dropFirst(3).drop(while: { $0 == "_" }) }
        if s.hasPrefix("libc_") { s = s.dropFirst(5) }
        if let dot = s.firstIndex(of: "."), s[s.index(after: dot)...].first?.isLetter == true { s = s[..<dot] }
        return String(s)
    }

    /// The stack from the libc (or ld.so) function that made the call: 32-bit programs enter the
    /// kernel through __kernel_vsyscall in the [vdso], a frame above the syscall wrapper.
    package static func withoutKernelEntry(_ stack: [SymbolizedFrame]) -> [SymbolizedFrame] {
        Array(stack.drop { $0.module == "[vdso]" })
    }

    /// The first frame outside libc, ld.so, every allocator and sanitizer interceptors.
    package func site(of stack: [SymbolizedFrame]) -> SymbolizedFrame? {
        let embedded = Classifier.modulesEmbeddingLibc(stack)
        if let python = pythonSite(of: stack, embedded: embedded) { return python }
        return stack.first {
            !Classifier.isLibc($0, embedded: embedded) && allocators.allocator(of: $0) == nil
                && !Classifier.isSanitizerRuntime($0)
        }
    }

    /// libc or ld.so code: by module, and by name inside a module that carries libc (`embedded`).
    package static func isLibc(_ frame: SymbolizedFrame, embedded: Set<String>) -> Bool {
        isSystemModule(frame.module) || (embedded.contains(frame.module ?? "") && isLibcFunction(frame))
    }

    /// Modules other than libc whose own frames run glibc's program or thread start: a static
    /// executable (`-static`, `-static-pie`) carries libc inside it, so "outside libc" cannot be
    /// decided by module there.
    package static func modulesEmbeddingLibc(_ stack: [SymbolizedFrame]) -> Set<String> {
        Set(stack.compactMap { frame in
            guard let f = frame.function, libcStartFunctions.contains(f), let module = frame.module,
                  !isSystemModule(module) else { return nil }
            return module
        })
    }

    package static let libcStartFunctions: Set<String> = [
        "__libc_start_main", "__libc_start_main_impl", "__libc_start_call_main", "start_thread",
    ]

    /// A function of glibc, by name, in a module that embeds it: every name starting with an
    /// underscore (C reserves them for the implementation: `__libc_malloc`, `_int_malloc`,
    /// `__mmap64`, `__brk`, `_dl_*`, `_IO_*`, `_start`) and the mapping syscalls' public wrappers
    /// (`mmap`, `sbrk`); the malloc family is glibc malloc's in the allocator table. Other public
    /// libc functions that allocate (printf's buffer) are not recognized.
    package static func isLibcFunction(_ frame: SymbolizedFrame) -> Bool {
        guard let f = frame.function else { return false }
        return f.hasPrefix("_") || isSyscallWrapper(frame) || threadFunctions.contains(glibcBaseName(f))
            || libcStartFunctions.contains(f)
    }

    /// The allocator that made the call: the first allocator frame from the innermost, passing
    /// only syscall wrappers, libc and ld.so internals (unnamed without debug info) and sanitizer
    /// interceptors. Code of any other kind calling mmap itself made the mapping, even if an
    /// allocator is further out (a hook the allocator calls, C code called from Go).
    package func maker(of stack: [SymbolizedFrame]) -> Allocator? {
        let embedded = Classifier.modulesEmbeddingLibc(stack)
        for frame in stack {
            if let a = allocators.allocator(of: frame) { return a }
            guard Classifier.isLibc(frame, embedded: embedded) || Classifier.isSyscallWrapper(frame)
                || Classifier.isSanitizerRuntime(frame) else { return nil }
        }
        return nil
    }

    /// ASan/TSan/LSan runtime code linked into the program (interceptors of mmap, malloc...).
    package static func isSanitizerRuntime(_ frame: SymbolizedFrame) -> Bool {
        guard let f = frame.function else { return false }
        return f.contains("_interceptor") || f.hasPrefix("__asan") || f.hasPrefix("__sanitizer")
            || f.hasPrefix("__lsan") || f.hasPrefix("__tsan") || f.hasPrefix("__interception")
    }

    /// The glibc malloc entry point the program called ("malloc", "calloc", "operator new"...).
    package func mallocEntry(of stack: [SymbolizedFrame]) -> String? {
        guard let f = stack.last(where: { allocators.allocator(of: $0)?.kind == .glibcMalloc })?.function
            .map(Classifier.glibcBaseName) else { return nil }
        if f.hasPrefix("operator new") { return f.contains("[]") ? "operator new[]" : "operator new" }
        for name in ["calloc", "realloc", "memalign", "valloc", "pvalloc", "aligned_alloc"] where f.contains(name) {
            return name
        }
        return "malloc"
    }

    /// Category, label, site and allocator of bytes `range` of final region `entry`, created by `event`.
    package func classify(event: MappingEvent, created: Mapping?, stack: [SymbolizedFrame], range: Range<UInt64>,
                  entry: MapsEntry) -> Classification {
        let stack = Classifier.withoutKernelEntry(stack)
        let site = site(of: stack)
        let from = site.map { " from \($0.shortDescription)" } ?? ""
        switch event.syscall {
        case .execve:
            return classifyExecRegion(created: created, entry: entry)
        case .brk:
            // glibc malloc says which entry point grew it; another allocator (tcmalloc's sbrk) its name.
            let maker = maker(of: stack)
            let via = maker?.kind == .glibcMalloc ? mallocEntry(of: stack) : maker.map { $0.labelName ?? $0.name }
            return Classification(category: .heap, label: "heap grown by \(via ?? "brk")\(from)", site: site, allocator: maker?.name)
        case .shmat:
            return Classification(category: .shm, label: "System V shared memory (shmid \(event.args[0])) attached\(from)", site: site)
        default:
            break
        }
        // mmap or mremap
        if created?.isFile ?? false {
            let path = entry.path.isEmpty ? (created?.name ?? "file mapping") : entry.path
            return Classification(category: SharedMemory.isSharedMemoryFile(path) ? .shm : .file, label: path, site: site)
        }
        if created?.shared ?? false { return Classification(category: .shm, label: "shared anonymous memory\(from)", site: site) }
        let flags = event.syscall == .mmap ? event.args[3] : 0
        if let below = event.fileBelow, flags & MemoryFlags.mapFixed != 0, Classifier.isLoaderModule(stack.first?.module) {
            return Classification(category: .bss, label: "bss of \(below)", site: site)
        }
        let functions = Set(stack.compactMap { $0.function.map(Classifier.glibcBaseName) })
        if flags & MemoryFlags.mapStack != 0 || !functions.isDisjoint(with: Classifier.threadFunctions) {
            return classifyThreadStack(event: event, range: range, site: site)
        }
        if let allocator = maker(of: stack) {
            return classifyAllocated(by: allocator, event: event, stack: stack, functions: functions, site: site)
        }
        if threadStacks.contains(where: { $0.creator == event.id }) {
            return classifyThreadStack(event: event, range: range, site: site)
        }
        let length = Classifier.mappedLength(event)
        let call = event.syscall == .mremap ? "mremap to \(length)" : "mmap(\(length))"
        let library = stack.drop(while: Classifier.isSyscallWrapper).first
            .flatMap { Classifier.isSystemModule($0.module) ? $0.function : nil }
        return Classification(category: .mmap, label: call + (library.map { " by \($0)" } ?? "") + from, site: site)
    }

    /// Bytes an mmap or mremap asked for, in whole pages.
    package static func mappedLength(_ event: MappingEvent) -> UInt64 {
        MemoryFlags.pageUp(event.syscall == .mremap ? event.args[2] : event.args[1])
    }

    /// Memory an allocator of the table (or --allocator-frames) mapped.
    private func classifyAllocated(by allocator: Allocator, event: MappingEvent, stack: [SymbolizedFrame],
                                   functions: Set<String>, site: SymbolizedFrame?) -> Classification {
        let from = site.map { " from \($0.shortDescription)" } ?? ""
        switch allocator.kind {
        case .loader:
            let inLoader = stack.drop(while: Classifier.isSyscallWrapper).prefix { Classifier.isLoaderModule($0.module) }
            let fn = inLoader.first { !Classifier.loaderAllocators.contains($0.function ?? "") }?.function
            return Classification(category: .loader, label: "dynamic loader memory" + (fn.map { " from \($0)" } ?? "")
                                    + (from.isEmpty ? "" : ", for a call" + from), site: site, allocator: allocator.name)
        case .glibcMalloc:
            let entry = mallocEntry(of: stack) ?? "malloc"
            let flags = event.syscall == .mmap ? event.args[3] : 0
            // An arena's heap: 64 MiB (HEAP_MAX_SIZE) reserved PROT_NONE with MAP_NORESERVE by new_heap.
            let reservation = event.syscall == .mmap && event.args[2] == 0 && flags & MemoryFlags.mapNoReserve != 0
            if !functions.isDisjoint(with: Classifier.arenaFunctions) || reservation {
                return Classification(category: .mallocArena, label: "glibc malloc arena of thread \(event.tid) (created in \(entry)\(from))",
                                      site: site, allocator: allocator.name)
            }
            return Classification(category: .malloc, label: "\(entry) of \(ByteCount.text(Classifier.mappedLength(event))) served by \(event.syscall.rawValue)\(from)",
                                  site: site, allocator: allocator.name)
        case .other:
            return Classification(category: .allocator, label: "\(allocator.labelName ?? allocator.name) \(allocators.product(of: allocator, stack: stack))\(from)",
                                  site: site, allocator: allocator.name)
        }
    }

    /// ld.so's malloc (before libc is relocated) and the names its callers reach it by: not what
    /// the memory is for.
    package static let loaderAllocators: Set<String> = ["__minimal_malloc", "__minimal_calloc", "__minimal_realloc", "malloc", "calloc",
                                                "realloc", "__rtld_malloc", "__rtld_calloc", "__rtld_realloc"]

    /// The libc/ld.so wrapper that makes the syscall ("__GI___mmap64", "mmap64", "__mremap").
    package static func isSyscallWrapper(_ frame: SymbolizedFrame) -> Bool {
        guard let name = frame.function else { return false }
        return ["mmap", "mmap64", "mremap", "munmap", "mprotect", "pkey_mprotect", "brk", "sbrk", "shmat", "shmdt"]
            .contains(glibcBaseName(name))
    }

    /// A thread's stack, named by the thread whose stack top lay in this event's bytes when it was
    /// created (the last such thread: glibc reuses cached stacks).
    private func classifyThreadStack(event: MappingEvent, range: Range<UInt64>, site: SymbolizedFrame?) -> Classification {
        let thread = threadStacks.last { $0.creator == event.id }
        let owner = thread.map { "thread \($0.tid)" } ?? "a thread"
        let isGuard = model.map.segments(in: range).allSatisfy { $0.value.prot == 0 }
        if isGuard { return Classification(category: .guardPage, label: "guard page of the stack of \(owner)", site: site) }
        let below = range.lowerBound > 0 ? model.map.segment(containing: range.lowerBound - 1) : nil
        let guardBelow = below.map { $0.value.creator == event.id && $0.value.prot == 0 } ?? false
        return Classification(category: .threadStack, label: "stack of \(owner)\(guardBelow ? " (guard page below)" : "")", site: site)
    }

    private func classifyExecRegion(created: Mapping?, entry: MapsEntry) -> Classification {
        if let file = created?.bssOf { return Classification(category: .bss, label: "bss of \(file)", site: nil) }
        let name = created?.name ?? entry.path
        switch name {
        case "[stack]": return Classification(category: .stack, label: "stack of the main thread (set up at exec)", site: nil)
        case "[heap]": return Classification(category: .heap, label: "heap (brk area set up at exec)", site: nil)
        case "[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]":
            return Classification(category: .vdso, label: "\(name) mapped by the kernel at exec", site: nil)
        default:
            if created?.isFile ?? entry.isFile {
                return Classification(category: SharedMemory.isSharedMemoryFile(entry.path) ? .shm : .file, label: entry.path, site: nil)
            }
            return Classification(category: .unknown, label: "anonymous memory present right after exec", site: nil)
        }
    }

    /// Bytes no traced event created: the kernel's own regions, or unknown.
    package static func classifyUntraced(entry: MapsEntry) -> (Category, String) {
        switch entry.path {
        case "[stack]": return (.stack, "stack of the main thread (grown by the kernel)")
        case "[heap]": return (.heap, "heap (brk area set up at exec)")
        case "[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]": return (.vdso, "\(entry.path) mapped by the kernel")
        default:
            if entry.isFile { return (SharedMemory.isSharedMemoryFile(entry.path) ? .shm : .file, entry.path) }
            return (.unknown, "no traced syscall created these bytes")
        }
    }
}
