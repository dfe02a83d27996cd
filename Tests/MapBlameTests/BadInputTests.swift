import Foundation
import Glibc
import MapBlameTestSupport
import Testing
@testable import MapBlame

/// Files the bad-input cases point at, made once per test process.
enum BadInputFiles {
    static let directory: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-bad-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func file(_ name: String, _ bytes: [UInt8], mode: Int = 0o644) {
            try? writeExecutable(dir + "/" + name, bytes, mode: mode_t(mode))  // some are executed
        }
        var rng = SplitMix64(seed: 42)
        let garbage = (0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        file("empty", [])
        file("garbage", garbage)
        file("garbage-exe", garbage, mode: 0o755)
        file("empty-exe", [], mode: 0o755)
        file("text", Array("hello\nworld\n".utf8))
        file("noexec", Array("#!/bin/sh\nexit 0\n".utf8))
        file("bad-interpreter", Array("#!/nonexistent/interpreter\n".utf8), mode: 0o755)
        file("magic-garbage", TraceWriter.magic + garbage)
        try? FileManager.default.createDirectory(atPath: dir + "/dir", withIntermediateDirectories: true)
        // A real trace, and one cut inside its header record.
        let trace = dir + "/true.trace"
        _ = try? runCommand([Build.mapblame, "record", "-o", trace, "--", "/bin/true"])
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: trace))).map { [UInt8]($0) } ?? []
        file("cut.trace", Array(bytes.prefix(TraceWriter.magic.count + 3)))
        return dir
    }()

    /// `@NAME` → a path in `directory`.
    static func expand(_ argument: String) -> String {
        argument.hasPrefix("@") ? directory + "/" + argument.dropFirst() : argument
    }
}

struct BadInput: CustomTestStringConvertible, Sendable {
    var arguments: [String]
    var allowed: Set<Int32>
    var testDescription: String { "mapblame " + arguments.map { $0.isEmpty ? "''" : $0 }.joined(separator: " ") }

    init(_ arguments: [String], _ allowed: Set<Int32>) {
        self.arguments = arguments
        self.allowed = allowed
    }

    static let usage: Set<Int32> = [2]
    static let failure: Set<Int32> = [1]

    static let cases: [BadInput] = {
        let many = String(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) + 97)  // never a CPU of this machine
        var c: [BadInput] = []
        // run: options with wrong values.
        for (option, value) in [("--frames", "99999999999999999999"), ("--frames", "-5"), ("--frames=-5", nil),
                                ("--frames", "1025"), ("--frames", "abc"), ("--frames", ""), ("--cpu", many),
                                ("--cpu", "-1"), ("--cpu", "99999999999"), ("--cpu", "x"),
                                ("-o", "@dir"), ("-o", "/nonexistent/dir/report.txt"), ("-o", ""),
                                ("--json", "@dir"), ("--json", "/nonexistent/r.json"), ("--trace", "@dir"),
                                ("--trace", ""), ("--debug-dir", "/nonexistent"), ("--debug-dir", "@text"),
                                ("--allocator-frames", "("), ("--allocator-frames", ""), ("--allocator-frames", "a{2,1}"),
                                ("--bogus", nil), ("--no-aslr=yes", nil)] as [(String, String?)] {
            c.append(BadInput(["run", option] + (value.map { [$0] } ?? []) + ["--", "/bin/true"], usage))
            if ["--frames", "--cpu"].contains(option) || option.hasPrefix("--frames=") {
                c.append(BadInput(["record", "-o", "@unused.trace", option] + (value.map { [$0] } ?? []) + ["--", "/bin/true"], usage))
            }
        }
        // Options missing their value; commands missing their program.
        for words in [["run", "--frames"], ["run", "-o"], ["run", "--json"], ["run"], ["run", "--"],
                      ["record"], ["record", "--"], ["record", "-o"], ["report"], ["bogus"],
                      ["record", "-o", "@dir", "--", "/bin/true"], ["record", "-o", "/nonexistent/x.trace", "--", "/bin/true"]] {
            c.append(BadInput(words, usage))
        }
        // PROGRAM: missing, empty name, a directory, not executable, not an ELF.
        for command in ["run", "record"] {
            let out = command == "record" ? ["-o", "@unused.trace"] : ["-o", "/dev/null"]
            c.append(BadInput([command] + out + ["--", ""], [127, 2]))
            c.append(BadInput([command] + out + ["--", "/nonexistent/program"], [127]))
            c.append(BadInput([command] + out + ["--", "no-such-command-mapblame"], [127]))
            c.append(BadInput([command] + out + ["--", "@dir"], [126]))
            c.append(BadInput([command] + out + ["--", "@noexec"], [126]))
            c.append(BadInput([command] + out + ["--", "@garbage-exe"], [126]))
            c.append(BadInput([command] + out + ["--", "@empty-exe"], [126]))
            c.append(BadInput([command] + out + ["--", "@bad-interpreter"], [126, 127]))
            c.append(BadInput([command] + out + ["--", "/dev/null"], [126]))
        }
        // report: the FILE and its options.
        for file in ["/nonexistent.trace", "@dir", "@empty", "@garbage", "@text", "@magic-garbage", "/dev/null", "/proc/self/maps"] {
            c.append(BadInput(["report", file], failure))
            c.append(BadInput(["report", "--format", "json", file], failure))
        }
        c.append(BadInput(["report", "@cut.trace"], [0, 1]))  // a trace cut short still reports, or fails cleanly
        for words in [["--format", "xml", "@true.trace"], ["--format", "", "@true.trace"], ["-o", "@dir", "@true.trace"],
                      ["-o", "/nonexistent/r.txt", "@true.trace"], ["-o", "", "@true.trace"],
                      ["--debug-dir", "/nonexistent", "@true.trace"], ["@true.trace", "extra"], ["--bogus", "@true.trace"],
                      ["--allocator-frames", "[", "@true.trace"]] {
            c.append(BadInput(["report"] + words, usage))
        }
        return c
    }()
}

/// Wrong input anywhere: one line on stderr starting "mapblame: ", exit 2 (usage), 1 (failure)
/// or 126/127 (the program), never a crash or a stack trace.
@Suite("Bad input: one line, the right status, no crash")
struct BadInputTests {
    static func check(_ arguments: [String], allowed: Set<Int32>, run: Finished) {
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(allowed.contains(run.status), "status \(run.status), stderr: \(run.stderr)")
        #expect(lines.count == 1 && lines[0].hasPrefix("mapblame: "), "stderr: \(run.stderr)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"), "\(run.stderr)")
        #expect(run.status < 128, "killed by signal \(run.status - 128)")
    }

    @Test("one line on stderr, status 1/2/126/127", arguments: BadInput.cases)
    func badInput(_ input: BadInput) throws {
        let arguments = input.arguments.map(BadInputFiles.expand)
        let run = try runCommand([Build.mapblame] + arguments)
        Self.check(arguments, allowed: input.allowed, run: run)
        #expect(run.stdout.isEmpty, "stdout: \(run.stdout.prefix(200))")
    }

    /// A character device never ends: `report` must not read it forever (it would take all memory).
    @Test("report of a file that never ends (/dev/zero) fails with one line instead of reading forever")
    func reportEndlessFile() throws {
        // The address-space limit only bounds the damage if it did read forever. ASan and TSan
        // reserve terabytes of shadow address space at start and cannot run under such a limit.
        let limit = Build.sanitizer ? "" : "ulimit -v 4000000; "
        let live = try LiveRun(["/bin/sh", "-c", limit + "exec \"$0\" report /dev/zero", Build.mapblame])
        let status = live.wait(timeout: 3)
        #expect(status == 1, "still running after 3 s (killed), stderr: \(live.stderr.prefix(300))")
        #expect(live.stderr.hasPrefix("mapblame: ") && !live.stderr.contains("Fatal error"), "\(live.stderr.prefix(300))")
    }

    /// A crafted trace whose snapshot says `Rss: 2^54 kB`: `report` must fail (or report) cleanly.
    @Test("a trace whose smaps has a huge kB value does not crash report")
    func smapsHugeKilobytes() async throws {
        let smaps = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0\nRss: 18014398509481984 kB\n"
        await #expect(processExitsWith: .success) {
            _ = try? SmapsUsage.parseSmaps("7f0000000000-7f0000001000 rw-p 00000000 00:00 0\nRss: 18014398509481984 kB\n")
        }
        // Through the CLI: a trace with that snapshot, reported.
        let path = BadInputFiles.directory + "/huge-rss.trace"
        let output = try OutputFile.open(path)
        try output.publish()
        let writer = TraceWriter(output: output, command: ["x"], maxFrames: 0)
        writer.append(.process(pid: 100, parentPid: nil, space: 0, parentSpace: nil, shares: false, executable: "/x"))
        writer.append(.snapshot(pid: 100, maps: String(smaps.prefix { $0 != "\n" }) + "\n", smaps: smaps))
        writer.append(.exit(pid: 100, status: .code(0)))
        try writer.finish()
        let run = try runCommand([Build.mapblame, "report", path])
        #expect(run.status < 128, "killed by signal \(run.status - 128): \(run.stderr.prefix(200))")
    }
}

// MARK: - Deterministic randomized robustness ("fuzzing")


enum Fuzz {
    static let iterations = Int(ProcessInfo.processInfo.environment["MAPBLAME_FUZZ_ITERATIONS"] ?? "") ?? 500
    static let seed = UInt64(ProcessInfo.processInfo.environment["MAPBLAME_FUZZ_SEED"] ?? "") ?? 0x6d61_7062_6c61_6d65

    /// 1-4 of: bit flip, truncation, insertion of random bytes / a digit run / a separator,
    /// duplication of a chunk, deletion of a chunk.
    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0, 1:
                if !b.isEmpty { b[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng) }
            case 2:
                b.removeSubrange(at..<b.count)
            case 3:
                b.insert(contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            case 4:
                let digits = (0..<Int.random(in: 1...24, using: &rng)).map { _ in UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &rng) }
                b.insert(contentsOf: digits, at: at)
            case 5:
                guard !b.isEmpty else { break }
                let end = min(b.count, at + Int.random(in: 1...512, using: &rng))
                let chunk = b[at..<end]
                b.insert(contentsOf: chunk, at: Int.random(in: 0...b.count, using: &rng))
            default:
                guard !b.isEmpty else { break }
                let end = min(b.count, at + Int.random(in: 1...64, using: &rng))
                if Bool.random(using: &rng) {
                    b.removeSubrange(at..<end)
                } else {
                    b.insert([UInt8(ascii: "-"), UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "\n"), 0, 0xff, 0x80]
                        .randomElement(using: &rng)!, at: at)
                }
            }
        }
        return b
    }

    /// Where the child writes each input before using it: after a trap, the last one is the culprit.
    static func crashInputPath(_ kind: String, parent: Int32) -> String { "/tmp/mapblame-fuzz-\(parent)-\(kind).input" }

    static func save(_ bytes: [UInt8], _ kind: String) {
        let fd = open(crashInputPath(kind, parent: getppid()), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// (a) /proc/self/maps text → MapsEntry.parseMaps, and every accepted entry used.
    static func maps() {
        var rng = SplitMix64(seed: seed)
        let text = Array((ProcFile.read("/proc/self/maps") ?? "").utf8)
        precondition(text.count > 100)
        for _ in 0..<iterations {
            let input = mutate(text, &rng)
            save(input, "maps")
            if let entries = try? MapsEntry.parseMaps(String(decoding: input, as: UTF8.self)) {
                for e in entries { _ = (e.size, e.isShared, e.isFile, e.isPseudo) }
            }
        }
    }

    /// (b) /proc/self/smaps text → SmapsUsage.parseSmaps.
    static func smaps() {
        var rng = SplitMix64(seed: seed &+ 1)
        let text = Array((ProcFile.read("/proc/self/smaps") ?? "").utf8)
        precondition(text.count > 100)
        for _ in 0..<iterations {
            let input = mutate(text, &rng)
            save(input, "smaps")
            _ = try? SmapsUsage.parseSmaps(String(decoding: input, as: UTF8.self))
        }
    }

    /// The records of a trace file: (payload) after the magic; nil if it is not a clean trace.
    static func records(_ bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var position = TraceWriter.magic.count
        while position < bytes.count {
            var r = ByteReader(bytes[position...])
            guard let length = r.int() else { break }
            let start = r.position
            out.append(Array(bytes[start..<start + length]))
            position = start + length + 4
        }
        return out
    }

    static func frame(_ payloads: [[UInt8]]) -> [UInt8] {
        var out = TraceWriter.magic
        for p in payloads {
            var w = ByteWriter()
            w.varint(UInt64(p.count))
            out += w.bytes + p
            let crc = CRC32.checksum(p[...])
            out += [UInt8(crc & 0xff), UInt8((crc >> 8) & 0xff), UInt8((crc >> 16) & 0xff), UInt8(crc >> 24)]
        }
        return out
    }

    /// (c) a real trace → TraceReplayer.replay (TraceReader.read inside). `framed`: mutate record
    /// payloads and recompute their CRCs (reaches the decoder and the replayer), or mutate raw bytes.
    static func trace(framed: Bool) {
        let base = (try? Data(contentsOf: URL(fileURLWithPath: "/tmp/mapblame-fuzz-\(getppid())-base.trace"))).map { [UInt8]($0) } ?? []
        precondition(base.count > 100, "no base trace")
        let payloads = records(base)
        precondition(frame(payloads) == base, "re-framing does not reproduce the trace")
        var rng = SplitMix64(seed: seed &+ (framed ? 3 : 2))
        let path = crashInputPath(framed ? "trace-framed" : "trace-raw", parent: getppid())
        for _ in 0..<iterations / 2 {
            var input: [UInt8]
            if framed {
                var p = payloads
                let i = Int.random(in: 0..<p.count, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: p.remove(at: i)
                case 1: p.insert(p[i], at: Int.random(in: 0...p.count, using: &rng))
                case 2: p.swapAt(i, Int.random(in: 0..<p.count, using: &rng))
                default: p[i] = mutate(p[i], &rng)
                }
                input = frame(p)
            } else {
                input = mutate(base, &rng)
            }
            save(input, framed ? "trace-framed" : "trace-raw")
            _ = try? TraceReplayer.replay(path: path)
        }
    }
}

@Suite("Randomized robustness: mutated inputs are parsed or rejected, never a trap", .serialized)
struct FuzzTests {
    /// Records /bin/true into the file the children read.
    static func prepareBaseTrace() throws {
        let path = "/tmp/mapblame-fuzz-\(getpid())-base.trace"
        let run = try runCommand([Build.mapblame, "record", "--frames", "8", "-o", path, "--", "/bin/true"])
        try #require(run.status == 0, "\(run.stderr)")
    }

    static func explain(_ kind: String) -> Comment {
        let path = Fuzz.crashInputPath(kind, parent: getpid())
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
        let keep = "/tmp/mapblame-fuzz-crash-\(kind)-\(String(Fuzz.seed, radix: 16))"
        try? bytes.write(to: URL(fileURLWithPath: keep))
        return "seed 0x\(String(Fuzz.seed, radix: 16)) (MAPBLAME_FUZZ_SEED), trapping input kept in \(keep) (\(bytes.count) bytes)"
    }

    @Test("(a) 500 mutations of /proc/self/maps → MapsEntry.parseMaps")
    func mapsMutations() async {
        let result = await #expect(processExitsWith: .success) { Fuzz.maps() }
        if result?.exitStatus != .exitCode(0) { Issue.record(Self.explain("maps")) }
    }

    @Test("(b) 500 mutations of /proc/self/smaps → SmapsUsage.parseSmaps")
    func smapsMutations() async {
        let result = await #expect(processExitsWith: .success) { Fuzz.smaps() }
        if result?.exitStatus != .exitCode(0) { Issue.record(Self.explain("smaps")) }
    }

    @Test("(c) 250 raw byte mutations of a real trace → TraceReplayer.replay")
    func traceRawMutations() async throws {
        try Self.prepareBaseTrace()
        let result = await #expect(processExitsWith: .success) { Fuzz.trace(framed: false) }
        if result?.exitStatus != .exitCode(0) { Issue.record(Self.explain("trace-raw")) }
    }

    @Test("(c) 250 record mutations with valid CRCs of a real trace → TraceReplayer.replay")
    func traceFramedMutations() async throws {
        try Self.prepareBaseTrace()
        let result = await #expect(processExitsWith: .success) { Fuzz.trace(framed: true) }
        if result?.exitStatus != .exitCode(0) { Issue.record(Self.explain("trace-framed")) }
    }
}
