import CElfUtils
import MapBlameModel

/// Section headers of an ELF file opened with libelf.
package enum ElfSections {
    /// The first section called `wanted`, and its header.
    package static func find(_ elf: OpaquePointer, named wanted: String) -> (section: OpaquePointer, header: GElf_Shdr)? {
        var names = 0
        guard elf_getshdrstrndx(elf, &names) == 0 else { return nil }
        var section: OpaquePointer? = nil
        while let s = elf_nextscn(elf, section) {
            section = s
            var header = GElf_Shdr()
            if gelf_getshdr(s, &header) != nil, let name = elf_strptr(elf, names, Int(header.sh_name)),
               String(cString: name) == wanted { return (s, header) }
        }
        return nil
    }
}
