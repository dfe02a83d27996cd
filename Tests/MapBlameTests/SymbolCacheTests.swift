import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlame

/// The persistent symbol cache (issue 21): reports read from it are the reports computed without
/// it; it is read (not only written); a changed module invalidates its file; concurrent reports
/// leave whole files; --no-cache writes nothing; the directory and each file are bounded.
@Suite("symbol cache")
struct SymbolCacheTests {
    static let program = """
        #include <stdio.h>
        #include <sys/mman.h>
        __attribute__((noinline)) void *cached_site(void) {
            return mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        }
        int main(void) { printf("big=%p\\n", cached_site()); return 0; }
        """

    /// A program built here (so the test may change it), and a trace of it.
    struct Traced {
        let dir: TempDir
        let binary: String
        let trace: String

        init() throws {
            dir = try TempDir()
            binary = dir.path("cachedprog")
            try run("cc", ["-g", "-O0", try dir.write("cachedprog.c", SymbolCacheTests.program), "-o", binary])
            trace = dir.path("t.trace")
            let recorded = try runCommand([Build.mapblame, "record", "-q", "-o", trace, "--", binary])
            try #require(recorded.status == 0, "\(recorded.stderr)")
        }

        /// The JSON report, with the cache in `cache` (nil: --no-cache).
        func report(cache: String?, to name: String) throws -> String {
            let output = dir.path(name)
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_CACHE_HOME"] = cache ?? dir.path("unused-cache")
            let done = try runCommand([Build.mapblame, "report", "--format", "json", "-o", output, trace]
                                      + (cache == nil ? ["--no-cache"] : []), environment: environment)
            try #require(done.status == 0, "\(done.stderr)")
            return try String(contentsOfFile: output, encoding: .utf8)
        }
    }

    static func files(in cache: String) -> [String] {
        let dir = cache + "/mapblame/symbols"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }

    @Test func reportsFromTheCacheAreTheReportsWithout() throws {
        let traced = try Traced()
        let cache = traced.dir.path("cache")
        let without = try traced.report(cache: nil, to: "none.json")
        #expect(!FileManager.default.fileExists(atPath: traced.dir.path("unused-cache/mapblame")), "--no-cache wrote")
        #expect(without.contains("\"cached_site\""))
        let cold = try traced.report(cache: cache, to: "cold.json")
        let files = Self.files(in: cache)
        #expect(files.count >= 2, "the program and libc at least: \(files)")
        let warm = try traced.report(cache: cache, to: "warm.json")
        #expect(cold == without)
        #expect(warm == without)
    }

    /// An answer planted in the program's cache file is what the report shows (the file is read),
    /// until the program file changes (its modification time): then the file is not used.
    @Test func theCacheIsReadAndAChangedModuleInvalidatesIt() throws {
        let traced = try Traced()
        let cache = traced.dir.path("cache")
        _ = try traced.report(cache: cache, to: "first.json")
        let mine = try #require(Self.files(in: cache).first { file in
            (try? String(contentsOfFile: file, encoding: .utf8))?.contains("V =\(traced.binary)\t") == true
        })
        let text = try String(contentsOfFile: mine, encoding: .utf8)
        #expect(text.contains("=cached_site\t"))
        try text.replacingOccurrences(of: "=cached_site\t", with: "=planted_in_cache\t")
            .write(toFile: mine, atomically: true, encoding: .utf8)
        let planted = try traced.report(cache: cache, to: "planted.json")
        #expect(planted.contains("\"planted_in_cache\"") && !planted.contains("\"cached_site\""))

        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, traced.binary, &times, 0) == 0)
        let changed = try traced.report(cache: cache, to: "changed.json")
        #expect(changed.contains("\"cached_site\"") && !changed.contains("\"planted_in_cache\""))
    }

    /// Four reports at once into one empty cache: each is the report without a cache, and what is
    /// left is whole files only (each parses to its end line), no temporary file.
    @Test func concurrentReportsLeaveWholeFiles() throws {
        let traced = try Traced()
        let cache = traced.dir.path("cache")
        let without = try traced.report(cache: nil, to: "none.json")
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CACHE_HOME"] = cache
        let pids = try (0..<4).map { i in
            try spawnClean([Build.mapblame, "report", "--format", "json", "-o", traced.dir.path("p\(i).json"), traced.trace],
                           environment: environment)
        }
        for pid in pids {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            #expect(status == 0)
        }
        for i in 0..<4 { #expect(try String(contentsOfFile: traced.dir.path("p\(i).json"), encoding: .utf8) == without) }
        let files = Self.files(in: cache)
        #expect(!files.isEmpty && files.allSatisfy { $0.hasSuffix(".syms") }, "\(files)")
        for file in files { #expect(SymbolCacheFile.parse(try String(contentsOfFile: file, encoding: .utf8)) != nil, "\(file)") }
    }

    @Test func theFileFormatKeepsEveryStringAndRejectsACutFile() throws {
        let key = SymbolCacheKey(fileOffset: 0x1234, isReturnAddress: true, inlined: true)
        let frames = [SourceSymbol(function: "a\tb%09\nc", file: "/x y/%z.c", line: 7, elfAddress: 0x2234, inlined: true),
                      SourceSymbol(function: "", file: nil, line: nil, elfAddress: 0x2234, inlined: false)]
        let other = SymbolCacheKey(fileOffset: 0, isReturnAddress: false, inlined: false)
        let entries = [key: frames, other: [SourceSymbol(function: nil, file: nil, line: nil, elfAddress: 0)]]
        let validators = [SymbolCacheValidator(path: "/a\tb", state: "1 2.3 4"), SymbolCacheValidator(path: "/c", state: "-")]
        let text = SymbolCacheFile.render(entries, validators: validators)
        let parsed = try #require(SymbolCacheFile.parse(text))
        #expect(parsed.entries == entries)
        #expect(parsed.validators == validators)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast(2)  // the end line (and the empty string after the last newline)
        #expect(SymbolCacheFile.parse(lines.joined(separator: "\n") + "\n") == nil)
        #expect(SymbolCacheFile.parse(text.replacingOccurrences(of: "mapblame-symbols 1", with: "mapblame-symbols 2")) == nil)
    }

    /// At most `entryLimit` addresses per module file; the oldest files go first past `byteLimit`.
    @Test func sizesAreBounded() throws {
        let dir = try TempDir()
        let cache = SymbolCache(directory: dir.path("symbols"), entryLimit: 2, byteLimit: 2_500)
        let identity = SymbolCacheIdentity(buildID: "ab", debuginfoPath: ":.debug:/usr/lib/debug")
        for offset in UInt64(0)..<3 {
            cache.add([SourceSymbol(function: "f", file: nil, line: nil, elfAddress: offset)],
                      for: SymbolCacheKey(fileOffset: offset, isReturnAddress: false, inlined: false), in: identity) {
                [SymbolCacheValidator(current: "/bin/sh")]
            }
        }
        cache.save()
        let written = try String(contentsOfFile: dir.path("symbols/" + identity.fileName), encoding: .utf8)
        #expect(SymbolCacheFile.parse(written)?.entries.count == 2)

        let old = try TempDir()
        for i in 0..<5 {
            let file = old.path("f\(i)")
            try String(repeating: "x", count: 1_000).write(toFile: file, atomically: false, encoding: .utf8)
            var times = [timespec(tv_sec: 1_000_000 + i, tv_nsec: 0), timespec(tv_sec: 1_000_000 + i, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        }
        SymbolCacheFile.trim(old.url.path, to: 2_500)
        #expect(try FileManager.default.contentsOfDirectory(atPath: old.url.path).sorted() == ["f3", "f4"])
    }
}
