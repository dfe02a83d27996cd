import Foundation
import MapBlame
import Testing

/// Where reports and traces go (README "Output files"): nothing at an output's path is ever
/// destroyed or replaced unless it is a regular file the output is meant to replace, and no name
/// planted beside it is written through.
@Suite struct OutputFileTests {
    static let isRoot = getuid() == 0
    static let nobody: uid_t = 65534

    /// A fresh directory, removed by the caller.
    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func fileType(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    static func info(_ path: String) -> stat {
        var st = stat()
        _ = lstat(path, &st)
        return st
    }

    static func contents(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func run(_ outputs: [String], program: [String] = ["/bin/true"]) throws -> Finished {
        try runCommand([Build.mapblame, "run"] + outputs + ["--"] + program)
    }

    @Test("A character device is written in place, never replaced", .enabled(if: isRoot, "mknod needs root"))
    func characterDevice() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let null = dir + "/null"
        #expect(mknod(null, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
        let before = Self.info(null).st_rdev
        let run = try Self.run(["-o", null, "--json", null, "--trace", null])
        #expect(run.status == 0, "\(run.stderr)")
        let record = try runCommand([Build.mapblame, "record", "-o", null, "--", "/bin/true"])
        #expect(record.status == 0, "\(record.stderr)")
        #expect(Self.fileType(null) == S_IFCHR)
        #expect(Self.info(null).st_rdev == before)
        #expect(Self.contents(null).isEmpty)
    }

    @Test("A FIFO is written to its reader, and stays a FIFO")
    func fifoWithReader() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/fifo", got = dir + "/got"
        #expect(mkfifo(fifo, 0o644) == 0)
        let reader = try spawnClean(["/bin/sh", "-c", "cat \"$0\" > \"$1\"", fifo, got])
        let run = try Self.run(["-o", fifo])
        // The reader ends once the writer closes; one still waiting after 10 s never got a writer.
        var status: Int32 = 0, waited = 0
        while waitpid(reader, &status, WNOHANG) == 0 && waited < 1000 {
            usleep(10_000)
            waited += 1
        }
        if waited == 1000 {
            kill(reader, SIGKILL)
            waitpid(reader, &status, 0)
            Issue.record("nothing was written to the FIFO")
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.fileType(fifo) == S_IFIFO)
        #expect(Self.contents(got).contains("== process"), "the reader got: \(Self.contents(got).prefix(200))")
    }

    @Test("A symbolic link is followed: the target gets the report and keeps its mode and owner; the link stays")
    func symlinkToRegularFile() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/real", link = dir + "/link"
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        chmod(target, 0o640)
        if Self.isRoot { chown(target, Self.nobody, Self.nobody) }
        #expect(symlink("real", link) == 0)
        let run = try Self.run(["-o", link, "--json", dir + "/r.json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.fileType(link) == S_IFLNK)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "real")
        #expect(Self.contents(target).contains("== process"))
        #expect(Self.info(target).st_mode & 0o7777 == 0o640)
        if Self.isRoot { #expect(Self.info(target).st_uid == Self.nobody && Self.info(target).st_gid == Self.nobody) }
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(entries == ["link", "r.json", "real"], "temporary files left: \(entries)")
    }

    @Test("A link to a descriptor (/proc/self/fd/1, /dev/stdout) writes to that descriptor")
    func symlinkToStandardOutput() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let link = dir + "/out"
        #expect(symlink("/proc/self/fd/1", link) == 0)
        let viaLink = try Self.run(["--json", link, "-o", "/dev/null"])
        #expect(viaLink.status == 0, "\(viaLink.stderr)")
        #expect(viaLink.stdout.hasPrefix("{"), "\(viaLink.stdout.prefix(100))")
        #expect(Self.fileType(link) == S_IFLNK)
        let viaDev = try Self.run(["-o", "/dev/stdout"])
        #expect(viaDev.status == 0, "\(viaDev.stderr)")
        #expect(viaDev.stdout.contains("== process"))
        #expect(Self.fileType("/dev/stdout") == S_IFLNK)
    }

    @Test("- is standard output for every output option")
    func dashIsStandardOutput() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The program prints 42-marker; its arguments (in the JSON, the baseline) do not hold that text.
        let echo = ["/bin/sh", "-c", "echo $((6*7))-marker"]
        let cases: [(arguments: [String], prefix: String)] = [
            (["run", "-o", "-", "--"] + echo, "mapblame: /bin/sh"),
            (["run", "--json", "-", "-o", "/dev/null", "--"] + echo, "{"),
            (["run", "--html", "-", "-o", "/dev/null", "--"] + echo, "<!DOCTYPE html>"),
            (["run", "--folded", "-", "-o", "/dev/null", "--"] + echo, "pid "),
            (["run", "--trace", "-", "-o", "/dev/null", "--"] + echo, "MBTRACE\n"),
            (["record", "-o", "-", "--"] + echo, "MBTRACE\n"),
            (["baseline", "-o", "-", "--"] + echo, "{"),
        ]
        for c in cases {
            var r = try runCommand([Build.mapblame] + c.arguments)
            if c.prefix == "MBTRACE\n" {  // binary: read as Latin-1, not UTF-8
                let out = dir + "/stdout"
                r = try runCommand(["/bin/sh", "-c", "exec \"$@\" > \(out)", "sh", Build.mapblame] + c.arguments)
                r.stdout = String(decoding: (try Data(contentsOf: URL(fileURLWithPath: out))).prefix(8), as: UTF8.self)
            }
            #expect(r.status == 0, "\(c.arguments): \(r.stderr)")
            #expect(r.stdout.hasPrefix(c.prefix), "\(c.arguments): stdout starts \(r.stdout.prefix(60).debugDescription)")
            #expect(!r.stdout.contains("42-marker"), "\(c.arguments): the program's output mixed into mapblame's")
            #expect(r.stderr.contains("42-marker"), "\(c.arguments): the program's output went missing")
            #expect(!FileManager.default.fileExists(atPath: "-"))
        }
        // A trace streamed to stdout reports like a file.
        let trace = dir + "/t.trace"
        let streamed = try runCommand(["/bin/sh", "-c", "\"$0\" record -o - -- /bin/true > \"$1\"", Build.mapblame, trace])
        #expect(streamed.status == 0, "\(streamed.stderr)")
        let report = try runCommand([Build.mapblame, "report", "-o", "-", trace])
        #expect(report.status == 0 && report.stdout.contains("exited with code 0"), "\(report.stderr)")
        #expect(!report.stdout.contains("cut short"), "\(report.stdout.prefix(300))")
    }

    @Test("Two outputs on standard output are refused with one line, exit 2")
    func twoOutputsOnStandardOutput() throws {
        let cases: [[String]] = [
            ["run", "-o", "-", "--json", "-", "--", "/bin/true"],
            ["run", "--html", "-", "--trace", "-", "--", "/bin/true"],
            ["attach", "1", "--format", "json", "--html", "-"],  // a format other than text goes to stdout
            ["check", "--baseline", "/nonexistent.json", "--format", "json", "--junit", "-", "--", "/bin/true"],  // so does check's JSON
            ["report", "/nonexistent.trace", "--json", "-"],  // report's text is on stdout already
            ["explain", "1", "--folded", "-"],  // so is explain's
        ]
        for arguments in cases {
            let r = try runCommand([Build.mapblame] + arguments)
            #expect(r.status == 2, "\(arguments): \(r.status) \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("standard output"), "\(arguments): \(r.stderr)")
        }
    }

    @Test("A read-only file is refused with one line and left untouched, root or not")
    func readOnlyFile() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/ro"
        try "keep".write(toFile: file, atomically: false, encoding: .utf8)
        chmod(file, 0o444)
        for arguments in [["run", "-o", file, "--", "/bin/true"], ["record", "-o", file, "--", "/bin/true"],
                          ["run", "--trace", file, "--", "/bin/true"]] {
            let r = try runCommand([Build.mapblame] + arguments)
            #expect(r.status == 2, "\(arguments): \(r.status)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("read-only"), "\(r.stderr)")
            #expect(Self.contents(file) == "keep")
            #expect(Self.info(file).st_mode & 0o7777 == 0o444)
        }
    }

    /// The old scheme wrote `PATH.tmp-PID` (and record's `mapblame-.partial-PID.trace`) with
    /// O_CREAT|O_TRUNC, following links: links planted at those names for the next pids made root
    /// write the report into the links' target, and a planted file became the report.
    @Test("Links and files planted at predictable names are never written through or adopted")
    func plantedNames() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = dir + "/secret"
        try "secret".write(toFile: secret, atomically: false, encoding: .utf8)
        chmod(secret, 0o600)
        let last = Int((try? String(contentsOfFile: "/proc/sys/kernel/ns_last_pid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 1000
        var planted: [String] = []
        for pid in (last + 1)...(last + 400) {
            for name in ["report.txt.tmp-\(pid)", "mapblame-.partial-\(pid).trace", "mapblame-true-\(pid).trace"] {
                #expect(symlink(secret, dir + "/" + name) == 0)
            }
            let file = dir + "/r.json.tmp-\(pid)"
            try "planted".write(toFile: file, atomically: false, encoding: .utf8)
            planted.append(file)
        }
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        let run = try Self.run(["-o", dir + "/report.txt", "--json", dir + "/r.json"])
        #expect(run.status == 0, "\(run.stderr)")
        let record = try runCommand(["/bin/sh", "-c", "cd \"$1\" && exec \"$0\" record -- /bin/true", Build.mapblame, dir])
        #expect(record.status == 0, "\(record.stderr)")

        #expect(Self.contents(secret) == "secret")
        #expect(Self.fileType(dir + "/report.txt") == S_IFREG && Self.contents(dir + "/report.txt").contains("== process"))
        #expect(Self.fileType(dir + "/r.json") == S_IFREG && Self.contents(dir + "/r.json").hasPrefix("{"))
        #expect(planted.allSatisfy { Self.contents($0) == "planted" })
        let added = Set(try FileManager.default.contentsOfDirectory(atPath: dir)).subtracting(before)
        let traces = added.filter { $0.hasPrefix("mapblame-true-") && $0.hasSuffix(".trace") }
        #expect(added.subtracting(traces) == ["report.txt", "r.json"], "unexpected files: \(added.sorted())")
        #expect(traces.count == 1, "\(traces)")
        if let trace = traces.first {
            #expect(Self.fileType(dir + "/" + trace) == S_IFREG)
            #expect(record.stderr.contains("trace written to \(trace)"), "\(record.stderr)")
        }
    }

    @Test("A new file gets 0666 less the umask; a file with other hard links is written in place")
    func newFilesAndHardLinks() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "umask 027 && exec \"$0\" run -o \"$1\" -- /bin/true"
        let r = try runCommand(["/bin/sh", "-c", script, Build.mapblame, dir + "/new"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.info(dir + "/new").st_mode & 0o7777 == 0o640)
        let a = dir + "/a", b = dir + "/b"
        try "old".write(toFile: a, atomically: false, encoding: .utf8)
        #expect(link(a, b) == 0)
        #expect(try Self.run(["-o", a]).status == 0)
        #expect(Self.info(a).st_ino == Self.info(b).st_ino)
        #expect(Self.contents(b).contains("== process"))
    }

    @Test("As a normal user: /dev/null, /dev/stdout and a writable file in a read-only directory",
          .enabled(if: isRoot, "needs root to switch to nobody"))
    func asNormalUser() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o755)
        let file = dir + "/mine"
        try "old".write(toFile: file, atomically: false, encoding: .utf8)
        chown(file, Self.nobody, Self.nobody)
        let asNobody = ["/usr/bin/setpriv", "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "--"]
        let r = try runCommand(asNobody + [Build.mapblame, "run", "-o", "/dev/null", "--json", "/dev/stdout", "--", "/bin/true"],
                               environment: ["PATH": "/usr/bin:/bin", "TMPDIR": "/tmp"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("{"))
        let inPlace = try runCommand(asNobody + [Build.mapblame, "run", "-o", file, "--", "/bin/true"],
                                     environment: ["PATH": "/usr/bin:/bin", "TMPDIR": "/tmp"])
        #expect(inPlace.status == 0, "\(inPlace.stderr)")
        #expect(Self.contents(file).contains("== process"))
        #expect(Self.info(file).st_uid == Self.nobody)
    }

    @Test("/dev/null is a character device after -o /dev/null")
    func devNullStays() throws {
        #expect(try Self.run(["-o", "/dev/null", "--json", "/dev/null"]).status == 0)
        #expect(DevNullGuard.isCharacterDevice)
    }

    @Test("The library's rules without a program: problem() creates nothing, write() replaces atomically")
    func libraryRules() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(OutputFile.problem(dir + "/new") == nil)
        #expect(!FileManager.default.fileExists(atPath: dir + "/new"))
        #expect(OutputFile.problem(dir)?.contains("is a directory") == true)
        #expect(OutputFile.problem(dir + "/missing/x")?.contains("does not exist") == true)
        #expect(OutputFile.problem("") != nil)
        #expect(OutputFile.problem("-") == nil)
        try OutputFile.write("one", to: dir + "/f")
        let inode = Self.info(dir + "/f").st_ino
        try OutputFile.write("two", to: dir + "/f")
        #expect(Self.contents(dir + "/f") == "two")
        #expect(Self.info(dir + "/f").st_ino != inode, "a regular file is replaced by rename, not rewritten")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"])
    }
}
