import MapBlameModel
import CElfUtils
import Glibc

/// A module's `.eh_frame` section mapped from its file, at the address the process has it: the
/// unwinder reads the FDE and CIE of every frame there, one page of a large section per frame
/// (Chromium: about one process_vm_readv per frame and backtrace, most of the tracer's time).
/// Only for a section in a read-only segment: nothing in the process can have changed those
/// bytes (a writable one could have been relocated; such a module's reads go to its memory).
package final class EhFrameBytes {
    /// The section's address in the process.
    package let start: UInt64
    package let mapping: FileMapping

    package init?(_ elf: OpaquePointer, fd: Int32, bias: UInt64) {
        guard let header = Self.section(elf, named: ".eh_frame"), header.sh_type == SHT_PROGBITS,
              Self.inReadOnlySegment(elf, address: header.sh_addr, size: header.sh_size, offset: header.sh_offset),
              let mapping = FileMapping(fd: fd, offset: header.sh_offset, length: header.sh_size) else { return nil }
        start = header.sh_addr &+ bias
        self.mapping = mapping
    }

    private static func section(_ elf: OpaquePointer, named wanted: String) -> GElf_Shdr? {
        ElfSections.find(elf, named: wanted)?.header
    }

    /// Whether [address, address + size) lies in one PT_LOAD without PF_W, within its file bytes,
    /// at file `offset` there.
    private static func inReadOnlySegment(_ elf: OpaquePointer, address: UInt64, size: UInt64, offset: UInt64) -> Bool {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return false }
        for index in 0..<Int32(clamping: count) {
            var phdr = GElf_Phdr()
            guard gelf_getphdr(elf, index, &phdr) != nil, phdr.p_type == PT_LOAD,
                  address >= phdr.p_vaddr, address - phdr.p_vaddr <= phdr.p_filesz,
                  size <= phdr.p_filesz - (address - phdr.p_vaddr) else { continue }
            return phdr.p_flags & UInt32(PF_W) == 0 && offset &- phdr.p_offset == address - phdr.p_vaddr
        }
        return false
    }
}
