// predict: munmap and mprotect calls at the edges of what the tracer predicts without an exit stop
// (Tracer+Exitless.swift), single-threaded. Prints each call's result as NAME=0 or NAME=ERRNO-NAME
// and the addresses as NAME_at=0x..., so a test can hold the recorded results against them.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "predict.h"

#define PAGE 4096

static void result(const char *name, long rc) {
    printf("%s=%s\n", name, rc == 0 ? "0" : strerrorname_np(errno));
}

int scenario_predict(void) {
    char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    p[0] = 1;
    printf("p_at=%p\n", (void *)p);
    result("readonly", mprotect(p, 4 * PAGE, PROT_READ));                 // predicted
    result("writable", mprotect(p, 4 * PAGE, PROT_READ | PROT_WRITE));    // becomes writable: exit stop
    result("hole", munmap(p + PAGE, PAGE));                               // predicted
    result("across_hole", mprotect(p, 4 * PAGE, PROT_READ));              // ENOMEM after the first page
    result("unaligned", munmap(p + 1, PAGE));                             // EINVAL
    result("bad_prot", mprotect(p, PAGE, 0x100000));                      // EINVAL
    char *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) return 1;
    printf("q_at=%p\n", (void *)q);
    long sealed = syscall(462 /* mseal */, q, 2 * PAGE, 0);
    result("seal", sealed);
    result("sealed_munmap", munmap(q, 2 * PAGE));                         // EPERM when sealed
    result("sealed_mprotect", mprotect(q, 2 * PAGE, PROT_READ));          // EPERM when sealed
    char *r = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return 1;
    printf("r_at=%p\n", (void *)r);
    result("after_seal", munmap(r, PAGE));                                // no longer predicted
    return 0;
}
