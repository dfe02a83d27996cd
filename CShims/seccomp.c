// The seccomp filter program, built from the tracer's table of traced calls (SyscallTable.swift)
// before fork: the child only installs it.
#include "CShims.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

_Static_assert(sizeof(cshims_bpf_insn) == sizeof(struct sock_filter), "cshims_bpf_insn is struct sock_filter");
_Static_assert(offsetof(cshims_bpf_insn, k) == offsetof(struct sock_filter, k), "cshims_bpf_insn is struct sock_filter");

const uint32_t cshims_audit_arch_x86_64 = AUDIT_ARCH_X86_64;
const uint32_t cshims_audit_arch_i386 = AUDIT_ARCH_I386;

static int emit(cshims_bpf_insn *out, int capacity, int *n, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
    if (*n >= capacity) return -1;
    out[(*n)++] = (cshims_bpf_insn){code, jt, jf, k};
    return 0;
}

// Per architecture that has traced calls, in the order first seen:
//     jeq arch ? next : (skip the block)      A holds seccomp_data.arch here
//     ld nr; jeq n1 ? TRACE : next; ...; ret ALLOW
// then ret ALLOW for every other architecture. x32 calls (arch x86_64, nr | 0x40000000) match no
// x86_64 number and are allowed.
int cshims_filter_build(const cshims_traced_call *calls, int count, cshims_bpf_insn *out, int capacity) {
    int n = 0;
    if (emit(out, capacity, &n, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch)) < 0) return -1;
    for (int i = 0; i < count; i++) {
        int first = 1;  // the first row of its architecture builds the block
        for (int j = 0; j < i; j++) first &= calls[j].arch != calls[i].arch;
        if (!first) continue;
        int rows = 0;
        for (int j = i; j < count; j++) rows += calls[j].arch == calls[i].arch;
        int block = 1 + 2 * rows + 1;
        if (block > 255) return -1;  // a BPF jump offset is 8 bits
        if (emit(out, capacity, &n, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)block, calls[i].arch) < 0) return -1;
        if (emit(out, capacity, &n, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr)) < 0) return -1;
        for (int j = i; j < count; j++) {
            if (calls[j].arch != calls[i].arch) continue;
            if (emit(out, capacity, &n, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, calls[j].nr) < 0) return -1;
            if (emit(out, capacity, &n, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE) < 0) return -1;
        }
        if (emit(out, capacity, &n, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW) < 0) return -1;
    }
    if (emit(out, capacity, &n, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW) < 0) return -1;
    return n;
}
