import Foundation
import MapBlameTestSupport
import Testing

/// The GitHub Action (action.yml): its shell steps (ci/action/*.sh) run as a hosted runner runs
/// them — as a user that is not root and has passwordless sudo, from a clean directory, with the
/// GITHUB_* files of a job — against mbfixture and the baseline committed in Tests/action/.
///
/// The user, `mapblame-ci`, is made by `make deps` (as root, like the packages it installs), so
/// that no test changes the machine: `make test` runs `deps` first; `make remove-ci-user` undoes it.
/// mapblame comes from a tarball packed by ci/dist.sh, the script behind `make dist`, from the
/// mapblame under test (the action's other way, building from source, is a `swift build` this suite
/// does not repeat). The runtime packages are installed already, so the install step runs no apt-get.
@Suite("GitHub Action", .serialized)
struct ActionTests {
    static let user = "mapblame-ci"

    /// Runs `script` of the action (a copy at `actionPath`, as a runner checks actions out) as the
    /// runner's user, in `directory`, with only `environment` (and the sanitizers' options).
    static func step(_ script: String, action actionPath: String, in directory: String, _ environment: [String: String]) throws -> Finished {
        var env = ["HOME=/home/\(user)", "PATH=/usr/local/bin:/usr/bin:/bin", "GITHUB_ACTION_PATH=\(actionPath)"]
        for name in ["ASAN_OPTIONS", "TSAN_OPTIONS"] {
            if let value = ProcessInfo.processInfo.environment[name] { env.append("\(name)=\(value)") }
        }
        env += environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try runCommand(["/usr/bin/sudo", "-n", "-u", user, "--", "/usr/bin/env", "-i"] + env
            + ["/bin/bash", "-c", "cd \"$0\" && exec bash \"$1\"", directory, actionPath + "/ci/action/" + script])
    }

    /// key=value lines of a GITHUB_OUTPUT file.
    static func outputs(_ path: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return result
    }

    @Test func theActionsStepsRunAsARunnersUser() throws {
        // The runner's user: not root, passwordless sudo (make deps).
        let who = try runCommand(["/usr/bin/sudo", "-n", "-u", Self.user, "--", "/usr/bin/id", "-u"])
        try #require(who.status == 0, "no user \(Self.user) with sudo: run `make deps` as root (\(who.stderr))")
        #expect(who.stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "0")
        #expect(try runCommand(["/usr/bin/sudo", "-n", "-u", Self.user, "--", "/usr/bin/sudo", "-n", "/usr/bin/id", "-u"]).stdout == "0\n")

        // The action runs exactly these scripts.
        let action = try String(contentsOfFile: Build.packageRoot + "/action.yml", encoding: .utf8)
        for script in ["install.sh", "get-mapblame.sh", "check.sh"] {
            #expect(action.contains("run: bash \"$GITHUB_ACTION_PATH/ci/action/\(script)\""), "\(script)")
        }

        // A clean directory of the user's: the checkout (the program, a committed baseline), the
        // action as the runner checks it out, and the runner's files. Copies, so that the user
        // needs no access to this checkout (CI's may sit in a directory only root can enter).
        let root = try TempDir()
        let work = root.path("workspace"), runner = root.path("runner"), actionPath = root.path("action")
        for dir in [work, runner, actionPath] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: Build.packageRoot + "/Tests/action/mapblame-baseline.json", toPath: work + "/mapblame-baseline.json")
        try FileManager.default.copyItem(atPath: Build.fixture, toPath: work + "/mbfixture")
        try FileManager.default.copyItem(atPath: Build.packageRoot + "/action.yml", toPath: actionPath + "/action.yml")
        try FileManager.default.copyItem(atPath: Build.packageRoot + "/ci", toPath: actionPath + "/ci")
        let dist = try runCommand([Build.packageRoot + "/ci/dist.sh", Build.mapblame, root.path("dist")])
        try #require(dist.status == 0, "\(dist.stderr)")
        let tarball = dist.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tarball.hasSuffix("-\(try runCommand(["/usr/bin/uname", "-m"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))-linux.tar.gz"))
        #expect(try runCommand(["/bin/chown", "-R", "\(Self.user):", root.url.path]).status == 0)
        var job = ["GITHUB_OUTPUT": runner + "/output", "GITHUB_PATH": runner + "/path", "GITHUB_STEP_SUMMARY": runner + "/summary.md",
                   "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": Build.packageRoot, "RUNNER_TEMP": runner]

        let install = try Self.step("install.sh", action: actionPath, in: work, job)
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        #expect(install.stdout.contains("runtime packages present"), "\(install.stdout)")

        var get = job
        get["MAPBLAME_TARBALL"] = tarball
        let got = try Self.step("get-mapblame.sh", action: actionPath, in: work, get)
        #expect(got.status == 0, "\(got.stderr)")
        let binary = try #require(Self.outputs(runner + "/output")["mapblame"])
        #expect(binary.hasPrefix(runner + "/mapblame/mapblame-") && binary.hasSuffix("/bin/mapblame"), "\(binary)")
        #expect(try String(contentsOfFile: runner + "/path", encoding: .utf8) == (binary as NSString).deletingLastPathComponent + "\n")

        // Within the baseline: status 0, a JUnit file without failures.
        var check = job
        check["MAPBLAME"] = binary
        check["INPUT_COMMAND"] = "./mbfixture mmap"
        check["INPUT_JUNIT"] = "mapblame-junit.xml"
        check["INPUT_TOLERANCE"] = "bytes=+4KiB\nrss=off"
        let passed = try Self.step("check.sh", action: actionPath, in: work, check)
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(Self.outputs(runner + "/output")["status"] == "0", "\(passed.stderr)")
        #expect(passed.stdout.hasPrefix("mmap=0x"), "\(passed.stdout)")  // the program's own stdout
        #expect(passed.stderr.contains("--tolerance bytes=+4KiB --tolerance rss=off"))
        let junit = try String(contentsOfFile: work + "/mapblame-junit.xml", encoding: .utf8)
        #expect(junit.contains("failures=\"0\"") && junit.contains("name=\"mmap:scenario_mmap@mbfixture\""))

        // A new site of the program's own: status 1 (the step itself passes, so the JUnit file is
        // uploaded), an annotation on its line, the summary appended.
        check["MBFIXTURE_EXTRA_SITE"] = "1"
        try FileManager.default.removeItem(atPath: runner + "/output")
        let failed = try Self.step("check.sh", action: actionPath, in: work, check)
        #expect(failed.status == 0, "\(failed.stderr)")
        #expect(Self.outputs(runner + "/output")["status"] == "1", "\(failed.stderr)")
        let line = try #require(SiteMarkers.lines["extra"])
        #expect(failed.stdout.contains("::error file=Sources/Fixtures/mbfixture/main.c,line=\(line),title="), "\(failed.stdout)")
        let summary = try String(contentsOfFile: runner + "/summary.md", encoding: .utf8)
        #expect(summary.contains("### mapblame check: ✅ within tolerance") && summary.contains("### mapblame check: ❌ 1 regression"), "\(summary)")
        #expect(try String(contentsOfFile: work + "/mapblame-junit.xml", encoding: .utf8).contains("at extra_mapping (main.c:\(line))"))

        // Ignored from the action's input: the step passes again; by hand (no GITHUB_OUTPUT) the
        // script's status is mapblame's.
        check["INPUT_IGNORE"] = "mmap:extra_*"
        try FileManager.default.removeItem(atPath: runner + "/output")
        #expect(try Self.step("check.sh", action: actionPath, in: work, check).status == 0)
        #expect(Self.outputs(runner + "/output")["status"] == "0")
        check["INPUT_IGNORE"] = nil
        check["GITHUB_OUTPUT"] = nil
        #expect(try Self.step("check.sh", action: actionPath, in: work, check).status == 1)
    }
}
