import MapBlameModel

extension Tracer {
    /// The perf map of a process that is leaving (or being detached from), read through `dir` (the
    /// /proc directory of one of its threads, stopped), into the trace: runtimes may delete theirs
    /// at exit, and `report` has no process to ask. The file is `/tmp/perf-PID.map` in the
    /// process's own view: its /tmp (under /proc/PID/root, another mount namespace's) and its pid
    /// there (the last NSpid of its status).
    package func appendPerfMap(pid: Int32, from dir: String) {
        let status = ProcFile.read("\(dir)/status")
        let ownPid = status.flatMap { ProcFile.statusField($0, "NSpid") }?
            .split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int32($0) } ?? pid
        guard let text = ProcFile.read("\(dir)/root/tmp/perf-\(ownPid).map") else { return }
        let symbols = PerfMap.parse(text)
        guard !symbols.isEmpty else { return }
        writer.append(.perfMap(pid: pid, symbols: symbols))
    }
}
