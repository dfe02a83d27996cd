/// Where the dynamic loader's own data lies in a stopped process, found from what the loader
/// publishes: the `r_debug` link-map chain (reached through the executable's DT_DEBUG entry,
/// which ld.so fills in for debuggers) and each thread's thread pointer (fs_base: glibc's TCB,
/// its static TLS block just below, and the DTV it points to). ld.so's early allocations —
/// `_dl_new_object`'s link maps, `_dl_allocate_tls_storage`'s TLS blocks, the version tables of
/// `_dl_check_map_versions` — come from its minimal malloc, in anonymous pages no name tells apart.
package struct LoaderEvidence: Sendable, Equatable {
    package struct Mark: Sendable, Equatable {
        package var address: UInt64
        /// What lies there, in words ("link_map of libc.so.6").
        package var what: String
        /// The loader's own pointer says so (a link in the chain, the thread pointer); false for
        /// a pointer found inside a link_map, whose field is not known by name.
        package var certain: Bool

        package init(address: UInt64, what: String, certain: Bool) {
            self.address = address
            self.what = what
            self.certain = certain
        }
    }

    package var marks: [Mark] = []

    /// Reads the evidence through `read` (address, count → bytes, nil if unreadable).
    package static func probe(auxv: [UInt8], threads: [ExplainSnapshot.Thread], mainPid: Int32,
                      read: (UInt64, Int) -> [UInt8]?) -> LoaderEvidence {
        var evidence = LoaderEvidence()
        for t in threads where t.fsBase != 0 {
            let owner = t.tid == mainPid ? "the main thread" : "thread \(t.tid)"
            evidence.marks.append(Mark(address: t.fsBase, what: "TLS block and TCB of \(owner) (its fs_base)", certain: true))
            if let dtv = read(t.fsBase + 8, 8)?.explainLE64(at: 0), dtv != 0 {
                evidence.marks.append(Mark(address: dtv, what: "DTV of \(owner) (from its TCB)", certain: true))
            }
        }
        guard let rDebug = debugAddress(auxv: auxv, read: read),
              var map = read(rDebug + 8, 8)?.explainLE64(at: 0) else { return evidence }
        var seen: Set<UInt64> = []
        while map != 0, seen.count < 4096, seen.insert(map).inserted, let fields = read(map, linkMapScan) ?? read(map, 40) {
            let name = cString(at: fields.explainLE64(at: 8), read: read)
            let library = name.isEmpty ? "the executable" : (name.split(separator: "/").last.map(String.init) ?? name)
            evidence.marks.append(Mark(address: map, what: "link_map of \(library)", certain: true))
            for offset in stride(from: 40, to: fields.count, by: 8) {
                let pointer = fields.explainLE64(at: offset)
                if pointer != 0 { evidence.marks.append(Mark(address: pointer, what: "data of the link_map of \(library)", certain: false)) }
            }
            map = fields.explainLE64(at: 24)  // l_next
        }
        return evidence
    }

    /// Bytes of each link_map looked through for pointers to the loader's other allocations
    /// (sizeof(struct link_map) is about 1,150 in glibc 2.36; beyond it lie its own name and
    /// scope arrays, allocated with it).
    package static let linkMapScan = 1536

    /// The address of `r_debug`: the executable's dynamic section, found through its program
    /// headers (AT_PHDR, AT_PHNUM in the auxiliary vector), holds it as DT_DEBUG.
    package static func debugAddress(auxv: [UInt8], read: (UInt64, Int) -> [UInt8]?) -> UInt64? {
        var phdr: UInt64 = 0, phnum: UInt64 = 0
        for offset in stride(from: 0, to: auxv.count - 15, by: 16) {
            switch auxv.explainLE64(at: offset) {
            case 3: phdr = auxv.explainLE64(at: offset + 8)  // AT_PHDR
            case 5: phnum = auxv.explainLE64(at: offset + 8)  // AT_PHNUM
            default: break
            }
        }
        guard phdr != 0, (1...256).contains(phnum), let headers = read(phdr, Int(phnum) * 56) else { return nil }
        var bias: UInt64 = 0, dynamic: UInt64?
        for i in 0..<Int(phnum) {
            let type = UInt32(truncatingIfNeeded: headers.explainLE64(at: i * 56)), vaddr = headers.explainLE64(at: i * 56 + 16)
            if type == 6 { bias = phdr &- vaddr }  // PT_PHDR: where the headers are, so the load bias
            if type == 2 { dynamic = vaddr }  // PT_DYNAMIC
        }
        guard let dynamic, let entries = read(bias &+ dynamic, 512 * 16) ?? read(bias &+ dynamic, 64 * 16) else { return nil }
        for offset in stride(from: 0, to: entries.count, by: 16) {
            let tag = entries.explainLE64(at: offset)
            if tag == 0 { return nil }  // DT_NULL
            if tag == 21 { return entries.explainLE64(at: offset + 8) }  // DT_DEBUG
        }
        return nil
    }

    private static func cString(at address: UInt64, read: (UInt64, Int) -> [UInt8]?) -> String {
        guard address != 0 else { return "" }
        // Read up to the end of the page first: the next page may not be mapped.
        let toPageEnd = Int(MemoryFlags.pageSize - address % MemoryFlags.pageSize)
        guard let bytes = read(address, min(toPageEnd, 512)) ?? read(address, 1) else { return "" }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The marks inside `range`, certain ones first.
    package func marks(in range: Range<UInt64>) -> [Mark] {
        marks.filter { range.contains($0.address) }.sorted { $0.certain && !$1.certain }
    }
}
