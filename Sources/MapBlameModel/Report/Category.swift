/// What a region (or a byte range of it) is. The raw values are stable names used in reports and
/// baselines.
public enum Category: String, Codable, Sendable, CaseIterable, Comparable {
    case bss
    case heap
    case stack
    case threadStack = "thread-stack"
    case guardPage = "guard"
    case malloc
    case mallocArena = "malloc-arena"
    /// Memory an allocator other than glibc malloc mapped (jemalloc, the Go runtime, pymalloc...:
    /// `Allocator.table`, or a function named with --allocator-frames).
    case allocator
    case loader
    case mmap
    case shm
    case vdso
    case file
    case unknown

    public static func < (a: Category, b: Category) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
