import MapBlameModel

/// The processes around the program of interest — a pyenv shim's bash, its `$(...)` subshells, the
/// readlink and dirname they run — hold nothing but what every process gets: what exec and the
/// dynamic loader set up, memory inherited through fork, a first small heap. The text and HTML
/// reports fold them into one line ("38 short processes: bash ×34, readlink ×4 — nothing of their
/// own") instead of a section each; `--pid`/`--exe` shows any of them in full, and the JSON and
/// folded outputs keep them all.
package enum ShortProcesses {
    /// A heap no larger than this, grown by the process itself, is the first one malloc makes
    /// (glibc grows the initial brk by 132 KiB); a program that used its heap has more.
    static let startupHeap: UInt64 = 256 << 10

    /// Splits `processes` into those shown in full and those folded, keeping order. The launched
    /// program (no traced parent) is never folded, nor a process without a final snapshot (that
    /// there is none is worth its line).
    package static func split(_ processes: [ProcessReport]) -> (shown: [ProcessReport], folded: [ProcessReport]) {
        var shown: [ProcessReport] = [], folded: [ProcessReport] = []
        for p in processes {
            if p.parentPid != nil && p.hasSnapshot && !hasOwnMemory(p) { folded.append(p) } else { shown.append(p) }
        }
        return (shown, folded)
    }

    /// Whether any byte of `p`'s unnamed regions, [heap] or [stack] was made by a call of `p`
    /// itself for something else than starting up.
    package static func hasOwnMemory(_ p: ProcessReport) -> Bool {
        let callers = Dictionary(p.events.map { ($0.event.id, $0.event.pid) }, uniquingKeysWith: { a, _ in a })
        for r in p.regions where TextReporter.annotated(r) {
            for o in r.origins {
                switch o.category {
                case .bss, .loader, .vdso, .stack, .file: continue
                case .heap where r.entry.size <= startupHeap: continue
                case .unknown: return true  // bytes no call explains are worth a look
                default: break
                }
                // Made before a fork, by the parent: the parent's section shows it.
                if let id = o.event, let pid = callers[id], pid != p.pid { continue }
                if o.syscall == .execve { continue }
                return true
            }
        }
        return false
    }

    /// "38 short processes: bash ×34, readlink ×4 — nothing of their own (--pid N or --exe NAME shows one)".
    package static func line(_ folded: [ProcessReport]) -> String {
        var counts: [String: Int] = [:]
        for p in folded { counts[ReportSelection.baseName(p.executable), default: 0] += 1 }
        let names = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) ×\($0.value)" }
        let n = folded.count
        return "\(n) short process\(n == 1 ? "" : "es"): \(names.joined(separator: ", ")) — nothing of \(n == 1 ? "its" : "their") own "
            + "(--pid N or --exe NAME shows one)"
    }
}
