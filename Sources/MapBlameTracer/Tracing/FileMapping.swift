import MapBlameModel
import Glibc

/// `length` bytes of a file from `offset`, mapped read-only and private: shared with the page
/// cache, and only the pages read become resident. Unmapped when released. For the unwinder's
/// reads of a module's unwind tables (`EhFrameIndex`), which are the same bytes in the file as in
/// the process, without a process_vm_readv per page and backtrace.
package final class FileMapping {
    package let bytes: UnsafeRawPointer
    package let length: Int
    private let base: UnsafeMutableRawPointer
    private let mapped: Int

    package init?(fd: Int32, offset: UInt64, length: UInt64) {
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset & ~(page - 1)
        var st = stat()
        guard length > 0, length < UInt64(Int32.max), fstat(fd, &st) == 0,
              UInt64(st.st_size) >= offset, UInt64(st.st_size) - offset >= length else { return nil }
        let mapped = Int(offset - start + length)
        guard let base = mmap(nil, mapped, PROT_READ, MAP_PRIVATE, fd, off_t(start)), base != MAP_FAILED else { return nil }
        self.base = base
        self.mapped = mapped
        self.length = Int(length)
        bytes = UnsafeRawPointer(base + Int(offset - start))
    }

    deinit { munmap(base, mapped) }
}
