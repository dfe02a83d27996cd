import Foundation
import Testing

/// A program whose set-user-ID, set-group-ID bits or file capabilities would change who it runs
/// as loses them under mapblame (no_new_privs): one line on stderr says so at the launch and at
/// each exec of such a program, and only when it matters. The programs are copies of id(1) in a
/// temporary directory, made set-user-ID to another user, or given a file capability.
@Suite("privilege notices", .enabled(if: getuid() == 0, "needs root to make set-user-ID copies of other users"))
struct PrivilegeNoticeTests {
    /// A directory anyone can read, with `id` copied as `name`, owned by `owner`, with `mode`.
    static func copyOfID(_ dir: URL, _ name: String, owner: uid_t, mode: mode_t) throws -> String {
        let path = dir.appendingPathComponent(name).path
        // cp, not an in-process copy: a program another test spawns meanwhile would inherit the
        // descriptor open for writing, and executing the copy would fail with ETXTBSY.
        let copied = try runCommand(["/bin/cp", "/usr/bin/id", path])
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(chown(path, owner, 0) == 0 && chmod(path, mode) == 0)  // chown first: it clears set-id bits
        return path
    }

    static func scratch() throws -> URL {
        let dir = try TraceFileTests.scratch()
        chmod(dir.path, 0o755)
        return dir
    }

    static func notices(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.contains("ignored under mapblame") }
    }

    static let nobody: uid_t = 65534

    @Test func setUserIDOfAnotherUserIsNoticedAtLaunchAndExec() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = try Self.copyOfID(dir, "id-nobody", owner: Self.nobody, mode: 0o4755)
        let launched = try runCommand([Build.mapblame, "run", "-q", "-o", "/dev/null", "--", program, "-u"])
        #expect(launched.stdout == "0\n")  // untraced it prints 65534
        #expect(Self.notices(launched.stderr) == ["mapblame: \(program): set-user-ID nobody ignored under mapblame (its seccomp filter needs no_new_privs): it runs as uid 0 gid 0 and may fail"], "\(launched.stderr)")
        let exec = try runCommand([Build.mapblame, "run", "-q", "-o", "/dev/null", "--", "/bin/sh", "-c", "\(program) -u; \(program) -u"])
        #expect(Self.notices(exec.stderr).count == 2, "\(exec.stderr)")
    }

    @Test func setUserIDOfTheCallerIsNotNoticed() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = try Self.copyOfID(dir, "id-root", owner: 0, mode: 0o4755)
        let run = try runCommand([Build.mapblame, "run", "-q", "-o", "/dev/null", "--", program, "-u"])
        #expect(run.status == 0 && Self.notices(run.stderr).isEmpty, "\(run.stderr)")
    }

    /// Run as nobody: a set-user-ID root copy, and a copy with cap_net_raw (a version 2
    /// security.capability attribute, set through Python so setcap need not be installed).
    @Test func setUserIDRootAndFileCapabilitiesAreNoticedForAnotherUser() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let setuid = try Self.copyOfID(dir, "id-root", owner: 0, mode: 0o4755)
        let caps = try Self.copyOfID(dir, "id-caps", owner: 0, mode: 0o755)
        let set = try runCommand(["/usr/bin/python3", "-c",
                                  "import os, struct, sys; os.setxattr(sys.argv[1], 'security.capability', struct.pack('<5I', 0x02000001, 1 << 13, 0, 0, 0))", caps])
        #expect(set.status == 0, "\(set.stderr)")
        for (program, lost) in [(setuid, "set-user-ID root"), (caps, "file capabilities")] {
            let run = try runCommand(["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                      Build.mapblame, "run", "-q", "-o", "/dev/null", "--", program, "-u"])
            #expect(run.stdout == "65534\n", "\(run.stderr)")
            #expect(Self.notices(run.stderr) == ["mapblame: \(program): \(lost) ignored under mapblame (its seccomp filter needs no_new_privs): it runs as uid 65534 gid 65534 and may fail"], "\(run.stderr)")
        }
    }
}
