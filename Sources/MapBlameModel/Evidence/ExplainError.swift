/// Why `mapblame explain` could not look at a process.
public struct ExplainError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// 1 for every runtime failure (no such process, attach refused...).
    public var exitStatus: Int32 = 1

    package init(description: String, exitStatus: Int32 = 1) {
        self.description = description
        self.exitStatus = exitStatus
    }
}
