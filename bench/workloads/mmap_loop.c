// mmap_loop N: N iterations of mmap + touch + munmap, with an mprotect every 4th iteration, each
// made about 10 calls deep (a chain of noinline frames), so a tracer that unwinds has real work.
// Mapping calls: 2*N + N/4 (plus the few of the loader and libc start-up).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define DEPTH 10
#define SIZE (64 * 1024)

static volatile unsigned long sink;

static __attribute__((noinline)) void map_once(long i) {
    char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    p[0] = (char)i;
    p[SIZE - 1] = (char)(i >> 8);
    sink += (unsigned char)p[0];
    if (i % 4 == 0 && mprotect(p, SIZE, PROT_READ) != 0) { perror("mprotect"); exit(1); }
    if (munmap(p, SIZE) != 0) { perror("munmap"); exit(1); }
}

// depth counts down to 0; the empty asm after the call keeps -O2 from turning it into a loop
// or a tail call, so every level is a real frame on the stack.
static __attribute__((noinline)) void descend(int depth, long i) {
    if (depth == 0) map_once(i);
    else descend(depth - 1, i);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000;
    for (long i = 0; i < n; i++) descend(DEPTH - 2, i);  // main + descend x9 + map_once = 11 frames
    printf("mmap_loop %ld iterations, sink %lu\n", n, sink);
    return 0;
}
