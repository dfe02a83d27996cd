import Foundation
import Testing

/// One `mapblame run --json` of a command: the run's outcome, the program's output and the report.
struct TracedRun {
    var finished: Finished
    var report: ReportJSON
    var textReport: String

    /// `environment`: extra variables for mapblame and so for the program (LD_PRELOAD...).
    init(_ command: [String], options: [String] = [], environment: [String: String] = [:]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("report.json").path, text = dir.appendingPathComponent("report.txt").path
        let env = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
        finished = try runCommand([Build.mapblame, "run", "--json", json, "-o", text] + options + ["--"] + command, environment: env)
        report = try ReportJSON(path: json)
        textReport = try String(contentsOfFile: text, encoding: .utf8)
    }

    static func fixture(_ scenario: String, options: [String] = []) throws -> TracedRun {
        try TracedRun([Build.fixture, scenario], options: options)
    }

    func address(_ name: String) -> UInt64 {
        guard let v = finished.values[name] else { return 0 }
        return UInt64(v.hasPrefix("0x") ? String(v.dropFirst(2)) : v, radix: 16) ?? 0
    }

    var root: [String: Any] { report.rootProcess ?? [:] }

    /// The origin covering `name`'s address in the root process (or `process`).
    func origin(_ name: String, in process: [String: Any]? = nil) -> [String: Any]? {
        ReportJSON.origin(process ?? root, containing: address(name))
    }

    func site(of origin: [String: Any]?) -> (function: String?, file: String?, line: Int?) {
        let site = origin?["site"] as? [String: Any]
        return (site?["function"] as? String, site?["file"] as? String, site?["line"] as? Int)
    }
}

/// Every byte of every anonymous region (inode 0) of every process with a snapshot is covered by
/// origins with a known category.
func unattributedAnonymousBytes(_ report: ReportJSON) -> [String] {
    var problems: [String] = []
    for process in report.processes where process["snapshot"] as? Bool == true {
        for region in ReportJSON.regions(process) where (region["inode"] as? Int) == 0 {
            var cursor = hex(region["start"])
            for origin in region["origins"] as? [[String: Any]] ?? [] {
                if hex(origin["start"]) != cursor || origin["category"] as? String == "unknown" {
                    problems.append("pid \(process["pid"] ?? "?") \(region["start"] ?? "")-\(region["end"] ?? "") \(region["path"] ?? ""): \(origin["label"] ?? "")")
                }
                cursor = hex(origin["end"])
            }
            if cursor != hex(region["end"]) { problems.append("pid \(process["pid"] ?? "?") \(region["start"] ?? ""): origins stop at \(cursor)") }
        }
    }
    return problems
}
