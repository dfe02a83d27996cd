import Glibc
import MapBlameModel

/// Which allocator a frame belongs to: the built-in `Allocator.table`, then the user's
/// `--allocator-frames REGEX` patterns (POSIX extended regular expressions matched against the
/// function name; a matching function is an allocator of its own, named after itself). One
/// answer per function name and module, kept for the report's lifetime.
public final class AllocatorFrames {
    private let patterns: [Pattern]
    private var cache: [FrameKey: Allocator?] = [:]

    public struct PatternError: Error, CustomStringConvertible {
        public var pattern: String
        public var reason: String
        public var description: String { "--allocator-frames \(pattern): \(reason)" }
    }

    /// `patterns`: the user's regular expressions; an invalid one throws, naming it.
    public init(patterns: [String] = []) throws(PatternError) {
        var compiled: [Pattern] = []
        for p in patterns { compiled.append(try Pattern(p)) }
        self.patterns = compiled
    }

    public func allocator(of frame: SymbolizedFrame) -> Allocator? {
        let key = FrameKey(function: frame.function, module: frame.module)
        if let known = cache[key] { return known }
        let found = Self.tableEntry(of: frame) ?? frame.function.flatMap { f in
            patterns.contains { $0.matches(f) } ? Allocator(name: f) : nil
        }
        cache[key] = .some(found)
        return found
    }

    package static func tableEntry(of frame: SymbolizedFrame) -> Allocator? {
        let base = frame.module.map { String($0.split(separator: "/").last ?? "") }
        for a in Allocator.table {
            if let base, a.modules.contains(where: { base.hasPrefix($0) }) { return a }
            guard let f = frame.function else { continue }
            let name = a.kind == .glibcMalloc ? Classifier.glibcBaseName(f) : f
            if a.functions.contains(name) || a.prefixes.contains(where: { name.hasPrefix($0) })
                || (name.hasPrefix("<") && a.traitPaths.contains { name.contains(" as " + $0) }) { return a }
        }
        return nil
    }

    /// What `allocator` made, told by its frames in `stack`.
    public func product(of allocator: Allocator, stack: [SymbolizedFrame]) -> String {
        let names = stack.filter { self.allocator(of: $0) == allocator }.compactMap(\.function)
        return allocator.products.first { rule in names.contains { $0.hasPrefix(rule.prefix) } }?.product ?? allocator.product
    }

    private struct FrameKey: Hashable {
        package var function: String?
        package var module: String?
    }

    /// A compiled POSIX extended regular expression.
    private final class Pattern {
        private var regex = regex_t()

        package init(_ pattern: String) throws(PatternError) {
            guard !pattern.isEmpty else { throw PatternError(pattern: "''", reason: "an empty pattern would match every frame") }
            let rc = regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB)
            guard rc == 0 else {
                var buffer = [UInt8](repeating: 0, count: 256)
                let length = buffer.withUnsafeMutableBufferPointer { b in
                    b.withMemoryRebound(to: CChar.self) { regerror(rc, &regex, $0.baseAddress, $0.count) }
                }
                let text = buffer.prefix(max(0, min(length, buffer.count) - 1))
                throw PatternError(pattern: pattern, reason: String(decoding: text, as: UTF8.self))
            }
        }

        deinit { regfree(&regex) }

        package func matches(_ name: String) -> Bool { regexec(&regex, name, 0, nil, 0) == 0 }
    }
}
