// Exit-path scenarios: every way a traced process can end. Each prints the pids it creates
// (decimal) before anything can go wrong, line-buffered, so a test can look for leftovers.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exits.h"

static void say_pid(const char *name, long pid) {
    printf("%s=%ld\n", name, pid);
    fflush(stdout);
}

static void *exit_later(void *arg) {
    (void)arg;
    usleep(100000);  // the main thread has called pthread_exit by now: it is a zombie leader
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("late_mmap=%p\n", p);
    fflush(stdout);
    exit(4);
}

/// exit-thread: the main thread pthread_exit()s while another thread runs; that one calls exit(4).
int scenario_exit_thread(void) {
    say_pid("pid", getpid());
    pthread_t t;
    pthread_create(&t, NULL, exit_later, NULL);
    pthread_exit(NULL);
}

static pthread_barrier_t all_started;

static void *park(void *arg) {
    (void)arg;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    (void)p;
    pthread_barrier_wait(&all_started);
    for (;;) pause();
}

/// exit-group N: N threads parked in pause(), then exit_group(5) from the main thread.
int scenario_exit_group(int threads) {
    say_pid("pid", getpid());
    pthread_barrier_init(&all_started, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, park, NULL) != 0) { perror("pthread_create"); return 1; }
    }
    pthread_barrier_wait(&all_started);
    printf("threads=%d\n", threads);
    fflush(stdout);
    syscall(SYS_exit_group, 5);
    return 1;  // not reached
}

/// abort: dies by SIGABRT (134 from a shell).
int scenario_abort(void) {
    say_pid("pid", getpid());
    abort();
}

/// wait-kill: prints its pid and waits to be killed from outside.
int scenario_wait_kill(void) {
    say_pid("pid", getpid());
    for (;;) pause();
}

/// orphan: forks a child that lives 1 s longer than its parent; the parent exits 6 at once.
int scenario_orphan(void) {
    say_pid("pid", getpid());
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        usleep(1000000);
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        printf("child_done=%p\n", p);
        fflush(stdout);
        _exit(9);
    }
    say_pid("child_pid", child);
    return 6;
}

/// daemon: the classic double fork. The parent waits for the middle child, which setsid()s, forks
/// the daemon and exits; the daemon (grandchild) works 0.5 s and exits. The parent exits 0 at once.
int scenario_daemon(void) {
    say_pid("pid", getpid());
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        if (setsid() < 0) { perror("setsid"); _exit(1); }
        pid_t grandchild = fork();
        if (grandchild < 0) { perror("fork"); _exit(1); }
        if (grandchild == 0) {
            say_pid("grandchild_pid", getpid());
            usleep(500000);
            void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            printf("daemon_done=%p\n", p);
            fflush(stdout);
            _exit(0);
        }
        say_pid("child_pid", getpid());
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) != child) { perror("waitpid"); return 1; }
    return 0;
}
