import CShims
import Glibc

/// Everything `explain` looks at, taken while every thread of the process is stopped: the threads'
/// stack and instruction pointers, /proc/PID/maps and smaps, and the malloc evidence at the start
/// of each anonymous read-write region. Classification happens afterwards, with the process
/// running again.
public struct ExplainSnapshot: Sendable {
    package struct Thread: Sendable, Equatable {
        package var tid: Int32
        package var rsp: UInt64
        package var rip: UInt64
        /// The thread pointer (glibc's TCB; 0 if never set).
        package var fsBase: UInt64 = 0

        package init(tid: Int32, rsp: UInt64, rip: UInt64, fsBase: UInt64 = 0) {
            self.tid = tid
            self.rsp = rsp
            self.rip = rip
            self.fsBase = fsBase
        }
    }

    package var pid: Int32
    package var executable: String?
    /// Main thread first.
    package var threads: [Thread]
    package var maps: [MapsEntry]
    /// /proc/PID/maps as read (an attach trace seeds its model from it).
    package var mapsText: String
    /// /proc/PID/smaps as read, until `parseUsage`.
    package var smapsText: String?
    package var usage: [UInt64: SmapsUsage]
    /// Keyed by region start; only for private anonymous read-write regions.
    package var malloc: [UInt64: MallocEvidence]
    /// Where the dynamic loader's own data lies (link maps, TLS blocks).
    package var loader = LoaderEvidence()
    /// How long the threads were stopped, in microseconds.
    package var stoppedMicroseconds: UInt64
    /// Which pages of each private anonymous region were resident or swapped (pagemap), by start.
    package var residency: [UInt64: PageResidency] = [:]

    package init(pid: Int32, executable: String? = nil, threads: [Thread], maps: [MapsEntry], mapsText: String, smapsText: String? = nil, usage: [UInt64: SmapsUsage], malloc: [UInt64: MallocEvidence], loader: LoaderEvidence = LoaderEvidence(), stoppedMicroseconds: UInt64, residency: [UInt64: PageResidency] = [:]) {
        self.pid = pid
        self.executable = executable
        self.threads = threads
        self.maps = maps
        self.mapsText = mapsText
        self.smapsText = smapsText
        self.usage = usage
        self.malloc = malloc
        self.loader = loader
        self.stoppedMicroseconds = stoppedMicroseconds
        self.residency = residency
    }

    package mutating func parseUsage() {
        guard let text = smapsText else { return }  // already parsed while stopped (for pagemap)
        usage = (try? SmapsUsage.parseSmaps(text)) ?? [:]
        smapsText = nil
    }

    package static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
