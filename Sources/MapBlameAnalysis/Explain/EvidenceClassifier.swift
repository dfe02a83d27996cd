import MapBlameModel

/// Classifies every line of a snapshot's maps from evidence alone (no history): thread stack
/// pointers, ELF program headers, glibc malloc's own headers, the kernel's names. Pure, apart from
/// reading ELF headers through `loadELF`.
package struct EvidenceClassifier {
    package struct Verdict: Equatable {
        package var category: Category
        package var label: String
        package var evidence: String
        package var certain: Bool
        /// Bytes of the region the verdict covers (nil: all of it); the rest is `unknown`.
        package var covers: Range<UInt64>? = nil
    }

    package let snapshot: ExplainSnapshot
    /// Reads the PT_LOAD headers of the file behind a file mapping (maps entry).
    package let loadELF: (MapsEntry) -> ElfLoadSegments?

    package init(snapshot: ExplainSnapshot, loadELF: @escaping (MapsEntry) -> ElfLoadSegments?) {
        self.snapshot = snapshot
        self.loadELF = loadELF
    }

    private var maps: [MapsEntry] { snapshot.maps }

    package func classify() -> [RegionReport] {
        var verdicts: [Verdict?] = Array(repeating: nil, count: maps.count)
        stacks(into: &verdicts)
        arenas(into: &verdicts)
        for i in maps.indices where verdicts[i] == nil {
            verdicts[i] = bss(i) ?? mmappedChunks(i) ?? loaderData(i) ?? named(i)
        }
        return maps.indices.map { i in report(maps[i], verdicts[i]!) }
    }

    private func report(_ entry: MapsEntry, _ v: Verdict) -> RegionReport {
        let range = entry.start..<entry.end
        var origins: [Origin] = []
        var evidence = v.evidence
        let covered = v.covers.map { $0.clamped(to: range) } ?? range
        // The kernel merges ld.so's minimal-malloc pages with an anonymous neighbour (a library's
        // .bss): a part the verdict does not cover may still hold the loader's data.
        func rest(_ part: Range<UInt64>) {
            guard !part.isEmpty else { return }
            if let loader = loaderVerdict(entry, in: part) {
                origins.append(Origin(range: part, event: nil, syscall: nil, category: loader.category, label: loader.label, site: nil))
                evidence += "; \(Self.hex(part.lowerBound))-\(Self.hex(part.upperBound)): " + loader.evidence
            } else {
                origins.append(Origin(range: part, event: nil, syscall: nil, category: .unknown, label: "not explained", site: nil))
            }
        }
        rest(range.lowerBound..<covered.lowerBound)
        origins.append(Origin(range: covered, event: nil, syscall: nil, category: v.category, label: v.label, site: nil))
        rest(covered.upperBound..<range.upperBound)
        let main = origins.max { $0.range.count < $1.range.count }!
        return RegionReport(entry: entry, usage: snapshot.usage[entry.start] ?? SmapsUsage(), category: main.category,
                            label: main.label, origins: origins, evidence: evidence,
                            confidence: v.certain ? .certain : .likely)
    }

    private static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
    private static func isAnonymous(_ e: MapsEntry) -> Bool { e.inode == 0 && e.path.isEmpty }
    private static func isProtNone(_ e: MapsEntry) -> Bool { e.perms.hasPrefix("---") }

    private func index(containing address: UInt64) -> Int? {
        maps.firstIndex { $0.start <= address && address < $0.end }
    }

    // MARK: stacks

    private func stacks(into verdicts: inout [Verdict?]) {
        var owners: [Int: [ExplainSnapshot.Thread]] = [:]
        for t in snapshot.threads {
            guard let i = index(containing: t.rsp) else { continue }
            owners[i, default: []].append(t)
        }
        for (i, threads) in owners.sorted(by: { $0.key < $1.key }) {
            let entry = maps[i]
            let pointers = threads.map { "rsp \(Self.hex($0.rsp)) of thread \($0.tid)" }.joined(separator: ", ")
            let main = threads.contains { $0.tid == snapshot.pid }
            if entry.path == "[stack]" {
                let names = threads.map { $0.tid == snapshot.pid ? "the main thread" : "thread \($0.tid)" }
                verdicts[i] = Verdict(category: .stack, label: "stack of \(names.joined(separator: " and "))",
                                      evidence: "\(pointers) points into [stack]", certain: main)
                continue
            }
            guard Self.isAnonymous(entry) else { continue }
            let tids = threads.map { $0.tid == snapshot.pid ? "\($0.tid) (the main thread)" : "\($0.tid)" }
            let owner = (tids.count == 1 ? "thread " : "threads ") + tids.joined(separator: ", ")
            let below = i > 0 ? maps[i - 1] : nil
            let guardBelow = below.map { $0.end == entry.start && Self.isAnonymous($0) && Self.isProtNone($0) } ?? false
            verdicts[i] = Verdict(category: .threadStack, label: "stack of \(owner)\(guardBelow ? " (guard page below)" : "")",
                                  evidence: "\(pointers) points here" + (main ? " (the main thread runs on a stack outside [stack])" : ""),
                                  certain: !main)
            if guardBelow {
                verdicts[i - 1] = Verdict(category: .guardPage, label: "guard page of the stack of \(owner)",
                                          evidence: "PROT_NONE directly below the stack that \(pointers) points into",
                                          certain: !main)
            }
        }
    }

    // MARK: malloc arenas

    private func arenas(into verdicts: inout [Verdict?]) {
        var arenaStarts: [UInt64: Bool] = [:]  // malloc_state address → verdict certain
        var found: [(Int, MallocEvidence.ArenaVerdict)] = []
        for i in maps.indices where verdicts[i] == nil {
            guard let evidence = snapshot.malloc[maps[i].start] else { continue }
            let verdict = evidence.arenaVerdict(start: maps[i].start, end: maps[i].end)
            if case .arenaStart(let h) = verdict { arenaStarts[h.arPtr] = true }
            if verdict != .none { found.append((i, verdict)) }
        }
        for (i, verdict) in found {
            let entry = maps[i]
            let v: Verdict
            switch verdict {
            case .arenaStart(let h):
                // sizeof(heap_info) is 48 on 64-bit glibc 2.35+: the malloc_state follows it.
                let exact = h.arPtr == entry.start + 48
                v = Verdict(category: .mallocArena, label: "glibc malloc arena (malloc_state at \(Self.hex(h.arPtr)))",
                            evidence: Self.heapInfoText(h) + ", region start aligned to 64 MiB, ar_ptr inside the region"
                                + (exact ? " right after heap_info" : ""), certain: exact)
            case .laterHeap(let h):
                let known = arenaStarts[h.arPtr] != nil
                v = Verdict(category: .mallocArena, label: "further heap of the glibc malloc arena at \(Self.hex(h.arPtr))",
                            evidence: Self.heapInfoText(h) + ", region start aligned to 64 MiB, prev heap \(Self.hex(h.prev))"
                                + (known ? ", ar_ptr is an arena found at the start of another heap" : ""), certain: known)
            case .none:
                continue
            }
            verdicts[i] = v
            // The PROT_NONE rest of the 64 MiB reservation.
            if i + 1 < maps.count, verdicts[i + 1] == nil {
                let tail = maps[i + 1]
                if tail.start == entry.end, Self.isAnonymous(tail), Self.isProtNone(tail),
                   tail.end <= entry.start + MallocEvidence.heapMaxSize {
                    verdicts[i + 1] = Verdict(category: .mallocArena,
                                              label: "unused reserve of the glibc malloc arena heap at \(Self.hex(entry.start))",
                                              evidence: "PROT_NONE right after the arena heap at \(Self.hex(entry.start)), "
                                                + "within its 64 MiB reservation", certain: v.certain)
                }
            }
        }
    }

    private static func heapInfoText(_ h: MallocEvidence.HeapInfo) -> String {
        "heap_info at the start: ar_ptr \(hex(h.arPtr)), size \(hex(h.size)) <= mprotect_size \(hex(h.mprotectSize)), pagesize \(h.pagesize)"
    }

    // MARK: bss

    private func bss(_ i: Int) -> Verdict? {
        let entry = maps[i]
        guard i > 0, Self.isAnonymous(entry), !Self.isProtNone(entry) else { return nil }
        let prev = maps[i - 1]
        guard prev.isFile, prev.end == entry.start, !prev.path.isEmpty, let elf = loadELF(prev) else { return nil }
        let first = maps.first { $0.path == prev.path && $0.inode == prev.inode }!
        guard let bias = elf.loadBias(mappingStart: first.start, fileOffset: first.offset)
                ?? elf.loadBias(mappingStart: prev.start, fileOffset: prev.offset) else { return nil }
        let name = prev.path.hasSuffix(" (deleted)") ? String(prev.path.dropLast(10)) : prev.path
        var best: Verdict?
        for s in elf.segments where s.memsz > s.filesz {
            let fileEnd = bias &+ s.vaddr &+ s.filesz, memEnd = bias &+ s.vaddr &+ s.memsz
            let zeroStart = MemoryFlags.pageUp(fileEnd), zeroEnd = MemoryFlags.pageUp(memEnd)
            guard entry.start >= MemoryFlags.pageDown(fileEnd), entry.start < zeroEnd else { continue }
            let exact = entry.start == zeroStart && entry.end <= zeroEnd
            let evidence = "PT_LOAD memsz \(Self.hex(s.memsz)) > filesz \(Self.hex(s.filesz)) of \(name): file part ends at "
                + "\(Self.hex(fileEnd)), zero-filled part \(Self.hex(zeroStart))-\(Self.hex(zeroEnd))"
                + (exact ? " is this region" : (entry.end > zeroEnd ? ", this region goes on beyond it" : ", overlapping this region"))
            let v = Verdict(category: .bss, label: "bss of \(name)", evidence: evidence, certain: exact,
                            covers: entry.end > zeroEnd && entry.start < zeroEnd ? entry.start..<zeroEnd : nil)
            if best == nil || (exact && !best!.certain) { best = v }
        }
        return best
    }

    // MARK: large malloc chunks

    private func mmappedChunks(_ i: Int) -> Verdict? {
        let entry = maps[i]
        guard let evidence = snapshot.malloc[entry.start], !evidence.chunkSizes.isEmpty else { return nil }
        let sizes = evidence.chunkSizes, total = sizes.reduce(0, +)
        let tiles = total == entry.size
        let label = sizes.count == 1
            ? "malloc of \(ByteCount.text(sizes[0])) served by mmap"
            : "\(sizes.count) mallocs served by mmap (\(sizes.map { ByteCount.text($0) }.joined(separator: ", ")))"
        let header = sizes.count == 1 ? "a chunk header" : "\(sizes.count) consecutive chunk headers"
        let evidence_ = "\(header) with IS_MMAPPED set at the start: prev_size \(evidence.firstPrevSize), size \(Self.hex(sizes[0]))"
            + (tiles ? (sizes.count == 1 ? " = the region size" : ", together the region size")
                     : ", \(Self.hex(total)) of the region's \(Self.hex(entry.size)) bytes")
        return Verdict(category: .malloc, label: label, evidence: evidence_, certain: false,
                       covers: tiles ? nil : entry.start..<(entry.start + total))
    }

    // MARK: the dynamic loader's own memory

    private func loaderData(_ i: Int) -> Verdict? {
        loaderVerdict(maps[i], in: maps[i].start..<maps[i].end)
    }

    /// The loader's data among bytes `range` of `entry`, from the marks inside them.
    private func loaderVerdict(_ entry: MapsEntry, in range: Range<UInt64>) -> Verdict? {
        guard Self.isAnonymous(entry), !Self.isProtNone(entry) else { return nil }
        let marks = snapshot.loader.marks(in: range)
        guard let first = marks.first else { return nil }
        let shown = marks.filter { $0.certain == first.certain }
        var names: [String] = []
        for mark in shown where !names.contains(mark.what) { names.append(mark.what) }
        let listed = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
        let pointers = shown.prefix(3).map { "\($0.what) at \(Self.hex($0.address))" }.joined(separator: ", ")
        let source = first.certain
            ? "the loader's own pointers lead here (the r_debug link-map chain from the executable's DT_DEBUG, the threads' fs_base): "
            : "pointers stored in the loader's link maps lead here: "
        return Verdict(category: .loader, label: "dynamic loader memory: \(listed)", evidence: source + pointers,
                       certain: first.certain)
    }

    // MARK: the kernel's names, files, and the rest

    private func named(_ i: Int) -> Verdict {
        let entry = maps[i], path = entry.path
        switch path {
        case "[heap]":
            return Verdict(category: .heap, label: "heap (the brk area)", evidence: "named [heap] by the kernel", certain: true)
        case "[stack]":
            return Verdict(category: .stack, label: "stack of the main thread", evidence: "named [stack] by the kernel", certain: true)
        case "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]":
            return Verdict(category: .vdso, label: "\(path) mapped by the kernel", evidence: "named \(path) by the kernel", certain: true)
        default:
            break
        }
        if (entry.isShared && !entry.isFile) || SharedMemory.isSharedMemoryFile(path) {
            let what = path.hasPrefix("/SYSV") ? "System V shared memory" : path.isEmpty ? "shared anonymous memory"
                : "shared memory \(path)"
            let why = path.isEmpty || !SharedMemory.isSharedMemoryFile(path) ? "mapped shared (\(entry.perms)), no file" : "backed by \(path)"
            return Verdict(category: .shm, label: what, evidence: why, certain: true)
        }
        if entry.isFile {
            return Verdict(category: .file, label: path.isEmpty ? "file mapping (inode \(entry.inode))" : path,
                           evidence: "backed by inode \(entry.inode) on device \(entry.device) at offset \(Self.hex(entry.offset))",
                           certain: true)
        }
        return Verdict(category: .unknown, label: path.isEmpty ? "unexplained anonymous memory" : "unexplained \(path)",
                       evidence: unknownReason(i), certain: false)
    }

    private func unknownReason(_ i: Int) -> String {
        let entry = maps[i]
        if entry.path.hasPrefix("[anon:") { return "named \(entry.path) by the program (PR_SET_VMA_ANON_NAME); no other evidence" }
        if entry.isPseudo { return "kernel pseudo-file \(entry.path) mapblame has no rule for" }
        // Each part names the evidence looked at, then what it showed: "ELF headers of libz...: no
        // .bss here", never "follows libz", which reads as if libz were to blame.
        var seen: [String] = []
        if Self.isProtNone(entry) {
            seen.append("permissions: PROT_NONE")
            seen.append("thread stack pointers: none just above it (not a guard page)")
            seen.append("malloc arena headers: not the reserve of one")
        } else {
            seen.append("thread stack pointers: none inside")
            if i > 0, maps[i - 1].isFile, maps[i - 1].end == entry.start {
                seen.append("ELF program headers of \(maps[i - 1].path) (mapped just below): no zero-filled part (.bss) here")
            } else {
                seen.append("ELF program headers: no file mapped just below")
            }
            if snapshot.malloc[entry.start] != nil {
                seen.append("glibc malloc headers: no heap_info or mmapped chunk header at its start")
            } else if entry.perms.hasPrefix("rw") {
                seen.append("glibc malloc headers: its first bytes could not be read")
            } else {
                seen.append("glibc malloc headers: not looked for (\(entry.perms), not read-write)")
            }
        }
        return seen.joined(separator: "; ")
    }
}
