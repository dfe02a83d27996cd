// The traced child's side of fork+exec. After fork() in a multi-threaded Swift process only
// async-signal-safe C may run in the child, so the whole child side lives here.
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static void report_and_exit(int fd, int stage) {
    int msg[2] = {errno, stage};
    ssize_t ignored = write(fd, msg, sizeof msg);
    (void)ignored;
    _exit(127);
}

static void child(const char *path, char *const argv[], char *const envp[], int flags,
                  const cshims_bpf_insn *filter, int filter_length, int fd) {
    if (flags & cshims_spawn_default_sigint) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
    }
    if ((flags & cshims_spawn_no_aslr) && personality(ADDR_NO_RANDOMIZE) < 0)
        report_and_exit(fd, cshims_stage_personality);
    if (flags & cshims_spawn_own_group) setpgid(0, 0);
    if ((flags & cshims_spawn_stdout_to_stderr) && dup2(2, 1) < 0) report_and_exit(fd, cshims_stage_exec);
    // Wait here for the tracer to PTRACE_SEIZE us with PTRACE_O_TRACESECCOMP: a filtered call with
    // no tracer option set would fail with ENOSYS.
    raise(SIGSTOP);
    struct sock_fprog prog = {(unsigned short)filter_length, (struct sock_filter *)filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) report_and_exit(fd, cshims_stage_seccomp);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) report_and_exit(fd, cshims_stage_seccomp);
    execve(path, argv, envp);
    report_and_exit(fd, cshims_stage_exec);
}

int cshims_spawn_traced(const char *path, char *const *argv, char *const *envp, int flags,
                        const cshims_bpf_insn *filter, int filter_length, pid_t *pid_out, int *pipe_fd_out, int *stage_out) {
    *stage_out = cshims_stage_none;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return e;
    }
    if (pid == 0) {
        close(fds[0]);
        child(path, argv, envp, flags, filter, filter_length, fds[1]);
    }
    close(fds[1]);
    int status = 0;
    for (;;) {  // the child's self-inflicted SIGSTOP (or its early death)
        pid_t r = waitpid(pid, &status, WUNTRACED);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            int e = errno;
            kill(pid, SIGKILL);
            close(fds[0]);
            return e;
        }
    }
    if (!WIFSTOPPED(status)) {  // it died before stopping (personality refused): the pipe says why
        *pid_out = pid;
        *pipe_fd_out = fds[0];
        return 0;
    }
    // PTRACE_SEIZE (not TRACEME): group-stops are then reported as such and can be held with
    // PTRACE_LISTEN, so job control keeps working under trace.
    if (ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)cshims_trace_options) < 0) {
        int e = errno;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        close(fds[0]);
        *stage_out = cshims_stage_traceme;
        return e;
    }
    kill(pid, SIGCONT);
    *pid_out = pid;
    *pipe_fd_out = fds[0];
    return 0;
}

int cshims_spawn_result(int pipe_fd, int *stage_out) {
    int msg[2] = {0, 0};
    ssize_t n;
    do {
        n = read(pipe_fd, msg, sizeof msg);
    } while (n < 0 && errno == EINTR);
    close(pipe_fd);
    if (n == (ssize_t)sizeof msg) {
        *stage_out = msg[1];
        return msg[0];
    }
    *stage_out = cshims_stage_none;
    return 0;
}
