import CShims
import MapBlameModel

/// A traced call as read at its entry stop, in the terms of the x86_64 call whatever its ABI: the
/// model, the trace and the reports only know those.
package enum DecodedCall: Equatable {
    /// `resultPointer`: where the call stores its result (i386 ipc SHMAT returns 0 and writes the
    /// attach address through its third argument); nil when the result is the return value.
    /// `registers`: the six argument registers as the x86_64 call has them (recorded raw).
    case mapping(MappingCall, registers: [UInt64], resultPointer: UInt64?)
    case creation(CloneArguments)
    case seal
    /// A call of the ipc() multiplexer that maps nothing (semaphores, messages, shmget...).
    case other
}

/// What a task-creating call asks for: its clone flags and the new thread's stack, if it has one.
package struct CloneArguments: Equatable {
    package var flags: UInt64
    package var stackLow: UInt64?
    package var stackTop: UInt64?
}

/// Reads a stop's call as its `TracedSyscall` row says: which registers hold the arguments,
/// what is in memory, how the result is encoded.
package enum SyscallDecoder {
    /// ipc() call numbers (linux/ipc.h); the upper 16 bits of the call are a version.
    package static let ipcShmat: UInt64 = 21, ipcShmdt: UInt64 = 22

    /// The six argument registers of the ABI, in order. The i386 ABI passes 32-bit values in
    /// ebx, ecx, edx, esi, edi, ebp; the kernel ignores the upper halves (int 0x80 from 64-bit code).
    package static func arguments(_ regs: cshims_regs, abi: SyscallABI) -> [UInt64] {
        switch abi {
        case .x86_64: [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9]
        case .i386: [regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.rbp].map { $0 & 0xffff_ffff }
        }
    }

    /// The return value in rax as the x86_64 call would return it: i386 results are 32 bits,
    /// -4095...-1 an error, anything else an address or count (0xf7f00000 is an address).
    package static func result(_ rax: UInt64, abi: SyscallABI) -> Int64 {
        switch abi {
        case .x86_64:
            return Int64(bitPattern: rax)
        case .i386:
            let value = UInt32(truncatingIfNeeded: rax)
            return value >= UInt32(bitPattern: -4095) ? Int64(Int32(bitPattern: value)) : Int64(value)
        }
    }

    package static func decode(_ row: TracedSyscall, regs: cshims_regs, tid: Int32) -> DecodedCall? {
        var args = arguments(regs, abi: row.abi)
        switch row.role {
        case .mapping(let call):
            switch row.arguments {
            case .registers: break
            case .pageOffset: args[5] <<= 12
            case .inMemory:
                guard let block = Ptrace.read(tid, at: args[0], count: 24) else { return nil }  // EFAULT
                args = (0..<6).map { word(block, at: $0 * 4, size: 4) }
            }
            return .mapping(MappingCall(call, registers: args), registers: args, resultPointer: nil)
        case .ipc:
            let call = args[0] & 0xffff, version = args[0] >> 16
            // Six arguments like every recorded call, in the order of shmat(shmid, shmaddr, shmflg)
            // and shmdt(shmaddr).
            if call == ipcShmat && version == 0 {  // ipc(SHMAT, shmid, shmflg, &result, shmaddr)
                let registers = [args[1], args[4], args[2], 0, 0, 0]
                return .mapping(MappingCall(.shmat, registers: registers), registers: registers, resultPointer: args[3])
            }
            if call == ipcShmdt {  // ipc(SHMDT, 0, 0, 0, shmaddr)
                let registers = [args[4], 0, 0, 0, 0, 0]
                return .mapping(MappingCall(.shmdt, registers: registers), registers: registers, resultPointer: nil)
            }
            return .other
        case .creation(let kind):
            return .creation(clone(kind, args: args, tid: tid))
        case .seal:
            return .seal
        }
    }

    /// The flags and new stack of a creation call, from the parent stopped in it.
    private static func clone(_ kind: TracedSyscall.Creation, args: [UInt64], tid: Int32) -> CloneArguments {
        switch kind {
        case .clone:  // clone(flags, stack, ...): the stack argument is its top
            return CloneArguments(flags: args[0], stackLow: nil, stackTop: args[1] == 0 ? nil : args[1])
        case .clone3:  // clone3(struct clone_args *, size): the same 64-bit layout in both ABIs
            guard let bytes = Ptrace.read(tid, at: args[0], count: 56) else { return CloneArguments(flags: 0) }
            let stack = word(bytes, at: 40, size: 8), size = word(bytes, at: 48, size: 8)  // flags at 0
            return CloneArguments(flags: word(bytes, at: 0, size: 8), stackLow: stack == 0 ? nil : stack,
                                  stackTop: stack == 0 ? nil : stack + size)
        case .vfork:
            return CloneArguments(flags: Tracer.cloneVM)
        case .fork:
            return CloneArguments(flags: 0)
        }
    }

    /// The little-endian integer of `size` bytes at `offset`.
    package static func word(_ bytes: [UInt8], at offset: Int, size: Int) -> UInt64 {
        bytes[offset..<offset + size].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The result of a completed call: the return value, or what the call wrote through
    /// `resultPointer` when it succeeded.
    package static func completedResult(rax: UInt64, abi: SyscallABI, resultPointer: UInt64?, tid: Int32) -> Int64 {
        let value = result(rax, abi: abi)
        guard let pointer = resultPointer, value == 0 else { return value }
        // The kernel could write there, so the tracer can read it; if not, say EFAULT as put_user would.
        guard let bytes = Ptrace.read(tid, at: pointer, count: 4) else { return -14 }
        return Int64(word(bytes, at: 0, size: 4))
    }
}
