/// A Python function running in a CPython interpreter when a mapping call was made: its qualified
/// name, file and current line, read from the interpreter's frame chain at the stop. In a stack
/// (`Frame.python`) Python frames come right before the native frame of the evaluation loop that
/// runs them, so a stack reads from the mapping call out through the interpreter's C code to the
/// Python lines that led there.
public struct PythonFrame: Sendable, Hashable {
    /// `co_qualname`: "build_cache", "Cache.load", "main.<locals>.worker".
    public var function: String
    /// `co_filename` as the interpreter has it.
    public var file: String
    /// The line of the instruction running (0: the interpreter records none for it).
    public var line: Int

    public init(function: String, file: String, line: Int) {
        self.function = function
        self.file = file
        self.line = line
    }
}
