// Scenarios for per-origin resident memory (/proc/PID/pagemap): smaps counts RSS per VMA, and the
// kernel merges adjacent compatible mappings into one VMA, so two calls' bytes can share a line.
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "resident.h"

#define PAGE 4096
#define CHECK(cond) do { if (!(cond)) { perror(#cond); exit(1); } } while (0)

// A 296 KiB malloc served by its own mmap, written through, and a 2 MiB mmap placed right next to
// it (MAP_FIXED_NOREPLACE below it, else above it): same protection and flags, so the two merge into
// one VMA. A malloc that landed in a gap with no room on either side is kept while another is tried
// (so that one lands elsewhere), and freed (unmapped) at the end. The mmap is only read, every 64th page: reads map the kernel's
// shared zero page, which pagemap shows present but smaps does not count.
void scenario_resident(void) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    size_t size = 296 * 1024, beside = 2 << 20;
    char *chunk = NULL, *untouched = MAP_FAILED, *tried[64];
    int attempt;
    for (attempt = 0; attempt < 64 && untouched == MAP_FAILED; attempt++) {
        chunk = tried[attempt] = malloc(size);  // @site:resident_malloc
        CHECK(chunk);
        char *base = (char *)((uintptr_t)chunk & ~(uintptr_t)(PAGE - 1));
        char *end = (char *)(((uintptr_t)chunk + size + PAGE - 1) & ~(uintptr_t)(PAGE - 1));
        char *places[2] = {base - beside, end};
        for (int i = 0; i < 2 && untouched == MAP_FAILED; i++) {
            untouched = mmap(places[i], beside, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);  // @site:resident_mmap
            if (untouched != MAP_FAILED && untouched != places[i]) {  // a kernel without MAP_FIXED_NOREPLACE
                munmap(untouched, beside);
                untouched = MAP_FAILED;
            }
        }
    }
    CHECK(untouched != MAP_FAILED);
    for (int i = 0; i < attempt - 1; i++) free(tried[i]);
    memset(chunk, 1, size);
    volatile char sum = 0;
    for (size_t off = 0; off < beside; off += 64 * PAGE) sum += untouched[off];
    printf("resident_malloc=%p\nresident_mmap=%p\n", (void *)chunk, (void *)untouched);
}

void scenario_resident_big(unsigned long mib, unsigned long stride) {
    size_t size = (size_t)mib << 20;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);  // @site:resident_big
    CHECK(p != MAP_FAILED);
    if (stride == 0) stride = 1;
    for (size_t off = 0; off < size; off += stride * PAGE) p[off] = 1;
    printf("resident_big=%p\n", (void *)p);
}
