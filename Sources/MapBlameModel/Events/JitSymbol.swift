/// A function of generated code, as a JIT runtime names it in its perf map (`/tmp/perf-PID.map`,
/// one `START SIZE NAME` line per function, hexadecimal): node `--perf-basic-prof`, the JVM with
/// a perf-map agent, LuaJIT, .NET `DOTNET_PerfMapEnabled=1`, Python 3.12 `-X perf`.
public struct JitSymbol: Sendable, Equatable {
    public var start: UInt64
    public var size: UInt64
    public var name: String

    public init(start: UInt64, size: UInt64, name: String) {
        self.start = start
        self.size = size
        self.name = name
    }
}

/// The perf map format: parsing, and naming an address.
public enum PerfMap {
    /// The entries of a perf map's text, in file order. Lines that do not parse (a runtime killed
    /// while writing its last line) are skipped: the others still name their code.
    public static func parse(_ text: String) -> [JitSymbol] {
        var symbols: [JitSymbol] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let start = UInt64(fields[0], radix: 16), let size = UInt64(fields[1], radix: 16),
                  size > 0, !fields[2].isEmpty else { continue }
            symbols.append(JitSymbol(start: start, size: size, name: String(fields[2])))
        }
        return symbols
    }

    /// The entry naming `ip`. Code is freed and other code generated at the same address during a
    /// run, so a perf map may have several entries for an address: the last one written is the
    /// code that was there last, the most likely at the time of a late call (perf does the same).
    public static func symbol(at ip: UInt64, in symbols: [JitSymbol]) -> JitSymbol? {
        symbols.last { ip >= $0.start && ip - $0.start < $0.size }
    }
}
