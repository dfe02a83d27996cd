import Foundation
import Testing

/// The built products (mapblame, mbfixture, libmbfixturelib.so) sit next to the test binary.
enum Build {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["MAPBLAME_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }()
    static var mapblame: String { directory + "/mapblame" }
    static var fixture: String { directory + "/mbfixture" }
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

/// Result of running a command to completion.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
    /// `name=value` lines the fixture printed.
    var values: [String: String] {
        var result: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return result
    }
}

func runCommand(_ arguments: [String], environment: [String: String]? = nil) throws -> Finished {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    if let environment { process.environment = environment }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    return Finished(status: status, stdout: try String(contentsOf: out, encoding: .utf8),
                    stderr: try String(contentsOf: err, encoding: .utf8))
}

/// A parsed JSON report with lookups by address.
struct ReportJSON {
    let root: [String: Any]
    var processes: [[String: Any]] { root["processes"] as? [[String: Any]] ?? [] }

    init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        root = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func process(pid: Int) -> [String: Any]? {
        processes.first { ($0["pid"] as? Int) == pid }
    }

    var rootProcess: [String: Any]? { processes.first { $0["parent_pid"] is NSNull } }

    static func regions(_ process: [String: Any]) -> [[String: Any]] { process["regions"] as? [[String: Any]] ?? [] }

    static func region(_ process: [String: Any], containing address: UInt64) -> [String: Any]? {
        regions(process).first { hex($0["start"]) <= address && address < hex($0["end"]) }
    }

    static func origin(_ process: [String: Any], containing address: UInt64) -> [String: Any]? {
        guard let region = region(process, containing: address) else { return nil }
        return (region["origins"] as? [[String: Any]] ?? []).first { hex($0["start"]) <= address && address < hex($0["end"]) }
    }

    static func event(_ process: [String: Any], id: Int) -> [String: Any]? {
        (process["events"] as? [[String: Any]] ?? []).first { ($0["id"] as? Int) == id }
    }
}

func hex(_ value: Any?) -> UInt64 {
    guard let s = value as? String, s.hasPrefix("0x") else { return 0 }
    return UInt64(s.dropFirst(2), radix: 16) ?? 0
}

/// Line numbers of `// @site:NAME` markers in the fixture source: the tests never hard-code them.
enum SiteMarkers {
    static let lines: [String: Int] = {
        let source = (try? String(contentsOfFile: Build.packageRoot + "/Sources/Fixtures/mbfixture/main.c", encoding: .utf8)) ?? ""
        var result: [String: Int] = [:]
        for (i, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let r = line.range(of: "// @site:") else { continue }
            result[String(line[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" })] = i + 1
        }
        return result
    }()
}
