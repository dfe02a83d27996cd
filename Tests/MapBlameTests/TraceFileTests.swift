import Foundation
import Testing
@testable import MapBlame

/// The trace file: record once, report any number of times, from the trace alone; cut-short
/// traces still report; anything else gives one line naming the file and the byte offset.
@Suite("trace files")
struct TraceFileTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func runAndReportGiveTheSameReport() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.trace").path, json = dir.appendingPathComponent("run.json").path
        let run = try runCommand([Build.mapblame, "run", "--trace", trace, "--json", json, "-o", "/dev/null", "--", Build.fixture, "all"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try runCommand([Build.mapblame, "report", "--format", "json", trace])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout == (try String(contentsOfFile: json, encoding: .utf8)))
        let text = try runCommand([Build.mapblame, "report", trace])
        #expect(text.stdout.contains("bss of "))
    }

    @Test func recordWritesTheDefaultNameAndExitsWithTheProgramsStatus() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Build.mapblame)
        process.arguments = ["record", "--", "/bin/sh", "-c", "exit 5"]
        process.currentDirectoryURL = dir
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 5)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.count == 1)
        #expect(files.first?.hasPrefix("mapblame-sh-") == true && files.first?.hasSuffix(".trace") == true)
    }

    /// Every prefix of a trace that ends inside a record reports what came before, with a note.
    @Test func truncatedTracesStillReport() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.trace").path
        _ = try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "mmap"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: trace))
        for fraction in [0.2, 0.5, 0.9, 0.999] {
            let cut = dir.appendingPathComponent("cut.trace")
            try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: cut)
            let f = try runCommand([Build.mapblame, "report", cut.path])
            #expect(f.status == 0, "cut at \(fraction): \(f.stderr)")
            #expect(f.stdout.contains("note: the trace was cut short at byte") || f.stdout.contains("no end record"),
                    "cut at \(fraction)")
        }
    }

    @Test func badFilesGiveOneLineWithTheOffset() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.trace").path
        _ = try runCommand([Build.mapblame, "record", "-o", trace, "--", "/bin/true"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: trace)))
        bytes[bytes.count / 2] ^= 0xff
        let corrupt = dir.appendingPathComponent("corrupt.trace").path
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
        let empty = dir.appendingPathComponent("empty.trace").path
        try Data().write(to: URL(fileURLWithPath: empty))
        let text = dir.appendingPathComponent("text.trace").path
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: text))
        let future = dir.appendingPathComponent("future.trace").path
        try Data(Self.traceWithVersion(99)).write(to: URL(fileURLWithPath: future))

        let cases: [(String, String)] = [
            (corrupt, "corrupt.trace: byte "), (empty, "empty file"), (text, "not a mapblame trace"),
            (future, "version 99 is not supported"), (dir.path, "is a directory"),
            (dir.appendingPathComponent("missing").path, "No such file"),
        ]
        for (path, message) in cases {
            let f = try runCommand([Build.mapblame, "report", path])
            #expect(f.status == 1, "\(path)")
            #expect(f.stderr.split(separator: "\n").count == 1, "\(f.stderr)")
            #expect(f.stderr.contains(message), "\(f.stderr)")
        }
    }

    static func traceWithVersion(_ version: Int) -> [UInt8] {
        var payload = ByteWriter()
        TraceCodec.encode(.header(version: version, command: ["x"], maxFrames: 64, startTime: 0), into: &payload)
        var file = ByteWriter()
        file.bytes = TraceWriter.magic
        file.varint(UInt64(payload.bytes.count))
        file.bytes += payload.bytes
        let crc = CRC32.checksum(payload.bytes[...])
        file.bytes += [UInt8(crc & 0xff), UInt8((crc >> 8) & 0xff), UInt8((crc >> 16) & 0xff), UInt8(crc >> 24)]
        return file.bytes
    }

    /// The recorder killed with SIGKILL: the program dies with it (PTRACE_O_EXITKILL) and the trace
    /// written so far reports.
    @Test func killedRecorderLeavesAReadableTrace() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.trace").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Build.mapblame)
        process.arguments = ["record", "-o", trace, "--", "/bin/sh", "-c", "sleep 30"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The traced program: the recorder's child, once it has one (and has written some of the trace).
        let recorder = process.processIdentifier
        var program: Int32?
        for _ in 0..<500 where program == nil {
            let children = (try? String(contentsOfFile: "/proc/\(recorder)/task/\(recorder)/children", encoding: .utf8)) ?? ""
            program = children.split(separator: " ").first.flatMap { Int32($0) }
            if program == nil { usleep(10_000) }
        }
        let traced = try #require(program, "the recorder started no program")
        Thread.sleep(forTimeInterval: 0.5)
        kill(recorder, SIGKILL)
        process.waitUntilExit()
        let report = try runCommand([Build.mapblame, "report", trace])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("no end record") || report.stdout.contains("cut short"))
        // PTRACE_O_EXITKILL: the program dies with its tracer (init reaps it).
        var gone = false
        for _ in 0..<500 where !gone {
            gone = kill(traced, 0) != 0 && errno == ESRCH
            if !gone { usleep(10_000) }
        }
        #expect(gone, "the traced program \(traced) survived its tracer")
    }

    /// A module replaced on disk after recording (its build-id differs) is named as changed, never
    /// symbolized with the new file's names.
    @Test func changedModulesAreNotSymbolized() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("fixture-copy").path
        try copyExecutable(from: Build.fixture, to: copy)
        let trace = dir.appendingPathComponent("t.trace").path
        _ = try runCommand([Build.mapblame, "record", "-o", trace, "--", copy, "mmap"])
        let before = try runCommand([Build.mapblame, "report", "--format", "json", trace])
        #expect(before.stdout.contains("\"scenario_mmap\""))
        try FileManager.default.removeItem(atPath: copy)
        try copyExecutable(from: "/bin/true", to: copy)
        let after = try runCommand([Build.mapblame, "report", "--format", "json", trace])
        #expect(after.status == 0)
        #expect(!after.stdout.contains("\"scenario_mmap\""))
        #expect(after.stdout.contains("\"module_changed\": true"))
    }

    /// Many events: the count recorded is the count made, the trace stays compact, and the
    /// recorder's memory does not grow with the number of events.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time"), "GNU time is not installed"))
    func manyEventsStayCompactAndBounded() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Under AddressSanitizer freed memory waits in a 256 MiB quarantine, which fills as events
        // stream by (the peak doubled from 2,000 to 20,000 calls); a 1 MiB quarantine leaves the
        // peak to mapblame's own live memory, the thing this test bounds.
        var environment = ProcessInfo.processInfo.environment
        if Build.addressSanitizer {
            environment["ASAN_OPTIONS"] = (environment["ASAN_OPTIONS"].map { $0 + ":" } ?? "") + "quarantine_size_mb=1"
        }
        var peaks: [Int] = []
        for calls in [2_000, 20_000] {
            let trace = dir.appendingPathComponent("loop-\(calls).trace").path
            let f = try runCommand(["/usr/bin/time", "-f", "maxrss=%M", Build.mapblame, "record", "-o", trace, "--",
                                    Build.fixture, "loop", "\(calls / 2)"], environment: environment)
            #expect(f.status == 0, "\(f.stderr)")
            let peak = f.stderr.split(separator: "\n").compactMap { $0.hasPrefix("maxrss=") ? Int($0.dropFirst(7)) : nil }.first ?? 0
            peaks.append(peak)
            let report = try runCommand([Build.mapblame, "report", "--format", "json", trace])
            let json = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
            let process = (json?["processes"] as? [[String: Any]])?.first
            let recorded = process?["events_recorded"] as? Int ?? 0
            #expect(recorded >= calls && recorded < calls + 300, "recorded \(recorded) for \(calls) calls")
            let size = (try FileManager.default.attributesOfItem(atPath: trace)[.size] as? Int) ?? 0
            #expect(size < 100_000 + calls * 48, "\(size) bytes for \(calls) calls")
        }
        // Ten times the events may not cost ten times the memory (the trace is streamed).
        #expect(peaks[1] < peaks[0] + 8_000, "peak RSS \(peaks) KiB")
    }

    /// Records survive a round trip through the codec unchanged.
    @Test func recordsRoundTrip() throws {
        let event = MappingEvent(id: 0, pid: 42, tid: 43, syscall: .mremap, args: [0x7f00_0000_0000, 4096, 8192, 3, 0x7f00_0001_0000, 0],
                                 result: -12, stack: 7, filePath: "/lib/x.so", fileBelow: "/lib/y.so", length: 12288)
        let records: [TraceRecord] = [
            .header(version: 1, command: ["a b", "ü"], maxFrames: 64, startTime: 123),
            .module(id: 3, path: "/usr/lib/libc.so.6", size: 10, mtime: 20, inode: 30, buildID: "abcd"),
            .stack(id: 1, frames: [StackFrame(ip: 0x7fff_ffff_ffff, module: 3, fileOffset: 0x1234), StackFrame(ip: 1, module: nil, fileOffset: 1)]),
            .stack(id: 2, frames: [StackFrame(ip: 0x7f00_0000_0010, module: 3, fileOffset: 0x10),
                                   StackFrame(ip: 0, fileOffset: 0, python: PythonFrame(function: "Cache.load", file: "/srv/ü.py", line: 12)),
                                   StackFrame(ip: 0, fileOffset: 0, python: PythonFrame(function: "<module>", file: "<stdin>", line: 0)),
                                   StackFrame(ip: 0x7f00_0000_0020, module: nil, fileOffset: 0x20)]),
            .process(pid: 7, parentPid: nil, space: 0, parentSpace: nil, shares: false, executable: "/bin/x"),
            .process(pid: 8, parentPid: 7, space: 1, parentSpace: 0, shares: true, executable: "/bin/x"),
            .exec(pid: 8, tid: 8, space: 2, executable: "/bin/y", maps: "maps"),
            .attach(pid: 11, tid: 12, space: 3, executable: "/usr/sbin/daemon", maps: "maps of 11",
                    seeds: [SeedRegion(range: 0x7f00_0000_0000..<0x7f00_0000_4000, category: .bss, label: "bss of /x",
                                       evidence: "PT_LOAD", confidence: .certain),
                            SeedRegion(range: 0x1000..<0x2000, category: .unknown, label: "ü", evidence: "", confidence: .likely)]),
            .attach(pid: 13, tid: 13, space: 4, executable: "", maps: "", seeds: []),
            .detach(pid: 11),
            .event(event),
            .thread(pid: 7, tid: 9, stackLow: nil, stackTop: 0x7000),
            .thread(pid: 7, tid: 10, stackLow: 0, stackTop: 0x7000),
            .snapshot(pid: 7, maps: "m", smaps: "s"),
            .evidence(pid: 7, SnapshotEvidence(threads: [SnapshotEvidence.Thread(tid: 9, rsp: 0x7ffc_0000_1000, rip: 0x5555_0000_0010)],
                                               regions: [SnapshotEvidence.Region(start: 0x7f00_0000_0000, head: [1, 0, 0x21000, 0x21000, 4096],
                                                                                 chunkSizes: []),
                                                         SnapshotEvidence.Region(start: 0x7f00_1000_0000, head: [], chunkSizes: [0x101000, 0x2000])])),
            .evidence(pid: 8, SnapshotEvidence(threads: [], regions: [])),
            .residency(pid: 7, [PageResidency(start: 0x7f00_0000_0000, runs: [.init(pages: 75, state: .present), .init(pages: 1 << 40, state: .absent),
                                                                        .init(pages: 2, state: .swapped), .init(pages: 3, state: .ambiguous)]),
                                PageResidency(start: 0x1000, runs: [])]),
            .residency(pid: 8, []),
            .perfMap(pid: 7, symbols: [JitSymbol(start: 0x7f00_0000_1000, size: 0x40, name: "JS:*hot /a b.js:1:2"),
                                       JitSymbol(start: 0x1000, size: 1, name: "ü")]),
            .perfMap(pid: 8, symbols: []),
            .exit(pid: 7, status: .signal(11)),
            .exit(pid: 8, status: .code(-1)),
            .end(events: 2),
        ]
        // Every kind of record is in the list (a new kind fails to compile here until it is).
        func kind(_ record: TraceRecord) -> String {
            switch record {
            case .header: "header"
            case .module: "module"
            case .stack: "stack"
            case .process: "process"
            case .exec: "exec"
            case .attach: "attach"
            case .detach: "detach"
            case .event: "event"
            case .thread: "thread"
            case .snapshot: "snapshot"
            case .evidence: "evidence"
            case .residency: "residency"
            case .exit: "exit"
            case .end: "end"
            case .perfMap: "perf map"
            }
        }
        #expect(Set(records.map(kind)).count == 15)
        for record in records {
            var w = ByteWriter()
            TraceCodec.encode(record, into: &w)
            var r = ByteReader(w.bytes[...])
            #expect(TraceCodec.decode(&r, nextEventID: 0) == record)
            #expect(r.atEnd)
        }
    }
}
