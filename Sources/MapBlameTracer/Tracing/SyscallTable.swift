import CShims
import MapBlameModel

/// The system call ABIs a traced x86_64 task can use. Which one a stop belongs to is not in the
/// syscall number: an i386 program, or 64-bit code executing `int 0x80`, uses the i386 numbers.
package enum SyscallABI: CaseIterable, Sendable {
    case x86_64, i386

    /// `seccomp_data.arch` and `ptrace_syscall_info.arch` of the ABI (linux/audit.h).
    package var auditArch: UInt32 {
        switch self {
        case .x86_64: cshims_audit_arch_x86_64
        case .i386: cshims_audit_arch_i386
        }
    }

    package init?(auditArch: UInt32) {
        guard let abi = SyscallABI.allCases.first(where: { $0.auditArch == auditArch }) else { return nil }
        self = abi
    }
}

/// Every system call the tracer stops at, for every ABI: the seccomp filter is built from this
/// table (`SeccompFilter`), attach filters syscall stops with it, and `SyscallDecoder` reads the
/// arguments the way each row says. Numbers: asm/unistd_64.h and asm/unistd_32.h.
package struct TracedSyscall: Sendable {
    /// What the call means to the tracer.
    package enum Role: Equatable, Sendable {
        /// Recorded as this mapping call (arguments normalized to the x86_64 call's).
        case mapping(MappingSyscall)
        /// Creates a task: stopped so that no mapping call is in flight while the kernel copies
        /// the address space, and for the new thread's stack.
        case creation(Creation)
        /// mseal: sealed mappings refuse munmap/mprotect, so results stop being predicted.
        case seal
        /// The i386 ipc() multiplexer: shmat or shmdt, or a call that maps nothing.
        case ipc
    }

    package enum Creation: Sendable {
        case clone, clone3, fork, vfork
    }

    /// How the arguments are passed, beyond the ABI's argument registers.
    package enum Arguments: Sendable {
        /// As the x86_64 call takes them, in the ABI's argument registers.
        case registers
        /// i386 mmap2: the sixth argument counts 4096-byte pages, not bytes.
        case pageOffset
        /// i386 old mmap: one pointer to the six arguments (32 bits each) in memory.
        case inMemory
    }

    package let abi: SyscallABI
    package let number: UInt64
    package let name: String
    package let role: Role
    package var arguments: Arguments = .registers

    package static let all: [TracedSyscall] = [
        TracedSyscall(abi: .x86_64, number: 9, name: "mmap", role: .mapping(.mmap)),
        TracedSyscall(abi: .x86_64, number: 10, name: "mprotect", role: .mapping(.mprotect)),
        TracedSyscall(abi: .x86_64, number: 11, name: "munmap", role: .mapping(.munmap)),
        TracedSyscall(abi: .x86_64, number: 12, name: "brk", role: .mapping(.brk)),
        TracedSyscall(abi: .x86_64, number: 25, name: "mremap", role: .mapping(.mremap)),
        TracedSyscall(abi: .x86_64, number: 30, name: "shmat", role: .mapping(.shmat)),
        TracedSyscall(abi: .x86_64, number: 67, name: "shmdt", role: .mapping(.shmdt)),
        TracedSyscall(abi: .x86_64, number: 329, name: "pkey_mprotect", role: .mapping(.pkey_mprotect)),
        TracedSyscall(abi: .x86_64, number: 56, name: "clone", role: .creation(.clone)),
        TracedSyscall(abi: .x86_64, number: 57, name: "fork", role: .creation(.fork)),
        TracedSyscall(abi: .x86_64, number: 58, name: "vfork", role: .creation(.vfork)),
        TracedSyscall(abi: .x86_64, number: 435, name: "clone3", role: .creation(.clone3)),
        TracedSyscall(abi: .x86_64, number: 462, name: "mseal", role: .seal),  // Linux 6.10

        TracedSyscall(abi: .i386, number: 192, name: "mmap2", role: .mapping(.mmap), arguments: .pageOffset),
        TracedSyscall(abi: .i386, number: 90, name: "mmap", role: .mapping(.mmap), arguments: .inMemory),
        TracedSyscall(abi: .i386, number: 125, name: "mprotect", role: .mapping(.mprotect)),
        TracedSyscall(abi: .i386, number: 91, name: "munmap", role: .mapping(.munmap)),
        TracedSyscall(abi: .i386, number: 45, name: "brk", role: .mapping(.brk)),
        TracedSyscall(abi: .i386, number: 163, name: "mremap", role: .mapping(.mremap)),
        TracedSyscall(abi: .i386, number: 117, name: "ipc", role: .ipc),
        TracedSyscall(abi: .i386, number: 397, name: "shmat", role: .mapping(.shmat)),  // Linux 5.1
        TracedSyscall(abi: .i386, number: 398, name: "shmdt", role: .mapping(.shmdt)),
        TracedSyscall(abi: .i386, number: 380, name: "pkey_mprotect", role: .mapping(.pkey_mprotect)),
        TracedSyscall(abi: .i386, number: 120, name: "clone", role: .creation(.clone)),
        TracedSyscall(abi: .i386, number: 2, name: "fork", role: .creation(.fork)),
        TracedSyscall(abi: .i386, number: 190, name: "vfork", role: .creation(.vfork)),
        TracedSyscall(abi: .i386, number: 435, name: "clone3", role: .creation(.clone3)),
        TracedSyscall(abi: .i386, number: 462, name: "mseal", role: .seal),
    ]

    private static let x86_64Rows = rows(of: .x86_64), i386Rows = rows(of: .i386)

    private static func rows(of abi: SyscallABI) -> [UInt64: TracedSyscall] {
        Dictionary(uniqueKeysWithValues: all.filter { $0.abi == abi }.map { ($0.number, $0) })
    }

    /// The row of `number` in `abi`, nil for a call the tracer lets run.
    package static func lookup(_ number: UInt64, abi: SyscallABI) -> TracedSyscall? {
        switch abi {
        case .x86_64: x86_64Rows[number]
        case .i386: i386Rows[number]
        }
    }

    /// The ABI of a seccomp stop when the registers tell it: 32-bit code can only make i386 calls,
    /// and a number the filter traps in one ABI only can only come from that one (the filter
    /// traps nothing else). nil when both ABIs trap the number: ask the kernel
    /// (PTRACE_GET_SYSCALL_INFO), an extra system call the common case does without.
    package static func seccompStopABI(number: UInt64, codeIs32Bit: Bool) -> SyscallABI? {
        if codeIs32Bit { return .i386 }
        switch (lookup(number, abi: .x86_64) != nil, lookup(number, abi: .i386) != nil) {
        case (true, false): return .x86_64
        case (false, true): return .i386
        default: return nil
        }
    }
}
