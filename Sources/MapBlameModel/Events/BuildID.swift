import CElfUtils
import Glibc

/// The GNU build-id note of an ELF file, as lowercase hex.
public enum BuildID {
    public static func read(path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        elf_version(UInt32(EV_CURRENT))
        guard let elf = elf_begin(fd, ELF_C_READ_MMAP, nil) else { return nil }
        defer { elf_end(elf) }
        var bits: UnsafeRawPointer?
        let n = dwelf_elf_gnu_build_id(elf, &bits)
        guard n > 0, let bits else { return nil }
        let bytes = UnsafeRawBufferPointer(start: bits, count: Int(n))
        return bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
