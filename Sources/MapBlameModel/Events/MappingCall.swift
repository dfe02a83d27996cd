/// A recorded call, decoded once from its argument registers into what each argument means. The
/// model, the classifier and the reporters read these fields; nothing after the decoder indexes
/// arguments by position.
public enum MappingCall: Sendable, Equatable {
    case mmap(address: UInt64, length: UInt64, protection: Protection, flags: MapFlags, fd: Int32, offset: UInt64)
    case munmap(address: UInt64, length: UInt64)
    case mremap(oldAddress: UInt64, oldLength: UInt64, newLength: UInt64, flags: RemapFlags, newAddress: UInt64)
    case mprotect(address: UInt64, length: UInt64, protection: Protection)
    case pkeyMprotect(address: UInt64, length: UInt64, protection: Protection, key: Int32)
    case brk(address: UInt64)
    case shmat(shmid: Int32, address: UInt64, flags: ShmFlags)
    case shmdt(address: UInt64)
    /// The regions the kernel sets up at exec, with no syscall of their own.
    case execve

    /// Decodes the argument registers of `syscall` as the x86_64 call takes them (missing ones
    /// read as 0: a damaged trace must not trap).
    public init(_ syscall: MappingSyscall, registers r: [UInt64]) {
        func at(_ i: Int) -> UInt64 { i < r.count ? r[i] : 0 }
        func int(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: at(i)) }
        switch syscall {
        case .mmap:
            self = .mmap(address: at(0), length: at(1), protection: Protection(rawValue: at(2)), flags: MapFlags(rawValue: at(3)),
                         fd: int(4), offset: at(5))
        case .munmap: self = .munmap(address: at(0), length: at(1))
        case .mremap:
            self = .mremap(oldAddress: at(0), oldLength: at(1), newLength: at(2), flags: RemapFlags(rawValue: at(3)), newAddress: at(4))
        case .mprotect: self = .mprotect(address: at(0), length: at(1), protection: Protection(rawValue: at(2)))
        case .pkey_mprotect: self = .pkeyMprotect(address: at(0), length: at(1), protection: Protection(rawValue: at(2)), key: int(3))
        case .brk: self = .brk(address: at(0))
        case .shmat: self = .shmat(shmid: int(0), address: at(1), flags: ShmFlags(rawValue: at(2)))
        case .shmdt: self = .shmdt(address: at(0))
        case .execve: self = .execve
        }
    }

    public var syscall: MappingSyscall {
        switch self {
        case .mmap: .mmap
        case .munmap: .munmap
        case .mremap: .mremap
        case .mprotect: .mprotect
        case .pkeyMprotect: .pkey_mprotect
        case .brk: .brk
        case .shmat: .shmat
        case .shmdt: .shmdt
        case .execve: .execve
        }
    }

    /// mprotect's and pkey_mprotect's address, length and protection; nil for other calls.
    public var protectionChange: (address: UInt64, length: UInt64, protection: Protection)? {
        switch self {
        case .mprotect(let address, let length, let protection), .pkeyMprotect(let address, let length, let protection, _):
            (address, length, protection)
        default: nil
        }
    }

    /// The bytes a call maps, unmaps or changes, as passed (not page-rounded): mmap's, munmap's
    /// and mprotect's length, mremap's new length; nil for the others.
    public var length: UInt64? {
        switch self {
        case .mmap(_, let length, _, _, _, _), .munmap(_, let length), .mprotect(_, let length, _),
             .pkeyMprotect(_, let length, _, _):
            length
        case .mremap(_, _, let newLength, _, _): newLength
        case .brk, .shmat, .shmdt, .execve: nil
        }
    }
}

/// PROT_* bits (unknown bits kept).
public struct Protection: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let read = Protection(rawValue: MemoryFlags.protRead)
    public static let write = Protection(rawValue: MemoryFlags.protWrite)
    public static let exec = Protection(rawValue: MemoryFlags.protExec)
}

/// MAP_* flags of mmap (unknown bits kept).
public struct MapFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let fixed = MapFlags(rawValue: MemoryFlags.mapFixed)
    public static let anonymous = MapFlags(rawValue: MemoryFlags.mapAnonymous)
    public static let noReserve = MapFlags(rawValue: MemoryFlags.mapNoReserve)
    public static let stack = MapFlags(rawValue: MemoryFlags.mapStack)
    /// Huge pages: the tracer stops predicting results in that address space.
    public static let hugeTLB = MapFlags(rawValue: 0x40000)
    public static let fixedNoReplace = MapFlags(rawValue: MemoryFlags.mapFixedNoReplace)
    /// MAP_SHARED or MAP_SHARED_VALIDATE (the sharing type is a 4-bit field, not a bit).
    public var isShared: Bool { MemoryFlags.isShared(rawValue) }
}

/// MREMAP_* flags.
public struct RemapFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let mayMove = RemapFlags(rawValue: MemoryFlags.mremapMayMove)
    public static let fixed = RemapFlags(rawValue: MemoryFlags.mremapFixed)
    public static let dontUnmap = RemapFlags(rawValue: MemoryFlags.mremapDontUnmap)
}

/// SHM_* flags of shmat.
public struct ShmFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let readOnly = ShmFlags(rawValue: 0o10000)
}
