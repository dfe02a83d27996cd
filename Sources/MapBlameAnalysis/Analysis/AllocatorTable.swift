import MapBlameModel

/// An allocator: code whose frames are never "the site", and which names what it maps.
/// Data only (the table below); `AllocatorFrames` matches frames against it.
public struct Allocator: Sendable, Equatable {
    /// glibc malloc and ld.so keep their own categories and labels (`malloc`, `malloc-arena`,
    /// `heap`, `loader`); every other allocator's memory is category `allocator`.
    public enum Kind: Sendable, Equatable {
        case glibcMalloc, loader, other
    }

    /// What reports call it (the JSON origin's `allocator` field): "jemalloc", "Go runtime".
    public var name: String
    /// How a label begins before what it made: "Go" in "Go heap arena" (default: `name`).
    public var labelName: String? = nil
    public var kind: Kind = .other
    /// File name prefixes of modules that are this allocator and nothing else ("libjemalloc.so").
    public var modules: [String] = []
    /// Its functions, by exact name and by name prefix (C++ names as demangled).
    public var functions: Set<String> = []
    public var prefixes: [String] = []
    /// Paths of its traits, whose implementations for any type are its functions too: Rust's
    /// `<u8 as alloc::vec::spec_from_elem::SpecFromElem>::from_elem` for "alloc::".
    public var traitPaths: [String] = []
    /// What it maps, told by the frames it made the call through: the first rule whose prefix
    /// starts one of those frames' names wins, else `product`.
    public var products: [(prefix: String, product: String)] = []
    public var product: String = "memory"

    public static func == (a: Allocator, b: Allocator) -> Bool { a.name == b.name }
}

extension Allocator {
    /// Every allocator mapblame knows, in matching order: an allocator recognised by its module
    /// comes before glibc malloc, whose function names (malloc, calloc...) it exports too.
    public static let table: [Allocator] = [loader, jemalloc, tcmalloc, mimalloc, glibcMalloc, partitionAlloc, pymalloc,
                                            goRuntime, v8, jvm, rustAlloc]

    /// ld.so's own memory: its minimal malloc before libc is relocated, TLS and link maps.
    package static let loader = Allocator(name: "ld.so", kind: .loader, modules: ["ld-linux", "ld.so", "ld64.so"])

    /// glibc malloc and C++ operator new (libstdc++ over malloc). Names are compared after
    /// `Classifier.glibcBaseName` ("__GI___libc_malloc" → "malloc").
    package static let glibcMalloc = Allocator(name: "glibc malloc", kind: .glibcMalloc, functions: [
        "malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign", "aligned_alloc",
        "valloc", "pvalloc", "free", "mid_memalign", "int_malloc", "int_realloc",
        "int_memalign", "sysmalloc", "sysmalloc_mmap", "sysmalloc_mmap_fallback", "mremap_chunk",
        "tcache_init", "malloc_hook_ini", "new_heap", "alloc_new_heap", "int_new_arena", "arena_get2",
        "arena_get_retry", "grow_heap", "malloc2", "int_free", "systrim", "heap_trim", "munmap_chunk",
        "operator new(unsigned long)", "operator new[](unsigned long)",
        "operator new(unsigned long, std::align_val_t)", "operator new[](unsigned long, std::align_val_t)",
        "operator new(unsigned long, std::nothrow_t const&)", "operator new[](unsigned long, std::nothrow_t const&)",
    ])

    /// jemalloc as a library (LD_PRELOAD, libjemalloc.so.2) or linked in with its `je_` prefix
    /// (redis); `pages_map` and friends are its static functions that make the mmap.
    package static let jemalloc = Allocator(
        name: "jemalloc", modules: ["libjemalloc.so"],
        functions: ["pages_map", "os_pages_map", "extent_alloc_mmap", "ehooks_default_alloc_impl",
                    "extent_alloc_default_impl", "base_map", "base_block_alloc", "base_extent_alloc"],
        prefixes: ["je_", "_rjem_"],
        products: [("base_", "metadata"), ("je_base_", "metadata")], product: "extent")

    package static let tcmalloc = Allocator(
        name: "tcmalloc", modules: ["libtcmalloc"],
        prefixes: ["tcmalloc::", "TCMalloc_", "tc_", "(anonymous namespace)::do_malloc", "MmapSysAllocator::",
                   "DefaultSysAllocator::", "SbrkSysAllocator::"],
        product: "span memory")

    package static let mimalloc = Allocator(
        name: "mimalloc", modules: ["libmimalloc.so"], prefixes: ["mi_", "_mi_"],
        products: [("_mi_arena", "arena"), ("mi_arena", "arena")], product: "segment")

    /// Chromium's PartitionAlloc (Chrome, Electron...).
    package static let partitionAlloc = Allocator(
        name: "PartitionAlloc",
        prefixes: ["partition_alloc::", "base::PartitionRoot", "base::internal::Partition", "base::PartitionAlloc",
                   "allocator_shim::", "base::allocator::"],
        products: [("partition_alloc::internal::AddressPoolManager", "pool reservation"),
                   ("partition_alloc::internal::PartitionAddressSpace", "pool reservation")],
        product: "super page")

    /// CPython's small-object allocator: arenas (256 KiB, 1 MiB since 3.10) mapped by
    /// `_PyObject_ArenaMmap`; and the layers over it and over malloc that every object is made
    /// through (PyMem_*, object and GC allocation), so that a site is the code that made the
    /// object (with Python frames, its Python line: `Classifier+Python.swift`).
    package static let pymalloc = Allocator(
        name: "pymalloc",
        functions: ["_PyObject_ArenaMmap", "new_arena", "allocate_from_new_pool", "pymalloc_alloc", "_PyObject_Malloc",
                    "_PyObject_Calloc", "_PyObject_Realloc", "pymalloc_realloc", "PyObject_Malloc", "PyObject_Calloc",
                    "PyObject_Realloc", "_PyObject_MallocWithType",
                    "PyMem_Malloc", "PyMem_Calloc", "PyMem_Realloc", "PyMem_RawMalloc", "PyMem_RawCalloc", "PyMem_RawRealloc",
                    "_PyMem_RawMalloc", "_PyMem_RawCalloc", "_PyMem_RawRealloc", "_PyObject_New", "_PyObject_NewVar",
                    "PyObject_Init", "_PyObject_GC_New", "_PyObject_GC_NewVar", "_PyObject_GC_Resize", "gc_alloc",
                    "_PyObject_GC_Link", "PyType_GenericAlloc", "_PyType_AllocNoTrack"],
        product: "arena")

    /// The Go runtime's memory system. Its stacks end at runtime.systemstack (libunwind does not
    /// follow the switch to the goroutine's stack), and the rest of the runtime (scheduler,
    /// goroutine creation, init) allocates through it on its own behalf: every frame of package
    /// runtime counts as the allocator, so the site is the program's own code when it shows. With
    /// cgo, the runtime maps through x_cgo_mmap (C, in runtime/cgo) and libc's mmap.
    package static let goRuntime = Allocator(
        name: "Go runtime", labelName: "Go", functions: ["x_cgo_mmap", "_cgo_mmap", "x_cgo_munmap", "_cgo_munmap"],
        prefixes: ["runtime."],
        products: [("runtime.persistentalloc", "runtime metadata"),
                   ("runtime.(*pageAlloc)", "page allocator metadata"),
                   ("runtime.(*scavengeIndex)", "page allocator metadata"),
                   ("runtime.newMarkBits", "GC bitmaps"), ("runtime.newAllocBits", "GC bitmaps"),
                   ("runtime.newArenaMayUnlock", "GC bitmaps"),
                   ("runtime.sysAllocOS", "runtime metadata"),
                   ("runtime.(*mheap).sysAlloc", "heap arena"), ("runtime.(*mheap).grow", "heap arena"),
                   ("runtime.sysReserve", "heap arena"), ("runtime.sysMap", "heap arena")],
        product: "memory")

    /// V8's page allocation (node, Chromium): reservations and the pages committed in them.
    package static let v8 = Allocator(
        name: "V8",
        prefixes: ["v8::base::OS::Allocate", "v8::base::OS::Reserve", "v8::base::OS::SetPermissions",
                   "v8::base::OS::RemapShared", "v8::base::PageAllocator::", "v8::base::BoundedPageAllocator::",
                   "v8::base::VirtualAddressSpace", "v8::base::VirtualAddressSubspace", "v8::base::RegionAllocator::",
                   "v8::internal::VirtualMemory", "v8::internal::AllocatePages", "v8::internal::AllocatePage",
                   "v8::internal::MemoryAllocator::", "v8::internal::CodeRange::", "v8::internal::IsolateAllocator::",
                   "v8::internal::VirtualMemoryCage::", "v8::internal::Sandbox::", "v8::internal::BasicMemoryChunk::",
                   "v8::internal::MemoryChunk::", "v8::internal::MemoryPool::", "v8::internal::(anonymous namespace)::",
                   "v8::internal::PagedSpace::", "v8::internal::NewSpace::", "v8::internal::SemiSpace::",
                   "v8::internal::LargeObjectSpace::", "v8::internal::ReadOnlySpace::"],
        products: [("v8::internal::CodeRange::", "code range"), ("v8::internal::IsolateAllocator::", "pointer cage"),
                   ("v8::internal::VirtualMemoryCage::", "pointer cage"), ("v8::internal::Sandbox::", "sandbox"),
                   ("v8::internal::MemoryAllocator::", "heap page")],
        product: "memory")

    /// Rust's layers over the global allocator (glibc malloc unless a program sets another), as
    /// demangled: the `alloc` crate (Box, Vec, String, RawVec and the global allocator's entry
    /// points), std's `System` allocator, and the shims rustc generates (`__rust_alloc`,
    /// `__rdl_alloc`). A `Vec`'s site is then the function that made it, not `RawVec`; the mapping
    /// itself is glibc malloc's (the innermost allocator), so it keeps its `malloc` words.
    package static let rustAlloc = Allocator(
        name: "Rust alloc",
        prefixes: ["alloc::", "<alloc::", "<std::alloc::System as ", "__rust_alloc", "__rust_realloc", "__rdl_"],
        traitPaths: ["alloc::"])

    /// HotSpot's reservation wrappers: the Java heap, code cache, metaspace and thread stacks'
    /// guard zones are reserved, committed and uncommitted through them (each an mmap).
    package static let jvm = Allocator(
        name: "JVM",
        prefixes: ["os::reserve_memory", "os::pd_reserve_memory", "os::attempt_reserve_memory", "os::pd_attempt_reserve",
                   "os::commit_memory", "os::pd_commit_memory", "os::Linux::commit_memory", "os::map_memory",
                   "os::pd_map_memory", "os::reserve_memory_special", "os::pd_reserve_memory_special",
                   "os::split_reserved_memory", "os::uncommit_memory", "os::pd_uncommit_memory",
                   "StackOverflow::create_stack_guard_pages", "StackOverflow::remove_stack_guard_pages",
                   "os::create_stack_guard_pages", "os::pd_create_stack_guard_pages", "os::remove_stack_guard_pages",
                   "anon_mmap", "ReservedSpace::", "ReservedHeapSpace::",
                   "ReservedCodeSpace::", "VirtualSpace::", "VirtualSpaceNode::", "metaspace::", "Metaspace::",
                   "CodeCache::reserve", "G1PageBasedVirtualSpace::", "G1RegionsLargerThanCommitSizeMapper::",
                   "G1RegionsSmallerThanCommitSizeMapper::", "G1RegionToSpaceMapper::", "PSVirtualSpace::",
                   "CardTable::", "MarkBitMap::"],
        products: [("StackOverflow::", "thread stack guard zone"), ("os::create_stack_guard_pages", "thread stack guard zone"),
                   ("os::pd_create_stack_guard_pages", "thread stack guard zone"), ("ReservedHeapSpace::", "Java heap"), ("G1", "Java heap"), ("PSVirtualSpace::", "Java heap"),
                   ("ReservedCodeSpace::", "code cache"), ("CodeCache::", "code cache"),
                   ("metaspace::", "metaspace"), ("Metaspace::", "metaspace"), ("VirtualSpaceNode::", "metaspace"),
                   ("CardTable::", "card table"), ("MarkBitMap::", "GC bitmap"),
                   ("os::pd_uncommit_memory", "uncommitted memory"), ("os::uncommit_memory", "uncommitted memory"),
                   ("os::pd_commit_memory", "committed memory"), ("os::commit_memory", "committed memory"),
                   ("os::Linux::commit_memory", "committed memory")],
        product: "reserved memory")
}
