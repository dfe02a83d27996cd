import CShims
import Glibc
import MapBlameModel

/// Which ABI a stop's system call uses, and what a freshly exec'd program's ABI means for the
/// model: an i386 program has a 4 GiB address space; an x32 program is not traced (said once).
extension Tracer {
    /// The code segment selector of a task running 32-bit code (__USER32_CS).
    package static let user32CodeSegment: UInt64 = 0x23

    /// The ABI of the call a task is stopped in (entry, seccomp or clone event stop): from the
    /// registers when the policy can tell (`StopPolicy.abi(fromRegisters:)`), else from the kernel.
    package func stopABI(_ task: TaskState, regs: cshims_regs) -> SyscallABI? {
        if let abi = policy.abi(fromRegisters: regs) { return abi }
        return Ptrace.syscallInfo(task.tid).flatMap { SyscallABI(auditArch: $0.arch) }
    }

    /// The traced call a task is stopped in, decoded, with the registers it was read from; nil
    /// for a call the tracer does not trace or cannot read.
    package func decodeStop(_ task: TaskState) -> (call: DecodedCall, row: TracedSyscall, regs: cshims_regs)? {
        guard let regs = Ptrace.registers(task.tid), let abi = stopABI(task, regs: regs),
              let row = TracedSyscall.lookup(regs.orig_rax, abi: abi),
              let call = SyscallDecoder.decode(row, regs: regs, tid: task.tid) else { return nil }
        return (call, row, regs)
    }

    /// After exec: the new space's user address space ends where the program's ABI says.
    package func adopt(executableOf tid: Int32, into space: SpaceState) {
        switch ExecutableClass.of("/proc/\(tid)/exe") {
        case .i386:
            space.model.taskSize = UserSpace.taskSize32
        case .x32:
            space.model.taskSize = UserSpace.taskSize32
            options.notice("\(ProcFile.readLink("/proc/\(tid)/exe") ?? "pid \(tid)") is an x32 program: its memory-mapping calls are not traced (x32 is not supported)")
        case .x86_64, nil:
            break
        }
    }
}

/// The ABI an ELF executable runs with, from its header.
package enum ExecutableClass {
    case x86_64, i386, x32

    package static func of(_ path: String) -> ExecutableClass? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 20)
        guard read(fd, &header, header.count) == header.count, header[0..<4] == [0x7f, 0x45, 0x4c, 0x46] else { return nil }
        let is32 = header[4] == 1  // EI_CLASS: ELFCLASS32
        switch UInt16(header[18]) | UInt16(header[19]) << 8 {  // e_machine, little-endian
        case 3: return .i386  // EM_386
        case 62: return is32 ? .x32 : .x86_64  // EM_X86_64
        default: return nil
        }
    }
}
