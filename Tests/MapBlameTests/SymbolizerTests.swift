import Foundation
import MapBlameTestSupport
import Testing
@testable import MapBlame

/// Symbolizer tests against real ELF files: C programs compiled at test time, and the system libc
/// with its libc6-dbg debug info. Expected addresses come from binutils (nm, readelf, objdump).
@Suite struct SymbolizerTests {
    static let libc = "/lib/x86_64-linux-gnu/libc.so.6"

    /// `cc` (gcc: emits .debug_aranges) and, when present, clang (emits none, so the CU walk is used).
    static let compilers = ["cc"] + ["/opt/swift/usr/bin/clang", "/usr/bin/clang"]
        .filter { FileManager.default.isExecutableFile(atPath: $0) }.prefix(1)

    /// Line numbers below are asserted exactly; keep them in sync with this text.
    static let programSource = """
        #include <stdio.h>

        static int helper(int x) {
            return x * 2 + 1;
        }

        int entry_point(int x) {
            helper(x);
            return x - 3;
        }

        int main(int argc, char **argv) {
            (void)argv;
            return entry_point(argc);
        }
        """

    @Test("C program: function, file and line, PIE (ET_DYN) and non-PIE (ET_EXEC)",
          arguments: compilers, [false, true])
    func compiledProgram(compiler: String, nonPIE: Bool) throws {
        let dir = try TempDir()
        let source = try dir.write("prog.c", Self.programSource)
        let binary = dir.path("prog")
        let pieFlags = nonPIE ? ["-fno-pie", "-no-pie"] : ["-fPIE", "-pie"]
        try run(compiler, ["-g", "-O0"] + pieFlags + [source, "-o", binary])
        #expect(try run("readelf", ["-hW", binary]).contains(nonPIE ? "EXEC" : "DYN"))

        // The copy without .symtab must get its names from DWARF alone.
        let withoutSymtab = try stripSymtab(binary)
        let helper = try nmAddress(of: "helper", in: binary)
        let entryPoint = try nmAddress(of: "entry_point", in: binary)
        let callReturn = try returnAddress(ofCallTo: "helper", in: binary)
        let symbolizer = Symbolizer()
        for path in [binary, withoutSymtab] {
            func symbolize(_ vaddr: UInt64, isReturnAddress: Bool = false) throws -> SourceSymbol {
                symbolizer.symbolize(path: path, fileOffset: try fileOffset(of: vaddr, in: path),
                                     isReturnAddress: isReturnAddress)
            }
            for (vaddr, name, line) in [(helper, "helper", 3), (entryPoint, "entry_point", 7)] {
                let symbol = try symbolize(vaddr)
                #expect(symbol.function == name)
                #expect(symbol.file.map { URL(fileURLWithPath: $0).lastPathComponent } == "prog.c")
                #expect(symbol.line == line)
                #expect(symbol.elfAddress == vaddr)
            }
            // The return address of `call helper` is the first instruction of line 9; as a return
            // address it must resolve to the call on line 8.
            let asReturn = try symbolize(callReturn, isReturnAddress: true)
            let asIP = try symbolize(callReturn)
            #expect(asReturn == SourceSymbol(function: "entry_point", file: source, line: 8, elfAddress: callReturn))
            #expect(asIP == SourceSymbol(function: "entry_point", file: source, line: 9, elfAddress: callReturn))
        }
    }

    @Test("Inlined code: the caller's name, the inlined code's line", arguments: compilers)
    func inlinedCode(compiler: String) throws {
        let dir = try TempDir()
        let source = try dir.write("inline.c", """
            static inline __attribute__((always_inline)) int twice(int x) {
                int y = x * 2;
                return y + 1;
            }

            int outer(int x) {
                int a = twice(x);
                return a - 1;
            }

            int main(int argc, char **argv) { (void)argv; return outer(argc); }
            """)
        let binary = dir.path("inline")
        try run(compiler, ["-g", "-O2", source, "-o", binary])
        let outer = try nmAddress(of: "outer", in: binary)
        let withoutSymtab = try stripSymtab(binary)
        let symbol = Symbolizer().symbolize(path: withoutSymtab, fileOffset: try fileOffset(of: outer, in: binary),
                                            isReturnAddress: false)
        #expect(symbol == SourceSymbol(function: "outer", file: source, line: 2, elfAddress: outer))
    }

    @Test("Stripped program: separate debug info found by build-id in debugDirectories")
    func separateDebugInfo() throws {
        let dir = try TempDir()
        let source = try dir.write("prog.c", Self.programSource)
        let binary = dir.path("prog")
        try run("cc", ["-g", "-O0", "-Wl,--build-id", source, "-o", binary])
        let vaddr = try nmAddress(of: "helper", in: binary)

        let buildID = try #require(Symbolizer().buildID(path: binary))
        #expect(try run("readelf", ["-n", binary]).contains("Build ID: \(buildID)"))
        let debugDir = dir.path("debug")
        let buildIDDir = "\(debugDir)/.build-id/\(buildID.prefix(2))"
        try FileManager.default.createDirectory(atPath: buildIDDir, withIntermediateDirectories: true)
        try run("objcopy", ["--only-keep-debug", binary, "\(buildIDDir)/\(buildID.dropFirst(2)).debug"])
        try run("strip", ["--strip-all", binary])

        let offset = try fileOffset(of: vaddr, in: binary)
        let withDebug = Symbolizer(debugDirectories: [debugDir])
            .symbolize(path: binary, fileOffset: offset, isReturnAddress: false)
        #expect(withDebug.function == "helper")
        #expect(withDebug.line == 3)
        let withoutDebug = Symbolizer().symbolize(path: binary, fileOffset: offset, isReturnAddress: false)
        #expect(withoutDebug == SourceSymbol(function: nil, file: nil, line: nil, elfAddress: vaddr))
    }

    @Test("Stripped library: .dynsym symbol that does not cover the address is not used")
    func dynsymOnly() throws {
        let dir = try TempDir()
        let source = try dir.write("lib.c", """
            static int hidden_worker(int x);

            int exported_entry(int x) {
                return hidden_worker(x) + 1;
            }

            static int hidden_worker(int x) {
                int total = 0;
                for (int i = 0; i < x; i++) total += i * x;
                return total;
            }
            """)
        let library = dir.path("lib.so")
        try run("cc", ["-g", "-O0", "-shared", "-fPIC", source, "-o", library])
        let exported = try nmAddress(of: "exported_entry", in: library)
        let hidden = try nmAddress(of: "hidden_worker", in: library)
        try #require(hidden > exported, "the test needs exported_entry to be the closest symbol below")
        try run("strip", ["--strip-all", library])

        let symbolizer = Symbolizer()
        let entry = symbolizer.symbolize(path: library, fileOffset: try fileOffset(of: exported, in: library),
                                         isReturnAddress: false)
        #expect(entry == SourceSymbol(function: "exported_entry", file: nil, line: nil, elfAddress: exported))
        let inside = symbolizer.symbolize(path: library, fileOffset: try fileOffset(of: hidden + 4, in: library),
                                          isReturnAddress: false)
        #expect(inside == SourceSymbol(function: nil, file: nil, line: nil, elfAddress: hidden + 4))
    }

    @Test("libc: exported malloc")
    func libcMalloc() throws {
        let vaddr = try nmAddress(of: "malloc", in: Self.libc, dynamic: true)
        let symbol = Symbolizer().symbolize(path: Self.libc, fileOffset: try fileOffset(of: vaddr, in: Self.libc),
                                            isReturnAddress: false)
        #expect(symbol.function?.contains("malloc") == true)
        #expect(symbol.file?.hasSuffix("malloc.c") == true)
        #expect(symbol.line != nil)
        #expect(symbol.elfAddress == vaddr)
    }

    @Test("libc: internal functions named from libc6-dbg", arguments: ["sysmalloc", "_int_malloc", "new_heap"])
    func libcInternal(name: String) throws {
        let symbolizer = Symbolizer()
        let buildID = try #require(symbolizer.buildID(path: Self.libc))
        #expect(try run("readelf", ["-n", Self.libc]).contains("Build ID: \(buildID)"))
        let debugFile = "/usr/lib/debug/.build-id/\(buildID.prefix(2))/\(buildID.dropFirst(2)).debug"
        let vaddr = try nmAddress(of: name, in: debugFile) + 0x10
        let symbol = symbolizer.symbolize(path: Self.libc, fileOffset: try fileOffset(of: vaddr, in: Self.libc),
                                          isReturnAddress: true)
        #expect(symbol.function == name)
        #expect(symbol.file?.hasSuffix(".c") == true)
        #expect(symbol.elfAddress == vaddr)
    }

    /// Modules with large tables of each kind: libc (.symtab from libc6-dbg, locals and aliases),
    /// ld.so, Debian's stripped cc1 (29,000 .dynsym entries), this machine's python3 and gcc.
    static let symbolTableModules: [String] = {
        let cc1 = (try? run("gcc", ["-print-prog-name=cc1"]))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return ([libc, "/lib64/ld-linux-x86-64.so.2", cc1, "/usr/bin/python3"] as [String?])
            .compactMap { $0 }.filter { FileManager.default.fileExists(atPath: $0) }
    }()

    @Test("Symbol table index: libdwfl's answer at the start, middle, end and edges of every symbol",
          arguments: symbolTableModules)
    func symbolTableIndex(module: String) {
        let comparison = Symbolizer().compareSymbolTable(path: module)
        #expect(comparison.count > 50, "\(module): \(comparison.count) probes")
        let differing = comparison.filter { $0.indexed != $0.libdwfl }
        #expect(differing.isEmpty, "\(module): \(differing.count) of \(comparison.count) differ, first: \(differing.prefix(5).map { "0x\(String($0.address, radix: 16)) \($0.indexed ?? "nil") vs \($0.libdwfl ?? "nil")" })")
        #expect(comparison.contains { $0.indexed != nil } && comparison.contains { $0.indexed == nil })
    }

    @Test("Missing and non-ELF files give an unknown symbol")
    func unreadableFiles() throws {
        let dir = try TempDir()
        let notELF = try dir.write("notes.txt", "not an ELF file\n")
        let symbolizer = Symbolizer(debugDirectories: [dir.path("nowhere")])
        for path in ["/nonexistent/libnothing.so", notELF, dir.path("")] {
            for isReturnAddress in [false, true] {
                let symbol = symbolizer.symbolize(path: path, fileOffset: 0x1234, isReturnAddress: isReturnAddress)
                #expect(symbol == SourceSymbol(function: nil, file: nil, line: nil, elfAddress: 0x1234))
            }
            #expect(symbolizer.buildID(path: path) == nil)
        }
    }

    @Test("Demangling: C++, Swift, plain and invalid names")
    func demangling() {
        #expect(Demangler.demangle("_ZN3foo3barEi") == "foo::bar(int)")
        #expect(Demangler.demangle("_ZNSt6vectorIiSaIiEE9push_backERKi")
                == "std::vector<int, std::allocator<int> >::push_back(int const&)")
        #expect(Demangler.demangle("$sSi") == "Swift.Int")
        #expect(Demangler.demangle("$sSS5countSivg") == "Swift.String.count.getter : Swift.Int")
        #expect(Demangler.demangle("malloc") == "malloc")
        #expect(Demangler.demangle("_Znotmangled") == "_Znotmangled")
        #expect(Demangler.demangle("$snotmangled") == "$snotmangled")
    }

    /// Names as rustc emits them (from `nm` of Sources/Fixtures/kinds/grow.rs and Debian's libstd):
    /// the hash of a legacy name and the crate disambiguators of a v0 name are dropped, as
    /// `rustfilt` and `c++filt` print them.
    @Test("Demangling: Rust's legacy and v0 schemes")
    func rustDemangling() {
        #expect(Demangler.demangle("_ZN4grow11make_buffer17h9801c0e083e6f551E") == "grow::make_buffer")
        #expect(Demangler.demangle("_RNvCsjz4sOEACdZp_4grow11make_buffer") == "grow::make_buffer")
        #expect(Demangler.demangle("_RNvMNtCsjz4sOEACdZp_4grow5cacheNtB2_5Table13with_capacity")
                == "<grow::cache::Table>::with_capacity")
        #expect(Demangler.demangle("_RNvNtCsihNoVIYWwLU_5alloc5alloc12alloc_zeroedCsjz4sOEACdZp_4grow")
                == "alloc::alloc::alloc_zeroed")
        #expect(Demangler.demangle("_ZN3std2rt10lang_start17h3a3d2e5d1a4b5c6dE") == "std::rt::lang_start")
        // A C++ name that merely ends like a hash stays C++; a broken v0 name stays as it is.
        #expect(Demangler.demangle("_ZN3foo3barEv") == "foo::bar()")
        #expect(Demangler.demangle("_RNvC") == "_RNvC")
    }
}

/// `symbolizeInlined` against GNU `addr2line -i -f`, which prints exactly the inline chain of an
/// address: programs compiled at test time with two levels of always_inline, and libc's malloc.
@Suite struct InlineSymbolizerTests {
    /// Line numbers below are asserted exactly; keep them in sync with this text.
    static let programSource = """
        __attribute__((noinline)) int sink(int v) {
            __asm__ volatile("" ::: "memory");
            return v + 1;
        }

        static inline __attribute__((always_inline)) int leaf(int x) {
            int z = x * x;
            z = sink(z);
            return z ^ 7;
        }

        static inline __attribute__((always_inline)) int middle(int x) {
            int y = leaf(x + 1);
            return y * 3;
        }

        __attribute__((noinline)) int outer(int x) {
            int a = middle(x);
            return a - 1;
        }

        int main(int argc, char **argv) { (void)argv; return outer(argc); }
        """

    /// DWARF 4 and 5 number DW_AT_call_file differently (from 1, from 0).
    @Test("Two levels of inlining: every instruction of the caller agrees with addr2line -i",
          arguments: SymbolizerTests.compilers, ["-gdwarf-4", "-gdwarf-5"])
    func inlineChain(compiler: String, dwarfVersion: String) throws {
        let dir = try TempDir()
        let source = try dir.write("inline2.c", Self.programSource)
        let binary = dir.path("inline2")
        try run(compiler, [dwarfVersion, "-O2", source, "-o", binary])
        #expect(try run("readelf", ["--debug-dump=info", binary]).contains("Version:       \(dwarfVersion.suffix(1))"))
        let addresses = try instructionAddresses(of: "outer", in: binary)
        try #require(addresses.count > 3)
        let oracle = try addr2lineFrames(binary, addresses)
        try #require(oracle.count == addresses.count)

        let symbolizer = Symbolizer()
        // The copy without .symtab names the real function from DWARF alone.
        for path in [binary, try stripSymtab(binary)] {
            var chains: [[String?]] = []
            for address in addresses {
                let offset = try fileOffset(of: address, in: path)
                let frames = symbolizer.symbolizeInlined(path: path, fileOffset: offset, isReturnAddress: false)
                let single = symbolizer.symbolize(path: path, fileOffset: offset, isReturnAddress: false)
                #expect(frames.map(OracleFrame.init) == oracle[address], "at 0x\(String(address, radix: 16)) in \(path)")
                checkInvariants(frames, single: single, address: address)
                chains.append(frames.map(\.function))
            }
            #expect(chains.contains(["leaf", "middle", "outer"]), "\(chains)")
            #expect(chains.contains(["outer"]), "\(chains)")
            #expect(chains.allSatisfy { $0.last == "outer" }, "\(chains)")

            // The return address of the call to sink, inside leaf inside middle inside outer: as a return
            // address the call's line 8 and the call sites on lines 13 and 18.
            let callReturn = try returnAddress(ofCallTo: "sink", in: binary)
            let offset = try fileOffset(of: callReturn, in: path)
            let asReturn = symbolizer.symbolizeInlined(path: path, fileOffset: offset, isReturnAddress: true)
            #expect(asReturn == [
                SourceSymbol(function: "leaf", file: source, line: 8, elfAddress: callReturn, inlined: true),
                SourceSymbol(function: "middle", file: source, line: 13, elfAddress: callReturn, inlined: true),
                SourceSymbol(function: "outer", file: source, line: 18, elfAddress: callReturn, inlined: false),
            ])
            #expect(asReturn.map(OracleFrame.init) == (try addr2lineFrames(binary, [callReturn - 1]))[callReturn - 1])
            let asIP = symbolizer.symbolizeInlined(path: path, fileOffset: offset, isReturnAddress: false)
            #expect(asIP.map(OracleFrame.init) == (try addr2lineFrames(binary, [callReturn]))[callReturn])
            // Cached results are the same.
            #expect(symbolizer.symbolizeInlined(path: path, fileOffset: offset, isReturnAddress: true) == asReturn)
        }
    }

    @Test("C++: inlined and real function names demangled",
          arguments: [("c++", "twice"), ("/opt/swift/usr/bin/clang++", "ns::twice(int)")]
              .filter { FileManager.default.isExecutableFile(atPath: $0.0) || $0.0 == "c++" })
    func cplusplus(compiler: String, inlinedName: String) throws {
        let dir = try TempDir()
        let source = try dir.write("inline.cc", """
            namespace ns {
            static inline __attribute__((always_inline)) int twice(int x) {
                int y = x * x;
                return y ^ 7;
            }

            struct Box {
                __attribute__((noinline)) static int outer(int x) {
                    int a = twice(x + 1);
                    return a * 3 - 1;
                }
            };
            }

            int main(int argc, char **) { return ns::Box::outer(argc); }
            """)
        let binary = dir.path("inline")
        try run(compiler, ["-g", "-O2", source, "-o", binary])
        let addresses = try instructionAddresses(of: "_ZN2ns3Box5outerEi", in: binary)
        let oracle = try addr2lineFrames(binary, addresses)
        let symbolizer = Symbolizer()
        var chains: [[String?]] = []
        for address in addresses {
            let offset = try fileOffset(of: address, in: binary)
            let frames = symbolizer.symbolizeInlined(path: binary, fileOffset: offset, isReturnAddress: false)
            checkInvariants(frames, single: symbolizer.symbolize(path: binary, fileOffset: offset, isReturnAddress: false),
                            address: address)
            // GNU addr2line names g++'s inlined frame after the caller, so only files and lines are compared.
            #expect(frames.map { OracleFrame(function: nil, file: $0.file, line: $0.line) }
                    == oracle[address]?.map { OracleFrame(function: nil, file: $0.file, line: $0.line) },
                    "at 0x\(String(address, radix: 16))")
            chains.append(frames.map(\.function))
        }
        // g++ gives the static inline function no linkage name, so its frame has the plain DW_AT_name.
        #expect(chains.contains([inlinedName, "ns::Box::outer(int)"]), "\(chains)")
        #expect(chains.allSatisfy { $0.last == "ns::Box::outer(int)" && $0.count <= 2 }, "\(chains)")
    }

    @Test("No inlining: one frame, equal to symbolize", arguments: SymbolizerTests.compilers)
    func notInlined(compiler: String) throws {
        let dir = try TempDir()
        let source = try dir.write("prog.c", SymbolizerTests.programSource)
        let binary = dir.path("prog")
        try run(compiler, ["-g", "-O0", source, "-o", binary])
        let addresses = try instructionAddresses(of: "entry_point", in: binary)
            + instructionAddresses(of: "helper", in: binary)
        try #require(addresses.count > 4)
        let oracle = try addr2lineFrames(binary, addresses)
        let symbolizer = Symbolizer()
        for address in addresses {
            let offset = try fileOffset(of: address, in: binary)
            for isReturnAddress in [false, true] {
                let frames = symbolizer.symbolizeInlined(path: binary, fileOffset: offset, isReturnAddress: isReturnAddress)
                let single = symbolizer.symbolize(path: binary, fileOffset: offset, isReturnAddress: isReturnAddress)
                #expect(frames == [single])
                #expect(!single.inlined)
            }
            let frames = symbolizer.symbolizeInlined(path: binary, fileOffset: offset, isReturnAddress: false)
            #expect(frames.map(OracleFrame.init) == oracle[address], "at 0x\(String(address, radix: 16))")
            #expect(frames.first?.function == "entry_point" || frames.first?.function == "helper")
        }
    }

    @Test("libc: every instruction of malloc agrees with addr2line -i")
    func libcMalloc() throws {
        let libc = SymbolizerTests.libc
        let addresses = try instructionAddresses(of: "malloc", in: libc, dynamic: true)
        try #require(addresses.count > 10)
        let oracle = try addr2lineFrames(libc, addresses)
        let symbolizer = Symbolizer()
        var inlinedFrames = 0
        for address in addresses {
            let offset = try fileOffset(of: address, in: libc)
            let frames = symbolizer.symbolizeInlined(path: libc, fileOffset: offset, isReturnAddress: false)
            checkInvariants(frames, single: symbolizer.symbolize(path: libc, fileOffset: offset, isReturnAddress: false),
                            address: address)
            try #require(!frames.isEmpty)
            #expect(frames.last?.function?.contains("malloc") == true)
            #expect(frames.allSatisfy { $0.function != nil && $0.line != nil })
            inlinedFrames += frames.count - 1
            // libc's DWARF paths are relative ("./malloc/malloc.c"), which binutils and libdw join with the
            // compilation directory differently, so files compare by name. addr2line names the real
            // function after its symbol (__GI___libc_malloc), so the last name is not compared.
            let ours = frames.map(OracleFrame.init).map(\.withFileName)
            let expected = (oracle[address] ?? []).map(\.withFileName)
            #expect(ours.dropLast() == expected.dropLast() && ours.last?.file == expected.last?.file
                    && ours.last?.line == expected.last?.line && ours.count == expected.count,
                    "at 0x\(String(address, radix: 16)): \(ours) vs \(expected)")
        }
        #expect(inlinedFrames > 0, "malloc's fast path (tcache_get etc.) is inlined")
    }

    @Test("Missing and non-ELF files give one unknown frame")
    func unreadableFiles() throws {
        let dir = try TempDir()
        let notELF = try dir.write("notes.txt", "not an ELF file\n")
        let symbolizer = Symbolizer()
        for path in ["/nonexistent/libnothing.so", notELF] {
            for isReturnAddress in [false, true] {
                #expect(symbolizer.symbolizeInlined(path: path, fileOffset: 0x1234, isReturnAddress: isReturnAddress)
                        == [SourceSymbol(function: nil, file: nil, line: nil, elfAddress: 0x1234)])
            }
        }
    }

    @Test("SourceSymbol decodes without `inlined` and round-trips with it")
    func coding() throws {
        let old = #"{"function":"f","file":"a.c","line":3,"elfAddress":16}"#
        let decoded = try JSONDecoder().decode(SourceSymbol.self, from: Data(old.utf8))
        #expect(decoded == SourceSymbol(function: "f", file: "a.c", line: 3, elfAddress: 16))
        let symbol = SourceSymbol(function: "g", file: nil, line: nil, elfAddress: 32, inlined: true)
        #expect(try JSONDecoder().decode(SourceSymbol.self, from: JSONEncoder().encode(symbol)) == symbol)
    }

    /// One frame per chain element: only the last not inlined, all at the address; the innermost
    /// location and the real function are those of symbolize.
    private func checkInvariants(_ frames: [SourceSymbol], single: SourceSymbol, address: UInt64,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(frames.map(\.inlined) == Array(repeating: true, count: max(frames.count - 1, 0)) + [false],
                sourceLocation: sourceLocation)
        #expect(frames.allSatisfy { $0.elfAddress == address }, sourceLocation: sourceLocation)
        #expect(frames.first?.file == single.file && frames.first?.line == single.line, sourceLocation: sourceLocation)
        #expect(frames.last?.function == single.function, sourceLocation: sourceLocation)
        if frames.count == 1 { #expect(frames == [single], sourceLocation: sourceLocation) }
    }
}

// MARK: - Helpers

/// A copy of an executable without .symtab/.strtab but with its DWARF; returns the copy's path.
private func stripSymtab(_ path: String) throws -> String {
    try run("objcopy", ["--strip-all", "--keep-section=.debug_*", path, path + "-nosymtab"])
    return path + "-nosymtab"
}

/// st_value of a symbol per `nm` (`nm -D` for dynamic symbols).
private func nmAddress(of symbol: String, in path: String, dynamic: Bool = false) throws -> UInt64 {
    let lines = try run("nm", (dynamic ? ["-D"] : []) + [path]).split(separator: "\n")
    for line in lines {
        let fields = line.split(separator: " ")
        let name = fields.last?.split(separator: "@").first
        if fields.count == 3, name.map(String.init) == symbol, let value = UInt64(fields[0], radix: 16) {
            return value
        }
    }
    throw CommandFailed(description: "no symbol \(symbol) in \(path)")
}

/// Inverse of the PT_LOAD mapping, from `readelf -lW`: the file offset holding an ELF vaddr.
private func fileOffset(of vaddr: UInt64, in path: String) throws -> UInt64 {
    for line in try run("readelf", ["-lW", path]).split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.first == "LOAD", fields.count >= 5 else { continue }
        let numbers = fields[1...4].compactMap { UInt64($0.dropFirst(2), radix: 16) }
        guard numbers.count == 4 else { continue }
        let (offset, segmentVaddr, fileSize) = (numbers[0], numbers[1], numbers[3])
        if vaddr >= segmentVaddr && vaddr - segmentVaddr < fileSize { return vaddr - segmentVaddr + offset }
    }
    throw CommandFailed(description: "vaddr \(vaddr) not in a PT_LOAD of \(path)")
}

/// Address of the instruction after the first `call <function>`, per `objdump -d`.
private func returnAddress(ofCallTo function: String, in path: String) throws -> UInt64 {
    let addresses = try run("objdump", ["-d", "--no-show-raw-insn", path]).split(separator: "\n")
        .compactMap { line -> (UInt64, Bool)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let address = UInt64(parts[0].trimmingCharacters(in: .whitespaces), radix: 16)
            else { return nil }
            return (address, parts[1].contains("call") && parts[1].hasSuffix("<\(function)>"))
        }
    guard let call = addresses.firstIndex(where: { $0.1 }), call + 1 < addresses.count else {
        throw CommandFailed(description: "no call to \(function) in \(path)")
    }
    return addresses[call + 1].0
}

/// A frame as GNU addr2line prints it; nil for "??" and line 0.
private struct OracleFrame: Equatable, CustomStringConvertible {
    var function: String?
    var file: String?
    var line: Int?

    init(function: String?, file: String?, line: Int?) {
        self.function = function
        self.file = file
        self.line = line
    }

    init(_ symbol: SourceSymbol) {
        self.init(function: symbol.function, file: symbol.file, line: symbol.line)
    }

    var withFileName: OracleFrame {
        OracleFrame(function: function, file: file.map { URL(fileURLWithPath: $0).lastPathComponent }, line: line)
    }

    var description: String { "\(function ?? "??") \(file ?? "??"):\(line ?? 0)" }
}

/// `addr2line -a -i -f` for ELF vaddrs: each address's inline chain, innermost first.
private func addr2lineFrames(_ path: String, _ addresses: [UInt64]) throws -> [UInt64: [OracleFrame]] {
    let output = try run("addr2line", ["-a", "-i", "-f", "-e", path] + addresses.map { "0x" + String($0, radix: 16) })
    var result: [UInt64: [OracleFrame]] = [:]
    var current: UInt64?
    var lines = output.split(separator: "\n").makeIterator()
    while let line = lines.next() {
        if line.hasPrefix("0x"), let address = UInt64(line.dropFirst(2), radix: 16) {
            current = address
            result[address] = []
            continue
        }
        guard let current, var location = lines.next().map(String.init), let colon = location.lastIndex(of: ":")
        else { throw CommandFailed(description: "unexpected addr2line output: \(output)") }
        if let discriminator = location.range(of: " (discriminator") {
            location = String(location[..<discriminator.lowerBound])
        }
        let file = String(location[..<colon])
        let number = Int(location[location.index(after: colon)...].prefix { $0.isNumber }) ?? 0
        result[current]?.append(OracleFrame(function: line == "??" ? nil : String(line),
                                            file: file == "??" ? nil : file, line: number == 0 ? nil : number))
    }
    return result
}

/// The instruction addresses of a function, per `nm -S` (`nm -DS` for dynamic symbols) and `objdump -d`.
private func instructionAddresses(of function: String, in path: String, dynamic: Bool = false) throws -> [UInt64] {
    let nmArguments: [String] = (dynamic ? ["-D"] : []) + ["-S", path]
    let symbols: [[Substring]] = try run("nm", nmArguments).split(separator: "\n").map { $0.split(separator: " ") }
    let fields = symbols.first { fields in
        fields.count == 4 && fields[3].split(separator: "@").first.map(String.init) == function
    }
    guard let fields, let start = UInt64(fields[0], radix: 16), let size = UInt64(fields[1], radix: 16), size > 0
    else { throw CommandFailed(description: "no sized symbol \(function) in \(path)") }
    let range = ["--start-address=0x" + String(start, radix: 16), "--stop-address=0x" + String(start + size, radix: 16)]
    let disassembly = try run("objdump", ["-d", "--no-show-raw-insn"] + range + [path])
    return disassembly.split(separator: "\n").compactMap { line in
        guard line.hasPrefix(" "), let colon = line.firstIndex(of: ":") else { return nil }
        return UInt64(line[..<colon].trimmingCharacters(in: .whitespaces), radix: 16)
    }
}
