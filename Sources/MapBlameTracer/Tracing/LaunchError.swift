import Glibc
import MapBlameModel

/// Why a program could not be started under trace. Each case has the exit status a shell would use.
public enum LaunchError: Error, CustomStringConvertible, Equatable {
    case emptyCommand
    case notFound(String)
    case notExecutable(String, reason: String)
    case execFailed(String, errno: Int32)
    case traceRefused(String, errno: Int32)
    case seccompRefused(String, errno: Int32)
    case systemCall(String, errno: Int32)

    public var description: String {
        switch self {
        case .emptyCommand:
            return "no program given: usage is mapblame run [options] -- PROGRAM [ARGS...]"
        case .notFound(let p):
            return "\(p): command not found"
        case .notExecutable(let p, let reason):
            return "\(p): cannot execute: \(reason)"
        case .execFailed(let p, let e):
            return "\(p): cannot execute: \(errnoText(e))"
        case .traceRefused(let p, let e):
            return "\(p): cannot be traced: ptrace(PTRACE_SEIZE) failed: \(errnoText(e)); "
                + "is mapblame itself being traced (strace, gdb)? otherwise check kernel.yama.ptrace_scope, "
                + "the container's seccomp policy, or run with CAP_SYS_PTRACE"
        case .seccompRefused(let p, let e):
            return "\(p): cannot install the seccomp filter: \(errnoText(e))"
        case .systemCall(let what, let e):
            return "\(what) failed: \(errnoText(e))"
        }
    }

    /// 127 for a program that does not exist, 126 for one that cannot be executed, 1 otherwise.
    public var exitStatus: Int32 {
        switch self {
        case .notFound: return 127
        case .execFailed(_, let e) where e == ENOENT: return 127
        case .notExecutable, .execFailed: return 126
        case .emptyCommand: return 2
        default: return 1
        }
    }
}

package func errnoText(_ e: Int32) -> String {
    String(cString: strerror(e))
}
