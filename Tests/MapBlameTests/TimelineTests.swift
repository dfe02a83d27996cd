import Foundation
import Glibc
import Testing
@testable import MapBlame

/// The time axis and the peaks (issue 22, parts 2 and 3): real programs under real ptrace.
@Suite("time axis and peaks")
struct TimelineTests {
    static func monotonicNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func int(_ v: Any?) -> UInt64? { (v as? Int).map { UInt64($0) } }

    /// Every event's time is at or after the previous event's of its thread (the tracer stamps a
    /// call at the stop that completes it, and a thread makes one call at a time), every time lies
    /// inside the run as the test saw it from outside, and each process starts before its first
    /// event and exits after its last.
    @Test func timesAreMonotonicPerThreadAndWithinTheRun() throws {
        let before = Self.monotonicNow()
        let run = try TracedRun([Build.fixture, "threads", "4", "150"], options: ["--all-events"])
        let wall = Self.monotonicNow() - before
        #expect(run.finished.status == 0)
        let processes = run.report.processes
        #expect(!processes.isEmpty)
        var checked = 0
        for p in processes {
            let start = try #require(Self.int(p["start_time_ns"]))
            let exit = try #require(Self.int(p["exit_time_ns"]))
            #expect(start <= exit && exit <= wall)
            let events = try #require(p["events"] as? [[String: Any]])
            var lastByThread: [Int: UInt64] = [:]
            for e in events.sorted(by: { ($0["id"] as! Int) < ($1["id"] as! Int) }) {
                let t = try #require(Self.int(e["time_ns"]), "event \(e["id"] ?? "?") has no time")
                let tid = e["tid"] as! Int
                #expect(t >= lastByThread[tid] ?? 0, "thread \(tid) went back in time at event \(e["id"] ?? "?")")
                #expect(t >= start && t <= exit, "event \(e["id"] ?? "?") at \(t) outside [\(start), \(exit)]")
                lastByThread[tid] = t
                checked += 1
            }
            if p["parent_pid"] is NSNull { #expect(lastByThread.count > 1, "expected calls of several threads") }
            // The series is in recording order too.
            let series = try #require(p["timeline"] as? [[String: Any]])
            let times = series.compactMap { Self.int($0["time_ns"]) }
            #expect(times.count == series.count && times == times.sorted())
        }
        #expect(checked > 600)
    }

    /// The issue's example: 100 MiB, then 10 MiB more, then the 100 MiB freed. The peak is 110 MiB
    /// above what the program had mapped before, at the second call, and held by both calls'
    /// sites; 10 MiB stay. The VMA peak is the last mprotect of a striped mapping.
    @Test func thePeakOfAnonymousBytesAndOfVMAs() throws {
        let run = try TracedRun.fixture("peak", options: ["--all-events"])
        #expect(run.finished.status == 0)
        let p = run.root
        let events = try #require(p["events"] as? [[String: Any]])
        func created(_ name: String) throws -> Int {
            let address = run.address(name)
            let e = try #require(events.first { $0["syscall"] as? String == "mmap" && hex($0["result"]) == address })
            return e["id"] as! Int
        }
        let big = try created("big"), small = try created("small"), striped = try created("striped")
        let series = try #require(p["timeline"] as? [[String: Any]])
        func moment(after id: Int) throws -> [String: Any] { try #require(series.first { $0["event"] as? Int == id }) }
        let index = try #require(series.firstIndex { $0["event"] as? Int == big })
        let baseline = try #require(Self.int(series[index - 1]["anonymous_bytes"]))
        let peak = try #require((p["peak"] as? [String: Any])?["anonymous_bytes"] as? [String: Any])
        #expect(peak["event"] as? Int == small)
        #expect(Self.int(peak["anonymous_bytes"]) == baseline + 110 << 20)
        let munmap = try #require(events.first { $0["syscall"] as? String == "munmap" && hex(($0["args"] as? [Any])?.first) == run.address("big") })
        #expect(Self.int(try moment(after: munmap["id"] as! Int)["anonymous_bytes"]) == baseline + 10 << 20)
        #expect(peak["time_ns"] as? Int == (try #require(ReportJSON.event(p, id: small)))["time_ns"] as? Int)
        let sites = try #require(peak["sites"] as? [[String: Any]])
        for (id, bytes, marker) in [(big, 100 << 20, "peak_big"), (small, 10 << 20, "peak_small")] {
            let site = try #require(sites.first { ($0["events"] as? [Int]) == [id] }, "no site holds event \(id)")
            #expect(site["bytes"] as? Int == bytes)
            #expect(site["category"] as? String == "mmap")
            let frame = site["site"] as? [String: Any]
            #expect(frame?["function"] as? String == "scenario_peak")
            #expect(frame?["line"] as? Int == SiteMarkers.lines[marker])
        }
        // What the sites hold adds up to the peak.
        #expect(UInt64(sites.reduce(0) { $0 + ($1["bytes"] as! Int) }) == Self.int(peak["anonymous_bytes"]))
        // Finally the 10 MiB stay (in the final map, at its site).
        #expect(ReportJSON.origin(p, containing: run.address("small"))?["event"] as? Int == small)

        // 64 pages, every other one made read-only: 63 more VMAs than before the striped mmap, at
        // the last mprotect.
        let vmas = try #require((p["peak"] as? [String: Any])?["mappings"] as? [String: Any])
        let lastProtect = try #require(events.last { $0["syscall"] as? String == "mprotect" })
        #expect(vmas["event"] as? Int == lastProtect["id"] as? Int)
        let beforeStriped = try #require(series.firstIndex { $0["event"] as? Int == striped })
        let countBefore = try #require(series[beforeStriped - 1]["mappings"] as? Int)
        #expect((vmas["mappings"] as? Int ?? 0) - countBefore >= 63)
        // The text report says both.
        #expect(run.textReport.contains("peak anonymous: "))
        #expect(run.textReport.contains("peak VMAs: "))
    }

    static let mmap = MappingEvent(id: 1, pid: 5, tid: 5, syscall: .mmap, args: [0x7f00_0000_0000, 4096, 3, 0x32, UInt64.max, 0],
                                   result: 0x7f00_0000_0000, stack: 0)

    /// Traces written before timestamps (no time in process, exec, exit and event records) still
    /// read, with no times; a time written is read back.
    @Test func tracesWithoutTimesStillRead() throws {
        var w = ByteWriter()
        let untimed: [TraceRecord] = [
            .process(pid: 5, parentPid: nil, space: 0, parentSpace: nil, shares: false, executable: "/x"),
            .exec(pid: 5, tid: 5, space: 1, executable: "/x", maps: ""),
            .event(Self.mmap),
            .exit(pid: 5, status: .code(0)),
        ]
        var timed = untimed
        timed[0] = .process(pid: 5, parentPid: nil, space: 0, parentSpace: nil, shares: false, executable: "/x", time: 7)
        timed[1] = .exec(pid: 5, tid: 5, space: 1, executable: "/x", maps: "", time: 8)
        var e = Self.mmap
        e.time = 9
        timed[2] = .event(e)
        timed[3] = .exit(pid: 5, status: .code(0), time: 10)
        for (i, record) in (untimed + timed).enumerated() {
            w.bytes.removeAll()
            TraceCodec.encode(record, into: &w)
            var r = ByteReader(w.bytes[...])
            let decoded = TraceCodec.decode(&r, nextEventID: 1)
            #expect(decoded == record, "record \(i)")
            #expect(r.atEnd)
        }
    }
}
