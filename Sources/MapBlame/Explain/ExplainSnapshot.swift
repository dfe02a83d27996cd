import CShims
import Glibc

/// Everything `explain` looks at, taken while every thread of the process is stopped: the threads'
/// stack and instruction pointers, /proc/PID/maps and smaps, and the malloc evidence at the start
/// of each anonymous read-write region. Classification happens afterwards, with the process
/// running again.
struct ExplainSnapshot: Sendable {
    struct Thread: Sendable, Equatable {
        var tid: Int32
        var rsp: UInt64
        var rip: UInt64
        /// The thread pointer (glibc's TCB; 0 if never set).
        var fsBase: UInt64 = 0
    }

    var pid: Int32
    var executable: String?
    /// Main thread first.
    var threads: [Thread]
    var maps: [MapsEntry]
    /// /proc/PID/maps as read (an attach trace seeds its model from it).
    var mapsText: String
    /// /proc/PID/smaps as read, until `parseUsage`.
    var smapsText: String?
    var usage: [UInt64: SmapsUsage]
    /// Keyed by region start; only for private anonymous read-write regions.
    var malloc: [UInt64: MallocEvidence]
    /// Where the dynamic loader's own data lies (link maps, TLS blocks).
    var loader = LoaderEvidence()
    /// How long the threads were stopped, in microseconds.
    var stoppedMicroseconds: UInt64
    /// Which pages of each private anonymous region were resident or swapped (pagemap), by start.
    var residency: [UInt64: PageResidency] = [:]

    /// Stops the process, captures it, lets it go on exactly as it was.
    static func take(pid: Int32) throws(ExplainError) -> ExplainSnapshot {
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
    static func checkProcess(_ pid: Int32) throws(ExplainError) {
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
    static func capture(pid: Int32, stopped: [ProcessFreeze.StoppedThread], began: UInt64) throws(ExplainError) -> ExplainSnapshot {
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

    mutating func parseUsage() {
        guard let text = smapsText else { return }  // parsed while stopped (for pagemap)
        usage = (try? SmapsUsage.parseSmaps(text)) ?? [:]
        smapsText = nil
    }

    static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
