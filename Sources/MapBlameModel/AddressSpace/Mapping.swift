/// What the model knows about a range of bytes of a traced address space: who created them, and
/// what they look like now.
public struct Mapping: IntervalValue {
    /// Id of the event that created these bytes (an mmap, mremap, brk, shmat, or the exec event).
    public var creator: Int
    public var prot: UInt64
    public var shared: Bool
    /// The name /proc/PID/maps would show: a file path, a pseudo-path ("[stack]", "[vdso]"), or nil
    /// for anonymous memory.
    public var name: String?
    /// Whether the bytes are backed by a file (`name` is then its path).
    public var isFile: Bool
    /// File offset of the first byte (file mappings only).
    public var fileOffset: UInt64
    /// For anonymous memory the kernel set up at exec right after a file's segment: that file.
    public var bssOf: String?
    /// The last mprotect that changed these bytes.
    public var lastProtect: Int?

    public init(creator: Int, prot: UInt64, shared: Bool, name: String? = nil, isFile: Bool = false,
                fileOffset: UInt64 = 0, bssOf: String? = nil) {
        self.creator = creator
        self.prot = prot
        self.shared = shared
        self.name = name
        self.isFile = isFile
        self.fileOffset = fileOffset
        self.bssOf = bssOf
    }

    public func advanced(by delta: UInt64) -> Mapping {
        var m = self
        if isFile { m.fileOffset &+= delta }
        return m
    }
}
