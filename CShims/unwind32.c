// Backtraces of tasks running 32-bit (i386) code, through elfutils' libdwfl and its i386 backend:
// libunwind as built for x86_64 unwinds x86_64 code only. One Dwfl per traced address space, its
// modules read from /proc/TID/maps (re-read when a frame falls outside them or code was unmapped),
// the thread's registers the ones the tracer read at the stop, memory read through a page cache.
#include "CShims.h"
#include "pagecache.h"

#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct cshims_unwinder32 {
    Dwfl *dwfl;
    int attached;  // dwfl_attach_state done (once per Dwfl)
    int stale;     // code was unmapped: read the modules again before the next walk
    int exe_fd;    // the executable whose ELF header tells dwfl_attach_state the architecture
    Elf *exe;
    pid_t tid;  // the walk in progress
    const cshims_regs *regs;
    cshims_page_cache memory;
};

struct walk {
    Dwfl *dwfl;
    uint64_t *ips;
    int max, n;
    int outside_modules;  // a frame's pc is in no reported module
};

static char *debuginfo_path;
static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

// Only dwfl_getthread_frames is used, which asks get_thread for the one thread being walked.
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_arg) {
    (void)dwfl, (void)arg, (void)thread_arg;
    return 0;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg) {
    (void)dwfl, (void)tid;
    *thread_arg = arg;
    return true;
}

// A 32-bit word: libdwfl expects the callback to truncate to the task's word size.
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg) {
    (void)dwfl;
    struct cshims_unwinder32 *u = arg;
    uint32_t word;
    if (cshims_page_cache_read(&u->memory, addr, &word, sizeof word) != 0) return false;
    *result = word;
    return true;
}

// The stop's registers in the i386 DWARF numbering: eax, ecx, edx, ebx, esp, ebp, esi, edi, eip.
static bool set_initial_registers(Dwfl_Thread *thread, void *arg) {
    const cshims_regs *r = ((const struct cshims_unwinder32 *)arg)->regs;
    Dwarf_Word regs[9] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi, r->rip};
    for (int i = 0; i < 9; i++) regs[i] &= 0xffffffffu;
    return dwfl_thread_state_registers(thread, 0, 9, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

cshims_unwinder32 *cshims_unwinder32_create(void) {
    cshims_unwinder32 *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    u->dwfl = dwfl_begin(&proc_callbacks);
    if (!u->dwfl) {
        free(u);
        return NULL;
    }
    u->exe_fd = -1;
    u->stale = 1;
    return u;
}

void cshims_unwinder32_destroy(cshims_unwinder32 *u) {
    dwfl_end(u->dwfl);
    if (u->exe) elf_end(u->exe);
    if (u->exe_fd >= 0) close(u->exe_fd);
    free(u);
}

void cshims_unwinder32_flush(cshims_unwinder32 *u) { u->stale = 1; }

// Reads the modules of the address space again (libdwfl keeps those that did not change) and,
// the first time, gives the Dwfl its thread callbacks.
static int report_modules(cshims_unwinder32 *u, pid_t tid) {
    dwfl_report_begin(u->dwfl);
    int rc = dwfl_linux_proc_report(u->dwfl, tid);
    if (dwfl_report_end(u->dwfl, NULL, NULL) != 0 || rc != 0) return -1;
    u->stale = 0;
    if (u->attached) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)tid);
    u->exe_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (u->exe_fd < 0) return -1;
    elf_version(EV_CURRENT);
    u->exe = elf_begin(u->exe_fd, ELF_C_READ_MMAP, NULL);
    if (!u->exe || !dwfl_attach_state(u->dwfl, u->exe, tid, &thread_callbacks, u)) return -1;
    u->attached = 1;
    return 0;
}

static int on_frame(Dwfl_Frame *frame, void *arg) {
    struct walk *w = arg;
    Dwarf_Addr pc;
    if (!dwfl_frame_pc(frame, &pc, NULL) || pc == 0) return DWARF_CB_ABORT;
    w->ips[w->n++] = pc;
    if (!dwfl_addrmodule(w->dwfl, pc)) w->outside_modules = 1;
    return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int cshims_backtrace32(cshims_unwinder32 *u, pid_t tid, const cshims_regs *regs, uint64_t *ips, int max) {
    if (max <= 0) return 0;
    u->tid = tid;
    u->regs = regs;
    cshims_page_cache_reset(&u->memory, tid);  // the tracee ran since the last walk
    int reported = 0;
    if (u->stale || !u->attached) {
        if (report_modules(u, tid) != 0) return -1;
        reported = 1;
    }
    for (;;) {
        struct walk w = {u->dwfl, ips, max, 0, 0};
        // Ends with an error where the unwinding stops (no CFI, the outermost frame): the frames
        // found until then are the backtrace.
        dwfl_getthread_frames(u->dwfl, tid, on_frame, &w);
        // A frame in code mapped since the modules were read: read them again and walk again.
        if (!w.outside_modules || reported || report_modules(u, tid) != 0) return w.n;
        reported = 1;
    }
}
