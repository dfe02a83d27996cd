import CElfUtils
import MapBlameModel

/// A module's ELF symbol table (.symtab, else .dynsym, as libdwfl finds them: from the file or its
/// separate debug info), sorted by address once so that each lookup is a binary search.
/// libdwfl's dwfl_module_addrinfo scans every symbol on every lookup: 29,000 of them in Debian's
/// stripped cc1, which made that scan most of the time of a `gcc -c` report.
///
/// The choice is libdwfl's (0.188, dwfl_module_addrsym.c): the sized symbols containing the
/// address taken in libdwfl's visiting order with its replacement rule (locals only when no global
/// or weak one contains it); without one, an assembly label (`label(at:below:)`). Section, file and
/// TLS symbols, undefined or unnamed ones and those of non-allocated sections are never names.
/// SymbolizerTests compare the two around the symbols of real modules.
package struct SymbolTable {
    private struct Entry {
        package let address: Dwarf_Addr
        package let size: UInt64
        /// 3 global, 2 weak, 1 local (libdwfl's preference).
        package let binding: UInt8
        package let index: Int32
        /// Owned by the libdwfl session, which outlives this table.
        package let name: UnsafePointer<CChar>
        /// SHN_ABS and the like: a sizeless one only names its exact address.
        package let isAbsolute: Bool
    }

    private let module: OpaquePointer

    /// Sorted by address, then table order.
    private var entries: [Entry] = []
    /// farthestEnd[i] = max over entries[0...i] of address + size: how far back a lookup must scan
    /// for a sized symbol still containing the address, and where the last symbol below it ends.
    private var farthestEnd: [Dwarf_Addr] = []
    /// The same over the global and weak entries only (libdwfl's first pass).
    private var farthestGlobalEnd: [Dwarf_Addr] = []
    /// lastLabel[pass][i]: the index of the last sizeless entry at or before i, of the global and
    /// weak entries (pass 0) or the local ones (pass 1); -1 if none.
    private var lastLabel: [[Int]] = [[], []]

    package init(module: OpaquePointer) {
        self.module = module
        let count = dwfl_module_getsymtab(module)
        guard count > 1 else { return }
        entries.reserveCapacity(Int(count))
        for index in 1..<count {
            var sym = GElf_Sym()
            var address: GElf_Addr = 0
            var section: GElf_Word = 0
            guard let name = dwfl_module_getsym_info(module, index, &sym, &address, &section, nil, nil),
                  name.pointee != 0, sym.st_shndx != UInt16(SHN_UNDEF),
                  section != GElf_Word.max /* a non-allocated section: not in memory */ else { continue }
            let type = Int32(sym.st_info & 0xf)
            guard type != STT_SECTION && type != STT_FILE && type != STT_TLS else { continue }
            let binding: UInt8
            switch Int32(sym.st_info >> 4) {
            case STB_GLOBAL: binding = 3
            case STB_WEAK: binding = 2
            case STB_LOCAL: binding = 1
            default: binding = 0
            }
            entries.append(Entry(address: address, size: sym.st_size, binding: binding, index: index, name: name,
                                 isAbsolute: section >= UInt32(SHN_LORESERVE)))
        }
        entries.sort { ($0.address, $0.index) < ($1.address, $1.index) }
        var farthest: Dwarf_Addr = 0, farthestGlobal: Dwarf_Addr = 0
        var label = [-1, -1]
        for (position, entry) in entries.enumerated() {
            let end = entry.address &+ entry.size
            farthest = max(farthest, end)
            if entry.binding != 1 { farthestGlobal = max(farthestGlobal, end) }
            farthestEnd.append(farthest)
            farthestGlobalEnd.append(farthestGlobal)
            if entry.size == 0 { label[entry.binding == 1 ? 1 : 0] = position }
            lastLabel[0].append(label[0])
            lastLabel[1].append(label[1])
        }
    }

    /// The name of the symbol for a module address, nil when none fits.
    package func name(at address: Dwarf_Addr) -> UnsafePointer<CChar>? {
        // Entries at or below the address: [0, upper).
        var lower = 0, upper = entries.count
        while lower < upper {
            let middle = (lower + upper) / 2
            if entries[middle].address <= address { lower = middle + 1 } else { upper = middle }
        }
        let last = lower - 1
        guard last >= 0 else { return nil }

        // The sized symbols containing the address, in the order libdwfl visits them.
        var containing: [Entry] = []
        var index = last
        while index >= 0 && farthestEnd[index] > address {
            let entry = entries[index]
            if entry.size > 0 && address - entry.address < entry.size { containing.append(entry) }
            index -= 1
        }
        guard !containing.isEmpty else { return label(at: address, below: last) }
        containing.sort(by: Self.visitedBefore)
        let globals = containing.filter { $0.binding != 1 }
        var best: Entry?
        for entry in globals.isEmpty ? containing : globals {
            if let current = best, !Self.replaces(entry, current) { continue }
            best = entry
        }
        return best?.name
    }

    /// No sized symbol contains the address: an assembly label, as libdwfl's two passes find one.
    /// The first pass takes the closest sizeless global or weak symbol; the second, run unless that
    /// one is exactly at the address, the closest local one, which wins if it is no farther. The
    /// winner must lie at or above the end of every sized symbol the passes saw below the address
    /// (libdwfl's min_label), in the same section as the address (or, like it, in none; an absolute
    /// one only at its own address); of several at one address, the last in the table. `last`: the
    /// last entry at or below the address.
    private func label(at address: Dwarf_Addr, below last: Int) -> UnsafePointer<CChar>? {
        var best = labelCandidate(pass: 0, at: address, below: last)
        var minLabel = farthestGlobalEnd[last]
        if best.map({ entries[$0].address != address }) ?? true {
            minLabel = farthestEnd[last]
            if let local = labelCandidate(pass: 1, at: address, below: last),
               best.map({ entries[$0].address <= entries[local].address }) ?? true { best = local }
        }
        guard let best, entries[best].address >= minLabel else { return nil }
        return entries[best].name
    }

    /// The closest sizeless symbol of a pass (global and weak: 0, local: 1) at or below entry `last`.
    private func labelCandidate(pass: Int, at address: Dwarf_Addr, below last: Int) -> Int? {
        let index = lastLabel[pass][last]
        guard index >= 0 else { return nil }
        let labelAddress = entries[index].address
        let sameSection = section(of: labelAddress) == section(of: address)
        var candidate = index
        while candidate >= 0 && entries[candidate].address == labelAddress {
            let entry = entries[candidate]
            if entry.size == 0, (entry.binding == 1) == (pass == 1), entry.isAbsolute ? labelAddress == address : sameSection {
                return candidate  // entries at one address are in table order: this is the last
            }
            candidate -= 1
        }
        return nil
    }

    private func section(of address: Dwarf_Addr) -> OpaquePointer? {
        var moduleAddress = address
        var bias: Dwarf_Addr = 0
        return dwfl_module_address_section(module, &moduleAddress, &bias)
    }

    /// Around every symbol: its start, middle, last byte and end, and just below it (tests).
    package var probeAddresses: [Dwarf_Addr] {
        entries.flatMap { entry in
            [entry.address &- 1, entry.address, entry.address &+ entry.size / 2,
             entry.address &+ max(entry.size, 1) &- 1, entry.address &+ entry.size]
        }
    }

    /// libdwfl visits the global and weak symbols (by table index), then the local ones.
    private static func visitedBefore(_ a: Entry, _ b: Entry) -> Bool {
        ((a.binding == 1 ? 1 : 0), a.index) < ((b.binding == 1 ? 1 : 0), b.index)
    }

    /// libdwfl's rule for a later sized symbol replacing the current choice: it starts closer to
    /// the address or binds more strongly; at the same start, it is smaller without binding less
    /// strongly, or no larger and binds more strongly.
    private static func replaces(_ entry: Entry, _ current: Entry) -> Bool {
        if current.address < entry.address || current.binding < entry.binding { return true }
        guard current.address == entry.address else { return false }
        return (current.size > entry.size && current.binding <= entry.binding)
            || (current.size >= entry.size && current.binding < entry.binding)
    }
}
