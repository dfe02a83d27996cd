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
#include <signal.h>
#include <sys/time.h>

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
    uint64_t fs_base;    // the thread pointer: glibc's TCB, its static TLS block just below
    uint64_t cs;         // code segment: 0x23 while the task runs 32-bit code
} cshims_regs;

/// PTRACE_GETREGS into the subset above. Returns 0, or -1 with errno set.
int cshims_getregs(pid_t tid, cshims_regs *_Nonnull out);

/// Clears `flags` bits in the first argument register of a tracee stopped at syscall entry
/// (clone's flags): rdi, or ebx when `i386` (the i386 ABI). Returns 0, or -1 with errno set.
int cshims_clear_arg0_bits(pid_t tid, int i386, uint64_t flags);

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

// MARK: the seccomp filter

/// One BPF instruction, laid out as struct sock_filter (linux/filter.h).
typedef struct {
    uint16_t code;
    uint8_t jt, jf;
    uint32_t k;
} cshims_bpf_insn;

/// A call to stop at: seccomp_data's arch (AUDIT_ARCH_*) and number.
typedef struct {
    uint32_t arch, nr;
} cshims_traced_call;

extern const uint32_t cshims_audit_arch_x86_64, cshims_audit_arch_i386;

/// Writes into `out` a filter program that returns SECCOMP_RET_TRACE for exactly `calls` and
/// SECCOMP_RET_ALLOW for every other call of every architecture. Returns the number of
/// instructions, or -1 if `capacity` is too small.
int cshims_filter_build(const cshims_traced_call *_Nonnull calls, int count, cshims_bpf_insn *_Nonnull out,
                        int capacity);

// MARK: launching a traced child (continued)

/// Forks a child that stops itself with SIGSTOP, then installs the seccomp filter `filter`
/// (`filter_length` instructions, from cshims_filter_build) and execs `path`. The parent side waits for the stop,
/// attaches with PTRACE_SEIZE and `cshims_trace_options`, and sends SIGCONT.
/// On success returns 0 and stores the pid; the child is then running towards execve and will
/// report PTRACE_EVENT_EXEC (or its exec failure) to the caller's waitpid loop.
/// Does not read the error pipe: call `cshims_spawn_result` after the exec event or exit.
/// Returns an errno value otherwise, with `stage_out` = cshims_stage_traceme when PTRACE_SEIZE
/// was refused (the child is then killed and reaped).
int cshims_spawn_traced(const char *_Nonnull path, char *const _Nullable *_Nonnull argv,
                        char *const _Nullable *_Nonnull envp, int flags,
                        const cshims_bpf_insn *_Nonnull filter, int filter_length,
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

/// A binary-search table of a module's unwind information (.eh_frame_hdr's layout: `count` pairs
/// of (function start - segbase, FDE address - segbase), sorted by start, addresses as mapped in
/// the tracee): the module's .eh_frame_hdr table, or one built from .eh_frame for modules without
/// (static non-PIE executables). Either the tracee's own table at `remote_table`, or `entries` in
/// the tracer, which belong to the caller and must stay valid until cshims_unwinder_flush (or destroy).
typedef struct {
    const int32_t *_Nullable entries;
    uint64_t remote_table;  // 0: `entries` is the table
    uint64_t count;
    uint64_t segbase;
    uint64_t start_ip, end_ip;  // the code the table covers
    /// The module's .eh_frame as its file holds it (NULL: read the tracee's), at eh_frame_start in
    /// the tracee; same lifetime as `entries`.
    const uint8_t *_Nullable eh_frame;
    uint64_t eh_frame_start, eh_frame_size;
} cshims_eh_index;

/// The table of the module containing `ip`, asked once per module mapping the unwinder meets: 0
/// with *index filled, or -1 when there is none. `context` is the one given to
/// cshims_backtrace.
typedef int (*cshims_index_lookup)(void *_Nullable context, uint64_t ip, cshims_eh_index *_Nonnull index);

/// Whether `ip` is in executable memory of the address space (`context` as for cshims_backtrace):
/// the test a return address found through the frame pointer must pass.
typedef int (*cshims_code_check)(void *_Nullable context, uint64_t ip);
/// Lets cshims_backtrace follow the frame-pointer chain where libunwind stops (code without
/// unwind tables: JIT code, V8's builtins), as long as each return address passes `check`.
void cshims_unwinder_set_code_check(cshims_unwinder *_Nonnull u, cshims_code_check _Nullable check);

/// Unwinds the stopped thread `tid`, whose registers `regs` were just read with cshims_getregs
/// (saves one PTRACE_PEEKUSER per register the unwinder asks for), and stores up to `max`
/// instruction pointers (the first is the current IP, later ones return addresses). Returns the
/// number stored, or a negative libunwind error if not even the first frame could be read.
/// `lookup` names the file mapping of an address and `index` (may be NULL: no tables) supplies its
/// module's unwind table: libunwind's own lookup, which reads /proc/PID/maps, is never used (see
/// unwind.c). Code outside any file mapping (JIT) is walked by its frame pointer.
int cshims_backtrace(cshims_unwinder *_Nonnull u, pid_t tid, const cshims_regs *_Nonnull regs,
                     uint64_t *_Nonnull ips, int max, cshims_mapping_lookup _Nonnull lookup,
                     cshims_index_lookup _Nullable index, void *_Nullable context);

// MARK: remote unwinding of 32-bit code (elfutils libdwfl, i386 backend)

typedef struct cshims_unwinder32 cshims_unwinder32;

/// One per traced address space whose tasks run 32-bit code.
cshims_unwinder32 *_Nullable cshims_unwinder32_create(void);
void cshims_unwinder32_destroy(cshims_unwinder32 *_Nonnull u);
/// Code was unmapped: read the address space's modules again before the next backtrace.
void cshims_unwinder32_flush(cshims_unwinder32 *_Nonnull u);

/// Unwinds the stopped thread `tid`, running 32-bit code, from the registers `regs` read at the
/// stop: up to `max` instruction pointers (the first is the current one, later ones return
/// addresses). Returns the number stored, or -1 if the address space could not be read.
int cshims_backtrace32(cshims_unwinder32 *_Nonnull u, pid_t tid, const cshims_regs *_Nonnull regs,
                       uint64_t *_Nonnull ips, int max);

// MARK: CPython's frame chain (pylayout.c)

/// What walking a CPython 3.11 interpreter's frames needs, from the DWARF of its exact build:
/// member offsets in bytes (bit offsets for the `state` bit-fields of PyASCIIObject, from the
/// object's start) and ELF virtual addresses of symbols (0 when absent).
typedef struct {
    uint64_t runtime, version, eval_start, eval_end, eval_cold_start, eval_cold_end;
    uint64_t runtime_interpreters_head, interp_next, interp_threads_head;
    uint64_t tstate_next, tstate_thread_id, tstate_cframe, cframe_current_frame;
    uint64_t frame_code, frame_previous, frame_prev_instr, frame_is_entry;
    uint64_t code_filename, code_qualname, code_firstlineno, code_linetable, code_adaptive;
    uint64_t bytes_size, bytes_data, ascii_length, ascii_size, compact_size;
    uint64_t state_kind_bit, state_compact_bit, state_ascii_bit;
} cshims_python_layout;

/// Reads the layout from the ELF file at `path` (an interpreter with DWARF, or its debug file).
/// Returns 0; -2 when the symbols were read but the DWARF lacks a structure or member (another
/// Python version, or no debug info); -1 when the file cannot be read as ELF.
int cshims_python_layout_read(const char *_Nonnull path, cshims_python_layout *_Nonnull layout);

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
/// The calling thread's id (gettid, which glibc declares only with _GNU_SOURCE).
pid_t cshims_gettid(void);

// MARK: ending an attach session

/// A SIGALRM every `milliseconds` (ITIMER_REAL) that does nothing but interrupt a blocking call
/// (installed without SA_RESTART); start saves the handler and timer that were there in `t`, stop
/// puts them back.
typedef struct {
    struct sigaction saved_action;
    struct itimerval saved_timer;
    int active;
} cshims_ticker;
int cshims_ticker_start(cshims_ticker *_Nonnull t, int milliseconds);
void cshims_ticker_stop(cshims_ticker *_Nonnull t);

/// Installs handlers for SIGINT, SIGTERM and SIGHUP that only set the flag read by
/// cshims_stop_requested, and a SIGALRM every `tick_milliseconds` that does nothing but interrupt
/// a blocking waitpid (no SA_RESTART), so the tracer notices the flag or its deadline promptly.
/// The flag starts cleared. Returns 0, or -1 with errno set (nothing changed).
int cshims_stop_signals_install(int tick_milliseconds);
/// Puts back the four signals' actions and the interval timer as they were before install.
void cshims_stop_signals_remove(void);
/// 1 once SIGINT, SIGTERM or SIGHUP arrived after cshims_stop_signals_install.
int cshims_stop_requested(void);

// MARK: names (GNU extensions, hidden from Swift's Glibc module without _GNU_SOURCE)

/// "SEGV" for SIGSEGV, NULL if unknown (sigabbrev_np).
const char *_Nullable cshims_signal_abbrev(int sig);
/// "ENOMEM" for ENOMEM, NULL if unknown (strerrorname_np).
const char *_Nullable cshims_errno_name(int err);

// Nonzero on a thread that is inside cshims_backtrace (for the executable's quiet sigprocmask).
int cshims_backtrace_in_progress(void);

// MARK: gzip (zlib)
/// gzip of `length` bytes (zlib, best compression) into a malloc'ed `*output` of `*output_length`
/// bytes, which the caller frees. 0, or -1 if zlib failed (out of memory; input over 4 GiB).
int cshims_gzip(const uint8_t *_Nonnull input, size_t length, uint8_t *_Nullable *_Nonnull output,
                size_t *_Nonnull output_length);

// MARK: build and library versions (mapblame --version)

/// The git commit the binary was built from, or NULL. A weak default here: `make` links an object
/// it generates (.build/buildinfo/) whose strong definition replaces it, so a plain `swift build`
/// still links and says "unknown commit" (packaging/buildinfo.sh).
const char *_Nullable cshims_build_commit(void);
/// 1 when the tree had uncommitted changes at that build, 0 when clean, -1 when unknown.
int cshims_build_dirty(void);
/// The libunwind version of the headers mapblame was built with ("1.6.2").
const char *_Nonnull cshims_libunwind_header_version(void);
/// The file of the libunwind library this process runs with (resolved from one of its
/// functions' addresses, symbolic links followed), or NULL.
const char *_Nullable cshims_libunwind_loaded_file(void);
/// elfutils' version as the loaded libdw reports it (dwfl_version: "0.188").
const char *_Nonnull cshims_elfutils_version(void);

#endif
