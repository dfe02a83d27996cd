import CShims
import Glibc

/// gzip of a buffer in memory (zlib through CShims): binary outputs that readers expect compressed
/// (the pprof profile).
package enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String { "cannot compress the output (zlib failed)" }
    }

    package static func compress(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { cshims_gzip($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count, &output, &length) }
        defer { free(output) }
        guard status == 0, let output else { throw Failure() }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }
}
