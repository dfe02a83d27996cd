// The "random SEED OPS THREADS FORK" scenario: a seeded, reproducible sequence of mapping calls
// inside a reserved window per thread — anonymous/file/shared mmap with MAP_FIXED, munmap of
// arbitrary sub-ranges, mprotect, mremap (shrink, grow, MAYMOVE|FIXED, DONTUNMAP), madvise,
// brk up and down — to check mapblame's model against the kernel (`run --verify`).
// FORK=1: halfway through, the first thread forks and the child continues with its own stream.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "random.h"

#define PAGE 4096UL
#define WINDOW_PAGES 256UL
#define FILE_PAGES 64UL

typedef struct {
    uint64_t state;
    unsigned long ops;
    int first;       // only the first thread uses brk and may fork
    int fork_at;     // op index at which to fork, -1 for never
    int fd;
    char *window;    // reserved before any thread starts, so no thread's calls land in another's
} worker;

static pthread_barrier_t start_line;

static uint64_t next(uint64_t *s) {  // SplitMix64
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned long below(worker *w, unsigned long n) { return (unsigned long)(next(&w->state) % n); }

static int random_prot(worker *w) {
    static const int prots[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC};
    return prots[below(w, 4)];
}

static void step(worker *w, char *window, char **brk_base) {
    unsigned long first = below(w, WINDOW_PAGES - 1);
    unsigned long pages = 1 + below(w, (WINDOW_PAGES - first) < 32 ? WINDOW_PAGES - first : 32);
    char *at = window + first * PAGE;
    size_t len = pages * PAGE;
    unsigned long file_page = below(w, FILE_PAGES - (pages < FILE_PAGES ? pages : FILE_PAGES - 1));
    switch (below(w, 12)) {
    case 0: mmap(at, len, random_prot(w), MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0); break;
    case 1: mmap(at, len, random_prot(w), MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0); break;
    case 2: mmap(at, len, random_prot(w), MAP_PRIVATE | MAP_FIXED, w->fd, file_page * PAGE); break;
    case 3: mmap(at, len, random_prot(w), MAP_SHARED | MAP_FIXED, w->fd, file_page * PAGE); break;
    case 4: munmap(at, len); break;
    case 5: mprotect(at, len, random_prot(w)); break;
    case 6: mremap(at, len, (1 + below(w, 8)) * PAGE, 0); break;
    case 7: mremap(at, len, (1 + below(w, 8)) * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                   window + below(w, WINDOW_PAGES - 8) * PAGE); break;
    case 8: mremap(at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
                   window + below(w, WINDOW_PAGES - pages) * PAGE); break;
    case 9: madvise(at, len, MADV_DONTNEED); break;
    case 10: mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0); break;
    default:
        if (w->first) {  // brk up or down, never below where this scenario started
            char *now = (char *)syscall(SYS_brk, 0);
            long delta = ((long)below(w, 9) - 4) * (long)PAGE;
            if (now + delta >= *brk_base) syscall(SYS_brk, now + delta);
        }
        break;
    }
}

static void *run_worker(void *arg) {
    worker *w = arg;
    pthread_barrier_wait(&start_line);  // every thread exists and every window is reserved
    char *window = w->window;
    char *brk_base = (char *)syscall(SYS_brk, 0);
    for (unsigned long i = 0; i < w->ops; i++) {
        if (w->first && (long)i == w->fork_at) {
            pid_t child = fork();
            if (child == 0) {
                w->state ^= 0x5deece66dULL;  // the child's own stream
                for (unsigned long j = i; j < w->ops; j++) step(w, window, &brk_base);
                _exit(0);
            }
            if (child > 0) waitpid(child, NULL, 0);
        }
        step(w, window, &brk_base);
    }
    return NULL;
}

int scenario_random(uint64_t seed, unsigned long ops, int threads, int with_fork) {
    char path[] = "/tmp/mbfixture-random-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, FILE_PAGES * PAGE) != 0) { perror("mkstemp"); return 1; }
    unlink(path);
    if (threads < 1 || threads > 64) threads = 1;
    worker workers[64];
    pthread_t ids[64];
    for (int t = 0; t < threads; t++) {
        // Each window has a PROT_NONE margin of a window's size after it: in-place mremap growth
        // past a window's end then stays out of every other mapping.
        char *window = mmap(NULL, 2 * WINDOW_PAGES * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (window == MAP_FAILED) { perror("mmap"); return 1; }
        munmap(window + WINDOW_PAGES * PAGE, WINDOW_PAGES * PAGE);
        workers[t] = (worker){seed * 1000003ULL + (uint64_t)t, ops, t == 0, with_fork ? (int)(ops / 2) : -1, fd, window};
    }
    pthread_barrier_init(&start_line, NULL, (unsigned)threads);
    for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, run_worker, &workers[t]);
    run_worker(&workers[0]);
    for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
    printf("seed=%llu\n", (unsigned long long)seed);
    return 0;
}
