// Mapping calls from JIT-like code: anonymous executable memory, no ELF file, no unwind tables.
#define _GNU_SOURCE
#include "jit.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096

// x86_64: a function with a frame pointer (as V8 and the JVM emit them) that makes the raw
// syscall mmap(rdi, rsi, rdx, rcx, r8, r9) and returns its result.
static const unsigned char jit_mmap[] = {
    0x55,                          // push %rbp
    0x48, 0x89, 0xe5,              // mov %rsp, %rbp
    0x49, 0x89, 0xca,              // mov %rcx, %r10
    0xb8, 0x09, 0x00, 0x00, 0x00,  // mov $9, %eax (mmap)
    0x0f, 0x05,                    // syscall
    0x5d,                          // pop %rbp
    0xc3,                          // ret
};

typedef long (*mmap_fn)(void *, size_t, int, int, int, off_t);

// The C frame the JIT code returns to: a backtrace from inside it must reach this function (and
// main) through the JIT frame's frame pointer.
__attribute__((noinline)) static long call_jit(mmap_fn code) {
    long p = code(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    __asm__ volatile("" ::: "memory");  // not a tail call: this frame stays on the stack
    return p;
}

int scenario_jit_code(int calls) {
    unsigned char *code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) { perror("mmap"); return 1; }
    memcpy(code, jit_mmap, sizeof jit_mmap);
    if (mprotect(code, PAGE, PROT_READ | PROT_EXEC) != 0) { perror("mprotect"); return 1; }
    for (int i = 0; i < calls; i++) {
        long p = call_jit((mmap_fn)code);
        if (p < 0 && p > -4096) { fprintf(stderr, "jit mmap: %s\n", strerror((int)-p)); return 1; }
        if (i == 0) printf("first=%p\n", (void *)p);
    }
    printf("jit=%p\n", (void *)code);
    return 0;
}
