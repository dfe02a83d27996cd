// malloc_mix T N: T threads, each doing N malloc/free operations on a pool of 64 slots. One in 16
// allocations is large (160 KiB .. 1 MiB, above the fixed 128 KiB mmap threshold: a real mmap and,
// when freed, a munmap); the rest are small (16 B .. 4 KiB, from the thread's malloc arena, which
// grows with mprotect). Mapping calls: about N/8 per thread plus arena set-up and growth.
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64

static long iterations;

static unsigned long next_rand(unsigned long *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *worker(void *arg) {
    unsigned long seed = 0x9e3779b97f4a7c15UL * ((unsigned long)(size_t)arg + 1);
    void *slot[SLOTS] = {0};
    unsigned long touched = 0;
    for (long i = 0; i < iterations; i++) {
        unsigned long r = next_rand(&seed);
        int k = (int)(r % SLOTS);
        free(slot[k]);
        size_t size = (r >> 8) % 16 == 0 ? 160 * 1024 + (r >> 12) % (864 * 1024)
                                         : 16 + (r >> 12) % 4080;
        char *p = malloc(size);
        if (!p) { perror("malloc"); exit(1); }
        memset(p, (int)i, size < 256 ? size : 256);
        p[size - 1] = 1;
        touched += (unsigned char)p[0];
        slot[k] = p;
    }
    for (int k = 0; k < SLOTS; k++) free(slot[k]);
    return (void *)touched;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    iterations = argc > 2 ? atol(argv[2]) : 20000;
    if (threads < 1 || threads > 256) { fprintf(stderr, "malloc_mix: 1..256 threads\n"); return 2; }
    // A fixed threshold: glibc's dynamic one would rise after the first free of an mmapped chunk
    // and later large blocks would come from the heap instead.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    pthread_t tid[256];
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tid[t], NULL, worker, (void *)(size_t)t) != 0) { perror("pthread_create"); return 1; }
    unsigned long total = 0;
    for (int t = 0; t < threads; t++) {
        void *r;
        pthread_join(tid[t], &r);
        total += (unsigned long)r;
    }
    printf("malloc_mix %d threads x %ld ops, checksum %lu\n", threads, iterations, total);
    return 0;
}
