import CShims

/// Reads of a stopped tracee's memory (process_vm_readv), nil when the bytes are not readable,
/// through a cache of whole pages that lives as long as the value (one stop: the tracee runs
/// between stops). CPython's frames of one thread sit together in its data stack and a stack's
/// code objects on a few pages: a walk of 50 frames read 110 times without the cache, 10 with it.
package final class RemoteMemory {
    package let pid: Int32
    private var pages: [UInt64: [UInt8]?] = [:]
    private static let pageSize: UInt64 = 4096

    package init(pid: Int32) { self.pid = pid }

    package func bytes(_ address: UInt64, _ count: Int) -> [UInt8]? {
        guard count > 0 else { return count == 0 ? [] : nil }
        guard address != 0, address <= UInt64.max - UInt64(count) else { return nil }
        if count > 16 * Int(Self.pageSize) { return direct(address, count) }  // large tables: one read
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var at = address, remaining = count
        while remaining > 0 {
            let base = at & ~(Self.pageSize - 1)
            guard let page = page(base) else { return nil }
            let offset = Int(at - base), n = min(remaining, Int(Self.pageSize) - offset)
            out += page[offset..<(offset + n)]
            at += UInt64(n)
            remaining -= n
        }
        return out
    }

    package func word(_ address: UInt64) -> UInt64? {
        bytes(address, 8).map { $0.word(at: 0) }
    }

    private func page(_ base: UInt64) -> [UInt8]? {
        if let known = pages[base] { return known }
        let read = direct(base, Int(Self.pageSize))
        pages[base] = .some(read)
        return read
    }

    private func direct(_ address: UInt64, _ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { cshims_read_memory(pid, address, $0.baseAddress!, UInt64(count)) }
        return n == count ? buffer : nil
    }
}

extension Array where Element == UInt8 {
    /// The little-endian word at `offset`, 0 past the end.
    package func word(at offset: UInt64) -> UInt64 {
        let i = Int(offset)
        guard i >= 0, i + 8 <= count else { return 0 }
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(self[i + k]) << (8 * k) }
        return value
    }
}
