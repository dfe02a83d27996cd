// arenas-vary: a program whose number of glibc malloc arenas varies from run to run with thread
// timing, as real servers' do. Two worker threads each malloc once, hold the block 8 ms and exit.
// A new thread's first malloc creates a new arena unless an exited thread's arena is free for
// reuse: when the second worker starts right away, while the first still holds its arena, the
// process ends with two arenas; in about one run in eight (the clock decides) it starts 20 ms
// later, after the first has exited, and reuses its arena: one. Stacks do not vary: the threads
// are joined only at the end, so glibc's stack cache never hands the first one's stack to the
// second. Prints arenas_possible=2 and the workers' block addresses.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "vary.h"

static void *vary_worker(void *arg) {
    void **block = arg;
    *block = malloc(1000);  // @site:arenas_vary
    usleep(8000);
    return NULL;
}

int scenario_arenas_vary(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    void *blocks[2] = {NULL, NULL};
    pthread_t first, second;
    if (pthread_create(&first, NULL, vary_worker, &blocks[0]) != 0) return 1;
    if (now.tv_nsec / 1000 % 8 == 0) usleep(20000);
    if (pthread_create(&second, NULL, vary_worker, &blocks[1]) != 0) return 1;
    if (pthread_join(first, NULL) != 0 || pthread_join(second, NULL) != 0) return 1;
    printf("arenas_possible=2\nblock_0=%p\nblock_1=%p\n", blocks[0], blocks[1]);
    return 0;
}
