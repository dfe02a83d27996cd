import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlame

/// Frames in JIT code named from the runtime's perf map (`/tmp/perf-PID.map`).
@Suite("JIT frames from perf maps")
struct JitFrameTests {
    /// A function hot enough for V8 to compile it (Sparkplug, then TurboFan) that makes 48 MiB
    /// ArrayBuffers (calloc, served by mmap) and keeps them; process.exit skips node's teardown,
    /// which would free them.
    static let script = """
        const keep = [];
        function makeBigBuffer(i) {
          const x = i * 2;
          if (i % 20000 === 19999) keep.push(new ArrayBuffer(48 * 1024 * 1024));
          return x;
        }
        let s = 0;
        for (let i = 0; i < 100000; i++) s += makeBigBuffer(i);
        console.log(s, keep.length);
        process.exit(0);
        """

    /// node --perf-basic-prof: the stacks of the ArrayBuffers' mmaps go through the JIT code of
    /// makeBigBuffer (frames without a module, reached along the frame pointers), named from the
    /// perf map with kind jit, at an address inside the entry that names it; `report` names them
    /// from the trace alone after the map file is gone.
    @Test func nodeFramesAreNamedFromThePerfMap() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/node") else { try Test.cancel("node is not installed") }
        let dir = try TempDir()
        let js = try dir.write("alloc.js", Self.script)
        let trace = dir.path("node.trace")
        // (--perf-basic-prof also turns V8's log on, an isolate-*.log in the working directory.)
        let run = try TracedRun(["/usr/bin/node", "--perf-basic-prof", "--logfile=\(dir.path("v8.log"))", "--no-logfile-per-isolate", js],
                                options: ["--trace", trace])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let pid = run.root["pid"] as? Int ?? 0
        let mapPath = "/tmp/perf-\(pid).map"
        defer { try? FileManager.default.removeItem(atPath: mapPath) }
        let perfMap = PerfMap.parse((try? String(contentsOfFile: mapPath, encoding: .utf8)) ?? "")
        #expect(perfMap.contains { $0.name.contains("makeBigBuffer") }, "node wrote no perf map entry for makeBigBuffer")

        func jitFrames(_ process: [String: Any]) -> [[String: Any]] {
            (process["events"] as? [[String: Any]] ?? []).flatMap { event in
                (event["stack"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "jit" }
            }
        }
        let named = jitFrames(run.root).filter { ($0["function"] as? String)?.contains("makeBigBuffer \(js):2:") == true }
        #expect(!named.isEmpty, "no JIT frame of makeBigBuffer in \(jitFrames(run.root).map { $0["function"] ?? "" })")
        for frame in named {
            let ip = hex(frame["ip"])
            #expect(frame["module"] is NSNull)
            #expect(perfMap.contains { $0.name == frame["function"] as? String && ip >= $0.start && ip - $0.start < $0.size })
        }
        // The ArrayBuffers' own stacks reach that JIT code through the calloc in node (the first
        // ones may come before V8 compiled the function, from its interpreter: how many depends on
        // the machine's load).
        let buffers = (run.root["events"] as? [[String: Any]] ?? []).filter { event in
            let functions = (event["stack"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
            return functions.contains { $0.contains("ArrayBufferConstructor") } && functions.contains { $0.contains("makeBigBuffer") }
        }
        #expect(buffers.count >= 1)

        try FileManager.default.removeItem(atPath: mapPath)
        let json = dir.path("again.json")
        let again = try runCommand([Build.mapblame, "report", "--format", "json", "-o", json, trace])
        #expect(again.status == 0, "\(again.stderr)")
        let fromTrace = try ReportJSON(path: json)
        #expect(jitFrames(fromTrace.rootProcess ?? [:]).map { $0["function"] as? String } == jitFrames(run.root).map { $0["function"] as? String })
    }

    /// The format: `START SIZE NAME` in hexadecimal, names with spaces kept whole, lines that do
    /// not parse skipped; the last entry covering an address names it.
    @Test func perfMapLines() {
        let symbols = PerfMap.parse("7f00 40 JS:*f /a b.js:1:2\nzz 10 bad\n7f10 10 LazyCompile:g\n\n7f20 0 empty\n")
        #expect(symbols == [JitSymbol(start: 0x7f00, size: 0x40, name: "JS:*f /a b.js:1:2"), JitSymbol(start: 0x7f10, size: 0x10, name: "LazyCompile:g")])
        #expect(PerfMap.symbol(at: 0x7f05, in: symbols)?.name == "JS:*f /a b.js:1:2")
        #expect(PerfMap.symbol(at: 0x7f18, in: symbols)?.name == "LazyCompile:g")
        #expect(PerfMap.symbol(at: 0x7f40, in: symbols) == nil)
    }
}
