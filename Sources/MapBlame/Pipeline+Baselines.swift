import Glibc
import MapBlameAnalysis
import MapBlameModel

/// Why a file could not be measured or read as a baseline: one line naming the file.
public struct BaselineSourceError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension Pipeline {
    /// The baseline of a trace, a JSON report or a baseline file, told apart by their first bytes.
    public static func baseline(measuring path: String, symbolizer: Symbolizer, allocators: AllocatorFrames? = nil)
        throws(BaselineSourceError) -> Baseline {
        if isTrace(path) {
            do { return try baseline(trace: path, symbolizer: symbolizer, allocators: allocators) } catch {
                throw BaselineSourceError(description: error.description)
            }
        }
        let root: JSONValue
        do { root = try BaselineJSONParser.parse(try readText(path)) } catch let error as BaselineSourceError {
            throw error
        } catch {
            throw BaselineSourceError(description: "\(path): neither a trace nor JSON (\(error))")
        }
        if BaselineFile.isBaseline(root) { return try readBaseline(path, root: root) }
        do {
            return Baseline(report: try ReportJSONReader.read(root))
        } catch {
            throw BaselineSourceError(description: "\(path): \(error.description)")
        }
    }

    /// A baseline file (docs/baseline.md).
    public static func readBaseline(_ path: String, root: JSONValue? = nil) throws(BaselineSourceError) -> Baseline {
        do {
            let value = try root ?? BaselineJSONParser.parse(readText(path))
            return try BaselineFile.parse(value)
        } catch let error as BaselineSourceError {
            throw error
        } catch let error as BaselineJSONParser.ParseError {
            throw BaselineSourceError(description: "\(path): not valid JSON: \(error.description)")
        } catch {
            throw BaselineSourceError(description: "\(path): \(error)")
        }
    }

    /// Whether `path` starts with the trace magic.
    static func isTrace(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 8)
        let n = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 8) }
        return n == 8 && magic == Array("MBTRACE\n".utf8)
    }

    static func readText(_ path: String) throws(BaselineSourceError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BaselineSourceError(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let data = FileIO.readAll(fd) else {
            throw BaselineSourceError(description: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
