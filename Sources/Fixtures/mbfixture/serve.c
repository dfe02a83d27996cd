// serve: a long-running, daemon-like process for `mapblame attach` tests.
//   mbfixture serve LOG [FORK]
// Loads libmbfixturelib (a library .bss), touches the executable's .bss, and starts two worker
// threads that each keep a malloc arena and cycle anonymous mappings: mmap 64 KiB, fill it with a
// byte of its own, keep 8 alive, check and munmap the oldest, about 1 ms apart. Every mmap is
// appended to LOG as "TID SEQ ADDRESS" (one write each, O_APPEND): the ground truth a test holds
// the tracer's record against. With FORK=1 the main thread also forks a child every 50 ms that maps
// one region and exits 0, and checks that status.
// Prints pid=, bss=, libbss=, worker0= and worker1= (tids), arena0=, arena1=, ready=1.
// On SIGUSR1 the workers stop, every live mapping is checked once more, "iterations=N" and "ok=1"
// are printed and it exits 0; exit 1 if a mapping's bytes changed or a call failed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve.h"

#define WORKERS 2
#define LIVE 8
#define SIZE (64 * 1024)

struct worker {
    pthread_t thread;
    volatile pid_t tid;
    void *arena;
    unsigned long iterations;
    int failed;
    unsigned char *live[LIVE];
    unsigned long seq[LIVE];
};

static char serve_bss[4 << 20];
static struct worker workers[WORKERS];
static pthread_barrier_t started;
static volatile sig_atomic_t stop;
static int log_fd = -1;

static void on_usr1(int sig) { (void)sig; stop = 1; }

static int intact(const unsigned char *p, unsigned long seq) {
    unsigned char want = (unsigned char)(seq % 251 + 1);
    for (size_t i = 0; i < SIZE; i += 512) if (p[i] != want) return 0;
    return p[SIZE - 1] == want;
}

static void *work(void *arg) {
    struct worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    w->arena = malloc(1000);  // a thread's first malloc creates its arena
    pthread_barrier_wait(&started);
    for (unsigned long seq = 0; !stop; seq++) {
        int slot = (int)(seq % LIVE);
        if (w->live[slot]) {
            if (!intact(w->live[slot], w->seq[slot])) w->failed = 1;
            if (munmap(w->live[slot], SIZE) != 0) w->failed = 1;
        }
        unsigned char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:serve_map
        if (p == MAP_FAILED) {
            w->failed = 1;
            w->live[slot] = NULL;
            break;
        }
        memset(p, (int)(seq % 251 + 1), SIZE);
        w->live[slot] = p;
        w->seq[slot] = seq;
        char line[64];
        int n = snprintf(line, sizeof line, "%d %lu %p\n", (int)w->tid, seq, (void *)p);
        if (write(log_fd, line, (size_t)n) != n) w->failed = 1;
        w->iterations++;
        usleep(1000);
    }
    return NULL;
}

/// A child that maps one region and exits 0; returns 0 if it did.
static int fork_child(void) {
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:serve_child
        if (p == MAP_FAILED) _exit(1);
        p[0] = 1;
        usleep(5000);
        _exit(0);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return 1;
    }
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int scenario_serve(const char *self, const char *log, int forking) {
    log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) { perror(log); return 1; }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    memset(serve_bss, 1, 3 * 4096);
    void *libbss = fixture_library_bss(self);
    pthread_barrier_init(&started, NULL, WORKERS + 1);
    for (int i = 0; i < WORKERS; i++) {
        if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) return 1;
    }
    pthread_barrier_wait(&started);
    printf("pid=%d\nbss=%p\nlibbss=%p\n", getpid(), (void *)&serve_bss[2 << 20], libbss);
    for (int i = 0; i < WORKERS; i++) printf("worker%d=%d\narena%d=%p\n", i, (int)workers[i].tid, i, workers[i].arena);
    printf("ready=1\n");
    fflush(stdout);
    int failed = 0;
    unsigned long children = 0;
    while (!stop) {
        if (forking) {
            failed |= fork_child();
            children++;
        }
        usleep(50000);
    }
    unsigned long iterations = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(workers[i].thread, NULL);
        struct worker *w = &workers[i];
        for (int s = 0; s < LIVE; s++) if (w->live[s] && !intact(w->live[s], w->seq[s])) w->failed = 1;
        failed |= w->failed;
        iterations += w->iterations;
    }
    printf("iterations=%lu\nchildren=%lu\nok=%d\n", iterations, children, !failed);
    return failed;
}
