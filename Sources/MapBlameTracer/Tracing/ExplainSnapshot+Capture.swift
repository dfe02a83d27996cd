import CShims
import Glibc
import MapBlameModel

/// Taking a snapshot: the process stopped (`ProcessFreeze`), read, and let go.
extension ExplainSnapshot {
    /// Stops the process, captures it, lets it go on exactly as it was.
    package static func take(pid: Int32) throws(ExplainError) -> ExplainSnapshot {
        try checkProcess(pid)
        let began = monotonicMicroseconds()
        var snapshot = try ProcessFreeze.whileStopped(pid: pid) { (stopped) throws(ExplainError) -> ExplainSnapshot in
            try capture(pid: pid, stopped: stopped, began: began)
        }
        snapshot.parseUsage()
        return snapshot
    }

    /// One line naming why `pid` cannot be examined: it does not exist, or it is a thread of another
    /// process.
    package static func checkProcess(_ pid: Int32) throws(ExplainError) {
        guard pid > 0 else { throw ExplainError(description: "no such process: \(pid)") }
        var exists = stat()
        guard stat("/proc/\(pid)", &exists) == 0 else { throw ExplainError(description: "no such process: \(pid)") }
        if let tgid = ProcFile.read("/proc/\(pid)/status").flatMap({ ProcFile.statusField($0, "Tgid") }), Int32(tgid) != pid {
            throw ExplainError(description: "\(pid) is a thread of process \(tgid), not a process: use \(tgid)")
        }
    }

    /// Reads everything from a process whose threads are all `stopped` (main thread first).
    /// smaps is read now, consistent with maps, and parsed at once: it tells which regions pagemap
    /// must be read for (those neither all resident nor all absent).
    package static func capture(pid: Int32, stopped: [ProcessFreeze.StoppedThread], began: UInt64) throws(ExplainError) -> ExplainSnapshot {
        let threads = stopped.compactMap { t in t.registers.map { Thread(tid: t.tid, rsp: $0.rsp, rip: $0.rip, fsBase: $0.fs_base) } }
        // Read through a live thread: a main thread that called pthread_exit is a zombie whose
        // maps are empty and whose memory cannot be read.
        let reader = stopped.first?.tid ?? pid
        let task = "/proc/\(pid)/task/\(reader)"
        guard let mapsText = ProcFile.read("\(task)/maps"),
              let maps = try? MapsEntry.parseMaps(mapsText) else {
            throw ExplainError(description: "cannot read /proc/\(pid)/maps: \(String(cString: strerror(errno)))")
        }
        let smapsText = ProcFile.read("\(task)/smaps")
        // Right after smaps and before the malloc probe reads memory: the pages smaps counted.
        let usage = smapsText.flatMap { try? SmapsUsage.parseSmaps($0) } ?? [:]
        let residency = Dictionary(PagemapReader.read(dir: task, maps: maps, usage: usage).map { ($0.start, $0) }) { a, _ in a }
        let malloc = MallocEvidence.probeAll(maps: maps, tid: reader)
        let loader = LoaderEvidence.probe(auxv: ProcFile.readBytes("/proc/\(pid)/auxv") ?? [], threads: threads,
                                          mainPid: pid, read: MallocEvidence.memoryReader(tid: reader))
        let executable = ProcFile.readLink("/proc/\(pid)/exe") ?? ProcFile.readLink("\(task)/exe")
        return ExplainSnapshot(pid: pid, executable: executable, threads: threads, maps: maps, mapsText: mapsText,
                               smapsText: nil, usage: usage, malloc: malloc, loader: loader,
                               stoppedMicroseconds: monotonicMicroseconds() - began,
                               residency: residency)
    }
}
