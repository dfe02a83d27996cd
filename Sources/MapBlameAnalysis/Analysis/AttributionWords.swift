import MapBlameModel

/// The words of a label: an attribution rendered for people. The only place labels are spelled
/// (baseline keys never read them back).
extension Attribution {
    /// "malloc of 1.0 MiB served by mmap from parse_config (main.c:88)".
    public func label(site: SymbolizedFrame?) -> String {
        let from = site.map { " from \($0.shortDescription)" } ?? ""
        switch kind {
        case .mainStack(let grown): return "stack of the main thread (\(grown ? "grown by the kernel" : "set up at exec"))"
        case .execHeap: return "heap (brk area set up at exec)"
        case .kernelMapping(let name, let atExec): return "\(name) mapped by the kernel\(atExec ? " at exec" : "")"
        case .presentAtExec: return "anonymous memory present right after exec"
        case .untraced: return "no traced syscall created these bytes"
        case .file(let path): return path
        case .bss(let file): return "bss of \(file)"
        case .heapGrowth(let by): return "heap grown by \(by)\(from)"
        case .sysvSharedMemory(let shmid): return "System V shared memory (shmid \(shmid)) attached\(from)"
        case .sharedAnonymous: return "shared anonymous memory\(from)"
        case .threadStack(let tid, let guardBelow):
            return "stack of \(Attribution.thread(tid))\(guardBelow ? " (guard page below)" : "")"
        case .stackGuard(let tid): return "guard page of the stack of \(Attribution.thread(tid))"
        case .loaderMemory(let function):
            return "dynamic loader memory" + (function.map { " from \($0)" } ?? "") + (from.isEmpty ? "" : ", for a call" + from)
        case .mallocArena(let tid, let entry): return "glibc malloc arena of thread \(tid) (created in \(entry)\(from))"
        case .largeMalloc(let entry, let bytes, let call):
            return "\(entry) of \(ByteCount.text(bytes)) served by \(call.rawValue)\(from)"
        case .allocatorMemory(let allocator, let product): return "\(allocator) \(product)\(from)"
        case .directMapping(let call, let bytes, let library):
            return (call == .mremap ? "mremap to \(bytes)" : "mmap(\(bytes))") + (library.map { " by \($0)" } ?? "") + from
        case .described(let words): return words
        }
    }

    private static func thread(_ tid: Int32?) -> String { tid.map { "thread \($0)" } ?? "a thread" }
}
