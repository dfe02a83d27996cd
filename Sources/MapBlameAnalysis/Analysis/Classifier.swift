import MapBlameModel

/// What the classifier made of an origin: category and words, the site, and the allocator that
/// mapped it (if one did).
package struct Classification {
    package var category: Category
    package var attribution: Attribution
    package var site: SymbolizedFrame?
    package var allocator: String? = nil

    package init(category: Category, _ kind: Attribution.Kind, site: SymbolizedFrame?, allocator: String? = nil) {
        self.category = category
        self.attribution = Attribution(kind)
        self.site = site
        self.allocator = allocator
    }

    /// The words, rendered from the attribution.
    package var label: String { attribution.label(site: site) }
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

    /// Each recorded stack's facts, kept across a report's processes (`classify`'s `stackID`).
    package var memo: StackFactsMemo?

    package init(threadStacks: [ThreadStack], model: AddressSpace, allocators: AllocatorFrames, memo: StackFactsMemo? = nil) {
        self.threadStacks = threadStacks
        self.model = model
        self.allocators = allocators
        self.memo = memo
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
    /// `stackID`: the recorded stack `stack` was symbolized from, for `memo` (nil: none).
    package func classify(event: MappingEvent, created: Mapping?, stack: [SymbolizedFrame], range: Range<UInt64>,
                  entry: MapsEntry, stackID: Int? = nil) -> Classification {
        let facts = facts(of: stack, id: stackID)
        let stack = facts.stack
        let site = facts.site
        switch event.syscall {
        case .execve:
            return classifyExecRegion(created: created, entry: entry)
        case .brk:
            // glibc malloc says which entry point grew it; another allocator (tcmalloc's sbrk) its name.
            let maker = facts.maker
            let via = maker?.kind == .glibcMalloc ? facts.mallocEntry : maker.map { $0.labelName ?? $0.name }
            return Classification(category: .heap, .heapGrowth(by: via ?? "brk"), site: site, allocator: maker?.name)
        case .shmat:
            guard case .shmat(let shmid, _, _) = event.call else { break }
            return Classification(category: .shm, .sysvSharedMemory(shmid: shmid), site: site)
        default:
            break
        }
        // mmap or mremap
        if created?.isFile ?? false {
            let path = entry.path.isEmpty ? (created?.name ?? "file mapping") : entry.path
            return Classification(category: SharedMemory.isSharedMemoryFile(path) ? .shm : .file, .file(path: path), site: site)
        }
        if created?.shared ?? false { return Classification(category: .shm, .sharedAnonymous, site: site) }
        let flags = Classifier.mmapFlags(event)
        if let below = event.fileBelow, flags.contains(.fixed), Classifier.isLoaderModule(stack.first?.module) {
            return Classification(category: .bss, .bss(file: below), site: site)
        }
        let functions = facts.functions
        if flags.contains(.stack) || !functions.isDisjoint(with: Classifier.threadFunctions) {
            return classifyThreadStack(event: event, range: range, site: site)
        }
        if let allocator = facts.maker {
            return classifyAllocated(by: allocator, event: event, stack: stack, functions: functions, site: site,
                                     mallocEntry: facts.mallocEntry)
        }
        if threadStacks.contains(where: { $0.creator == event.id }) {
            return classifyThreadStack(event: event, range: range, site: site)
        }
        let library = stack.drop(while: Classifier.isSyscallWrapper).first
            .flatMap { Classifier.isSystemModule($0.module) ? $0.function : nil }
        return Classification(category: .mmap, .directMapping(call: event.syscall, bytes: Classifier.mappedLength(event), library: library),
                              site: site)
    }

    /// Bytes an mmap or mremap asked for, in whole pages.
    package static func mappedLength(_ event: MappingEvent) -> UInt64 {
        MemoryFlags.pageUp(event.call.length ?? 0)
    }

    /// mmap's flags; none for other calls.
    package static func mmapFlags(_ event: MappingEvent) -> MapFlags {
        if case .mmap(_, _, _, let flags, _, _) = event.call { return flags }
        return []
    }

    /// Memory an allocator of the table (or --allocator-frames) mapped.
    private func classifyAllocated(by allocator: Allocator, event: MappingEvent, stack: [SymbolizedFrame],
                                   functions: Set<String>, site: SymbolizedFrame?, mallocEntry: String?) -> Classification {
        switch allocator.kind {
        case .loader:
            let inLoader = stack.drop(while: Classifier.isSyscallWrapper).prefix { Classifier.isLoaderModule($0.module) }
            let fn = inLoader.first { !Classifier.loaderAllocators.contains($0.function ?? "") }?.function
            return Classification(category: .loader, .loaderMemory(function: fn), site: site, allocator: allocator.name)
        case .glibcMalloc:
            let entry = mallocEntry ?? "malloc"
            // An arena's heap: 64 MiB (HEAP_MAX_SIZE) reserved PROT_NONE with MAP_NORESERVE by new_heap.
            var reservation = false
            if case .mmap(_, _, let protection, let flags, _, _) = event.call {
                reservation = protection.isEmpty && flags.contains(.noReserve)
            }
            if !functions.isDisjoint(with: Classifier.arenaFunctions) || reservation {
                return Classification(category: .mallocArena, .mallocArena(tid: event.tid, entry: entry), site: site,
                                      allocator: allocator.name)
            }
            return Classification(category: .malloc, .largeMalloc(entry: entry, bytes: Classifier.mappedLength(event), call: event.syscall),
                                  site: site, allocator: allocator.name)
        case .other:
            return Classification(category: .allocator, .allocatorMemory(allocator: allocator.labelName ?? allocator.name,
                                                                         product: allocators.product(of: allocator, stack: stack)),
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
        let isGuard = model.map.segments(in: range).allSatisfy { $0.value.prot == 0 }
        if isGuard { return Classification(category: .guardPage, .stackGuard(tid: thread?.tid), site: site) }
        let below = range.lowerBound > 0 ? model.map.segment(containing: range.lowerBound - 1) : nil
        let guardBelow = below.map { $0.value.creator == event.id && $0.value.prot == 0 } ?? false
        return Classification(category: .threadStack, .threadStack(tid: thread?.tid, guardBelow: guardBelow), site: site)
    }

    private func classifyExecRegion(created: Mapping?, entry: MapsEntry) -> Classification {
        if let file = created?.bssOf { return Classification(category: .bss, .bss(file: file), site: nil) }
        let name = created?.name ?? entry.path
        switch name {
        case "[stack]": return Classification(category: .stack, .mainStack(grownByKernel: false), site: nil)
        case "[heap]": return Classification(category: .heap, .execHeap, site: nil)
        case "[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]":
            return Classification(category: .vdso, .kernelMapping(name: name, atExec: true), site: nil)
        default:
            if created?.isFile ?? entry.isFile {
                return Classification(category: SharedMemory.isSharedMemoryFile(entry.path) ? .shm : .file, .file(path: entry.path), site: nil)
            }
            return Classification(category: .unknown, .presentAtExec, site: nil)
        }
    }

    /// Bytes no traced event created: the kernel's own regions, or unknown.
    package static func classifyUntraced(entry: MapsEntry) -> Classification {
        switch entry.path {
        case "[stack]": return Classification(category: .stack, .mainStack(grownByKernel: true), site: nil)
        case "[heap]": return Classification(category: .heap, .execHeap, site: nil)
        case "[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]":
            return Classification(category: .vdso, .kernelMapping(name: entry.path, atExec: false), site: nil)
        default:
            if entry.isFile {
                return Classification(category: SharedMemory.isSharedMemoryFile(entry.path) ? .shm : .file, .file(path: entry.path), site: nil)
            }
            return Classification(category: .unknown, .untraced, site: nil)
        }
    }
}
