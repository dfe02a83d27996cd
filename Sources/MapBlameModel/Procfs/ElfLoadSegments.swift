import Glibc

/// The PT_LOAD program headers of an ELF64 little-endian file: a tiny reader (ELF header and
/// program header table only), enough to know where each segment's file part and memory part end.
package struct ElfLoadSegments: Sendable {
    package struct Segment: Sendable, Equatable {
        package var offset: UInt64
        package var vaddr: UInt64
        package var filesz: UInt64
        package var memsz: UInt64

        package init(offset: UInt64, vaddr: UInt64, filesz: UInt64, memsz: UInt64) {
            self.offset = offset
            self.vaddr = vaddr
            self.filesz = filesz
            self.memsz = memsz
        }
    }

    package var segments: [Segment]

    /// Reads the program headers of the file at `path`; nil if it is not a readable ELF64 file.
    package init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func readAt(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: count)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return n == count ? buffer : nil
        }
        guard let header = readAt(0, 64), header[0] == 0x7f, header[1] == 0x45, header[2] == 0x4c, header[3] == 0x46,
              header[4] == 2 /* ELFCLASS64 */, header[5] == 1 /* little-endian */ else { return nil }
        let phoff = header.explainLE64(at: 32)
        let phentsize = Int(header.explainLE16(at: 54)), phnum = Int(header.explainLE16(at: 56))
        guard phentsize >= 56, phnum > 0, phnum < 4096, let table = readAt(phoff, phentsize * phnum) else { return nil }
        var result: [Segment] = []
        for i in 0..<phnum {
            let base = i * phentsize
            guard table.explainLE32(at: base) == 1 /* PT_LOAD */ else { continue }
            result.append(Segment(offset: table.explainLE64(at: base + 8), vaddr: table.explainLE64(at: base + 16),
                                  filesz: table.explainLE64(at: base + 32), memsz: table.explainLE64(at: base + 40)))
        }
        guard !result.isEmpty else { return nil }
        segments = result
    }

    package init(segments: [Segment]) { self.segments = segments }

    /// The load bias of a module, from one of its file mappings (`start`, file `offset`): the
    /// segment whose file part begins on that page tells where vaddr 0 went.
    package func loadBias(mappingStart start: UInt64, fileOffset offset: UInt64) -> UInt64? {
        let page = MemoryFlags.pageSize
        guard let s = segments.first(where: { $0.offset & ~(page - 1) == offset }) else { return nil }
        return start &- (s.vaddr & ~(page - 1))
    }
}

extension Array where Element == UInt8 {
    package func explainLE16(at i: Int) -> UInt64 { UInt64(self[i]) | UInt64(self[i + 1]) << 8 }
    package func explainLE32(at i: Int) -> UInt64 { explainLE16(at: i) | explainLE16(at: i + 2) << 16 }
    package func explainLE64(at i: Int) -> UInt64 { explainLE32(at: i) | explainLE32(at: i + 4) << 32 }
}
