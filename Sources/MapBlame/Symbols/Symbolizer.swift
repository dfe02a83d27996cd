import CElfUtils
#if canImport(Glibc)
import Glibc
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

    public init(function: String?, file: String?, line: Int?, elfAddress: UInt64) {
        self.function = function
        self.file = file
        self.line = line
        self.elfAddress = elfAddress
    }
}

/// Resolves code addresses of ELF modules offline (the process may be gone): one libdwfl session per
/// module file, opened once and cached; each (path, fileOffset, isReturnAddress) result cached too.
/// Not thread-safe; a final class used from one thread.
public final class Symbolizer {
    private struct ResultKey: Hashable {
        let path: String
        let fileOffset: UInt64
        let isReturnAddress: Bool
    }

    /// libdwfl's debuginfo search path: the default (next to the file, `.debug/`, `/usr/lib/debug`,
    /// the latter also searched by build-id) followed by the caller's directories.
    private let debuginfoPath: String
    /// Open sessions by path; a stored nil records that the file could not be opened.
    private var sessions: [String: ModuleSession?] = [:]
    private var results: [ResultKey: SourceSymbol] = [:]

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
        var symbol = SourceSymbol(function: nil, file: nil, line: nil, elfAddress: fileOffset)
        if let session = session(for: path), let address = session.elfAddress(forFileOffset: fileOffset) {
            let lookupAddress = isReturnAddress && address > 0 ? address - 1 : address
            symbol = session.lookup(elfAddress: lookupAddress)
            symbol.elfAddress = address
        }
        results[key] = symbol
        return symbol
    }

    /// Build-id of a module as lowercase hex, nil if none or unreadable.
    public func buildID(path: String) -> String? {
        session(for: path)?.buildID
    }

    private func session(for path: String) -> ModuleSession? {
        if let cached = sessions[path] { return cached }
        let opened = ModuleSession(path: path, debuginfoPath: debuginfoPath)
        sessions[path] = .some(opened)
        return opened
    }
}

/// One libdwfl session holding a single module, reported at its p_vaddr addresses.
private final class ModuleSession {
    private let dwfl: OpaquePointer
    /// libdwfl keeps this pointer for the session's lifetime, so it lives on the heap.
    private let callbacks: UnsafeMutablePointer<Dwfl_Callbacks>
    private let module: OpaquePointer
    /// Module address = ELF vaddr + mainBias (0 as reported, but taken from libdwfl to be safe).
    private let mainBias: Dwarf_Addr
    private let loadSegments: [(fileOffset: UInt64, fileSize: UInt64, vaddr: UInt64)]
    let buildID: String?
    /// The module's DWARF and an index of its compile units, built on first use; nil without DWARF.
    private lazy var units: CompileUnitIndex? = CompileUnitIndex(module: module)

    init?(path: String, debuginfoPath: String) {
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

    /// p_offset <= off < p_offset + p_filesz → vaddr = off - p_offset + p_vaddr.
    func elfAddress(forFileOffset offset: UInt64) -> UInt64? {
        loadSegments.first { offset >= $0.fileOffset && offset - $0.fileOffset < $0.fileSize }
            .map { offset - $0.fileOffset + $0.vaddr }
    }

    /// Function from DWARF, else from the symbol tables; file:line from DWARF only.
    func lookup(elfAddress: UInt64) -> SourceSymbol {
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
        guard var function = search.found else { return nil }
        var attribute = Dwarf_Attribute()
        for name in [DW_AT_linkage_name, DW_AT_MIPS_linkage_name] {
            if let found = dwarf_attr_integrate(&function, UInt32(name), &attribute),
               let mangled = dwarf_formstring(found) {
                return Demangler.demangle(String(cString: mangled))
            }
        }
        return dwarf_diename(&function).map { String(cString: $0) }
    }

    /// .symtab (also from separate debug info) or .dynsym, as libdwfl finds them. A sized symbol
    /// that does not cover the address is rejected: in a stripped file the closest symbol below is
    /// usually the wrong function. (libdwfl 0.188 already refuses those; this guards other versions.)
    private func symbolTableName(at address: Dwarf_Addr) -> String? {
        var offset: GElf_Off = 0
        var sym = GElf_Sym()
        guard let name = dwfl_module_addrinfo(module, address, &offset, &sym, nil, nil, nil) else { return nil }
        if sym.st_size > 0 && offset >= sym.st_size { return nil }
        return Demangler.demangle(String(cString: name))
    }
}

/// State of a dwarf_getfuncs search for the first (outermost) function DIE containing an address.
private struct FunctionSearch {
    let address: Dwarf_Addr
    var found: Dwarf_Die?
}

/// The compile units of a module's DWARF with their address ranges, for finding the CU of an
/// address without .debug_aranges (clang and swiftc emit none, and elfutils 0.188 then finds nothing).
private struct CompileUnitIndex {
    let bias: Dwarf_Addr
    private var dies: [Dwarf_Die] = []
    /// [low, high) ranges in DWARF addresses sorted by low, each with its index into `dies`.
    private var ranges: [(low: Dwarf_Addr, high: Dwarf_Addr, die: Int)] = []
    /// maxHigh[i] = max of ranges[0...i].high: lets a lookup stop scanning back over overlaps.
    private var maxHigh: [Dwarf_Addr] = []

    init?(module: OpaquePointer) {
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

    func compileUnit(containing address: Dwarf_Addr) -> Dwarf_Die? {
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
