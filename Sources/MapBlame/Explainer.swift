import MapBlameAnalysis
import MapBlameModel
import MapBlameTracer
import Glibc

/// `mapblame explain PID`: classifies every region of an already-running process from evidence,
/// with no history. The process is stopped only while its registers, maps, smaps and a few bytes of
/// malloc headers are read, then continues exactly as it was.
public enum Explainer {
    /// The report `run` would produce, with one origin per region (no events) and every region's
    /// `evidence` and `confidence` set. `stoppedMicroseconds`: how long the threads were held.
    public static func explain(pid: Int32) throws(ExplainError) -> (report: Report, stoppedMicroseconds: UInt64) {
        let snapshot = try ExplainSnapshot.take(pid: pid)
        let regions = classify(snapshot)
        let process = ProcessReport(pid: pid, parentPid: nil, executable: snapshot.executable, exit: nil, hasSnapshot: true,
                                    regions: regions, events: [], verification: nil)
        let argv = ProcFile.commandLine(pid)
        return (Report(command: argv.isEmpty ? [snapshot.executable ?? "pid \(pid)"] : argv, processes: [process]),
                snapshot.stoppedMicroseconds)
    }
}

extension Explainer {
    /// The regions that exist when `attach` seizes a process, as seeds of its model: each origin
    /// explain finds, with the evidence and confidence of its region (`Tracer.attach`'s `seeds`).
    public static func seeds(_ snapshot: ExplainSnapshot) -> [SeedRegion] {
        classify(snapshot).flatMap { region in
            region.origins.map { origin in
                SeedRegion(range: origin.range, category: origin.category, label: origin.label,
                           evidence: region.evidence ?? "", confidence: region.confidence ?? .likely)
            }
        }
    }

    /// Every line of the snapshot's maps with a category, label, evidence and confidence. Reads the
    /// ELF program headers of mapped files (once per file) as the process sees them (`ModuleFile`:
    /// its map_files or its root, never another file that has the same path here).
    static func classify(_ snapshot: ExplainSnapshot) -> [RegionReport] {
        let pid = snapshot.pid
        var cache: [String: ElfLoadSegments?] = [:]
        let classifier = EvidenceClassifier(snapshot: snapshot) { entry in
            let key = "\(entry.device) \(entry.inode)"
            if let cached = cache[key] { return cached }
            let fd = ModuleFile.open(pid: pid, entry: entry)
            defer { if let fd { close(fd) } }
            let elf = fd.flatMap { ElfLoadSegments(path: "/proc/self/fd/\($0)") }
            cache[key] = .some(elf)
            return elf
        }
        return classifier.classify()
    }
}

/// The text report of `explain`: TextReporter's lines, with the evidence and confidence under every
/// annotated region, and for the regions left `unknown` the command that would name their code.
public enum ExplainTextReporter {
    public static func render(_ report: Report, stoppedMicroseconds: UInt64? = nil, options: TextOptions = TextOptions()) -> String {
        var out = TextLayout.fit("mapblame explain: \(report.command.joined(separator: " "))", indent: 4)
        for p in report.processes {
            let held = stoppedMicroseconds.map { ", stopped for \($0) µs to look" } ?? ""
            out += "\n" + TextLayout.fit("== process \(p.pid) \(p.executable ?? "?"): running (classified from evidence\(held)) ==", indent: 4)
            out += TextReporter.regions(p, files: options.files)
            out += TextReporter.unknownHint(p, report: report, explain: true)
            out += "\n" + TextReporter.summary(p) + "\n"
        }
        return out
    }
}
