import MapBlameModel

/// `--pid N` and `--exe NAME`: the processes a report is about. A wrapper (a pyenv shim, a shell
/// script) starts dozens of processes around the one of interest; selecting it keeps every output
/// to it. With no selection every process stays, the launched program first.
public struct ReportSelection: Sendable {
    public var pids: [Int32]
    /// An executable's base name (`python3.11`) or its whole path.
    public var executables: [String]

    public init(pids: [Int32] = [], executables: [String] = []) {
        self.pids = pids
        self.executables = executables
    }

    public var isEmpty: Bool { pids.isEmpty && executables.isEmpty }

    /// Why a selection cannot be applied: one of its values matches no process of the report.
    public struct Mismatch: Error, CustomStringConvertible {
        public var description: String
    }

    /// `report` with only the selected processes (all of them when nothing is selected), the
    /// launched program (the process with no traced parent) first. Throws when a --pid or --exe
    /// value matches none, naming the processes there are.
    public func apply(to report: Report) throws(Mismatch) -> Report {
        var result = report
        result.processes = Self.launchedFirst(report.processes)
        guard !isEmpty else { return result }
        for pid in pids where !report.processes.contains(where: { $0.pid == pid }) {
            throw Mismatch(description: "--pid \(pid) matches no process of this report (\(Self.list(result.processes)))")
        }
        for name in executables where !report.processes.contains(where: { Self.matches($0, name) }) {
            throw Mismatch(description: "--exe \(name) matches no process of this report (\(Self.list(result.processes)))")
        }
        result.processes = result.processes.filter { p in
            pids.contains(p.pid) || executables.contains { Self.matches(p, $0) }
        }
        return result
    }

    /// Whether `p`'s executable is `name`: its base name, or its whole path.
    package static func matches(_ p: ProcessReport, _ name: String) -> Bool {
        guard let exe = p.executable else { return false }
        return exe == name || exe.split(separator: "/").last.map(String.init) == name
    }

    /// Processes with no traced parent (the launched program, the attached process) first; the
    /// order among the others is kept.
    package static func launchedFirst(_ processes: [ProcessReport]) -> [ProcessReport] {
        processes.filter { $0.parentPid == nil } + processes.filter { $0.parentPid != nil }
    }

    /// "3 processes: 100 bash, 101 readlink, 102 python3", at most 8 named.
    package static func list(_ processes: [ProcessReport]) -> String {
        let named = processes.prefix(8).map { "\($0.pid) \(baseName($0.executable))" }
        let more = processes.count > 8 ? ", …" : ""
        return "\(processes.count) process\(processes.count == 1 ? "" : "es"): " + named.joined(separator: ", ") + more
    }

    package static func baseName(_ path: String?) -> String {
        path?.split(separator: "/").last.map(String.init) ?? "?"
    }
}
