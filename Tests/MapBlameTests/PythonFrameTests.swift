import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlame
@testable import MapBlameTracer

/// CPython 3.11's frames in the backtraces of a Python program (Debian's /usr/bin/python3.11,
/// with python3-dbg's debug info for its layout).
@Suite("Python frames")
struct PythonFrameTests {
    static let python = "/usr/bin/python3.11"

    /// Named functions making a large bytes object, a list of many small objects (pymalloc arenas)
    /// through a call from C (map), and a thread whose function makes a bytearray; os._exit keeps
    /// everything mapped (the interpreter's finalization would free it).
    static let script = """
        import os
        import threading

        def make_bytes():
            return b"x" * (48 << 20)  # BYTES

        def make_list(n):
            items = []
            for i in range(n):
                items.append(object())  # LIST
            return items

        def worker():
            global extra
            extra = bytearray(40 << 20)  # WORKER

        def start_thread():
            t = threading.Thread(target=worker)
            t.start()  # THREAD
            t.join()

        def main():
            global big, many
            big = make_bytes()  # MAIN_BYTES
            many = list(map(make_list, [300000]))  # MAIN_LIST
            start_thread()

        main()  # MODULE
        os._exit(0)
        """

    /// The line of the script holding `# MARK`.
    static func line(_ mark: String) -> Int {
        (script.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasSuffix("# \(mark)") } ?? -1) + 1
    }

    static func origins(_ process: [String: Any]) -> [[String: Any]] {
        ReportJSON.regions(process).flatMap { $0["origins"] as? [[String: Any]] ?? [] }
    }

    static func site(_ origin: [String: Any]) -> String {
        let s = origin["site"] as? [String: Any] ?? [:]
        return "\(s["function"] as? String ?? "?") \((s["file"] as? String).map { ($0 as NSString).lastPathComponent } ?? "?"):\(s["line"] as? Int ?? 0)"
    }

    static func stack(_ process: [String: Any], of origin: [String: Any]) -> [[String: Any]] {
        ReportJSON.event(process, id: origin["event"] as? Int ?? -1)?["stack"] as? [[String: Any]] ?? []
    }

    @Test func sitesAreThePythonLinesAndStacksInterleave() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else { try Test.cancel("\(Self.python) is not installed") }
        let dir = try TempDir()
        let app = try dir.write("app.py", Self.script)
        let trace = dir.path("app.trace")
        let run = try TracedRun([Self.python, app], options: ["--trace", trace])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(!run.finished.stderr.contains("no Python frames"), "\(run.finished.stderr)")
        let origins = Self.origins(run.root)

        // The bytes object: glibc malloc's mmap, its site the line that made it.
        let bytes = origins.filter { ($0["label"] as? String)?.contains("malloc of 48.0 MiB") == true }
        #expect(bytes.map(Self.site) == ["make_bytes app.py:\(Self.line("BYTES"))"])
        #expect(bytes.first?["allocator"] as? String == "glibc malloc")
        // pymalloc's arenas for the list's objects.
        let arenas = origins.filter { $0["allocator"] as? String == "pymalloc" && Self.site($0).hasPrefix("make_list ") }
        #expect(arenas.count >= 2, "\(origins.filter { $0["allocator"] as? String == "pymalloc" }.map(Self.site))")
        #expect(Set(arenas.map(Self.site)) == ["make_list app.py:\(Self.line("LIST"))"])
        // The thread's stack, made by Thread.start in threading.py (standard library, not the site).
        let stacks = origins.filter { $0["category"] as? String == "thread-stack" }
        #expect(stacks.map(Self.site) == ["start_thread app.py:\(Self.line("THREAD"))"])
        // The thread's own allocation, on its own Python frames.
        #expect(origins.contains { ($0["label"] as? String)?.contains("malloc of 40.0 MiB") == true
            && Self.site($0) == "worker app.py:\(Self.line("WORKER"))" })

        // Order: native frames from the mmap out to the evaluation loop, then the Python frames that
        // loop ran, then that loop; through map (C) to the next loop and its Python frames.
        let listStack = try #require(arenas.first.map { Self.stack(run.root, of: $0) })
        let names = listStack.map { "\($0["kind"] as? String ?? "?"):\($0["function"] as? String ?? "?")" }
        let list = try #require(names.firstIndex(of: "python:make_list"), "\(names)")
        let loops = names.indices.filter { names[$0] == "native:_PyEval_EvalFrameDefault" }
        let main = try #require(names.firstIndex(of: "python:main"), "\(names)")
        let module = try #require(names.firstIndex(of: "python:<module>"), "\(names)")
        #expect(names[..<list].allSatisfy { $0.hasPrefix("native:") })
        #expect(names.firstIndex(of: "native:_PyObject_ArenaMmap").map { $0 < list } == true)
        #expect(loops.count == 2 && list + 1 == loops[0] && loops[0] < main && main + 1 == module && module + 1 == loops[1], "\(names)")
        #expect(names[loops[0]..<main].contains { $0.contains("map_next") }, "\(names)")
        #expect(listStack[main]["line"] as? Int == Self.line("MAIN_LIST") && listStack[module]["line"] as? Int == Self.line("MODULE"))
        #expect(listStack[list]["file"] as? String == app && listStack[list]["module"] is NSNull)

        // Text report and the report from the trace alone say the same.
        // (lines are wrapped at 120 columns: joined again here)
        let text = run.textReport.replacingOccurrences(of: "\n +", with: " ", options: .regularExpression)
        #expect(text.contains("malloc of 48.0 MiB served by mmap from make_bytes (app.py:\(Self.line("BYTES")))"), "\(run.textReport)")
        let json = dir.path("again.json")
        let again = try runCommand([Build.mapblame, "report", "--format", "json", "-o", json, trace])
        #expect(again.status == 0, "\(again.stderr)")
        let fromTrace = try ReportJSON(path: json)
        #expect(Self.origins(fromTrace.rootProcess ?? [:]).map(Self.site) == origins.map(Self.site))
        let folded = try runCommand([Build.mapblame, "report", "--format", "folded", trace])
        #expect(folded.stdout.contains(";make_list;_PyEval_EvalFrameDefault;") || folded.stdout.contains("make_list;"), "\(folded.stdout.prefix(2000))")
    }

    /// --no-python-frames: the stacks are native only, and the sites the interpreter's C code.
    @Test func switchedOff() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else { try Test.cancel("\(Self.python) is not installed") }
        let dir = try TempDir()
        let app = try dir.write("app.py", Self.script)
        let run = try TracedRun([Self.python, app], options: ["--no-python-frames"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let kinds = Set((run.root["events"] as? [[String: Any]] ?? []).flatMap { ($0["stack"] as? [[String: Any]] ?? []).map { $0["kind"] as? String } })
        #expect(kinds == ["native"])
        #expect(!run.textReport.contains("app.py:"))
    }

    /// The location table decoder against CPython's own reading of it (`co_lines`), for every
    /// instruction of functions with loops, long jumps, comprehensions and lines without code.
    @Test func lineTableAgreesWithCPython() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else { try Test.cancel("\(Self.python) is not installed") }
        let program = """
            import json, dis
            def f(a):
                x = [i * 2 for i in range(a)]

                for j in range(3):
                    if j % 2:
                        x.append(j)
                    else:
                        x.append(
                            -j
                        )
            """ + String(repeating: "\n", count: 300) + """
                return (x,
                        a)
            codes = [f.__code__] + [c for c in f.__code__.co_consts if hasattr(c, "co_lines")] + [dis.dis.__code__]
            print(json.dumps([[list(c.co_linetable), c.co_firstlineno, [[s, e, l] for s, e, l in c.co_lines()]] for c in codes]))
            """
        let out = try runCommand([Self.python, "-c", program])
        #expect(out.status == 0, "\(out.stderr)")
        let codes = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[Any]])
        #expect(codes.count == 3)
        for code in codes {
            let table = (code[0] as? [Int] ?? []).map { UInt8($0) }
            let first = code[1] as? Int ?? 0
            for range in code[2] as? [[Any]] ?? [] {
                let start = range[0] as? Int ?? 0, end = range[1] as? Int ?? 0
                let line = range[2] as? Int ?? -1  // None: no line
                for offset in stride(from: start, to: end, by: 2) {
                    #expect(PythonLineTable.line(table, firstLine: first, offset: offset) == line, "offset \(offset) of \(table.count)-byte table")
                }
            }
        }
    }
}
