import Foundation
import Testing

/// Memory that allocators map is named by the allocator, and the site is the first frame outside
/// it: real allocators (the Go runtime, jemalloc, pymalloc, ld.so's own malloc) under real ptrace.
@Suite("Allocator table")
struct AllocatorTests {
    static func installed(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-alloc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Every origin of the root process with its site's function (nil: no site).
    static func origins(_ run: TracedRun) -> [(origin: [String: Any], site: String?)] {
        ReportJSON.regions(run.root).flatMap { $0["origins"] as? [[String: Any]] ?? [] }
            .map { ($0, ($0["site"] as? [String: Any])?["function"] as? String) }
    }

    /// Sites by mapped bytes, largest first (what the text report's top sites rank).
    static func topSites(_ run: TracedRun, count: Int) -> [String] {
        var bytes: [String: UInt64] = [:]
        for (o, site) in origins(run) {
            guard let site else { continue }
            bytes[site, default: 0] += hex(o["end"]) - hex(o["start"])
        }
        return bytes.sorted { $0.value > $1.value }.prefix(count).map(\.key)
    }

    static let goSource = """
        package main

        import (
            "fmt"
            "sync"
        )

        var sink [][]byte
        var mu sync.Mutex

        func work(n int) {
            var local [][]byte
            for i := 0; i < n; i++ {
                local = append(local, make([]byte, 4096+i%1000))
            }
            mu.Lock()
            sink = append(sink, local...)
            mu.Unlock()
        }

        func main() {
            var wg sync.WaitGroup
            for g := 0; g < 8; g++ {
                wg.Add(1)
                go func() { defer wg.Done(); work(5000) }()
            }
            wg.Wait()
            fmt.Println(len(sink))
        }
        """

    /// With cgo the runtime maps through x_cgo_mmap and libc; C code of the program that calls mmap
    /// itself made its mapping (category mmap, site the C function), not the Go runtime.
    static let cgoSource = goSource.replacingOccurrences(of: "import (", with: """
        /*
        #include <sys/mman.h>
        static void *c_map(void) {
            return mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        }
        */
        import "C"
        import (
        """).replacingOccurrences(of: "fmt.Println(len(sink))", with: "fmt.Println(len(sink))\n    fmt.Printf(\"cmap=%p\\n\", C.c_map())")

    @Test(.enabled(if: installed("/usr/bin/go"), "golang-go is not installed"), arguments: [false, true])
    func goHeapIsTheGoRuntimesNotASiteInsideIt(cgo: Bool) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try (cgo ? Self.cgoSource : Self.goSource).write(to: dir.appendingPathComponent("main.go"), atomically: true, encoding: .utf8)
        let env = ProcessInfo.processInfo.environment.merging([
            "GOCACHE": dir.appendingPathComponent("cache").path, "GOPATH": dir.appendingPathComponent("gopath").path,
            "GOFLAGS": "-mod=mod", "GO111MODULE": "off", "HOME": dir.path,
        ]) { $1 }
        let exe = dir.appendingPathComponent("alloc").path
        let build = try runCommand(["/usr/bin/go", "build", "-o", exe, dir.appendingPathComponent("main.go").path], environment: env)
        try #require(build.status == 0, "go build: \(build.stderr)")

        let run = try TracedRun([exe], options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(run.finished.stdout.hasPrefix("40000\n"))
        if cgo {
            let mapped = try #require(run.origin("cmap"))
            #expect(mapped["category"] as? String == "mmap", "\(mapped)")
            #expect(mapped["allocator"] is NSNull)
            #expect(run.site(of: mapped).function == "c_map")
        }
        let top = Self.topSites(run, count: 10)
        #expect(!top.contains { $0.hasPrefix("runtime.") }, "top sites \(top)")
        #expect(!Self.origins(run).contains { $0.site?.hasPrefix("runtime.") == true })
        // The largest anonymous region is the Go heap arena.
        let largest = try #require(ReportJSON.regions(run.root).filter { ($0["inode"] as? Int) == 0 && ($0["path"] as? String) == "" }
            .max { hex($0["end"]) - hex($0["start"]) < hex($1["end"]) - hex($1["start"]) })
        let heap = try #require(ReportJSON.regions(run.root).first { hex($0["start"]) == 0xc0_0000_0000 }, "no region at 0xc000000000")
        #expect(heap["category"] as? String == "allocator", "\(heap)")
        #expect((heap["label"] as? String)?.hasPrefix("Go heap arena") == true, "\(heap)")
        #expect((heap["origins"] as? [[String: Any]])?.allSatisfy { $0["allocator"] as? String == "Go runtime" } == true)
        #expect(largest["category"] as? String == "allocator", "\(largest)")
        #expect((run.root["verify"] as? [String: Any])?["label_disagreements"] as? [Any] != nil)
    }

    static let cSource = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        __attribute__((noinline)) static void *build_table(size_t n) {
            char **rows = malloc(n * sizeof *rows);
            for (size_t i = 0; i < n; i++) { rows[i] = malloc(100 + i % 300); memset(rows[i], 1, 100); }
            return rows;
        }
        int main(void) { printf("%p\n", build_table(200000)); return 0; }
        """#

    /// Allocators preloaded in front of glibc malloc: (library, allocator name).
    static let preloaded = [("libjemalloc.so.2", "jemalloc"), ("libtcmalloc_minimal.so.4", "tcmalloc"),
                            ("libmimalloc.so.2", "mimalloc")]

    /// The memory each maps is named by it, the site is the C function calling malloc, never a
    /// frame inside the allocator. (tcmalloc grows the brk heap: category heap, "grown by tcmalloc".)
    @Test(arguments: preloaded)
    func preloadedMallocsAreNamedByTheCallerOfMalloc(library: String, name: String) throws {
        let path = "/usr/lib/x86_64-linux-gnu/" + library
        try #require(FileManager.default.fileExists(atPath: path), "\(library) is not installed")
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("table.c"), exe = dir.appendingPathComponent("table").path
        try Self.cSource.write(to: src, atomically: true, encoding: .utf8)
        let cc = try runCommand(["/usr/bin/env", "cc", "-g", "-O0", "-o", exe, src.path])
        try #require(cc.status == 0, "cc: \(cc.stderr)")

        let run = try TracedRun([exe], options: ["--verify"], environment: ["LD_PRELOAD": path])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(Self.topSites(run, count: 1) == ["build_table"], "\(Self.topSites(run, count: 5))")
        let made = Self.origins(run).filter { $0.origin["allocator"] as? String == name }
        #expect(!made.isEmpty)
        #expect(made.contains { ($0.origin["label"] as? String)?.contains(" from build_table (") == true })
        let inside = Self.origins(run).compactMap { ($0.origin["site"] as? [String: Any])?["module"] as? String }
            .filter { $0.hasSuffix("/" + library) || $0.contains(library.split(separator: ".").first ?? "") }
        #expect(inside.isEmpty, "sites inside \(library): \(inside.count)")
        if name == "jemalloc" {
            #expect(made.allSatisfy { $0.origin["category"] as? String == "allocator" })
            #expect(made.contains { ($0.origin["label"] as? String)?.hasPrefix("jemalloc extent from build_table (") == true })
        }
    }

    @Test(.enabled(if: installed("/usr/bin/python3"), "python3 is not installed"))
    func pymallocArenasArePymallocs() throws {
        let run = try TracedRun(["/usr/bin/python3", "-c", "x = [(i, str(i)) for i in range(300000)]"], options: ["--verify"])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        let arenas = Self.origins(run).filter { $0.origin["allocator"] as? String == "pymalloc" }
        #expect(!arenas.isEmpty)
        #expect(arenas.allSatisfy { ($0.origin["label"] as? String)?.hasPrefix("pymalloc arena") == true })
        #expect(!Self.origins(run).contains { $0.site == "_PyObject_ArenaMmap" || $0.site == "new_arena" })
    }

    /// ld.so's own early memory (its minimal malloc, before libc's is relocated) is the loader's,
    /// never a "malloc" with no site.
    @Test func loaderMemoryIsTheLoaders() throws {
        let run = try TracedRun.fixture("mmap")
        for process in run.report.processes {
            let anonymous = ReportJSON.regions(process).filter { ($0["inode"] as? Int) == 0 }
            for origin in anonymous.flatMap({ $0["origins"] as? [[String: Any]] ?? [] }) {
                guard let id = origin["event"] as? Int, origin["syscall"] as? String == "mmap",
                      let event = ReportJSON.event(process, id: id),
                      let frames = event["stack"] as? [[String: Any]], !frames.isEmpty,
                      frames.allSatisfy({ ($0["module"] as? String)?.contains("ld-linux") == true }) else { continue }
                #expect(["loader", "bss"].contains(origin["category"] as? String), "\(origin)")
            }
        }
        let loader = ReportJSON.regions(run.root).flatMap { $0["origins"] as? [[String: Any]] ?? [] }
            .filter { $0["category"] as? String == "loader" }
        #expect(!loader.isEmpty)
        #expect(loader.allSatisfy { $0["allocator"] as? String == "ld.so" })
    }
}
