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
    /// The programs the tests trace (mbfixture, mapblame-demo, libmbfixturelib.so): next to the
    /// test binary, or in MAPBLAME_FIXTURE_DIR. `make asan`/`make tsan` point that at a plain build:
    /// a sanitizer's allocator and interceptors in the traced program would replace the very
    /// mappings the tests check (ASan's malloc maps its own regions), and the sanitizer is there to
    /// check mapblame, not the fixtures.
    static let fixtureDirectory: String = ProcessInfo.processInfo.environment["MAPBLAME_FIXTURE_DIR"] ?? directory
    static var fixture: String { fixtureDirectory + "/mbfixture" }
    static var demo: String { fixtureDirectory + "/mapblame-demo" }
    /// Whether this test process, and so the mapblame built with it, runs under AddressSanitizer
    /// (`make asan`) or ThreadSanitizer (`make tsan`).
    static let addressSanitizer: Bool = dlsym(nil, "__asan_init") != nil
    static let threadSanitizer: Bool = dlsym(nil, "__tsan_init") != nil
    static var sanitizer: Bool { addressSanitizer || threadSanitizer }
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
    let out = dir.appendingPathComponent("out").path, err = dir.appendingPathComponent("err").path
    let pid = try spawnClean(arguments, environment: environment, stdout: out, stderr: err)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    DevNullGuard.check(after: arguments)
    return Finished(status: code, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                    stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

struct SpawnError: Error, CustomStringConvertible {
    var errno: Int32
    var description: String { "posix_spawn failed: \(String(cString: strerror(errno)))" }
}

/// Starts a command the way a shell would: every signal unblocked and at its default action.
/// (Foundation's Process hands the child the spawning thread's signal mask, and the test runner's
/// worker threads block most signals: a program started that way never sees SIGUSR1 or SIGCHLD.)
func spawnClean(_ arguments: [String], environment: [String: String]? = nil,
                stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let env = TestCache.isolating(environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, &attr, &argv, &envp)
    guard rc == 0 else { throw SpawnError(errno: rc) }
    return pid
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

    /// The function names of every frame of every event's stack in the process.
    static func stackFunctions(_ process: [String: Any]) -> [String] {
        (process["events"] as? [[String: Any]] ?? []).flatMap { event in
            (event["stack"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
        }
    }
}

func hex(_ value: Any?) -> UInt64 {
    guard let s = value as? String, s.hasPrefix("0x") else { return 0 }
    return UInt64(s.dropFirst(2), radix: 16) ?? 0
}

/// Line numbers of `// @site:NAME` markers in the fixture sources (every .c file of mbfixture and
/// mbfixture32; names are unique across them): the tests never hard-code them.
enum SiteMarkers {
    static let lines: [String: Int] = {
        var result: [String: Int] = [:]
        for dir in ["mbfixture", "mbfixture32"].map({ Build.packageRoot + "/Sources/Fixtures/" + $0 }) {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where file.hasSuffix(".c") {
                result.merge(lines(in: dir + "/" + file)) { first, _ in first }
            }
        }
        return result
    }()

    /// The markers of one source file (any language with `//` comments).
    static func lines(in path: String) -> [String: Int] {
        var result: [String: Int] = [:]
        let source = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for (i, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let r = line.range(of: "// @site:") else { continue }
            result[String(line[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" })] = i + 1
        }
        return result
    }
}

/// Every command a test runs is followed by this check: the suite runs as root, and a mapblame
/// that replaced /dev/null with a regular file (as it once did for `-o /dev/null`) would break
/// every later `> /dev/null` on the machine.
enum DevNullGuard {
    static var isCharacterDevice: Bool {
        var st = stat()
        return lstat("/dev/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR
    }

    static func check(after arguments: [String]) {
        if !isCharacterDevice {
            Issue.record("/dev/null is no longer a character device after: \(arguments.joined(separator: " "))")
        }
    }
}

/// Writes a file that a test then executes, through a close-on-exec descriptor: FileManager's
/// descriptor can be inherited by a program another test spawns at that moment, and exec of a
/// file open for writing anywhere fails with ETXTBSY ("Text file busy").
func writeExecutable(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o755) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw SpawnError(errno: errno) }
    defer { close(fd) }
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard n == bytes.count else { throw SpawnError(errno: errno) }
    fchmod(fd, mode)
}

/// Copies a program (or a library a program's exec loads) with `writeExecutable`, keeping its mode.
func copyExecutable(from source: String, to destination: String) throws {
    var st = stat()
    guard stat(source, &st) == 0 else { throw SpawnError(errno: errno) }
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
    try writeExecutable(destination, bytes, mode: st.st_mode & 0o7777)
}
