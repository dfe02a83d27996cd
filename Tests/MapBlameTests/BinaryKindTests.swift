import Foundation
import MapBlameTestSupport
import Testing

/// Every kind of binary under `mapblame run`: programs compiled here from `Sources/Fixtures/kinds`
/// (static and static-pie C, Rust with either mangling) must get full stacks and their own
/// functions as sites, named in their language's words. Site lines come from `// @site:` markers.
@Suite(.serialized) struct BinaryKindTests {
    static let sources = Build.packageRoot + "/Sources/Fixtures/kinds"

    /// Debian's rustc (`make deps` installs it), the one CI has, even where a rustup toolchain
    /// comes first on PATH.
    static let rustc: String? = ["/usr/bin/rustc"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("Rust: frames and sites demangled, with v0 and with legacy mangling",
          .enabled(if: rustc != nil, "rustc is not installed (make deps installs Debian's rustc)"),
          arguments: [true, false])
    func rustProgram(v0: Bool) throws {
        let dir = try TempDir()
        let source = Self.sources + "/grow.rs"
        let binary = dir.path("grow")
        let mangling = v0 ? ["-C", "symbol-mangling-version=v0"] : []
        try run(Self.rustc!, ["-g", "-C", "opt-level=0"] + mangling + [source, "-o", binary])
        // The program's own symbols are mangled as asked (Debian's libstd is legacy either way).
        #expect(try run("nm", [binary]).contains(v0 ? "_RNvCs" : "4grow11make_buffer17h"))

        let traced = try TracedRun([binary])
        #expect(traced.finished.status == 0)
        let markers = SiteMarkers.lines(in: source)
        let buffer = traced.origin("buffer")
        #expect(traced.site(of: buffer).function == "grow::make_buffer")
        #expect(traced.site(of: buffer).line == markers["rust_buffer"])
        #expect((buffer?["label"] as? String)?.hasPrefix("calloc of 4.0 MiB served by mmap from grow::make_buffer") == true)
        let table = traced.site(of: traced.origin("table"))
        #expect(table.function == (v0 ? "<grow::cache::Table>::with_capacity" : "grow::cache::Table::with_capacity"))
        #expect(table.line == markers["rust_table"])

        let names = ReportJSON.stackFunctions(traced.root)
        #expect(names.contains("alloc::alloc::alloc_zeroed"))  // the alloc crate, readable
        #expect(names.filter { $0.hasPrefix("_R") || $0.hasPrefix("_ZN") }.isEmpty)
    }
}

extension BinaryKindTests {
    /// Statically linked C (libc inside the executable): `-static` is ET_EXEC with no
    /// .eh_frame_hdr (libunwind alone stopped after the first frame: `mmap: __mmap64`), and both
    /// kinds carry libc's internal functions in the program's own module (the site was `mmap` or
    /// `brk` when "outside libc" was decided by module only).
    @Test("Static C: full stacks, the program's own functions as sites", arguments: ["-static", "-static-pie"])
    func staticProgram(linking: String) throws {
        let dir = try TempDir()
        let source = Self.sources + "/layout.c"
        let binary = dir.path("layout")
        try run("cc", ["-g", "-O0", linking, source, "-o", binary])
        let headers = try run("readelf", ["-lhW", binary])
        #expect(headers.contains(linking == "-static" ? "EXEC" : "DYN") && !headers.contains("INTERP"))

        let traced = try TracedRun([binary])
        #expect(traced.finished.status == 0)
        let markers = SiteMarkers.lines(in: source)
        let big = traced.origin("big")
        #expect(big?["label"] as? String == "malloc of 4.0 MiB served by mmap from my_function (layout.c:\(markers["big_malloc"]!))")
        let table = traced.site(of: traced.origin("table"))
        #expect(table.function == "map_table" && table.line == markers["table_mmap"])
        // Full stacks: every mapping call of the program reaches main, and then glibc's start.
        let stacks = (traced.root["events"] as? [[String: Any]] ?? []).map { event in
            (event["stack"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
        }
        let fromMain = stacks.filter { $0.contains("main") }
        #expect(fromMain.count >= 2)
        #expect(fromMain.allSatisfy { $0.last == "_start" })
        // Heap growth made by libc's own start-up has no site in the program.
        let heap = ReportJSON.regions(traced.root).filter { $0["path"] as? String == "[heap]" }
        #expect(!heap.isEmpty)
        #expect(heap.flatMap { $0["origins"] as? [[String: Any]] ?? [] }.allSatisfy { $0["site"] == nil || $0["site"] is NSNull })
    }
}

extension BinaryKindTests {
    /// clang (next to swift, or on the system) with its ld.lld, which lays segments out sharing file
    /// pages (the code's p_offset is not page-aligned): libunwind 1.6's ptrace accessors match a code
    /// mapping to its segment by exact p_offset and so find no unwind table for such a module, and
    /// every stack stopped at its first frame in it (rustup's Rust links with lld by default).
    static let lldCompiler: String? = ["/opt/swift/usr/bin/clang", "/usr/bin/clang"].first { clang in
        let directory = (clang as NSString).deletingLastPathComponent
        return FileManager.default.isExecutableFile(atPath: clang)
            && FileManager.default.isExecutableFile(atPath: directory + "/ld.lld")
    }

    @Test("lld-linked C: stacks unwound through the program's own code",
          .enabled(if: lldCompiler != nil, "no clang with ld.lld (the Swift toolchain has both)"))
    func lldLinkedProgram() throws {
        let dir = try TempDir()
        let source = Self.sources + "/layout.c"
        let binary = dir.path("layout")
        try run(Self.lldCompiler!, ["-g", "-O0", "-fuse-ld=lld", source, "-o", binary])
        // lld's mark: the code segment's file offset is not page-aligned.
        let code = try run("readelf", ["-lW", binary]).split(separator: "\n").first { $0.contains("LOAD") && $0.contains("R E") }
        let offset = code.flatMap { UInt64($0.split(separator: " ")[1].dropFirst(2), radix: 16) }
        #expect(offset.map { $0 % 4096 != 0 } == true, "\(String(describing: code))")

        let traced = try TracedRun([binary])
        #expect(traced.finished.status == 0)
        let markers = SiteMarkers.lines(in: source)
        #expect(traced.site(of: traced.origin("big")).line == markers["big_malloc"])
        let stacks = (traced.root["events"] as? [[String: Any]] ?? []).map { event in
            (event["stack"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
        }
        let programs = stacks.filter { $0.contains("my_function") || $0.contains("map_table") }
        #expect(programs.count >= 2)
        #expect(programs.allSatisfy { $0.contains("main") && $0.last == "_start" }, "\(programs)")
    }
}
