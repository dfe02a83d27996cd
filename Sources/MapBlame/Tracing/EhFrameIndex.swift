import CElfUtils
import Glibc

/// The binary-search table of a module's `.eh_frame`, built from the file for modules that have no
/// `.eh_frame_hdr`: static non-PIE executables (gcc's driver passes `--eh-frame-hdr` to the linker
/// only for dynamic links), whose code libunwind's ptrace accessors then cannot unwind at all, so
/// every backtrace stopped after its first frame. The table has `.eh_frame_hdr`'s layout: pairs of
/// 32-bit (function start - segbase, FDE address - segbase), sorted by start, addresses as mapped
/// in the process; libunwind searches it like its own (`cshims_eh_index`).
final class EhFrameIndex {
    /// The pairs, owned here and read by the unwinder until it is flushed.
    let entries: UnsafeMutableBufferPointer<Int32>
    /// Where `.eh_frame` is mapped in the process: the base of the table's offsets.
    let segbase: UInt64
    /// The code the table covers.
    let code: Range<UInt64>

    /// The table of the module mapped by `entry` (opened as `fd`), or nil if it has no `.eh_frame`
    /// or one that does not parse.
    init?(fd: Int32, entry: MapsEntry) {
        elf_version(UInt32(EV_CURRENT))
        guard let elf = elf_begin(fd, ELF_C_READ_MMAP, nil) else { return nil }
        defer { elf_end(elf) }
        // With .eh_frame_hdr, libunwind has the table itself: an address it finds nothing for has none.
        guard !Self.hasEhFrameHeader(elf), let bias = Self.loadBias(elf, entry: entry),
              let (address, bytes) = Self.ehFrame(elf) else { return nil }
        let runtime = address &+ bias
        guard let functions = EhFrameParser(bytes: bytes, address: runtime).functions(), !functions.isEmpty else {
            return nil
        }
        var pairs: [Int32] = []
        pairs.reserveCapacity(functions.count * 2)
        for f in functions.sorted(by: { $0.start < $1.start }) {
            let start = Int64(bitPattern: f.start &- runtime), fde = Int64(bitPattern: f.fde &- runtime)
            guard let start = Int32(exactly: start), let fde = Int32(exactly: fde) else { return nil }
            pairs += [start, fde]
        }
        entries = .allocate(capacity: pairs.count)
        _ = entries.initialize(from: pairs)
        segbase = runtime
        code = functions.map(\.start).min()!..<functions.map(\.end).max()!
    }

    deinit { entries.deallocate() }

    private static func hasEhFrameHeader(_ elf: OpaquePointer) -> Bool {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return false }
        return (0..<Int32(clamping: count)).contains { index in
            var phdr = GElf_Phdr()
            return gelf_getphdr(elf, index, &phdr) != nil && phdr.p_type == PT_GNU_EH_FRAME
        }
    }

    /// Mapping address minus ELF address, from the PT_LOAD that `entry`'s file offset falls in.
    private static func loadBias(_ elf: OpaquePointer, entry: MapsEntry) -> UInt64? {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return nil }
        for index in 0..<Int32(clamping: count) {
            var phdr = GElf_Phdr()
            guard gelf_getphdr(elf, index, &phdr) != nil, phdr.p_type == PT_LOAD else { continue }
            let pageOffset = phdr.p_offset & ~UInt64(4095)
            guard entry.offset >= pageOffset, entry.offset < phdr.p_offset + phdr.p_filesz else { continue }
            return entry.start &- (entry.offset &- phdr.p_offset &+ phdr.p_vaddr)
        }
        return nil
    }

    /// The `.eh_frame` section's ELF address and bytes.
    private static func ehFrame(_ elf: OpaquePointer) -> (UInt64, UnsafeRawBufferPointer)? {
        var names = 0
        guard elf_getshdrstrndx(elf, &names) == 0 else { return nil }
        var section: OpaquePointer? = nil
        while let s = elf_nextscn(elf, section) {
            section = s
            var header = GElf_Shdr()
            guard gelf_getshdr(s, &header) != nil, let name = elf_strptr(elf, names, Int(header.sh_name)),
                  String(cString: name) == ".eh_frame", header.sh_type == SHT_PROGBITS,
                  let data = elf_getdata(s, nil), let buffer = data.pointee.d_buf else { continue }
            return (header.sh_addr, UnsafeRawBufferPointer(start: buffer, count: data.pointee.d_size))
        }
        return nil
    }
}
