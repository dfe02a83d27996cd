// Typed, non-variadic wrappers around ptrace(2) and the wait-status macros.
#include "CShims.h"

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

const int cshims_trace_options = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                                 PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
                                 PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
const int cshims_PTRACE_SETOPTIONS = PTRACE_SETOPTIONS;
const int cshims_PTRACE_CONT = PTRACE_CONT;
const int cshims_PTRACE_SYSCALL = PTRACE_SYSCALL;
const int cshims_PTRACE_DETACH = PTRACE_DETACH;
const int cshims_PTRACE_LISTEN = PTRACE_LISTEN;
const int cshims_PTRACE_EVENT_FORK = PTRACE_EVENT_FORK;
const int cshims_PTRACE_EVENT_VFORK = PTRACE_EVENT_VFORK;
const int cshims_PTRACE_EVENT_CLONE = PTRACE_EVENT_CLONE;
const int cshims_PTRACE_EVENT_EXEC = PTRACE_EVENT_EXEC;
const int cshims_PTRACE_EVENT_EXIT = PTRACE_EVENT_EXIT;
const int cshims_PTRACE_EVENT_SECCOMP = PTRACE_EVENT_SECCOMP;
const int cshims_PTRACE_EVENT_STOP = PTRACE_EVENT_STOP;
const int cshims_WALL = __WALL;

long cshims_ptrace(int request, pid_t pid, uint64_t addr, uint64_t data) {
    return ptrace((enum __ptrace_request)request, pid, (void *)addr, (void *)data);
}

int cshims_getregs(pid_t tid, cshims_regs *out) {
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0) return -1;
    out->orig_rax = r.orig_rax;
    out->rax = r.rax;
    out->rdi = r.rdi;
    out->rsi = r.rsi;
    out->rdx = r.rdx;
    out->r10 = r.r10;
    out->r8 = r.r8;
    out->r9 = r.r9;
    out->rip = r.rip;
    out->rsp = r.rsp;
    out->rbx = r.rbx;
    out->rcx = r.rcx;
    out->rbp = r.rbp;
    out->r11 = r.r11;
    out->r12 = r.r12;
    out->r13 = r.r13;
    out->r14 = r.r14;
    out->r15 = r.r15;
    out->fs_base = r.fs_base;
    out->cs = r.cs;
    return 0;
}

int cshims_clear_arg0_bits(pid_t tid, int i386, uint64_t flags) {
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0) return -1;
    if (i386)
        r.rbx &= ~flags;
    else
        r.rdi &= ~flags;
    return ptrace(PTRACE_SETREGS, tid, 0, &r) < 0 ? -1 : 0;
}

int cshims_geteventmsg(pid_t tid, uint64_t *out) {
    unsigned long msg = 0;
    if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) < 0) return -1;
    *out = msg;
    return 0;
}

int cshims_getsiginfo(pid_t tid, int *signo, int *code) {
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0) return -1;
    *signo = si.si_signo;
    *code = si.si_code;
    return 0;
}

int cshims_wifexited(int status) { return WIFEXITED(status); }
int cshims_wexitstatus(int status) { return WEXITSTATUS(status); }
int cshims_wifsignaled(int status) { return WIFSIGNALED(status); }
int cshims_wtermsig(int status) { return WTERMSIG(status); }
int cshims_wifstopped(int status) { return WIFSTOPPED(status); }
int cshims_wstopsig(int status) { return WSTOPSIG(status); }
int cshims_wptrace_event(int status) { return (status >> 16) & 0xff; }

long cshims_read_memory(pid_t pid, uint64_t addr, void *buf, uint64_t len) {
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)addr, len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}
