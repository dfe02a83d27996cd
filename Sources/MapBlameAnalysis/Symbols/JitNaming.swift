import MapBlameModel

/// Frames in generated code named from the process's perf map: a frame outside every module file
/// (anonymous executable memory, where JIT runtimes put their code) whose address a perf map entry
/// covers takes the entry's name as its function, kind `jit`. Frames of modules keep their own
/// names (V8 also lists its builtins, which the node binary names already).
enum JitNaming {
    static func name(_ stack: [SymbolizedFrame], with symbols: [JitSymbol]) -> [SymbolizedFrame] {
        stack.map { frame in
            guard frame.module == nil, frame.kind == .native, frame.function == nil,
                  let symbol = PerfMap.symbol(at: frame.ip, in: symbols) else { return frame }
            var named = frame
            named.function = symbol.name
            named.kind = .jit
            named.moduleOffset = frame.ip - symbol.start
            return named
        }
    }
}
