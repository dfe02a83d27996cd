// Stress scenarios: many threads or processes mapping at once, exec from a non-leader thread, a
// thread exiting while others map. Every mapping call they make uses exactly STRESS_PAGES pages,
// so the tests can count them in mapblame's events and compare with `calls=` printed here.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

#define STRESS_LEN (STRESS_PAGES * 4096UL)

static unsigned long ops_per_worker;

static void map_and_unmap(unsigned long n) {
    for (unsigned long i = 0; i < n; i++) {
        char *p = mmap(NULL, STRESS_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { perror("mmap"); exit(1); }
        p[0] = 1;
        if (munmap(p, STRESS_LEN) != 0) { perror("munmap"); exit(1); }
    }
}

static void *worker(void *arg) {
    (void)arg;
    map_and_unmap(ops_per_worker);
    return NULL;
}

/// N threads mapping at once; one more thread exits early while the others map.
int scenario_threads(int threads, unsigned long ops) {
    ops_per_worker = ops;
    pthread_t ids[256];
    if (threads < 1 || threads > 256) threads = 1;
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, worker, NULL);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    printf("calls=%lu\n", 2UL * (unsigned long)threads * ops);
    return 0;
}

/// N processes forked at once, each mapping.
int scenario_forks(int processes, unsigned long ops) {
    fflush(stdout);
    for (int i = 0; i < processes; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            map_and_unmap(ops);
            _exit(0);
        }
        if (pid < 0) { perror("fork"); return 1; }
    }
    int failed = 0, status;
    while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    printf("calls=%lu\n", 2UL * (unsigned long)processes * ops);
    return failed;
}

static const char *self_path;

static void *exec_from_thread(void *arg) {
    (void)arg;
    map_and_unmap(10);
    execl(self_path, self_path, "mmap", (char *)NULL);
    perror("execl");
    exit(1);
}

/// A non-leader thread execs while another thread keeps mapping.
int scenario_exec_thread(const char *self) {
    self_path = self;
    ops_per_worker = 1000000;  // runs until the exec takes the process over
    pthread_t busy, execer;
    pthread_create(&busy, NULL, worker, NULL);
    usleep(20000);
    pthread_create(&execer, NULL, exec_from_thread, NULL);
    pthread_join(execer, NULL);
    return 1;  // not reached
}
