/// Kernel constants of the mapping syscalls (x86_64 Linux uapi values) and page arithmetic.
public enum MemoryFlags {
    public static let pageSize: UInt64 = 4096

    public static let protRead: UInt64 = 0x1
    public static let protWrite: UInt64 = 0x2
    public static let protExec: UInt64 = 0x4

    public static let mapShared: UInt64 = 0x01
    public static let mapPrivate: UInt64 = 0x02
    public static let mapTypeMask: UInt64 = 0x0f
    public static let mapFixed: UInt64 = 0x10
    public static let mapAnonymous: UInt64 = 0x20
    public static let mapNoReserve: UInt64 = 0x4000
    public static let mapStack: UInt64 = 0x20000
    public static let mapFixedNoReplace: UInt64 = 0x100000

    public static let mremapMayMove: UInt64 = 1
    public static let mremapFixed: UInt64 = 2
    public static let mremapDontUnmap: UInt64 = 4

    public static func pageDown(_ x: UInt64) -> UInt64 { x & ~(pageSize - 1) }
    public static func pageUp(_ x: UInt64) -> UInt64 {
        x > UInt64.max - (pageSize - 1) ? pageDown(x) : pageDown(x + pageSize - 1)
    }

    /// Whether MAP_SHARED or MAP_SHARED_VALIDATE is set.
    public static func isShared(_ flags: UInt64) -> Bool {
        let type = flags & mapTypeMask
        return type == 0x01 || type == 0x03
    }

    /// "rw-p" → PROT bits.
    public static func prot(fromPerms perms: String) -> UInt64 {
        let c = Array(perms.utf8)
        var p: UInt64 = 0
        if c.count > 0, c[0] == UInt8(ascii: "r") { p |= protRead }
        if c.count > 1, c[1] == UInt8(ascii: "w") { p |= protWrite }
        if c.count > 2, c[2] == UInt8(ascii: "x") { p |= protExec }
        return p
    }

    /// PROT bits and sharing → "rw-p".
    public static func perms(prot: UInt64, shared: Bool) -> String {
        (prot & protRead != 0 ? "r" : "-") + (prot & protWrite != 0 ? "w" : "-")
            + (prot & protExec != 0 ? "x" : "-") + (shared ? "s" : "p")
    }
}
