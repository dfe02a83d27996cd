import Glibc
import MapBlameModel


/// `--verify`'s check of words against evidence: the final snapshot classified the way `explain`
/// classifies a running process (EvidenceClassifier), compared with the categories the recorded
/// events gave the same bytes. Only verdicts explain calls certain count.
public enum LabelCheck {
    /// Explain's verdicts on `snapshot`, from the evidence captured with it; nil without evidence.
    /// ELF headers (for .bss) are read from the files themselves, only while unchanged.
    public static func evidenceRegions(_ snapshot: FinalSnapshot, pid: Int32, executable: String?) -> [RegionReport]? {
        guard let evidence = snapshot.evidence, !snapshot.fromModel else { return nil }
        var malloc: [UInt64: MallocEvidence] = [:]
        for r in evidence.regions { malloc[r.start] = r.malloc }
        let explain = ExplainSnapshot(pid: pid, executable: executable,
                                      threads: evidence.threads.map { ExplainSnapshot.Thread(tid: $0.tid, rsp: $0.rsp, rip: $0.rip) },
                                      maps: snapshot.maps, mapsText: "", smapsText: nil, usage: snapshot.usage, malloc: malloc,
                                      stoppedMicroseconds: 0)
        var cache: [String: ElfLoadSegments?] = [:]
        return EvidenceClassifier(snapshot: explain) { entry in
            let key = "\(entry.device) \(entry.inode)"
            if let known = cache[key] { return known }
            let elf = unchangedFile(entry).flatMap { ElfLoadSegments(path: $0) }
            cache[key] = .some(elf)
            return elf
        }.classify()
    }

    /// The path of a mapped file if it is still the file that was mapped (same inode), for its
    /// ELF headers: the process is gone, and a file replaced since would give another verdict.
    package static func unchangedFile(_ entry: MapsEntry) -> String? {
        var st = stat()
        guard !entry.path.hasSuffix(" (deleted)"), stat(entry.path, &st) == 0, UInt64(st.st_ino) == entry.inode else { return nil }
        return entry.path
    }

    /// Every range a certain verdict of `evidence` covers whose recorded origin's category does
    /// not agree with it, adjacent ranges with the same two views merged.
    public static func disagreements(recorded: [RegionReport], evidence: [RegionReport]) -> [LabelDisagreement] {
        var result: [LabelDisagreement] = []
        var byStart: [UInt64: RegionReport] = [:]
        for r in recorded { byStart[r.entry.start] = r }
        for e in evidence where e.confidence == .certain {
            guard let r = byStart[e.entry.start], r.entry.end == e.entry.end else { continue }
            for verdict in e.origins where verdict.category != .unknown {
                for o in r.origins where !agrees(evidence: verdict.category, recorded: o.category) {
                    let overlap = o.range.clamped(to: verdict.range)
                    guard !overlap.isEmpty else { continue }
                    append(LabelDisagreement(range: overlap, recordedCategory: o.category, recordedLabel: o.label,
                                             evidenceCategory: verdict.category, evidenceLabel: verdict.label,
                                             evidence: e.evidence ?? ""), to: &result)
                }
            }
        }
        return result
    }

    /// Whether a recorded category is consistent with a certain verdict. A stack pointer inside
    /// proves a stack lives there, not who mapped the memory: a program may run a thread on any
    /// writable private memory (Go's goroutines run on its heap). A PROT_NONE region below such a
    /// stack may equally be the rest of a reservation. Nothing recorded as unknown makes a claim.
    package static func agrees(evidence: Category, recorded: Category) -> Bool {
        if evidence == recorded || recorded == .unknown { return true }
        switch evidence {
        case .threadStack, .stack:
            return [.threadStack, .stack, .mmap, .malloc, .mallocArena, .allocator, .heap, .bss].contains(recorded)
        case .guardPage:
            return [.threadStack, .mmap, .malloc, .mallocArena, .allocator].contains(recorded)
        default:
            return false
        }
    }

    private static func append(_ d: LabelDisagreement, to list: inout [LabelDisagreement]) {
        if let last = list.last, last.range.upperBound == d.range.lowerBound, last.recordedCategory == d.recordedCategory,
           last.recordedLabel == d.recordedLabel, last.evidenceCategory == d.evidenceCategory, last.evidenceLabel == d.evidenceLabel {
            list[list.count - 1].range = last.range.lowerBound..<d.range.upperBound
        } else {
            list.append(d)
        }
    }
}
