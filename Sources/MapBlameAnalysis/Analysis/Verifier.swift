import MapBlameModel

/// `--verify`: page-by-page comparison of the model with the kernel's map — mapped or not,
/// protection, shared/private, file and offset for file mappings — as one sweep over both sorted
/// lists of ranges.
public enum Verifier {
    package static let kernelOwned: Set<String> = ["[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]"]

    public static func verify(_ snapshot: FinalSnapshot, regions: [RegionReport]) -> Verification {
        var mismatches: [Mismatch] = []
        let kernel = snapshot.maps
        let model = snapshot.model.map.segments
        var points = Set<UInt64>()
        for e in kernel { points.insert(e.start); points.insert(e.end) }
        for s in model { points.insert(s.range.lowerBound); points.insert(s.range.upperBound) }
        let sorted = points.sorted()
        var k = 0, m = 0
        for (lo, hi) in zip(sorted, sorted.dropFirst()) {
            while k < kernel.count, kernel[k].end <= lo { k += 1 }
            while m < model.count, model[m].range.upperBound <= lo { m += 1 }
            let entry = k < kernel.count && kernel[k].start <= lo ? kernel[k] : nil
            let segment = m < model.count && model[m].range.lowerBound <= lo ? model[m] : nil
            if let found = compare(entry, segment, at: lo) {
                let counted = !(entry.map { kernelOwned.contains($0.path) || ($0.path == "[stack]" && found.0 == .onlyInKernel) } ?? false)
                append(Mismatch(range: lo..<hi, kind: found.0, kernel: found.1, model: found.2, counted: counted), to: &mismatches)
            }
        }
        var anonymous: UInt64 = 0, attributed: UInt64 = 0
        for r in regions where r.entry.inode == 0 {
            anonymous += r.entry.size
            attributed += r.origins.filter { $0.category != .unknown }.reduce(0) { $0 + UInt64($1.range.count) }
        }
        return Verification(mismatches: mismatches, mappedPages: kernel.reduce(0) { $0 + $1.size } / MemoryFlags.pageSize,
                            anonymousBytes: anonymous, attributedAnonymousBytes: attributed)
    }

    private static func compare(_ e: MapsEntry?, _ s: IntervalMap<Mapping>.Segment?, at address: UInt64)
        -> (Mismatch.Kind, String, String)? {
        switch (e, s) {
        case (nil, nil): return nil
        case (let e?, nil): return (.onlyInKernel, describe(e), "unmapped")
        case (nil, let s?): return (.onlyInModel, "unmapped", describe(s.value))
        case (let e?, let s?):
            let v = s.value
            if MemoryFlags.prot(fromPerms: e.perms) != v.prot { return (.protection, describe(e), describe(v)) }
            if e.isShared != v.shared { return (.sharing, describe(e), describe(v)) }
            let modelBacked = v.isFile || v.shared   // shared anonymous memory is a /dev/zero inode
            if e.isFile != modelBacked { return (.backing, describe(e), describe(v)) }
            if v.isFile, !e.path.hasPrefix("/SYSV"),
               e.offset + (address - e.start) != v.fileOffset + (address - s.range.lowerBound) {
                return (.fileOffset, describe(e), describe(v))
            }
            return nil
        }
    }

    /// Adjacent ranges with the same disagreement become one.
    private static func append(_ x: Mismatch, to list: inout [Mismatch]) {
        if let last = list.last, last.range.upperBound == x.range.lowerBound, last.kind == x.kind, last.counted == x.counted {
            list[list.count - 1].range = last.range.lowerBound..<x.range.upperBound
        } else {
            list.append(x)
        }
    }

    package static func describe(_ e: MapsEntry) -> String {
        "\(e.perms) offset 0x\(String(e.offset, radix: 16))" + (e.path.isEmpty ? "" : " \(e.path)")
    }

    package static func describe(_ v: Mapping) -> String {
        MemoryFlags.perms(prot: v.prot, shared: v.shared) + (v.isFile ? " offset 0x\(String(v.fileOffset, radix: 16))" : "")
            + (v.name.map { " \($0)" } ?? "") + " (event \(v.creator))"
    }
}
