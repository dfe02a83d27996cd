import MapBlameModel

/// A call as strace would print it, without its result: "mmap(0x0, 65536, PROT_READ|PROT_WRITE,
/// MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x0)". mmap's arguments are named from the decoded call; the
/// other calls show their argument registers raw, as recorded.
enum CallText {
    static func render(_ e: MappingEvent) -> String {
        var words = e.registers.map { "0x" + String($0, radix: 16) }
        if case .mmap(_, let length, let protection, let flags, let fd, _) = e.call, words.count == 6 {
            words[1] = String(length)
            words[2] = protection.isEmpty ? "PROT_NONE" : names(protection.rawValue, protectionNames)
            words[3] = names(flags.rawValue, mapFlagNames)
            words[4] = String(fd)
        }
        return e.syscall.rawValue + "(" + words.joined(separator: ", ") + ")"
    }

    static let protectionNames: [(UInt64, String)] = [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")]
    /// In order: MAP_SHARED_VALIDATE (3) before the bits it is made of.
    static let mapFlagNames: [(UInt64, String)] = [
        (3, "MAP_SHARED_VALIDATE"), (1, "MAP_SHARED"), (2, "MAP_PRIVATE"), (0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"),
        (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x1000, "MAP_EXECUTABLE"), (0x2000, "MAP_LOCKED"),
        (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"), (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"),
        (0x40000, "MAP_HUGETLB"), (0x80000, "MAP_SYNC"), (0x100000, "MAP_FIXED_NOREPLACE"),
    ]

    /// The names of the set bits, in table order, and what is left in hexadecimal.
    static func names(_ value: UInt64, _ table: [(UInt64, String)]) -> String {
        var rest = value
        var out: [String] = []
        for (bits, name) in table where bits != 0 && rest & bits == bits {
            out.append(name)
            rest &= ~bits
        }
        if rest != 0 { out.append("0x" + String(rest, radix: 16)) }
        return out.joined(separator: "|")
    }
}
