// CShims: only what Swift cannot do itself.
//
// This is not indirection for its own sake: glibc's ptrace() is variadic and the W* wait-status
// macros are function-like macros, so Swift can call neither; the traced child's side of fork+exec
// must run async-signal-safe C code only; and libunwind's remote accessors are C callbacks.
// Every wrapper returns the libc value unchanged (errno set as libc sets it) unless it says otherwise.
#ifndef CSHIMS_H
#define CSHIMS_H

#include <stdint.h>
#include <sys/types.h>

// MARK: ptrace

/// Non-variadic ptrace(2). Returns libc's value; errno as set by libc.
long cshims_ptrace(int request, pid_t pid, uint64_t addr, uint64_t data);

/// x86_64 register state at a stop: the subset the tracer needs.
typedef struct {
    uint64_t orig_rax;   // syscall number at a syscall stop
    uint64_t rax;        // return value at a syscall-exit stop
    uint64_t rdi, rsi, rdx, r10, r8, r9;  // syscall arguments 1-6
    uint64_t rip, rsp;
    uint64_t rbx, rcx, rbp, r11, r12, r13, r14, r15;  // the rest, for the unwinder
} cshims_regs;

/// PTRACE_GETREGS into the subset above. Returns 0, or -1 with errno set.
int cshims_getregs(pid_t tid, cshims_regs *_Nonnull out);

/// Clears `flags` bits in the first argument register (rdi) of a tracee stopped at syscall entry
/// (clone's flags). Returns 0, or -1 with errno set.
int cshims_clear_arg0_bits(pid_t tid, uint64_t flags);

/// PTRACE_GETEVENTMSG. Returns 0, or -1 with errno set.
int cshims_geteventmsg(pid_t tid, uint64_t *_Nonnull out);

/// PTRACE_GETSIGINFO, returning only si_signo/si_code. Returns 0, or -1 with errno set
/// (EINVAL means the stop is a group-stop, not a signal-delivery-stop).
int cshims_getsiginfo(pid_t tid, int *_Nonnull signo, int *_Nonnull code);

/// Options the tracer sets on the launched child (TRACESECCOMP, CLONE, FORK, VFORK, EXEC, EXIT,
/// EXITKILL, TRACESYSGOOD).
extern const int cshims_trace_options;

extern const int cshims_PTRACE_SETOPTIONS, cshims_PTRACE_CONT, cshims_PTRACE_SYSCALL,
    cshims_PTRACE_DETACH, cshims_PTRACE_LISTEN;
extern const int cshims_PTRACE_EVENT_FORK, cshims_PTRACE_EVENT_VFORK, cshims_PTRACE_EVENT_CLONE,
    cshims_PTRACE_EVENT_EXEC, cshims_PTRACE_EVENT_EXIT, cshims_PTRACE_EVENT_SECCOMP,
    cshims_PTRACE_EVENT_STOP;
extern const int cshims_WALL;

// MARK: wait status macros

int cshims_wifexited(int status);
int cshims_wexitstatus(int status);
int cshims_wifsignaled(int status);
int cshims_wtermsig(int status);
int cshims_wifstopped(int status);
int cshims_wstopsig(int status);
/// The PTRACE_EVENT_* number of a stop (status >> 16), 0 for none.
int cshims_wptrace_event(int status);

// MARK: launching a traced child

/// Where a launch failed, reported with the errno through the close-on-exec pipe.
typedef enum {
    cshims_stage_none = 0,
    cshims_stage_traceme = 1,   // PTRACE_SEIZE refused
    cshims_stage_seccomp = 2,   // installing the seccomp filter failed
    cshims_stage_exec = 3,      // execve failed
    cshims_stage_personality = 4,
} cshims_stage;

enum {
    cshims_spawn_no_aslr = 1,
    /// The tracer ignores SIGINT/SIGQUIT while tracing; the child restores their default action.
    cshims_spawn_default_sigint = 2,
    /// The child leads a new process group (an in-process tracer waits on that group only).
    cshims_spawn_own_group = 4,
    /// The child's stdout is its stderr (mapblame writes an output to standard output).
    cshims_spawn_stdout_to_stderr = 8,
};

/// Forks a child that stops itself with SIGSTOP, then installs the seccomp filter that traps only
/// the memory-mapping (and clone) syscalls and execs `path`. The parent side waits for the stop,
/// attaches with PTRACE_SEIZE and `cshims_trace_options`, and sends SIGCONT.
/// On success returns 0 and stores the pid; the child is then running towards execve and will
/// report PTRACE_EVENT_EXEC (or its exec failure) to the caller's waitpid loop.
/// Does not read the error pipe: call `cshims_spawn_result` after the exec event or exit.
/// Returns an errno value otherwise, with `stage_out` = cshims_stage_traceme when PTRACE_SEIZE
/// was refused (the child is then killed and reaped).
int cshims_spawn_traced(const char *_Nonnull path, char *const _Nullable *_Nonnull argv,
                        char *const _Nullable *_Nonnull envp, int flags,
                        pid_t *_Nonnull pid_out, int *_Nonnull pipe_fd_out, int *_Nonnull stage_out);

/// Reads the launch result from the pipe returned by cshims_spawn_traced and closes it.
/// Returns 0 if exec succeeded (pipe closed by exec), otherwise the child's errno with its stage.
int cshims_spawn_result(int pipe_fd, int *_Nonnull stage_out);

// MARK: files

/// Whether the file at `path` carries file capabilities (a security.capability attribute).
int cshims_has_file_capabilities(const char *_Nonnull path);

// MARK: remote unwinding (libunwind-ptrace)

typedef struct cshims_unwinder cshims_unwinder;

/// One unwinder per traced address space (libunwind caches per address space).
cshims_unwinder *_Nullable cshims_unwinder_create(void);
void cshims_unwinder_destroy(cshims_unwinder *_Nonnull u);
/// Forget cached unwind info (after exec, or when code was unmapped).
void cshims_unwinder_flush(cshims_unwinder *_Nonnull u);

/// The file mapping [*start, *end) that contains `ip`, from the tracer's model of the address
/// space: 0, or -1 when no mapping of a file does. When `path` is not NULL, the file's path is
/// also stored there (NUL-terminated; -1 if it does not fit in `path_size` bytes). `context` is
/// the one given to cshims_backtrace.
typedef int (*cshims_mapping_lookup)(void *_Nullable context, uint64_t ip, uint64_t *_Nonnull start,
                                     uint64_t *_Nonnull end, char *_Nullable path, uint64_t path_size);

/// Unwinds the stopped thread `tid`, whose registers `regs` were just read with cshims_getregs
/// (saves one PTRACE_PEEKUSER per register the unwinder asks for), and stores up to `max`
/// instruction pointers (the first is the current IP, later ones return addresses). Returns the
/// number stored, or a negative libunwind error if not even the first frame could be read.
/// `lookup` names the file mapping of an address, so that each module keeps its own unwind table
/// across backtraces instead of one table for the whole address space; libunwind is only shown
/// addresses inside a mapping of an ELF file (see unwind.c).
int cshims_backtrace(cshims_unwinder *_Nonnull u, pid_t tid, const cshims_regs *_Nonnull regs,
                     uint64_t *_Nonnull ips, int max, cshims_mapping_lookup _Nonnull lookup,
                     void *_Nullable context);

// MARK: memory of another process

/// process_vm_readv of one buffer. Returns bytes read or -1 with errno set.
long cshims_read_memory(pid_t pid, uint64_t addr, void *_Nonnull buf, uint64_t len);

/// memcpy into a shared file mapping that returns -1 instead of dying if the file was truncated
/// under it (SIGBUS); 0 on success.
int cshims_copy_guarded(void *_Nonnull dst, const void *_Nonnull src, uint64_t count);

// MARK: scheduling

/// Restricts the calling thread to `cpu` (sched_setaffinity, a GNU extension). Returns 0 or -1.
int cshims_pin_self(int cpu);
/// How many CPUs the calling thread may run on (sched_getaffinity), -1 on error.
int cshims_allowed_cpus(void);
/// A CPU mask (cpu_set_t's 1024 bits), to give a thread the mask the process started with.
typedef struct { unsigned long bits[16]; } cshims_cpu_mask;
/// The calling thread's mask into *mask / the calling thread's mask from *mask; 0 or -1 (errno).
int cshims_get_mask(cshims_cpu_mask *_Nonnull mask);
int cshims_set_mask(const cshims_cpu_mask *_Nonnull mask);

// MARK: ending an attach session

/// Installs handlers for SIGINT, SIGTERM and SIGHUP that only set the flag read by
/// cshims_stop_requested, and a SIGALRM every `tick_milliseconds` that does nothing but interrupt
/// a blocking waitpid (no SA_RESTART), so the tracer notices the flag or its deadline promptly.
/// Returns 0, or -1 with errno set.
int cshims_stop_signals_install(int tick_milliseconds);
/// Stops the timer and restores the default actions of the four signals.
void cshims_stop_signals_remove(void);
/// 1 once SIGINT, SIGTERM or SIGHUP arrived after cshims_stop_signals_install.
int cshims_stop_requested(void);

// MARK: names (GNU extensions, hidden from Swift's Glibc module without _GNU_SOURCE)

/// "SEGV" for SIGSEGV, NULL if unknown (sigabbrev_np).
const char *_Nullable cshims_signal_abbrev(int sig);
/// "ENOMEM" for ENOMEM, NULL if unknown (strerrorname_np).
const char *_Nullable cshims_errno_name(int err);

#endif
