// floor_tracer PROGRAM [ARGS...]: the cost of the stop itself.
//
// The same seccomp filter as mapblame (CShims/spawn.c): the mapping syscalls (mmap munmap mremap
// mprotect pkey_mprotect brk shmat shmdt) and process/thread creation (clone clone3 fork vfork) return
// SECCOMP_RET_TRACE, everything else runs. At each seccomp stop the tracer asks for the syscall-exit
// stop (PTRACE_SYSCALL), at the exit stop it continues (PTRACE_CONT): two stops per traced call and
// nothing else (no registers, no memory reads, no unwinding, no bookkeeping). It follows threads,
// forks and vforks, passes signals on, and exits with the program's status (128+N if killed by N).
// A lower bound for any tracer built this way; compare mapblame's per-call cost against it.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRACE_IF(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                     BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE)

static struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),  // x32 ABI: not traced
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    TRACE_IF(SYS_mmap), TRACE_IF(SYS_munmap), TRACE_IF(SYS_mremap), TRACE_IF(SYS_mprotect),
    TRACE_IF(SYS_pkey_mprotect), TRACE_IF(SYS_brk), TRACE_IF(SYS_shmat), TRACE_IF(SYS_shmdt),
    TRACE_IF(SYS_clone), TRACE_IF(SYS_clone3), TRACE_IF(SYS_fork), TRACE_IF(SYS_vfork), TRACE_IF(462 /* mseal */),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

// Tasks seen stopped at least once: the first stop of an auto-attached thread or child is a
// SIGSTOP that must be swallowed, later SIGSTOPs are real and passed on.
#define MAX_TID (1 << 22)
static unsigned char seen[MAX_TID / 8];
static int was_seen(pid_t t) {
    if (t <= 0 || t >= MAX_TID) return 1;
    int s = seen[t / 8] & (1 << (t % 8));
    seen[t / 8] |= (unsigned char)(1 << (t % 8));
    return s;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: floor_tracer PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) { perror("PTRACE_TRACEME"); _exit(127); }
        raise(SIGSTOP);  // let the parent set PTRACE_O_TRACESECCOMP before the filter exists
        struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
            perror("seccomp");
            _exit(127);
        }
        execvp(argv[1], argv + 1);
        fprintf(stderr, "floor_tracer: %s: %s\n", argv[1], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    int status;
    if (waitpid(child, &status, 0) < 0 || !WIFSTOPPED(status)) {
        fprintf(stderr, "floor_tracer: child did not stop\n");
        return 1;
    }
    was_seen(child);
    long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SETOPTIONS, child, 0, (void *)opts) < 0) { perror("PTRACE_SETOPTIONS"); return 1; }
    ptrace(PTRACE_CONT, child, 0, 0);

    int exit_code = 1;
    for (;;) {
        pid_t t = waitpid(-1, &status, __WALL);
        if (t < 0) {
            if (errno == EINTR) continue;
            if (errno == ECHILD) break;
            perror("waitpid");
            return 1;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (t == child) exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status), event = status >> 16;
        int first = !was_seen(t);
        long req = PTRACE_CONT;
        int inject = 0;
        if (event == PTRACE_EVENT_SECCOMP) req = PTRACE_SYSCALL;    // syscall entry: ask for the exit stop
        else if (sig == (SIGTRAP | 0x80)) req = PTRACE_CONT;        // syscall exit
        else if (event != 0) req = PTRACE_CONT;                     // clone/fork/vfork/exec events
        else if (sig == SIGSTOP && first) inject = 0;               // initial stop of a new task
        else inject = sig;                                          // a real signal: deliver it
        ptrace(req, t, 0, (void *)(long)inject);
    }
    return exit_code;
}
