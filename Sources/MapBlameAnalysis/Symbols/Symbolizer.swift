import CElfUtils
#if canImport(Glibc)
import Glibc
import MapBlameModel
#endif

/// What a code address of a module resolves to. Unknown parts are nil.
public struct SourceSymbol: Sendable, Hashable, Codable {
    /// Demangled function name, nil when unknown.
    public var function: String?
    /// Source file path as recorded in DWARF (full path when available), nil when unknown.
    public var file: String?
    /// Source line, nil when unknown.
    public var line: Int?
    /// The ELF virtual address (p_vaddr space) the file offset corresponds to.
    public var elfAddress: UInt64
    /// True for a frame of code inlined into its caller (every frame of `symbolizeInlined` but the
    /// last); false for a real, out-of-line function and always for `symbolize`.
    public var inlined: Bool

    public init(function: String?, file: String?, line: Int?, elfAddress: UInt64, inlined: Bool = false) {
        self.function = function
        self.file = file
        self.line = line
        self.elfAddress = elfAddress
        self.inlined = inlined
    }

    private enum CodingKeys: String, CodingKey {
        case function, file, line, elfAddress, inlined
    }

    /// `inlined` is optional in the encoding, so data written before it existed still decodes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        function = try container.decodeIfPresent(String.self, forKey: .function)
        file = try container.decodeIfPresent(String.self, forKey: .file)
        line = try container.decodeIfPresent(Int.self, forKey: .line)
        elfAddress = try container.decode(UInt64.self, forKey: .elfAddress)
        inlined = try container.decodeIfPresent(Bool.self, forKey: .inlined) ?? false
    }
}

/// Resolves code addresses of ELF modules offline (the process may be gone): one libdwfl session per
/// module file, opened once and cached; each (path, fileOffset, isReturnAddress) result cached too.
/// Not thread-safe; a final class used from one thread.
public final class Symbolizer {
    private struct ResultKey: Hashable {
        package let path: String
        package let fileOffset: UInt64
        package let isReturnAddress: Bool
    }

    /// libdwfl's debuginfo search path: the default (next to the file, `.debug/`, `/usr/lib/debug`,
    /// the latter also searched by build-id) followed by the caller's directories.
    let debuginfoPath: String
    /// Open sessions by path; a stored nil records that the file could not be opened.
    private var sessions: [String: ModuleSession?] = [:]
    private var results: [ResultKey: SourceSymbol] = [:]
    private var inlinedResults: [ResultKey: [SourceSymbol]] = [:]
    /// Where each module is read: the files `run` and `attach` held open for modules whose
    /// recorded path leads elsewhere here (another mount namespace); by path otherwise.
    public let handles = ModuleHandles()
    /// Symbols kept between runs (`SymbolCache`); nil: none (`--no-cache`, and the default).
    public var cache: SymbolCache?

    public init(debugDirectories: [String] = []) {
        debuginfoPath = ([":.debug:/usr/lib/debug"] + debugDirectories).joined(separator: ":")
    }

    /// `fileOffset` is the offset of the instruction within the ELF file: ip - mappingStart + mappingFileOffset,
    /// taken from /proc/PID/maps at record time. It is converted to an ELF virtual address via the PT_LOAD
    /// program headers; an offset outside every PT_LOAD (or an unreadable file) yields an all-nil symbol
    /// whose elfAddress is the offset itself.
    /// When `isReturnAddress` is true, address-1 (inside the call instruction) is looked up for the
    /// function/line, but elfAddress is still that of the given offset.
    public func symbolize(path: String, fileOffset: UInt64, isReturnAddress: Bool) -> SourceSymbol {
        let key = ResultKey(path: path, fileOffset: fileOffset, isReturnAddress: isReturnAddress)
        if let cached = results[key] { return cached }
        if let stored = stored(path: path, fileOffset: fileOffset, isReturnAddress: isReturnAddress, inlined: false)?.first {
            results[key] = stored
            return stored
        }
        var symbol = SourceSymbol(function: nil, file: nil, line: nil, elfAddress: fileOffset)
        if let session = session(for: path), let address = session.elfAddress(forFileOffset: fileOffset) {
            let lookupAddress = isReturnAddress && address > 0 ? address - 1 : address
            symbol = session.lookup(elfAddress: lookupAddress)
            symbol.elfAddress = address
        }
        results[key] = symbol
        store([symbol], path: path, fileOffset: fileOffset, isReturnAddress: isReturnAddress, inlined: false)
        return symbol
    }

    /// The frames at this address, innermost first: for code inlined into a function, one frame per
    /// inlined call (function = the inlined function, file/line = the location inside it, and for each
    /// outer frame the call site: DW_AT_call_file / DW_AT_call_line of the inlined_subroutine), ending
    /// with the real (non-inlined) function. Without inlining: exactly one frame, equal to symbolize(...).
    ///
    /// Every frame has the elfAddress of the given offset, and `inlined` is true for all but the last.
    /// The innermost frame's file/line and the last frame's function are those of `symbolize`. Whenever
    /// the DWARF is incomplete or inconsistent (an unnamed inlined function, a scope chain that does not
    /// end in the function `symbolize` names, ...) the result is the single frame of `symbolize`.
    public func symbolizeInlined(path: String, fileOffset: UInt64, isReturnAddress: Bool) -> [SourceSymbol] {
        let key = ResultKey(path: path, fileOffset: fileOffset, isReturnAddress: isReturnAddress)
        if let cached = inlinedResults[key] { return cached }
        if let stored = stored(path: path, fileOffset: fileOffset, isReturnAddress: isReturnAddress, inlined: true) {
            inlinedResults[key] = stored
            return stored
        }
        let outermost = symbolize(path: path, fileOffset: fileOffset, isReturnAddress: isReturnAddress)
        var frames = [outermost]
        if let session = session(for: path), let address = session.elfAddress(forFileOffset: fileOffset) {
            let lookupAddress = isReturnAddress && address > 0 ? address - 1 : address
            if let chain = session.inlinedFrames(elfAddress: lookupAddress, symbol: outermost) {
                frames = chain
            }
        }
        inlinedResults[key] = frames
        store(frames, path: path, fileOffset: fileOffset, isReturnAddress: isReturnAddress, inlined: true)
        return frames
    }

    /// For probe addresses around the symbols of a module's table, the index's answer and
    /// libdwfl's (tests).
    package func compareSymbolTable(path: String) -> [(address: UInt64, indexed: String?, libdwfl: String?)] {
        // libdwfl's answer scans the whole table: the probes of about 1,500 symbols are enough.
        session(for: path)?.symbolTableComparison(symbols: 1_500) ?? []
    }

    /// Opens a module and reads its DWARF index and symbol table now, so that its lookups are quick
    /// later (`SymbolPrefetcher`).
    public func prepare(path: String) {
        guard !cacheAnswers(path: path) else { return }  // its lookups are mostly stored: no DWARF ahead
        session(for: path)?.prepare()
    }

    /// Whether a module was opened (tests).
    package func isOpen(path: String) -> Bool {
        sessions[path].map { $0 != nil } ?? false
    }

    /// Build-id of a module as lowercase hex, nil if none or unreadable.
    public func buildID(path: String) -> String? {
        session(for: path)?.buildID
    }

    /// Where the module recorded as `path` is read now (nil: its frames get no names).
    public func location(of path: String) -> String? {
        handles.location(of: path)
    }

    func session(for path: String) -> ModuleSession? {
        if let cached = sessions[path] { return cached }
        let opened = location(of: path).flatMap { ModuleSession(path: $0, debuginfoPath: debuginfoPath) }
        sessions[path] = .some(opened)
        return opened
    }
}

/// One libdwfl session holding a single module, reported at its p_vaddr addresses.
final class ModuleSession {
    private let dwfl: OpaquePointer
    /// libdwfl keeps this pointer for the session's lifetime, so it lives on the heap.
    private let callbacks: UnsafeMutablePointer<Dwfl_Callbacks>
    let module: OpaquePointer
    /// Module address = ELF vaddr + mainBias (0 as reported, but taken from libdwfl to be safe).
    private let mainBias: Dwarf_Addr
    private let loadSegments: [(fileOffset: UInt64, fileSize: UInt64, vaddr: UInt64)]
    package let buildID: String?
    /// The module's DWARF and an index of its compile units, built on first use; nil without DWARF.
    private lazy var units: CompileUnitIndex? = CompileUnitIndex(module: module)
    /// The module's symbol table sorted by address, built on first use.
    private lazy var symbols = SymbolTable(module: module)

    package init?(path: String, debuginfoPath: String) {
        let pathStorage = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
        pathStorage.initialize(to: strdup(debuginfoPath))
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: Dwfl_Callbacks(
            find_elf: dwfl_build_id_find_elf,
            find_debuginfo: dwfl_standard_find_debuginfo,
            section_address: dwfl_offline_section_address,
            debuginfo_path: pathStorage))
        guard let dwfl = dwfl_begin(callbacks) else {
            Self.release(callbacks)
            return nil
        }
        // ET_DYN: base 0 with add_p_vaddr places the file at its own p_vaddr (bias 0);
        // ET_EXEC: libdwfl always uses p_vaddr. Either way module addresses are ELF vaddrs.
        dwfl_report_begin(dwfl)
        let reported = dwfl_report_elf(dwfl, path, path, -1, 0, true)
        var bias: Dwarf_Addr = 0
        guard dwfl_report_end(dwfl, nil, nil) == 0, let reported,
              let elf = dwfl_module_getelf(reported, &bias) else {
            dwfl_end(dwfl)
            Self.release(callbacks)
            return nil
        }
        self.dwfl = dwfl
        module = reported
        mainBias = bias
        loadSegments = Self.loadSegments(of: elf)
        buildID = Self.buildID(of: reported)
    }

    deinit {
        dwfl_end(dwfl)
        Self.release(callbacks)
    }

    private static func release(_ callbacks: UnsafeMutablePointer<Dwfl_Callbacks>) {
        if let pathStorage = callbacks.pointee.debuginfo_path {
            free(pathStorage.pointee)
            pathStorage.deallocate()
        }
        callbacks.deallocate()
    }

    private static func loadSegments(of elf: OpaquePointer) -> [(fileOffset: UInt64, fileSize: UInt64, vaddr: UInt64)] {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return [] }
        return (0..<Int32(clamping: count)).compactMap { index in
            var phdr = GElf_Phdr()
            guard gelf_getphdr(elf, index, &phdr) != nil, phdr.p_type == PT_LOAD else { return nil }
            return (phdr.p_offset, phdr.p_filesz, phdr.p_vaddr)
        }
    }

    private static func buildID(of module: OpaquePointer) -> String? {
        var bits: UnsafePointer<UInt8>?
        var vaddr: GElf_Addr = 0
        let length = dwfl_module_build_id(module, &bits, &vaddr)
        guard length > 0, let bits else { return nil }
        let hexDigits = Array("0123456789abcdef")
        return String(UnsafeBufferPointer(start: bits, count: Int(length)).flatMap {
            [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0xf)]]
        })
    }

    /// Builds what lookups use: the compile-unit index (inflating the DWARF) and the symbol table.
    package func prepare() {
        _ = units
        _ = symbols
    }

    /// p_offset <= off < p_offset + p_filesz → vaddr = off - p_offset + p_vaddr.
    package func elfAddress(forFileOffset offset: UInt64) -> UInt64? {
        loadSegments.first { offset >= $0.fileOffset && offset - $0.fileOffset < $0.fileSize }
            .map { offset - $0.fileOffset + $0.vaddr }
    }

    /// Function from DWARF, else from the symbol tables; file:line from DWARF only.
    package func lookup(elfAddress: UInt64) -> SourceSymbol {
        let address = elfAddress &+ mainBias
        var symbol = SourceSymbol(function: nil, file: nil, line: nil, elfAddress: elfAddress)
        if let units, var cu = units.compileUnit(containing: address &- units.bias) {
            let dwarfAddress = address &- units.bias
            symbol.function = Self.subprogramName(in: &cu, at: dwarfAddress)
            if let line = dwarf_getsrc_die(&cu, dwarfAddress), let source = dwarf_linesrc(line, nil, nil) {
                var number: Int32 = 0
                if dwarf_lineno(line, &number) == 0, number > 0 {
                    symbol.file = String(cString: source)
                    symbol.line = Int(number)
                }
            }
        }
        if symbol.function == nil {
            symbol.function = symbolTableName(at: address)
        }
        return symbol
    }

    /// Name of the outermost non-inlined subprogram containing the address (for inlined code, the
    /// function it was inlined into), preferring the demangled linkage name. dwarf_getscopes is no
    /// help here: for inlined code it continues with the inlined function's abstract scopes and
    /// never reaches the concrete caller, so the CU's function DIEs are searched instead.
    private static func subprogramName(in cu: inout Dwarf_Die, at address: Dwarf_Addr) -> String? {
        guard var function = subprogram(in: &cu, at: address) else { return nil }
        return functionName(of: &function)
    }

    /// The outermost function DIE of the CU containing the address, per dwarf_getfuncs.
    private static func subprogram(in cu: inout Dwarf_Die, at address: Dwarf_Addr) -> Dwarf_Die? {
        var search = FunctionSearch(address: address)
        _ = withUnsafeMutablePointer(to: &search) { searchPointer in
            dwarf_getfuncs(&cu, { die, context in
                guard let die, let search = context?.assumingMemoryBound(to: FunctionSearch.self) else {
                    return Int32(DWARF_CB_ABORT)
                }
                guard dwarf_haspc(die, search.pointee.address) == 1 else { return Int32(DWARF_CB_OK) }
                search.pointee.found = die.pointee
                return Int32(DWARF_CB_ABORT)
            }, searchPointer, 0)
        }
        return search.found
    }

    /// The demangled linkage name of a subprogram or inlined_subroutine DIE, else its DW_AT_name;
    /// both looked up through DW_AT_abstract_origin / DW_AT_specification.
    private static func functionName(of die: inout Dwarf_Die) -> String? {
        var attribute = Dwarf_Attribute()
        for name in [DW_AT_linkage_name, DW_AT_MIPS_linkage_name] {
            if let found = dwarf_attr_integrate(&die, UInt32(name), &attribute),
               let mangled = dwarf_formstring(found) {
                return Demangler.demangle(String(cString: mangled))
            }
        }
        return dwarf_diename(&die).map { String(cString: $0) }
    }

    /// The inline frames at an address, innermost first, given `symbol`, the result of `lookup` for
    /// it; nil when the address is not in inlined code or when the DWARF does not add up.
    ///
    /// dwarf_getscopes gives the innermost scope DIE, but for inlined code its chain stops at the
    /// innermost inlined_subroutine (then the abstract origin's scopes); the concrete chain, through
    /// every level of inlining up to the real function, comes from dwarf_getscopes_die on that DIE
    /// (as eu-addr2line -i does). The chain must end in the function dwarf_getfuncs found, and so
    /// `symbol.function` names the last frame.
    package func inlinedFrames(elfAddress: UInt64, symbol: SourceSymbol) -> [SourceSymbol]? {
        let address = elfAddress &+ mainBias
        guard let units, symbol.function != nil, var cu = units.compileUnit(containing: address &- units.bias)
        else { return nil }
        let pc = address &- units.bias

        var scopes: UnsafeMutablePointer<Dwarf_Die>?
        let scopeCount = dwarf_getscopes(&cu, pc, &scopes)
        defer { free(scopes) }
        guard scopeCount > 0, var innermost = scopes?.pointee,
              dwarf_tag(&innermost) != Int32(DW_TAG_compile_unit) else { return nil }
        var chain: UnsafeMutablePointer<Dwarf_Die>?
        let chainCount = dwarf_getscopes_die(&innermost, &chain)
        defer { free(chain) }
        guard chainCount > 1, let chain else { return nil }

        // The chain: [blocks and inlined_subroutines..., subprogram, (namespaces...,) CU of `cu`].
        var last = chain[Int(chainCount) - 1]
        guard dwarf_dieoffset(&last) == dwarf_dieoffset(&cu) else { return nil }
        var inlinedCalls: [Dwarf_Die] = []
        var function: Dwarf_Die?
        for index in 0..<Int(chainCount) - 1 {
            var die = chain[index]
            guard dwarf_haspc(&die, pc) == 1 else { return nil }
            switch Int(dwarf_tag(&die)) {
            case Int(DW_TAG_inlined_subroutine):
                inlinedCalls.append(die)
            case Int(DW_TAG_subprogram):
                function = die
            case Int(DW_TAG_lexical_block), Int(DW_TAG_try_block), Int(DW_TAG_catch_block),
                 Int(DW_TAG_with_stmt):
                continue
            default:
                return nil
            }
            if function != nil { break }
        }
        guard !inlinedCalls.isEmpty, var function, var expected = Self.subprogram(in: &cu, at: pc),
              dwarf_dieoffset(&function) == dwarf_dieoffset(&expected) else { return nil }

        guard let callSites = Self.callSites(of: &inlinedCalls, in: &cu) else { return nil }
        var frames: [SourceSymbol] = []
        var location = (file: symbol.file, line: symbol.line)
        for (index, var call) in inlinedCalls.enumerated() {
            guard let name = Self.functionName(of: &call) else { return nil }
            frames.append(SourceSymbol(function: name, file: location.file, line: location.line,
                                       elfAddress: symbol.elfAddress, inlined: true))
            location = callSites[index]
        }
        frames.append(SourceSymbol(function: symbol.function, file: location.file, line: location.line,
                                   elfAddress: symbol.elfAddress, inlined: false))
        return frames
    }

    /// DW_AT_call_file (resolved in the CU's file table) and DW_AT_call_line of each inlined_subroutine;
    /// nil parts when absent, nil overall when a file index is out of the table's range.
    private static func callSites(of calls: inout [Dwarf_Die], in cu: inout Dwarf_Die)
        -> [(file: String?, line: Int?)]? {
        var files: OpaquePointer?
        var fileCount = 0
        let haveFiles = dwarf_getsrcfiles(&cu, &files, &fileCount) == 0
        var version: Dwarf_Half = 0
        if dwarf_cu_info(cu.cu, &version, nil, nil, nil, nil, nil, nil) != 0 { return nil }
        var sites: [(file: String?, line: Int?)] = []
        for index in calls.indices {
            var attribute = Dwarf_Attribute()
            var value: Dwarf_Word = 0
            var file: String?
            if dwarf_formudata(dwarf_attr(&calls[index], UInt32(DW_AT_call_file), &attribute), &value) == 0,
               value > 0 || version >= 5 {
                guard haveFiles, value < fileCount, let name = dwarf_filesrc(files, Int(value), nil, nil)
                else { return nil }
                file = String(cString: name)
            }
            var line: Int?
            if dwarf_formudata(dwarf_attr(&calls[index], UInt32(DW_AT_call_line), &attribute), &value) == 0,
               value > 0 {
                line = Int(value)
            }
            sites.append((file, line))
        }
        return sites
    }

    /// .symtab (also from separate debug info) or .dynsym, as libdwfl finds them, through a sorted
    /// index (SymbolTable) built on first use.
    private func symbolTableName(at address: Dwarf_Addr) -> String? {
        symbols.name(at: address).map { Demangler.demangle(String(cString: $0)) }
    }

    /// The index's answer and libdwfl's own (which scans the whole table) at the probe addresses of
    /// about `symbols` symbols spread over the table, by ELF address (tests).
    package func symbolTableComparison(symbols wanted: Int) -> [(address: UInt64, indexed: String?, libdwfl: String?)] {
        let probes = symbols.probeAddresses  // five per symbol
        let stride = max(1, probes.count / 5 / wanted)
        return probes.enumerated().filter { ($0.offset / 5) % stride == 0 }.map { _, address in
            (address &- mainBias, symbols.name(at: address).map { String(cString: $0) },
             libdwflSymbolName(at: address).map { String(cString: $0) })
        }
    }

    /// libdwfl's answer. A sized symbol that does not contain the address is rejected (libdwfl
    /// 0.188 already refuses those; this guards other versions).
    private func libdwflSymbolName(at address: Dwarf_Addr) -> UnsafePointer<CChar>? {
        var offset: GElf_Off = 0
        var sym = GElf_Sym()
        guard let name = dwfl_module_addrinfo(module, address, &offset, &sym, nil, nil, nil) else { return nil }
        return sym.st_size > 0 && offset >= sym.st_size ? nil : name
    }
}

/// State of a dwarf_getfuncs search for the first (outermost) function DIE containing an address.
private struct FunctionSearch {
    package let address: Dwarf_Addr
    package var found: Dwarf_Die?
}

/// The compile units of a module's DWARF with their address ranges, for finding the CU of an
/// address without .debug_aranges (clang and swiftc emit none, and elfutils 0.188 then finds nothing).
private struct CompileUnitIndex {
    package let bias: Dwarf_Addr
    private var dies: [Dwarf_Die] = []
    /// [low, high) ranges in DWARF addresses sorted by low, each with its index into `dies`.
    private var ranges: [(low: Dwarf_Addr, high: Dwarf_Addr, die: Int)] = []
    /// maxHigh[i] = max of ranges[0...i].high: lets a lookup stop scanning back over overlaps.
    private var maxHigh: [Dwarf_Addr] = []

    package init?(module: OpaquePointer) {
        var bias: Dwarf_Addr = 0
        guard let dwarf = dwfl_module_getdwarf(module, &bias) else { return nil }
        self.bias = bias
        var cu: OpaquePointer?
        var next: OpaquePointer?
        var cuDie = Dwarf_Die()
        while dwarf_get_units(dwarf, cu, &next, nil, nil, &cuDie, nil) == 0 {
            cu = next
            var offset = 0
            var base: Dwarf_Addr = 0, low: Dwarf_Addr = 0, high: Dwarf_Addr = 0
            while true {
                offset = dwarf_ranges(&cuDie, offset, &base, &low, &high)
                guard offset > 0 else { break }
                if low < high { ranges.append((low, high, dies.count)) }
            }
            dies.append(cuDie)
        }
        ranges.sort { $0.low < $1.low }
        var highest: Dwarf_Addr = 0
        maxHigh = ranges.map { range in
            highest = max(highest, range.high)
            return highest
        }
    }

    package func compileUnit(containing address: Dwarf_Addr) -> Dwarf_Die? {
        // Last range starting at or below the address, then back while earlier ones may reach it.
        var lower = 0, upper = ranges.count
        while lower < upper {
            let middle = (lower + upper) / 2
            if ranges[middle].low <= address { lower = middle + 1 } else { upper = middle }
        }
        var index = lower - 1
        while index >= 0 && maxHigh[index] > address {
            if address < ranges[index].high { return dies[ranges[index].die] }
            index -= 1
        }
        return nil
    }
}
