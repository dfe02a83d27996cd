import Foundation
import MapBlameTestSupport
import Testing

/// Backtraces take their unwind tables from the tracer's model, never from /proc/PID/maps
/// (issue 21): libunwind's own lookup read the whole maps file again for every address outside the
/// one module it had cached, about 850 µs per backtrace in Chromium. JIT code (anonymous
/// executable memory) has no table and is walked by its frame pointer.
@Suite("unwinding without /proc/PID/maps")
struct ProcMapsFreeUnwindTests {
    static let strace: String? = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// How many /proc/N/maps files mapblame's tracing thread (its first thread: strace without -f)
    /// opened while recording `command` with `options`.
    static func mapsOpens(_ command: [String], options: [String]) throws -> Int {
        let dir = try TempDir()
        let log = dir.path("openat.strace")
        let run = try runCommand([strace!, "-qq", "-e", "trace=openat,open", "-o", log, Build.mapblame, "record", "-q",
                                  "-o", dir.path("t.trace")] + options + ["--"] + command)
        try #require(run.status == 0, "\(run.stderr)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        return lines.filter { $0.contains("/maps\"") && $0.contains("\"/proc/") }.count
    }

    /// Full backtraces open no more maps files than no backtraces at all (those left are the
    /// tracer's reads at exec and the final snapshot), for JIT code, code in a non-ELF file, and a
    /// real interpreter loading extension modules (many modules, each met by the unwinder).
    @Test(.enabled(if: strace != nil, "strace is not installed (make deps installs it)"),
          arguments: [[Build.fixture, "jit-code", "50"], [Build.fixture, "foreign-code"],
                      ["/usr/bin/python3", "-c", "import json, sqlite3, ssl, decimal; json.dumps(list(range(10**5)))"]])
    func backtracesOpenNoMapsFile(command: [String]) throws {
        let without = try Self.mapsOpens(command, options: ["--frames", "0"])
        let with = try Self.mapsOpens(command, options: [])
        #expect(without > 0, "the count itself works: exec reads the maps of the new image")
        #expect(with == without, "backtraces opened /proc/PID/maps \(with - without) times")
    }

    /// A mapping made from JIT code: the first frame is in the anonymous code, and the walk goes on
    /// through the JIT frame's frame pointer to the C function that called it and to main.
    @Test func jitCodeIsWalkedByItsFramePointer() throws {
        let traced = try TracedRun.fixture("jit-code", options: ["--all-events"])
        #expect(traced.finished.status == 0, "\(traced.finished.stderr)")
        let jit = traced.address("jit")
        try #require(jit != 0)
        let stacks = (traced.root["events"] as? [[String: Any]] ?? []).map { $0["stack"] as? [[String: Any]] ?? [] }
        let fromJit = stacks.filter { stack in
            guard let ip = Self.address(stack.first?["ip"]) else { return false }
            return jit <= ip && ip < jit + 4096
        }
        #expect(fromJit.count == 8, "one stack per call of the JIT code: \(stacks.count) stacks")
        for stack in fromJit {
            let functions = stack.compactMap { $0["function"] as? String }
            #expect(functions.prefix(3) == ["call_jit", "scenario_jit_code", "main"], "\(stack)")
        }
    }

    static func address(_ value: Any?) -> UInt64? {
        if let n = value as? UInt64 { return n }
        if let n = value as? Int { return UInt64(n) }
        guard let s = value as? String else { return nil }
        return UInt64(s.hasPrefix("0x") ? String(s.dropFirst(2)) : s, radix: 16)
    }
}
