import Foundation
import Glibc
import MapBlameTestSupport
import Testing

/// Programs that see another file system than mapblame: in a mount namespace of their own
/// (`unshare -m` and a bind mount: the program's path there names another file here, a decoy copy
/// of /bin/true) and in a chroot. `run`, `attach` and `explain` must read the program's own file:
/// its functions named in sites (`my_function (layout.c:N)`, not `layout+0x11ec`), its .bss found
/// from its own program headers. Needs root (unshare -m, mount, chroot).
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root for unshare -m, mount --bind and chroot"))
struct NamespaceTests {
    static let source = Build.packageRoot + "/Sources/Fixtures/kinds/layout.c"
    static var markers: [String: Int] { SiteMarkers.lines(in: source) }

    /// Where the program runs and how to start it there.
    enum Place: String, CaseIterable, CustomTestStringConvertible {
        case mountNamespace, chroot
        var testDescription: String { rawValue }
    }

    /// layout.c built in a temporary directory, with the command that runs it in `place`.
    final class Setup {
        let dir: TempDir
        let place: Place
        /// The program's path as the program sees it (and as /proc/PID/maps writes it from here).
        let programPath: String

        init(_ place: Place) throws {
            dir = try TempDir()
            self.place = place
            let real = dir.path("real"), decoy = dir.path("decoy"), root = dir.path("root")
            for d in [real, decoy, root] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            try run("cc", ["-g", "-O0", NamespaceTests.source, "-o", real + "/layout"])
            switch place {
            case .mountNamespace:
                // Here the path names /bin/true; in the program's namespace, the real program.
                try copyExecutable(from: "/bin/true", to: decoy + "/layout")
                programPath = decoy + "/layout"
            case .chroot:
                try Self.populate(root: root, with: real + "/layout")
                programPath = root + "/layout"
            }
        }

        /// The command that starts the program with `arguments` in its place.
        func command(_ arguments: [String] = []) -> [String] {
            switch place {
            case .mountNamespace:
                let script = "mount --bind \(dir.path("real")) \(dir.path("decoy")) && exec \(programPath) \"$@\""
                return ["/usr/bin/unshare", "-m", "/bin/sh", "-c", script, "sh"] + arguments
            case .chroot:
                return ["/usr/sbin/chroot", dir.path("root"), "/layout"] + arguments
            }
        }

        /// The program and the libraries ldd names, at their paths under `root`.
        static func populate(root: String, with program: String) throws {
            try copyExecutable(from: program, to: root + "/layout")
            let libraries = try run("ldd", [program]).split(separator: "\n").compactMap { line in
                line.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("/") }.map(String.init)
            }
            for library in libraries {
                let target = root + library
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try copyExecutable(from: (library as NSString).resolvingSymlinksInPath, to: target)
            }
        }
    }

    /// Frames of the program (its module) shown as module+offset.
    static func unnamedProgramFrames(_ process: [String: Any]) -> [String] {
        process.flatMapStacks().filter {
            ($0["module"] as? String)?.hasSuffix("/layout") == true && ($0["function"] as? String) == nil
        }.map { "\($0)" }
    }

    @Test("run: the program's functions named as sites", arguments: Place.allCases)
    func runNamesTheProgramsFunctions(place: Place) throws {
        let setup = try Setup(place)
        let traced = try TracedRun(setup.command())
        #expect(traced.finished.status == 0, "\(traced.finished.stderr)")
        let big = traced.origin("big")
        #expect(big?["label"] as? String
                == "malloc of 4.0 MiB served by mmap from my_function (layout.c:\(Self.markers["big_malloc"]!))")
        let table = traced.site(of: traced.origin("table"))
        #expect(table.function == "map_table" && table.line == Self.markers["table_mmap"])
        #expect(Self.unnamedProgramFrames(traced.root).isEmpty)
    }

    /// `record`, then `report` once the namespace is gone: the trace describes the program's own
    /// file (its build-id), so the decoy that has its path here is not used for names.
    @Test("record and report later: the file at the path here is not taken for the program's")
    func reportLaterRefusesTheFileAtThePath() throws {
        let setup = try Setup(.mountNamespace)
        let trace = setup.dir.path("t.trace"), json = setup.dir.path("report.json")
        let recorded = try runCommand([Build.mapblame, "record", "-o", trace, "--"] + setup.command())
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let reported = try runCommand([Build.mapblame, "report", trace, "--format", "json", "-o", json])
        #expect(reported.status == 0, "\(reported.stderr)")
        let frames = try #require(try ReportJSON(path: json).rootProcess).flatMapStacks()
        let program = frames.filter { ($0["module"] as? String) == setup.programPath }
        #expect(!program.isEmpty)
        #expect(program.allSatisfy { ($0["function"] as? String) == nil && $0["module_changed"] as? Bool == true })
    }

    /// One run, two files at one path: a static build of layout.c run at the decoy's path here,
    /// then the program at that path in its namespace. Frames of either could be named from the
    /// other file (each has its own functions at other offsets): none is named.
    @Test("run: two files at one path get no names rather than the other's")
    func twoFilesAtOnePathGetNoNames() throws {
        let setup = try Setup(.mountNamespace)
        try FileManager.default.removeItem(atPath: setup.programPath)
        try run("cc", ["-g", "-O0", "-static", Self.source, "-o", setup.programPath])
        let namespace = setup.command().map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let traced = try TracedRun(["/bin/sh", "-c", "\(setup.programPath) && \(namespace) \"$@\"", "sh"])
        #expect(traced.finished.status == 0, "\(traced.finished.stderr)")
        let frames = traced.report.processes.flatMap { $0.flatMapStacks() }
            .filter { ($0["module"] as? String) == setup.programPath }
        #expect(Set(frames.compactMap { $0["ip"] as? String }).count > 4)  // both programs' frames
        let named = frames.compactMap { $0["function"] as? String }
        #expect(named.isEmpty, "\(Set(named))")
    }

    /// A started `layout serve` in its place, our child, until `finish`.
    final class Daemon {
        let pid: pid_t
        let out: String

        init(_ setup: Setup) throws {
            out = setup.dir.path("out")
            pid = try spawnClean(setup.command(["serve"]), stdout: out)
            for _ in 0..<500 {
                if ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("ready=1\n") { return }
                usleep(10_000)
            }
            finish()
            throw SpawnError(errno: ETIMEDOUT)
        }

        /// SIGUSR1: it exits; its status.
        @discardableResult
        func finish() -> Int32 {
            kill(pid, SIGUSR1)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return status
        }
    }

    @Test("attach: regions made while attached are named by the program's functions", arguments: Place.allCases)
    func attachNamesTheProgramsFunctions(place: Place) throws {
        let setup = try Setup(place)
        let daemon = try Daemon(setup)
        defer { daemon.finish() }
        let json = setup.dir.path("attach.json")
        let attached = try runCommand([Build.mapblame, "attach", "\(daemon.pid)", "--duration", "1", "--json", json, "-o", "/dev/null"])
        #expect(attached.status == 0, "\(attached.stderr)")
        let process = try #require(try ReportJSON(path: json).process(pid: Int(daemon.pid)))
        let sites = ReportJSON.regions(process).flatMap { $0["origins"] as? [[String: Any]] ?? [] }
            .compactMap { $0["site"] as? [String: Any] }
        #expect(sites.contains { $0["function"] as? String == "grow_pool" && $0["line"] as? Int == Self.markers["pool_mmap"] })
        #expect(Self.unnamedProgramFrames(process).isEmpty)
    }

    @Test("explain: the program's .bss found from its own program headers", arguments: Place.allCases)
    func explainReadsTheProgramsHeaders(place: Place) throws {
        let setup = try Setup(place)
        let daemon = try Daemon(setup)
        defer { daemon.finish() }
        let json = setup.dir.path("explain.json")
        let explained = try runCommand([Build.mapblame, "explain", "\(daemon.pid)", "--format", "json", "-o", json])
        #expect(explained.status == 0, "\(explained.stderr)")
        let process = try #require(try ReportJSON(path: json).process(pid: Int(daemon.pid)))
        // layout.c's 1 MiB `scratch`: anonymous memory right after the program's last file mapping.
        let bss = ReportJSON.regions(process).filter { $0["label"] as? String == "bss of \(setup.programPath)" }
        #expect(bss.count == 1)
        #expect(bss.first.map { hex($0["end"]) - hex($0["start"]) } ?? 0 >= 1 << 20)
        #expect(bss.first?["confidence"] as? String == "certain")
    }
}

extension Dictionary where Key == String, Value == Any {
    /// Every frame of every event's stack of a process of a JSON report.
    func flatMapStacks() -> [[String: Any]] {
        (self["events"] as? [[String: Any]] ?? []).flatMap { $0["stack"] as? [[String: Any]] ?? [] }
    }
}
