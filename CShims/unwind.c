// libunwind remote unwinding of a stopped tracee. The stock _UPT accessors are used for
// everything except memory reads, which go through process_vm_readv with a small page cache that
// lives for one backtrace (PTRACE_PEEKDATA costs one syscall per 8 bytes), the registers the
// tracer already read at the stop, and the unwind tables, which come from the tracer's own model
// of the address space (see find_proc_info): libunwind never reads /proc/PID/maps nor maps a file.
#include "CShims.h"
#include "pagecache.h"

#include <errno.h>
#include <libunwind-ptrace.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// A code mapping the walk has met, with the unwind table the tracer gave for it. The tracer's
// model names the mapping (no /proc read), and the table is asked for once per slot.
//
// libunwind's own lookup (_UPT_find_proc_info) was used first until issue 21: for every address
// outside the one module its handle cached, it read the whole /proc/PID/maps again and mapped the
// module's file, and it cached nothing when it failed, so each lookup in a module it could not
// read (lld's shared file pages, a sandboxed chroot) paid that again: Chromium with its sandbox
// spent about 850 us of kernel time per backtrace in show_map_vma. The tracer's table is the
// module's own .eh_frame_hdr (the same table libunwind would have searched) or one built from
// .eh_frame, so libunwind's lookup adds nothing but the cost.
#define MODULE_SLOTS 64

typedef struct {
    uint64_t start, end;  // the mapping, from the tracer's model
    int used;             // 0: free slot
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
    void *upt;  // _UPT_create(tid), kept while the same thread is unwound (registers it reads by ptrace)
    pid_t tid;
    const cshims_regs *regs;  // the registers at the stop, read once by the tracer
    cshims_page_cache memory;  // for one walk
    module_slot modules[MODULE_SLOTS];  // kept across walks, like `upt`
    int next_module;                    // the slot reused next when all are taken
    uint64_t eh_low, eh_high;           // the span of the slots' local .eh_frame copies (eh_low > eh_high: none)
    int last_eh;                        // the slot whose .eh_frame served the last such read
    cshims_mapping_lookup lookup;       // for the walk in progress
    cshims_index_lookup index_lookup;
    void *lookup_context;
    cshims_code_check code_check;  // for the frame-pointer steps (NULL: none are taken)
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

static int eh_frame_covers(const module_slot *s, unw_word_t addr) {
    return s->used && s->index_state == 1 && s->index.eh_frame && s->index.eh_frame_size >= sizeof(unw_word_t)
        && addr >= s->index.eh_frame_start && addr - s->index.eh_frame_start <= s->index.eh_frame_size - sizeof(unw_word_t);
}

// A word of a module's .eh_frame from the tracer's copy of its file (the FDEs and CIEs every
// frame's step parses: one tracee page per frame otherwise): 1 if served, 0 if not there.
static int read_eh_frame_word(walk_context *c, unw_word_t addr, unw_word_t *val) {
    if (addr < c->eh_low || addr >= c->eh_high) return 0;  // the stack and everything else
    if (!eh_frame_covers(&c->modules[c->last_eh], addr)) {
        int i = 0;
        while (i < MODULE_SLOTS && !eh_frame_covers(&c->modules[i], addr)) i++;
        if (i == MODULE_SLOTS) return 0;
        c->last_eh = i;
    }
    const module_slot *s = &c->modules[c->last_eh];
    memcpy(val, s->index.eh_frame + (addr - s->index.eh_frame_start), sizeof *val);
    return 1;
}

// Recomputes the span of the local .eh_frame copies after a slot changed.
static void update_eh_span(walk_context *c) {
    c->eh_low = UINT64_MAX;
    c->eh_high = 0;
    for (int i = 0; i < MODULE_SLOTS; i++) {
        const module_slot *s = &c->modules[i];
        if (!s->used || s->index_state != 1 || !s->index.eh_frame) continue;
        if (s->index.eh_frame_start < c->eh_low) c->eh_low = s->index.eh_frame_start;
        if (s->index.eh_frame_start + s->index.eh_frame_size > c->eh_high) c->eh_high = s->index.eh_frame_start + s->index.eh_frame_size;
    }
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg) {
    (void)as;
    (void)arg;
    if (write) return -UNW_EINVAL;  // unwinding never writes tracee memory
    if (addr >= INDEX_BASE) return read_index_word(current, addr, val);
    if (read_eh_frame_word(current, addr, val)) return 0;
    return read_word(current, addr, val);
}

// Searches the slot's table from the tracer (asked for once per slot).
static int find_in_index(unw_addr_space_t as, module_slot *slot, unw_word_t ip, unw_proc_info_t *pi, int need,
                         void *arg) {
    walk_context *c = current;
    if (slot->index_state == 0) {
        int found = c->index_lookup && c->index_lookup(c->lookup_context, ip, &slot->index) == 0;
        slot->index_state = found && (slot->index.entries || slot->index.remote_table) && slot->index.count > 0 ? 1 : -1;
        update_eh_span(c);
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

// The slot of the mapping containing ip, taken now if new (the oldest slot is given up when all
// are taken). NULL when the tracer knows no mapping of a file there.
static module_slot *module_for(walk_context *c, unw_word_t ip) {
    uint64_t start, end;
    if (c->lookup(c->lookup_context, ip, &start, &end, NULL, 0) != 0) return NULL;
    for (int i = 0; i < MODULE_SLOTS; i++) {
        if (c->modules[i].used && c->modules[i].start == start && c->modules[i].end == end) return &c->modules[i];
    }
    module_slot *slot = &c->modules[c->next_module];
    c->next_module = (c->next_module + 1) % MODULE_SLOTS;
    int had_eh_frame = slot->used && slot->index_state == 1 && slot->index.eh_frame;
    *slot = (module_slot){.start = start, .end = end, .used = 1};
    if (had_eh_frame) update_eh_span(c);
    return slot;
}

// The unwind information of the function at ip, from the tracer's table of its module. Code in no
// file mapping (JIT code, anonymous executable memory) and code whose module has no table get
// -UNW_ENOINFO without a look outside this process: libunwind's x86_64 step then recognizes a
// signal trampoline or a PLT entry by the code at ip, else follows the frame pointer (rbp chain),
// and stops where rbp is 0 or does not lead up the stack. A JIT that keeps frame pointers (V8,
// the JVM, .NET, LuaJIT without -fomit) is walked through; one that does not ends the stack there.
static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg) {
    module_slot *slot = module_for(current, ip);
    if (!slot) return -UNW_ENOINFO;
    return find_in_index(as, slot, ip, pi, need, arg);
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
        c->modules[i] = (module_slot){0};
    }
    c->next_module = 0;
    update_eh_span(c);
}

void cshims_unwinder_destroy(cshims_unwinder *u) {
    forget_modules(&u->walk);
    if (u->walk.upt) _UPT_destroy(u->walk.upt);
    unw_destroy_addr_space(u->as);
    free(u);
}

void cshims_unwinder_flush(cshims_unwinder *u) {
    unw_flush_cache(u->as, 0, 0);
    forget_modules(&u->walk);  // their tables may describe code that was unmapped
}

void cshims_unwinder_set_code_check(cshims_unwinder *u, cshims_code_check check) { u->walk.code_check = check; }

// One step along the frame-pointer chain from the frame libunwind stopped at, for code without
// unwind information: JIT code (V8, the JVM, LuaJIT, .NET keep frame pointers in generated code)
// and V8's embedded builtins. The saved frame pointer must be above the stack pointer and below
// the next one, the return address in executable memory: a register that holds anything else
// (code built without frame pointers) ends the walk instead of inventing frames. On success
// `regs` holds the caller's IP, SP and RBP, for libunwind to go on from there (it continues with
// unwind tables as soon as the caller has them).
static int frame_pointer_step(walk_context *c, unw_cursor_t *cursor, cshims_regs *regs) {
    unw_word_t rbp = 0, sp = 0, saved_rbp = 0, ret = 0;
    if (!c->code_check || unw_get_reg(cursor, UNW_X86_64_RBP, &rbp) < 0 || unw_get_reg(cursor, UNW_REG_SP, &sp) < 0) {
        return -1;
    }
    if (rbp < sp || rbp - sp > (1u << 20) || rbp % 8 != 0) return -1;
    if (read_word(c, rbp, &saved_rbp) != 0 || read_word(c, rbp + 8, &ret) != 0) return -1;
    if (ret == 0 || !c->code_check(c->lookup_context, ret)) return -1;
    if (saved_rbp != 0 && (saved_rbp <= rbp || saved_rbp - rbp > (64u << 20))) return -1;
    regs->rip = ret;
    regs->rsp = rbp + 16;
    regs->rbp = saved_rbp;
    return 0;
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
    cshims_regs stepped = *regs;  // the registers of a frame reached through the frame pointers
    int rc = unw_init_remote(&cursor, u->as, c);
    if (rc < 0) goto done;
    while (n < max) {
        unw_word_t ip = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        ips[n++] = ip;
        if (unw_step(&cursor) > 0) continue;
        // libunwind has no way on: through the frame pointer, then libunwind again from there
        // (its access_reg reads `c->regs`).
        if (n >= max || frame_pointer_step(c, &cursor, &stepped) != 0) break;
        c->regs = &stepped;
        if (unw_init_remote(&cursor, u->as, c) < 0) break;
    }
done:
    inside_backtrace = 0;
    current = NULL;
    c->lookup = NULL;
    c->index_lookup = NULL;
    c->lookup_context = NULL;
    return n > 0 ? n : (rc < 0 ? rc : 0);
}
