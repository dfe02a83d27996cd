// Scenarios reproducing what real programs did to mapblame (see fidelity.h).
#define _GNU_SOURCE
#include "fidelity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

// x86_64: mmap(rdi, rsi, rdx, rcx, r8, r9) as a raw syscall, then return.
static const unsigned char mmap_stub[] = {
    0x49, 0x89, 0xca,              // mov %rcx, %r10
    0xb8, 0x09, 0x00, 0x00, 0x00,  // mov $9, %eax (mmap)
    0x0f, 0x05,                    // syscall
    0xc3,                          // ret
};

typedef long (*mmap_fn)(void *, size_t, int, int, int, off_t);

// A file holding only the stub and zeros (no ELF header), mapped executable: the first frame of
// each mmap it makes is inside it, as when a broken unwind of a JIT's stack lands in a data file.
int scenario_foreign_code(void) {
    char path[] = "/tmp/mbfixture-foreign-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { perror("mkstemp"); return 1; }
    unsigned char page[16 * PAGE];
    memset(page, 0, sizeof page);
    memcpy(page, mmap_stub, sizeof mmap_stub);
    int ok = write(fd, page, sizeof page) == (ssize_t)sizeof page;
    void *code = ok ? mmap(NULL, sizeof page, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (code == MAP_FAILED) { perror("foreign code"); unlink(path); return 1; }
    mmap_fn stub = (mmap_fn)code;
    // Several calls: libunwind 1.6.2 unmapped such a file's image a second time at the next
    // lookup in the same module.
    for (int i = 0; i < 4; i++) {
        long p = stub(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p < 0 && p > -4096) { fprintf(stderr, "stub mmap: %s\n", strerror((int)-p)); unlink(path); return 1; }
        if (i == 0) printf("foreign=%p\n", (void *)p);
    }
    munmap(code, sizeof page);  // code unmapped: the tracer forgets its unwind tables too
    unlink(path);
    printf("code=%p\n", code);
    return 0;
}

int scenario_many_vmas(unsigned pages) {
    char *p = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    for (unsigned i = 1; i < pages; i += 2) {
        if (mprotect(p + (size_t)i * PAGE, PAGE, PROT_READ) != 0) { perror("mprotect"); return 1; }
    }
    for (unsigned i = 0; i < pages; i += 2) p[(size_t)i * PAGE] = 1;  // resident: smaps lines with rss
    printf("vmas=%p\n", (void *)p);
    return 0;
}
