// Signal scenarios: the program's own handlers must see exactly the signals they would see
// untraced. Each prints what it observed; the tests compare with what it sent.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "signals.h"

static char *guarded;
static volatile sig_atomic_t segv_seen, usr1_seen, rt_seen, rt_sum;

static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)context;
    segv_seen++;
    // Recover: make the faulting page writable (an mprotect from a signal handler, traced too).
    if ((char *)info->si_addr >= guarded && (char *)info->si_addr < guarded + 4096)
        mprotect(guarded, 4096, PROT_READ | PROT_WRITE);
    else
        _exit(3);
}

/// A SIGSEGV handler that recovers by mprotect and lets the faulting store complete.
int scenario_segv_recover(void) {
    guarded = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    guarded[100] = 42;  // faults once, the handler fixes the protection, the store is retried
    printf("segv_seen=%d\nvalue=%d\n", (int)segv_seen, guarded[100]);
    return 0;
}

static void on_usr1(int sig) { (void)sig; usr1_seen++; }
static void on_rt(int sig, siginfo_t *info, void *context) {
    (void)sig, (void)context;
    rt_seen++;
    rt_sum += info->si_value.sival_int;
}

static pthread_t main_thread;

static void *sender(void *arg) {
    int count = *(int *)arg;
    for (int i = 0; i < count; i++) {
        pthread_kill(main_thread, SIGUSR1);
        while (usr1_seen <= i) usleep(50);  // one at a time: pending standard signals would merge
    }
    return NULL;
}

/// SIGUSR1 between threads and queued real-time signals with values: none lost, none duplicated.
int scenario_signals(int count) {
    main_thread = pthread_self();
    signal(SIGUSR1, on_usr1);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, sender, &count);
    for (int i = 0; i < count; i++) {
        union sigval v = {.sival_int = i + 1};
        sigqueue(getpid(), SIGRTMIN + 1, v);  // real-time signals queue: every one is delivered
        void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // interleave traced calls
        munmap(p, 4096);
    }
    pthread_join(t, NULL);
    printf("usr1_seen=%d\nrt_seen=%d\nrt_sum=%d\n", (int)usr1_seen, (int)rt_seen, (int)rt_sum);
    return 0;
}
