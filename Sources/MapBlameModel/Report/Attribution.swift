/// What an origin is, as data: the classifier's finding, from which the label's words are rendered
/// at the edge (`Attribution.label(site:)` in the analysis layer) and baseline keys are built
/// (`BaselineKey`), so rewording a label never changes a key.
public struct Attribution: Sendable, Equatable, Hashable {
    public enum Kind: Sendable, Equatable, Hashable {
        /// The main thread's stack, set up at exec or grown by the kernel since.
        case mainStack(grownByKernel: Bool)
        /// The brk area the kernel set up at exec.
        case execHeap
        /// [vdso], [vvar], [vsyscall], [vvar_vclock]: `atExec` when the exec event created it.
        case kernelMapping(name: String, atExec: Bool)
        /// Anonymous memory the process had right after exec, of no known kind.
        case presentAtExec
        /// Bytes no traced syscall created.
        case untraced
        /// A file mapping (or a shared-memory file).
        case file(path: String)
        /// The .bss of a program or library (the zero-filled part of its writable segment).
        case bss(file: String)
        /// The heap grown with brk by `by`: a glibc malloc entry point ("malloc"), another
        /// allocator's name, or "brk" itself.
        case heapGrowth(by: String)
        /// A System V shared memory segment attached with shmat.
        case sysvSharedMemory(shmid: Int32)
        case sharedAnonymous
        /// A thread's stack (its creating thread `tid` when known), with a guard page below it or not.
        case threadStack(tid: Int32?, guardBelow: Bool)
        /// The guard page below a thread's stack.
        case stackGuard(tid: Int32?)
        /// The dynamic loader's own memory, made in `function` of ld.so when known.
        case loaderMemory(function: String?)
        /// A glibc malloc arena's heap, created by thread `tid` in `entry` ("malloc", "calloc"...).
        case mallocArena(tid: Int32, entry: String)
        /// A large allocation glibc malloc served with its own mapping.
        case largeMalloc(entry: String, bytes: UInt64, call: MappingSyscall)
        /// Memory another allocator mapped: its name and what the memory is to it (an extent, a span...).
        case allocatorMemory(allocator: String, product: String)
        /// A direct mmap or mremap of `bytes`, through the system library function `library` when
        /// one stood between the caller and the syscall.
        case directMapping(call: MappingSyscall, bytes: UInt64, library: String?)
        /// Words only, with no structure behind them: explain's evidence (the seeds of an attach
        /// trace), reports read back from JSON.
        case described(String)
    }

    public var kind: Kind

    public init(_ kind: Kind) { self.kind = kind }
}
