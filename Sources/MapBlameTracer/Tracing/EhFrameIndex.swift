import CElfUtils
import Glibc
import MapBlameModel

/// The binary-search table of a module's unwind information, for the modules libunwind's ptrace
/// accessors cannot unwind: they find a module's file by the path in /proc/PID/maps (also under
/// /proc/PID/root), which is not the mapped file for a chroot's program, and they need a
/// `.eh_frame_hdr`, which static non-PIE executables lack (gcc's driver passes `--eh-frame-hdr` to
/// the linker only for dynamic links): every backtrace then stopped after its first frame. The
/// file is read as the process sees it (`ModuleFile`). With `.eh_frame_hdr`, the table is the
/// process's own, in its memory (`remoteTable`); without, it is built here from `.eh_frame` in the
/// same layout: pairs of 32-bit (function start - segbase, FDE address - segbase), sorted by start,
/// addresses as mapped in the process. libunwind searches either like its own (`cshims_eh_index`).
package final class EhFrameIndex {
    /// The pairs built here (nil: the process's own table is used), read by the unwinder until it
    /// is flushed.
    package let entries: UnsafeMutableBufferPointer<Int32>?
    /// The address of the process's own `.eh_frame_hdr` table, 0 when `entries` is the table.
    package let remoteTable: UInt64
    /// Pairs in the table.
    package let count: UInt64
    /// The base of the table's offsets (`.eh_frame_hdr` or `.eh_frame` as mapped).
    package let segbase: UInt64
    /// The code the table covers.
    package let code: Range<UInt64>

    /// The table of the module mapped by `entry` (opened as `fd`), or nil if it has no unwind
    /// information that parses.
    package init?(fd: Int32, entry: MapsEntry) {
        elf_version(UInt32(EV_CURRENT))
        guard let elf = elf_begin(fd, ELF_C_READ_MMAP, nil) else { return nil }
        defer { elf_end(elf) }
        guard let bias = Self.loadBias(elf, entry: entry) else { return nil }
        if let header = Self.segment(elf, type: UInt32(PT_GNU_EH_FRAME)) {
            guard let table = Self.headerTable(fd: fd, header: header), let code = Self.loadedRange(elf) else { return nil }
            // The table as the file holds it (it is never relocated), mapped here: a binary search
            // then reads no tracee memory (Chromium's is 1.6 MB, ~18 pages per search, each page
            // a process_vm_readv again at every backtrace); the process's copy if it cannot be.
            fileTable = FileMapping(fd: fd, offset: header.p_offset + 12, length: table * 8)
            entries = fileTable.map {
                UnsafeMutableBufferPointer(start: UnsafeMutablePointer(mutating: $0.bytes.assumingMemoryBound(to: Int32.self)),
                                           count: Int(table * 2))
            }
            ehFrame = EhFrameBytes(elf, fd: fd, bias: bias)
            remoteTable = fileTable == nil ? header.p_vaddr &+ bias &+ 12 : 0
            count = table
            segbase = header.p_vaddr &+ bias
            self.code = (code.lowerBound &+ bias)..<(code.upperBound &+ bias)
            return
        }
        guard let (address, bytes) = Self.ehFrame(elf) else { return nil }
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
        let built = UnsafeMutableBufferPointer<Int32>.allocate(capacity: pairs.count)
        _ = built.initialize(from: pairs)
        entries = built
        fileTable = nil
        ehFrame = EhFrameBytes(elf, fd: fd, bias: bias)
        remoteTable = 0
        count = UInt64(pairs.count / 2)
        segbase = runtime
        code = functions.map(\.start).min()!..<functions.map(\.end).max()!
    }

    /// The file's `.eh_frame_hdr` table mapped read-only (`entries` then points into it).
    private let fileTable: FileMapping?
    /// The module's `.eh_frame` (FDEs and CIEs) as its file holds it, when it can be read so.
    let ehFrame: EhFrameBytes?

    deinit { if fileTable == nil { entries?.deallocate() } }

    private static func segment(_ elf: OpaquePointer, type: UInt32) -> GElf_Phdr? {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return nil }
        for index in 0..<Int32(clamping: count) {
            var phdr = GElf_Phdr()
            if gelf_getphdr(elf, index, &phdr) != nil && phdr.p_type == type { return phdr }
        }
        return nil
    }

    /// The FDE count of an `.eh_frame_hdr` in the layout every linker writes (version 1, eh_frame
    /// pointer pcrel|sdata4, count udata4, table datarel|sdata4: what libunwind also requires),
    /// whose table starts 12 bytes in; nil for another layout.
    private static func headerTable(fd: Int32, header: GElf_Phdr) -> UInt64? {
        var bytes = [UInt8](repeating: 0, count: 12)
        guard bytes.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 12, off_t(header.p_offset)) }) == 12,
              bytes[0] == 1, bytes[1] == 0x1b, bytes[2] == 0x03, bytes[3] == 0x3b else { return nil }
        return UInt64(bytes[8]) | UInt64(bytes[9]) << 8 | UInt64(bytes[10]) << 16 | UInt64(bytes[11]) << 24
    }

    /// From the lowest PT_LOAD address to the end of the highest, in ELF addresses.
    private static func loadedRange(_ elf: OpaquePointer) -> Range<UInt64>? {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return nil }
        var low = UInt64.max, high: UInt64 = 0
        for index in 0..<Int32(clamping: count) {
            var phdr = GElf_Phdr()
            guard gelf_getphdr(elf, index, &phdr) != nil, phdr.p_type == PT_LOAD else { continue }
            low = min(low, phdr.p_vaddr)
            high = max(high, phdr.p_vaddr + phdr.p_memsz)
        }
        return low < high ? low..<high : nil
    }

    /// Mapping address minus ELF address, from the PT_LOAD that `entry`'s file offset falls in.
    /// With lld's layout, segments share file pages (the code's p_offset is not page-aligned and its
    /// first page also holds the end of the read-only segment), so a code mapping is matched with
    /// the executable segment: libunwind's exact p_offset comparison fails there, one reason it
    /// gives up on such modules.
    private static func loadBias(_ elf: OpaquePointer, entry: MapsEntry) -> UInt64? {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return nil }
        var candidates: [GElf_Phdr] = []
        for index in 0..<Int32(clamping: count) {
            var phdr = GElf_Phdr()
            guard gelf_getphdr(elf, index, &phdr) != nil, phdr.p_type == PT_LOAD else { continue }
            let pageOffset = phdr.p_offset & ~UInt64(4095)
            if entry.offset >= pageOffset, entry.offset < phdr.p_offset + phdr.p_filesz { candidates.append(phdr) }
        }
        let executable = entry.perms.contains("x")
        guard let phdr = candidates.first(where: { ($0.p_flags & UInt32(PF_X) != 0) == executable }) ?? candidates.first
        else { return nil }
        return entry.start &- (entry.offset &- phdr.p_offset &+ phdr.p_vaddr)
    }

    /// The `.eh_frame` section's ELF address and bytes.
    private static func ehFrame(_ elf: OpaquePointer) -> (UInt64, UnsafeRawBufferPointer)? {
        guard let (section, header) = ElfSections.find(elf, named: ".eh_frame"), header.sh_type == SHT_PROGBITS,
              let data = elf_getdata(section, nil), let buffer = data.pointee.d_buf else { return nil }
        return (header.sh_addr, UnsafeRawBufferPointer(start: buffer, count: data.pointee.d_size))
    }
}
