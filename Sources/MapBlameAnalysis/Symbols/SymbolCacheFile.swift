import MapBlameModel
import Glibc

/// The text of one module's symbol cache file, and its reading, writing and trimming.
///
///     mapblame-symbols 1
///     V <path>\t<size mtime inode, or ->         one line per file the symbols came from
///     E <offset hex> <return 0|1> <inlined 0|1> <frames>
///     F <function>\t<file>\t<line>\t<elfAddress hex>\t<inlined 0|1>   `frames` lines after each E
///     end <entries>
///
/// Strings are written `=` + the text with `%`, tab and newline percent-escaped, or empty for nil.
/// A file that does not parse to its `end` line (cut short, another version) is ignored.
package enum SymbolCacheFile {
    package static let header = "mapblame-symbols 1"

    package struct Parsed {
        package var validators: [SymbolCacheValidator] = []
        package var entries: [SymbolCacheKey: [SourceSymbol]] = [:]

        /// Every file the symbols came from is as it was.
        package func valid() -> Bool { !validators.isEmpty && validators.allSatisfy(\.holds) }
    }

    package static func render(_ entries: [SymbolCacheKey: [SourceSymbol]], validators: [SymbolCacheValidator]) -> String {
        var out = header + "\n"
        for v in validators { out += "V " + escape(v.path) + "\t" + v.state + "\n" }
        for (key, frames) in entries {
            out += "E \(String(key.fileOffset, radix: 16)) \(key.isReturnAddress ? 1 : 0) \(key.inlined ? 1 : 0) \(frames.count)\n"
            for f in frames {
                out += "F " + escape(f.function) + "\t" + escape(f.file) + "\t" + (f.line.map(String.init) ?? "")
                    + "\t" + String(f.elfAddress, radix: 16) + "\t" + (f.inlined ? "1" : "0") + "\n"
            }
        }
        return out + "end \(entries.count)\n"
    }

    package static func parse(_ text: String) -> Parsed? {
        if let plain = SymbolCacheBytes.parse(text) { return plain }  // the common form, by bytes
        return parseByCharacters(text)
    }

    /// `parse` for any text: line by line, by Character.
    package static func parseByCharacters(_ text: String) -> Parsed? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(header) else { return nil }
        var parsed = Parsed()
        while let line = lines.popFirst() {
            if line.hasPrefix("V ") {
                let parts = line.dropFirst(2).split(separator: "\t", omittingEmptySubsequences: false)
                guard parts.count == 2, let path = unescape(parts[0]) else { return nil }
                parsed.validators.append(SymbolCacheValidator(path: path, state: String(parts[1])))
            } else if line.hasPrefix("E ") {
                let parts = line.dropFirst(2).split(separator: " ")
                guard parts.count == 4, let offset = UInt64(parts[0], radix: 16), let count = Int(parts[3]),
                      count > 0, count <= lines.count else { return nil }
                var frames: [SourceSymbol] = []
                for _ in 0..<count {
                    guard let frame = lines.popFirst().flatMap(Self.frame) else { return nil }
                    frames.append(frame)
                }
                parsed.entries[SymbolCacheKey(fileOffset: offset, isReturnAddress: parts[1] == "1", inlined: parts[2] == "1")] = frames
            } else if line.hasPrefix("end ") {
                return Int(line.dropFirst(4)) == parsed.entries.count ? parsed : nil
            } else {
                return nil
            }
        }
        return nil  // no end line: cut short
    }

    private static func frame(_ line: Substring) -> SourceSymbol? {
        guard line.hasPrefix("F ") else { return nil }
        let parts = line.dropFirst(2).split(separator: "\t", omittingEmptySubsequences: false)
        guard parts.count == 5, let address = UInt64(parts[3], radix: 16) else { return nil }
        let line = parts[2].isEmpty ? nil : Int(parts[2])
        guard parts[2].isEmpty || line != nil else { return nil }
        return SourceSymbol(function: unescape(parts[0]), file: unescape(parts[1]), line: line, elfAddress: address,
                            inlined: parts[4] == "1")
    }

    package static func escape(_ text: String?) -> String {
        guard let text else { return "" }
        var out = "="
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\t": out += "%09"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    package static func unescape(_ field: Substring) -> String? {
        guard field.first == "=" else { return nil }
        let body = field.dropFirst()
        guard body.contains("%") else { return String(body) }
        return String(body).replacingPercentEscapes()
    }

    package static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to a new temporary file next to `path` and renames it over `path`.
    package static func write(_ text: String, to path: String) -> Bool {
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<8 where fd < 0 {
            temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { return false }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            written += n
        }
        let ok = close(fd) == 0 && written == bytes.count && rename(temporary, path) == 0
        if !ok { unlink(temporary) }
        return ok
    }

    /// `mkdir -p`, private to the user (0700 for the directories it creates).
    package static func makeDirectories(_ path: String) -> Bool {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { return false }
        }
        return true
    }

    /// Removes the least recently written files until the directory holds at most `limit` bytes.
    package static func trim(_ directory: String, to limit: Int) {
        guard let dir = opendir(directory) else { return }
        var files: [(path: String, size: Int, mtime: Int)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard name != ".", name != ".." else { continue }
            var st = stat()
            let path = directory + "/" + name
            if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
                files.append((path, Int(st.st_size), Int(st.st_mtim.tv_sec)))
            }
        }
        closedir(dir)
        var total = files.reduce(0) { $0 + $1.size }
        for file in files.sorted(by: { $0.mtime < $1.mtime }) where total > limit {
            if unlink(file.path) == 0 { total -= file.size }
        }
    }
}

private extension String {
    /// `%XX` sequences replaced by their byte (the three `escape` writes; others kept as they are).
    func replacingPercentEscapes() -> String {
        var out = ""
        var scalars = unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            if scalar == "%", scalars.count >= 2 {
                let code = String(String.UnicodeScalarView(scalars.prefix(2)))
                if let value = UInt8(code, radix: 16), [0x25, 0x09, 0x0A].contains(value) {
                    out.unicodeScalars.append(Unicode.Scalar(value))
                    scalars = scalars.dropFirst(2)
                    continue
                }
            }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
