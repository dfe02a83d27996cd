import MapBlameAnalysis
import MapBlameTracer

/// Where the analysis layer's prefetcher meets the tracer's observers (neither layer knows the other).
extension SymbolPrefetcher {
    /// `options` with this prefetcher told each new stack and each file mapped as code (after any
    /// observer they already had), and the recorder holding code files for the symbolizer.
    public func observing(_ options: TraceOptions) -> TraceOptions {
        var observed = options
        observed.moduleHandles = symbolizer.handles
        let stacks = options.newStacks, code = options.codeMapped
        observed.newStacks = { frames in
            stacks?(frames)
            self.enqueue(frames)
        }
        observed.codeMapped = { path in
            code?(path)
            self.codeMapped(path)
        }
        return observed
    }
}
