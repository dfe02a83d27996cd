/// Decides what an origin is, in a category and in words, from its event, its symbolized stack
/// and the process context. Pure: no I/O.
struct Classifier {
    /// Threads of the process with their stacks (for naming thread stacks).
    var threadStacks: [ThreadStack]
    /// The model at the snapshot (to look at neighbouring bytes, e.g. a guard page below a stack).
    var model: AddressSpace

    /// Functions of glibc's malloc and of C++ operator new: frames that are "the allocator".
    static let allocatorFunctions: Set<String> = [
        "malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign", "aligned_alloc",
        "valloc", "pvalloc", "free", "posix_memalign", "mid_memalign", "int_malloc", "int_realloc",
        "int_memalign", "sysmalloc", "sysmalloc_mmap", "sysmalloc_mmap_fallback", "mremap_chunk",
        "tcache_init", "malloc_hook_ini", "new_heap", "alloc_new_heap", "int_new_arena", "arena_get2",
        "arena_get_retry", "grow_heap", "malloc2", "int_free", "systrim", "heap_trim", "munmap_chunk",
        "operator new(unsigned long)", "operator new[](unsigned long)",
        "operator new(unsigned long, std::align_val_t)", "operator new[](unsigned long, std::align_val_t)",
    ]
    static let arenaFunctions: Set<String> = ["new_heap", "alloc_new_heap", "int_new_arena", "arena_get2", "arena_get_retry"]
    static let threadFunctions: Set<String> = ["allocate_stack", "pthread_create", "pthread_create_2_1"]

    /// libc, ld.so and the thread library: code that is never "the site".
    static func isSystemModule(_ path: String?) -> Bool {
        guard let path else { return false }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.hasPrefix("libc.so") || base.hasPrefix("libc-") || isLoaderModule(path)
            || base.hasPrefix("libpthread") || base.hasPrefix("libdl.so")
    }

    static func isLoaderModule(_ path: String?) -> Bool {
        guard let path else { return false }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.hasPrefix("ld-linux") || base.hasPrefix("ld.so") || base.hasPrefix("ld64.so")
    }

    static func isAllocator(_ frame: SymbolizedFrame) -> Bool {
        frame.function.map { allocatorFunctions.contains(glibcBaseName($0)) } ?? false
    }

    /// glibc's internal spellings reduced to the public name: "__GI___libc_malloc" → "malloc",
    /// "__GI___mmap64" → "mmap64", "__libc_calloc" → "calloc".
    static func glibcBaseName(_ name: String) -> String {
        var s = Substring(name).drop(while: { $0 == "_" })
        if s.hasPrefix("GI_") { s = s.dropFirst(3).drop(while: { $0 == "_" }) }
        if s.hasPrefix("libc_") { s = s.dropFirst(5) }
        return String(s)
    }

    /// The stack from the libc (or ld.so) function that made the call: 32-bit programs enter the
    /// kernel through __kernel_vsyscall in the [vdso], a frame above the syscall wrapper.
    static func withoutKernelEntry(_ stack: [SymbolizedFrame]) -> [SymbolizedFrame] {
        Array(stack.drop { $0.module == "[vdso]" })
    }

    /// The first frame outside libc, ld.so, the allocator and sanitizer interceptors.
    static func site(of stack: [SymbolizedFrame]) -> SymbolizedFrame? {
        stack.first { !isSystemModule($0.module) && !isAllocator($0) && !isSanitizerRuntime($0) }
    }

    /// ASan/TSan/LSan runtime code linked into the program (interceptors of mmap, malloc...).
    static func isSanitizerRuntime(_ frame: SymbolizedFrame) -> Bool {
        guard let f = frame.function else { return false }
        return f.contains("_interceptor") || f.hasPrefix("__asan") || f.hasPrefix("__sanitizer")
            || f.hasPrefix("__lsan") || f.hasPrefix("__tsan") || f.hasPrefix("__interception")
    }

    /// The allocator entry point the program called ("malloc", "calloc", "operator new"...).
    static func allocatorEntry(of stack: [SymbolizedFrame]) -> String? {
        guard let f = stack.last(where: isAllocator)?.function.map(glibcBaseName) else { return nil }
        if f.hasPrefix("operator new") { return f.contains("[]") ? "operator new[]" : "operator new" }
        for name in ["calloc", "realloc", "memalign", "valloc", "pvalloc", "aligned_alloc"] where f.contains(name) {
            return name
        }
        return "malloc"
    }

    /// Category, label and site of bytes `range` of final region `entry`, created by `event`.
    func classify(event: MappingEvent, created: Mapping?, stack: [SymbolizedFrame], range: Range<UInt64>,
                  entry: MapsEntry) -> (Category, String, SymbolizedFrame?) {
        let stack = Classifier.withoutKernelEntry(stack)
        let site = Classifier.site(of: stack)
        let from = site.map { " from \($0.shortDescription)" } ?? ""
        switch event.syscall {
        case .execve:
            return classifyExecRegion(created: created, entry: entry)
        case .brk:
            let via = Classifier.allocatorEntry(of: stack).map { "by \($0)" } ?? "by brk"
            return (.heap, "heap grown \(via)\(from)", site)
        case .shmat:
            return (.shm, "System V shared memory (shmid \(event.args[0])) attached\(from)", site)
        default:
            break
        }
        // mmap or mremap
        let isAnonymous = !(created?.isFile ?? false)
        let length = event.syscall == .mremap ? MemoryFlags.pageUp(event.args[2]) : MemoryFlags.pageUp(event.args[1])
        let flags = event.syscall == .mmap ? event.args[3] : 0
        if !isAnonymous { return (.file, entry.path.isEmpty ? (created?.name ?? "file mapping") : entry.path, site) }
        if created?.shared ?? false { return (.shm, "shared anonymous memory\(from)", site) }
        if let below = event.fileBelow, flags & MemoryFlags.mapFixed != 0,
           Classifier.isLoaderModule(stack.first?.module) {
            return (.bss, "bss of \(below)", site)
        }
        let functions = Set(stack.compactMap { $0.function.map(Classifier.glibcBaseName) })
        let eventRange = UInt64(bitPattern: event.result)..<(UInt64(bitPattern: event.result) &+ length)
        let thread = threadStacks.last { eventRange.contains($0.top &- 1) }
        if flags & MemoryFlags.mapStack != 0 || !functions.isDisjoint(with: Classifier.threadFunctions) || thread != nil {
            return classifyThreadStack(event: event, thread: thread, range: range, from: from, site: site)
        }
        if let allocator = Classifier.allocatorEntry(of: stack) {
            let reservation = event.args.count > 3 && event.args[2] == 0 && flags & MemoryFlags.mapNoReserve != 0
            if !functions.isDisjoint(with: Classifier.arenaFunctions) || reservation {
                return (.mallocArena, "glibc malloc arena of thread \(event.tid) (created in \(allocator)\(from))", site)
            }
            return (.malloc, "\(allocator) of \(ByteCount.text(length)) served by \(event.syscall.rawValue)\(from)", site)
        }
        let callers = stack.drop(while: Classifier.isSyscallWrapper)
        if Classifier.isLoaderModule(stack.first?.module) {
            let inLoader = callers.prefix(while: { Classifier.isLoaderModule($0.module) })
            let fn = inLoader.first(where: { !Classifier.loaderAllocators.contains($0.function ?? "") })?.function
            return (.loader, "dynamic loader memory" + (fn.map { " from \($0)" } ?? "")
                + (from.isEmpty ? "" : ", for a call" + from), site)
        }
        let call = event.syscall == .mremap ? "mremap to \(length)" : "mmap(\(length))"
        let library = callers.first.flatMap { Classifier.isSystemModule($0.module) ? $0.function : nil }
        return (.mmap, call + (library.map { " by \($0)" } ?? "") + from, site)
    }

    static let loaderAllocators: Set<String> = ["__minimal_malloc", "__minimal_calloc", "__minimal_realloc", "malloc", "calloc"]

    /// The libc/ld.so wrapper that makes the syscall ("__GI___mmap64", "mmap64", "__mremap").
    static func isSyscallWrapper(_ frame: SymbolizedFrame) -> Bool {
        guard let name = frame.function else { return false }
        return ["mmap", "mmap64", "mremap", "munmap", "mprotect", "pkey_mprotect", "brk", "sbrk", "shmat", "shmdt"]
            .contains(glibcBaseName(name))
    }

    private func classifyThreadStack(event: MappingEvent, thread: ThreadStack?, range: Range<UInt64>,
                                     from: String, site: SymbolizedFrame?) -> (Category, String, SymbolizedFrame?) {
        let owner = thread.map { "thread \($0.tid)" } ?? "a thread"
        let isGuard = model.map.segments(in: range).allSatisfy { $0.value.prot == 0 }
        if isGuard { return (.guardPage, "guard page of the stack of \(owner)", site) }
        let below = range.lowerBound > 0 ? model.map.segment(containing: range.lowerBound - 1) : nil
        let guardBelow = below.map { $0.value.creator == event.id && $0.value.prot == 0 } ?? false
        return (.threadStack, "stack of \(owner)\(guardBelow ? " (guard page below)" : "")", site)
    }

    private func classifyExecRegion(created: Mapping?, entry: MapsEntry) -> (Category, String, SymbolizedFrame?) {
        if let file = created?.bssOf { return (.bss, "bss of \(file)", nil) }
        switch created?.name ?? entry.path {
        case "[stack]": return (.stack, "stack of the main thread (set up at exec)", nil)
        case "[heap]": return (.heap, "heap (brk area set up at exec)", nil)
        case "[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]":
            return (.vdso, "\(created?.name ?? entry.path) mapped by the kernel at exec", nil)
        default:
            if created?.isFile ?? entry.isFile { return (.file, entry.path, nil) }
            return (.unknown, "anonymous memory present right after exec", nil)
        }
    }

    /// Bytes no traced event created: the kernel's own regions, or unknown.
    static func classifyUntraced(entry: MapsEntry) -> (Category, String) {
        switch entry.path {
        case "[stack]": return (.stack, "stack of the main thread (grown by the kernel)")
        case "[heap]": return (.heap, "heap (brk area set up at exec)")
        case "[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]": return (.vdso, "\(entry.path) mapped by the kernel")
        default:
            if entry.isFile { return (.file, entry.path) }
            return (.unknown, "no traced syscall created these bytes")
        }
    }
}
