import CShims

/// Reads of a stopped tracee's memory (process_vm_readv), nil when the bytes are not readable.
package struct RemoteMemory {
    package let pid: Int32

    package init(pid: Int32) { self.pid = pid }

    package func bytes(_ address: UInt64, _ count: Int) -> [UInt8]? {
        guard count > 0, address != 0 else { return count == 0 ? [] : nil }
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { cshims_read_memory(pid, address, $0.baseAddress!, UInt64(count)) }
        return n == count ? buffer : nil
    }

    package func word(_ address: UInt64) -> UInt64? {
        var value: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &value) { cshims_read_memory(pid, address, $0.baseAddress!, 8) }
        return n == 8 ? value : nil
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
