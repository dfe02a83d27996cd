// libunwind remote unwinding of a stopped tracee. The stock _UPT accessors are used for
// everything except memory reads, which go through process_vm_readv with a small page cache that
// lives for one backtrace (PTRACE_PEEKDATA costs one syscall per 8 bytes), the registers the
// tracer already read at the stop, and the unwind tables, looked up through one _UPT handle per
// code mapping so that each module's table stays loaded across backtraces.
#include "CShims.h"
#include "pagecache.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libunwind-ptrace.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// A code mapping with its own _UPT handle. A _UPT handle caches the ELF image and unwind table of
// one module, and on an address outside it reads /proc/PID/maps and maps the next module's file:
// with one handle, a stack through libc, the program and libc again did that at every new return
// address (58 reads of /proc/PID/maps for one gcc -c). One handle per module does it once.
#define MODULE_SLOTS 16

typedef struct {
    uint64_t start, end;  // the mapping, from the tracer's model
    void *upt;            // NULL: free slot
    pid_t tid;            // the thread whose /proc entries the handle reads
    int index_state;      // 0: not asked yet, 1: `index` holds a table from the tracer, -1: it has none
    cshims_eh_index index;
} module_slot;

// libunwind searches a remote binary-search table (UNW_INFO_FORMAT_REMOTE_TABLE, the format of
// .eh_frame_hdr) by reading it through access_mem, as memory of the tracee. A table built by the
// tracer lives in the tracer, so each slot's table is given a made-up address above any user
// address (x86_64 user space ends below 2^57): access_mem serves those reads from the table.
#define INDEX_BASE 0xff00000000000000ull
#define INDEX_SPAN (1ull << 40)  // per slot; a table of 2^37 FDEs is beyond any program

// Declared by libunwind's internal headers only; exported by libunwind-x86_64.so (perf uses it too).
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t *di,
                                              unw_proc_info_t *pi, int need_unwind_info, void *arg);

typedef struct {
    void *upt;  // _UPT_create(tid), kept while the same thread is unwound (it caches an ELF image)
    pid_t tid;
    const cshims_regs *regs;  // the registers at the stop, read once by the tracer
    cshims_page_cache memory;  // for one walk
    module_slot modules[MODULE_SLOTS];  // kept across walks, like `upt`
    int next_module;                    // the slot reused next when all are taken
    cshims_mapping_lookup lookup;       // for the walk in progress
    cshims_index_lookup index_lookup;
    void *lookup_context;
} walk_context;

// One per traced address space, with its walk context: no allocation per backtrace.
struct cshims_unwinder {
    unw_addr_space_t as;
    walk_context walk;
};

// Whether this thread is inside cshims_backtrace: libunwind's cache locks there need no signal
// blocking (Sources/CQuietSigmask, linked into the mapblame executable only, reads it).
static __thread int inside_backtrace;

int cshims_backtrace_in_progress(void) { return inside_backtrace; }

static int read_word(walk_context *c, unw_word_t addr, unw_word_t *val) {
    return cshims_page_cache_read(&c->memory, addr, val, sizeof *val) == 0 ? 0 : -UNW_EINVAL;
}

// libunwind passes the accessors either our argument (from the cursor) or, from inside
// _UPT_find_proc_info, the _UPT argument. So the accessors ignore `arg` and use the walk in
// progress on this thread (the tracer is single-threaded per traced process).
static __thread walk_context *current;

#define UPT(arg) ((void)(arg), current->upt)

// A word of a slot's table at its made-up address (INDEX_BASE): 0, or -UNW_EINVAL outside it.
static int read_index_word(walk_context *c, unw_word_t addr, unw_word_t *val) {
    uint64_t slot = (addr - INDEX_BASE) / INDEX_SPAN, off = (addr - INDEX_BASE) % INDEX_SPAN;
    if (slot >= MODULE_SLOTS || c->modules[slot].index_state != 1 || !c->modules[slot].index.entries) return -UNW_EINVAL;
    const cshims_eh_index *index = &c->modules[slot].index;
    uint64_t size = index->count * 2 * sizeof(int32_t);
    if (off >= size) return -UNW_EINVAL;
    *val = 0;
    memcpy(val, (const char *)index->entries + off, size - off < sizeof *val ? size - off : sizeof *val);
    return 0;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg) {
    (void)as;
    (void)arg;
    if (write) return -UNW_EINVAL;  // unwinding never writes tracee memory
    if (addr >= INDEX_BASE) return read_index_word(current, addr, val);
    return read_word(current, addr, val);
}

// (Re)opens a slot's handle for thread `tid`: 0, or -1 leaving the slot free.
static int open_module(module_slot *slot, pid_t tid) {
    if (slot->upt) _UPT_destroy(slot->upt);
    slot->upt = _UPT_create(tid);
    slot->tid = tid;
    slot->index_state = 0;
    return slot->upt ? 0 : -1;
}

// Searches the slot's table from the tracer (asked for once per slot): for a module libunwind's
// ptrace accessors found no table for (no .eh_frame_hdr, or a file they could not open as mapped).
static int find_in_index(unw_addr_space_t as, module_slot *slot, unw_word_t ip, unw_proc_info_t *pi, int need,
                         void *arg) {
    walk_context *c = current;
    if (slot->index_state == 0) {
        int found = c->index_lookup && c->index_lookup(c->lookup_context, ip, &slot->index) == 0;
        slot->index_state = found && (slot->index.entries || slot->index.remote_table) && slot->index.count > 0 ? 1 : -1;
    }
    if (slot->index_state != 1 || ip < slot->index.start_ip || ip >= slot->index.end_ip) return -UNW_ENOINFO;
    unw_dyn_info_t di;
    memset(&di, 0, sizeof di);
    di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di.start_ip = slot->index.start_ip;
    di.end_ip = slot->index.end_ip;
    di.u.rti.segbase = slot->index.segbase;
    di.u.rti.table_data = slot->index.remote_table ? slot->index.remote_table
                                                   : INDEX_BASE + (uint64_t)(slot - c->modules) * INDEX_SPAN;
    di.u.rti.table_len = slot->index.count * 2 * sizeof(int32_t) / sizeof(unw_word_t);
    return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need, arg);
}

// Whether libunwind may be shown the file a tracee maps at `path`: each file libunwind would open
// for it (the path as it is, then under /proc/TID/root, another mount namespace's view) is either
// missing, which libunwind survives, or one it accepts as an ELF image: the checks of its
// valid_object (magic, 64-bit class, a known version), and x86_64 code.
//
// libunwind 1.6.2 must never be given anything else: when the file it maps for an address is not
// such an image, elf_map_image unmaps it but leaves the stale pointer in the handle, which unmaps
// it again when the handle moves on or is destroyed, by then often memory this process reuses
// (Chromium: an unwind that strayed into v8_context_snapshot.bin, then the trace writer's record
// buffer unmapped under it and a SIGSEGV).
static int is_elf_code_or_missing(const char *file) {
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT || errno == ENOTDIR;
    Elf64_Ehdr header;
    ssize_t n = pread(fd, &header, sizeof header, 0);
    close(fd);
    return n == (ssize_t)sizeof header && memcmp(header.e_ident, ELFMAG, SELFMAG) == 0
        && header.e_ident[EI_CLASS] == ELFCLASS64 && header.e_ident[EI_VERSION] != EV_NONE
        && header.e_ident[EI_VERSION] <= EV_CURRENT && header.e_machine == EM_X86_64;
}

static int is_elf_code(pid_t tid, const char *path) {
    char full[PATH_MAX + 32];
    if (snprintf(full, sizeof full, "/proc/%d/root%s", (int)tid, path) >= (int)sizeof full) return 0;
    return is_elf_code_or_missing(path) && is_elf_code_or_missing(full);
}

// The handle of the module containing ip: the slot of its mapping, or a new one (the oldest slot
// is given up when all are taken). NULL when the tracer knows no mapping of an ELF file there
// (anonymous memory such as JIT code, a data file an unwind strayed into): libunwind could find
// no unwind table there anyway.
static module_slot *module_for(walk_context *c, unw_word_t ip) {
    uint64_t start, end;
    if (c->lookup(c->lookup_context, ip, &start, &end, NULL, 0) != 0) return NULL;
    for (int i = 0; i < MODULE_SLOTS; i++) {
        if (c->modules[i].upt && c->modules[i].start == start && c->modules[i].end == end) return &c->modules[i];
    }
    char path[PATH_MAX];
    if (c->lookup(c->lookup_context, ip, &start, &end, path, sizeof path) != 0 || !is_elf_code(c->tid, path)) {
        return NULL;
    }
    module_slot *slot = &c->modules[c->next_module];
    c->next_module = (c->next_module + 1) % MODULE_SLOTS;
    slot->start = start;
    slot->end = end;
    return open_module(slot, c->tid) == 0 ? slot : NULL;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg) {
    (void)arg;
    module_slot *slot = module_for(current, ip);
    if (!slot) return -UNW_ENOINFO;
    int rc = _UPT_find_proc_info(as, ip, pi, need, slot->upt);
    // The thread that opened the handle may be gone: once more through this one.
    if (rc < 0 && slot->tid != current->tid && open_module(slot, current->tid) == 0) {
        rc = _UPT_find_proc_info(as, ip, pi, need, slot->upt);
    }
    if (rc == -UNW_ENOINFO) rc = find_in_index(as, slot, ip, pi, need, arg);
    return rc;
}
static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg) {
    _UPT_put_unwind_info(as, pi, UPT(arg));
}
static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg) {
    return _UPT_get_dyn_info_list_addr(as, addr, UPT(arg));
}
/// The stop's registers in libunwind's x86_64 numbering (RAX, RDX, RCX, RBX, RSI, RDI, RBP, RSP,
/// R8-R15, RIP), or NULL for one we did not capture.
static const uint64_t *captured(const cshims_regs *r, unw_regnum_t reg) {
    switch (reg) {
    case UNW_X86_64_RAX: return &r->rax;
    case UNW_X86_64_RDX: return &r->rdx;
    case UNW_X86_64_RCX: return &r->rcx;
    case UNW_X86_64_RBX: return &r->rbx;
    case UNW_X86_64_RSI: return &r->rsi;
    case UNW_X86_64_RDI: return &r->rdi;
    case UNW_X86_64_RBP: return &r->rbp;
    case UNW_X86_64_RSP: return &r->rsp;
    case UNW_X86_64_R8: return &r->r8;
    case UNW_X86_64_R9: return &r->r9;
    case UNW_X86_64_R10: return &r->r10;
    case UNW_X86_64_R11: return &r->r11;
    case UNW_X86_64_R12: return &r->r12;
    case UNW_X86_64_R13: return &r->r13;
    case UNW_X86_64_R14: return &r->r14;
    case UNW_X86_64_R15: return &r->r15;
    case UNW_X86_64_RIP: return &r->rip;
    default: return NULL;
    }
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg) {
    const uint64_t *known = write ? NULL : captured(current->regs, reg);
    if (known) {
        *val = *known;
        return 0;
    }
    return _UPT_access_reg(as, reg, val, write, UPT(arg));
}
static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg) {
    return _UPT_access_fpreg(as, reg, val, write, UPT(arg));
}
static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) { return _UPT_resume(as, c, UPT(arg)); }
static int get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t len, unw_word_t *off, void *arg) {
    return _UPT_get_proc_name(as, ip, buf, len, off, UPT(arg));
}

static unw_accessors_t accessors = {
    .find_proc_info = find_proc_info,
    .put_unwind_info = put_unwind_info,
    .get_dyn_info_list_addr = get_dyn_info_list_addr,
    .access_mem = access_mem,
    .access_reg = access_reg,
    .access_fpreg = access_fpreg,
    .resume = resume,
    .get_proc_name = get_proc_name,
};

cshims_unwinder *cshims_unwinder_create(void) {
    cshims_unwinder *u = calloc(1, sizeof *u);  // walk.upt NULL: created at the first backtrace
    if (!u) return NULL;
    u->as = unw_create_addr_space(&accessors, 0);
    if (!u->as) {
        free(u);
        return NULL;
    }
    unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
    return u;
}

static void forget_modules(walk_context *c) {
    for (int i = 0; i < MODULE_SLOTS; i++) {
        if (c->modules[i].upt) _UPT_destroy(c->modules[i].upt);
        c->modules[i] = (module_slot){0};
    }
    c->next_module = 0;
}

void cshims_unwinder_destroy(cshims_unwinder *u) {
    forget_modules(&u->walk);
    if (u->walk.upt) _UPT_destroy(u->walk.upt);
    unw_destroy_addr_space(u->as);
    free(u);
}

void cshims_unwinder_flush(cshims_unwinder *u) {
    unw_flush_cache(u->as, 0, 0);
    forget_modules(&u->walk);  // their handles hold the images of the code that was unmapped
    if (u->walk.upt) _UPT_destroy(u->walk.upt);  // it may hold the ELF image of unmapped code
    u->walk.upt = NULL;
}

int cshims_backtrace(cshims_unwinder *u, pid_t tid, const cshims_regs *regs, uint64_t *ips, int max,
                     cshims_mapping_lookup lookup, cshims_index_lookup index_lookup, void *context) {
    walk_context *c = &u->walk;
    if (!c->upt || c->tid != tid) {  // the _UPT fallbacks (registers, ELF images) name the thread
        if (c->upt) _UPT_destroy(c->upt);
        c->upt = _UPT_create(tid);
        if (!c->upt) return -UNW_ENOMEM;
        c->tid = tid;
    }
    c->regs = regs;
    cshims_page_cache_reset(&c->memory, tid);  // the tracee ran since the last walk
    c->lookup = lookup;
    c->index_lookup = index_lookup;
    c->lookup_context = context;
    current = c;
    inside_backtrace = 1;
    unw_cursor_t cursor;
    int n = 0;
    int rc = unw_init_remote(&cursor, u->as, c);
    if (rc < 0) goto done;
    while (n < max) {
        unw_word_t ip = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        ips[n++] = ip;
        if (unw_step(&cursor) <= 0) break;
    }
done:
    inside_backtrace = 0;
    current = NULL;
    c->lookup = NULL;
    c->index_lookup = NULL;
    c->lookup_context = NULL;
    return n > 0 ? n : (rc < 0 ? rc : 0);
}
