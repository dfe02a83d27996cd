import Foundation
import Testing

/// clone(CLONE_UNTRACED) would make a task that has the seccomp filter but no tracer, whose mapping
/// calls then fail with ENOSYS (LeakSanitizer's stop-the-world thread does this, and used to hang).
/// mapblame clears the flag: the child is traced like any other and its mmap works.
@Suite("CLONE_UNTRACED")
struct CloneUntracedTests {
    static let source = """
        #define _GNU_SOURCE
        #include <sched.h>
        #include <stdio.h>
        #include <sys/mman.h>
        #include <sys/syscall.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(void) {
            long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
            if (pid == 0) {
                void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                _exit(p == MAP_FAILED ? 3 : 0);
            }
            int status = 0;
            waitpid((pid_t)pid, &status, 0);
            printf("child_status=%d\\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            return 0;
        }
        """

    @Test func untracedChildrenAreTracedAndCanMap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapblame-untraced-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("untraced.c").path, binary = dir.appendingPathComponent("untraced").path
        try Self.source.write(toFile: source, atomically: true, encoding: .utf8)
        let cc = try runCommand(["/usr/bin/cc", "-O0", "-o", binary, source])
        try #require(cc.status == 0, "\(cc.stderr)")
        let run = try TracedRun([binary])
        #expect(run.finished.status == 0, "\(run.finished.stderr)")
        #expect(run.finished.values["child_status"] == "0", "the child's mmap failed (ENOSYS: untraced)")
        #expect(run.report.processes.count == 2)
    }
}
