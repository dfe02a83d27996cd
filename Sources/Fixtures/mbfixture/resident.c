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

// A 296 KiB malloc served by its own mmap, written through, and a 2 MiB mmap placed right below it
// (MAP_FIXED_NOREPLACE, so it lands there or the scenario fails): same protection and flags, so
// the two merge into one VMA. The mmap is only read, every 64th page: reads map the kernel's
// shared zero page, which pagemap shows present but smaps does not count.
void scenario_resident(void) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    size_t size = 296 * 1024;
    char *chunk = malloc(size);  // @site:resident_malloc
    CHECK(chunk);
    memset(chunk, 1, size);
    char *base = (char *)((uintptr_t)chunk & ~(uintptr_t)(PAGE - 1));
    size_t below = 2 << 20;
    char *untouched = mmap(base - below, below, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);  // @site:resident_mmap
    CHECK(untouched == base - below);
    volatile char sum = 0;
    for (size_t off = 0; off < below; off += 64 * PAGE) sum += untouched[off];
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
