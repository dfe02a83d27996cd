import Foundation
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
}

// MARK: - Helpers

/// A temporary directory removed when the value is released.
private final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-sym-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ contents: String) throws -> String {
        try contents.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }
}

private struct CommandFailed: Error, CustomStringConvertible {
    let description: String
}

/// Runs a tool found on PATH and returns its stdout; throws on a non-zero exit.
@discardableResult
private func run(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandFailed(description: "\(tool) \(arguments): \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self)
}

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
