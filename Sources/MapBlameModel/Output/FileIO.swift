import Glibc

/// Whole reads and writes on a descriptor, retried across EINTR and short transfers: the one copy
/// of those loops.
public enum FileIO {
    /// Writes all of `bytes` to `fd`; 0, or the errno that stopped it (ENOSPC for a write of 0).
    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int32 {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n < 0 ? errno : ENOSPC }
            offset += n
        }
        return 0
    }

    /// Everything `fd` has until end of file (files in /proc report size 0, so no size is trusted);
    /// nil with errno set if a read fails.
    public static func readAll(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return data }
            data.append(contentsOf: chunk[0..<n])
        }
    }
}
