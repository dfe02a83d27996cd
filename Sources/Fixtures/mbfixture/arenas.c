// arena-stacks: glibc reserves 128 MiB (PROT_NONE, MAP_NORESERVE) for a new malloc arena, keeps
// the 64 MiB-aligned half and munmaps the rest. Thread stacks created afterwards land in the
// trimmed-off parts, inside the range of the arena's original mmap: a classifier that matches
// stacks against a creating call's original range calls the arena a thread stack.
// Prints arena= (an address in the arena), arena_reserve= (in its PROT_NONE tail), and
// stack_N=/tid_N= for each thread.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arenas.h"

static pthread_barrier_t all_started;

static void *arena_thread(void *arg) {
    void **block = arg;
    *block = malloc(1000);  // @site:arena_stacks
    return NULL;
}

static void *stack_thread(void *arg) {
    char local[64];
    memset(local, 0, sizeof local);
    printf("stack_%d=%p\ntid_%d=%ld\n", *(int *)arg, (void *)local, *(int *)arg, (long)syscall(SYS_gettid));
    pthread_barrier_wait(&all_started);
    pause();  // alive until the process exits
    return NULL;
}

int scenario_arena_stacks(int threads) {
    void *block = NULL;
    pthread_t first;
    if (pthread_create(&first, NULL, arena_thread, &block) != 0 || pthread_join(first, NULL) != 0) return 1;
    printf("arena=%p\n", block);
    // The arena's heap is the 64 MiB-aligned reservation holding the block; its read-write part
    // is small, so 32 MiB into it is the PROT_NONE reserve.
    printf("arena_reserve=%p\n", (void *)(((unsigned long)block & ~((64UL << 20) - 1)) + (32UL << 20)));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    pthread_barrier_init(&all_started, NULL, threads + 1);
    int *ids = calloc(threads, sizeof *ids);
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        ids[i] = i;
        if (pthread_create(&t, &attr, stack_thread, &ids[i]) != 0) return 1;
    }
    pthread_barrier_wait(&all_started);
    printf("threads=%d\n", threads);
    fflush(stdout);
    return 0;
}
