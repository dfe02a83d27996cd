import Foundation
import Testing

/// The unwinder is only shown code mapped from ELF files. libunwind 1.6.2 unmaps the image of a
/// file that is not ELF twice (the second time through a stale pointer, into whatever this process
/// mapped there since): mapblame crashed tracing Chromium once an unwind strayed into
/// v8_context_snapshot.bin. mbfixture foreign-code makes mapping calls from code in a file with no
/// ELF header; the preloaded libmbunmapcheck.so aborts mapblame at the first munmap of memory that
/// is not mapped, so the double unmap fails the test every time, not only when it hits something.
@Suite("unwinder safety")
struct UnwinderSafetyTests {
    static var unmapCheck: String { Build.fixtureDirectory + "/libmbunmapcheck.so" }

    // Under a sanitizer its runtime must come first in the library list, before any preload.
    @Test(.enabled(if: !Build.sanitizer, "the sanitizer runtime refuses a preloaded library"))
    func codeInAFileThatIsNotELFIsNotUnwoundThroughLibunwind() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-foreign-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("r.json").path
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = Self.unmapCheck
        let run = try runCommand([Build.mapblame, "run", "--verify", "--json", json, "-o", "/dev/null", "--",
                                  Build.fixture, "foreign-code"], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("unmapcheck"), "\(run.stderr)")
        let report = try ReportJSON(path: json)
        let foreign = UInt64(run.values["foreign"]?.dropFirst(2) ?? "", radix: 16) ?? 0
        let origin = ReportJSON.origin(report.rootProcess ?? [:], containing: foreign)
        #expect(origin?["category"] as? String == "mmap", "\(origin ?? [:])")
        #expect((report.rootProcess?["verify"] as? [String: Any])?["mismatched_pages"] as? Int == 0)
    }

    /// The check itself: a second munmap of the same range aborts.
    @Test(.enabled(if: !Build.sanitizer, "the sanitizer runtime refuses a preloaded library"))
    func theUnmapCheckCatchesADoubleUnmap() throws {
        let python = "import mmap, ctypes\nlibc = ctypes.CDLL(None)\nlibc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]\n"
            + "libc.mmap.restype = ctypes.c_void_p\nlibc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
            + "p = libc.mmap(None, 8192, 3, 0x22, -1, 0)\nlibc.munmap(p, 8192)\nlibc.munmap(p, 8192)\n"
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = Self.unmapCheck
        let run = try runCommand(["/usr/bin/python3", "-c", python], environment: environment)
        #expect(run.status == 128 + SIGABRT, "\(run.stderr)")
        #expect(run.stderr.contains("unmapcheck: munmap("))
    }
}
