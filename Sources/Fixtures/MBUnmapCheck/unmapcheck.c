// Test helper, preloaded into mapblame (LD_PRELOAD): every munmap that goes through the dynamic
// linker (libunwind's, libdw's, the trace writer's) first checks with mincore that the whole
// range is mapped, and aborts with a message when it is not. Unmapping a range a second time
// through a stale pointer is harmless only until something else is mapped there; this makes the
// first such call fail a test deterministically instead of crashing mapblame once in a while.
#define _GNU_SOURCE
#include "MBUnmapCheck.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096u
#define CHUNK_PAGES 4096u

// Whether every page of [addr, addr + length) is mapped (mincore fails with ENOMEM otherwise).
static int fully_mapped(uintptr_t addr, size_t length) {
    static __thread unsigned char vec[CHUNK_PAGES];
    for (size_t done = 0; done < length; done += (size_t)CHUNK_PAGES * PAGE) {
        size_t n = length - done < (size_t)CHUNK_PAGES * PAGE ? length - done : (size_t)CHUNK_PAGES * PAGE;
        if (mincore((void *)(addr + done), n, vec) != 0 && errno == ENOMEM) return 0;
    }
    return 1;
}

int munmap(void *addr, size_t length) {
    uintptr_t a = (uintptr_t)addr;
    if (a % PAGE == 0 && length > 0 && !fully_mapped(a, length)) {
        char message[128];
        int n = snprintf(message, sizeof message, "unmapcheck: munmap(%p, %zu) of memory that is not mapped\n", addr, length);
        if (n > 0) (void)!write(2, message, (size_t)n);
        abort();
    }
    return (int)syscall(SYS_munmap, addr, length);
}
