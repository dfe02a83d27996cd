// exit-race: see exitrace.h.
#define _GNU_SOURCE
#include "exitrace.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

// Maps and unmaps until the process ends (another thread ends it).
static void *mapper(void *arg) {
    (void)arg;
    for (;;) {
        void *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) munmap(p, 4 * PAGE);
    }
    return NULL;
}

// Maps a little, then ends the whole process from this (non-leader) thread.
static void *ender(void *arg) {
    for (int i = 0; i < 3; i++) {
        void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
    }
    const char *self = arg;
    if (self) {  // exec from a non-leader thread: the kernel kills the others, this one becomes the leader
        execl(self, self, "mmap", (char *)NULL);
    }
    _exit(0);  // exit_group
}

static void spawn(void *(*body)(void *), void *arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, body, arg) != 0) _exit(3);
    pthread_detach(t);
}

// One child, ending the way `kind` says.
static void child(const char *self, unsigned kind) {
    spawn(mapper, NULL);
    spawn(mapper, NULL);
    switch (kind % 4) {
    case 0:  // exit_group from a non-leader thread while the leader keeps creating threads
        spawn(ender, NULL);
        for (;;) spawn(mapper, NULL);
    case 1:  // the leader leaves first; a mapping thread ends the process later
        spawn(ender, NULL);
        pthread_exit(NULL);
    case 2:  // exit_group from the leader while threads map and start
        for (int i = 0; i < 4; i++) spawn(mapper, NULL);
        exit(0);
    default:  // exec from a non-leader thread
        spawn(ender, (void *)self);
        for (;;) spawn(mapper, NULL);
    }
}

int scenario_exit_race(const char *self, unsigned children) {
    for (unsigned i = 0; i < children; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            freopen("/dev/null", "w", stdout);  // the exec'd mmap scenario prints its addresses
            child(self, i);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 1; }
    }
    printf("children=%u\n", children);
    return 0;
}
