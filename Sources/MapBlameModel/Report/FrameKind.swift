/// What kind of code a frame of a report's stack is.
public enum FrameKind: String, Sendable, Hashable, Codable {
    /// Machine code of a module (or of memory the recording could not name).
    case native
    /// A CPython interpreter frame: the function, file and line of its code object, read from the
    /// interpreter's frame chain at the call and spliced in at the evaluation loop that ran it.
    case python
    /// Generated code, named by the process's perf map (`JitSymbol`).
    case jit
}
