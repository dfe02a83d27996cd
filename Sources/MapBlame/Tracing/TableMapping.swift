import Glibc

/// `count` pairs of 32-bit words of a file at `offset`, mapped read-only and private: shared with
/// the page cache, and only the pages a search touches become resident. Unmapped when released.
final class TableMapping {
    let entries: UnsafeMutableBufferPointer<Int32>
    private let base: UnsafeMutableRawPointer
    private let length: Int

    init?(fd: Int32, offset: UInt64, count: UInt64) {
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset & ~(page - 1), skip = Int(offset - start)
        guard count > 0, count < UInt64(Int32.max), let length = Int(exactly: UInt64(skip) + count * 8) else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, UInt64(st.st_size) >= offset + count * 8 else { return nil }
        guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(start)), base != MAP_FAILED else { return nil }
        self.base = base
        self.length = length
        entries = UnsafeMutableBufferPointer(start: (base + skip).assumingMemoryBound(to: Int32.self), count: Int(count * 2))
    }

    deinit { munmap(base, length) }
}
