// mbfixture32: a 32-bit (gcc -m32) program for the i386 tests, built by the test itself
// (I386Tests), not by SwiftPM. Every kind of mapping call the i386 ABI has: mmap2 through glibc,
// the old mmap (one pointer to the arguments), munmap, mprotect, pkey_mprotect, mremap, mseal, brk,
// shmat/shmdt both direct and through the ipc() multiplexer, a thread with its stack and malloc
// arena, a 4 MiB malloc. Prints `name=value` lines like mbfixture; `// @site:NAME` markers name the call sites.
// `mbfixture32 serve`: maps, unmaps, protects and remaps every millisecond until SIGUSR1 (for
// attach).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
#define SHMAT 21  // ipc() calls (linux/ipc.h, whose struct ipc_perm clashes with glibc's)
#define SHMDT 22
#define I386_MSEAL 462  // Linux 6.10; older headers do not name it
#define CHECK(cond) do { if (!(cond)) { perror(#cond); exit(1); } } while (0)

static void say(const char *name, const void *address) { printf("%s=%p\n", name, address); }

static void *worker(void *arg) {
    (void)arg;
    char *p = malloc(1000);  // @site:arena32
    CHECK(p);
    memset(p, 1, 1000);
    say("arena", p);
    int local = 0;
    say("threadstack", &local);
    return NULL;
}

static void *big_malloc(void) {
    char *p = malloc(4 << 20);  // @site:malloc32
    CHECK(p);
    memset(p, 1, 8 * PAGE);
    return p;
}

static void map_calls(void) {
    char *p = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:mmap32
    CHECK(p != MAP_FAILED);
    say("mmap", p);
    CHECK(munmap(p + 8 * PAGE, 8 * PAGE) == 0);
    CHECK(mprotect(p + 16 * PAGE, 4 * PAGE, PROT_READ) == 0);
    char *q = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    char *r = mremap(q, 4 * PAGE, 300 * PAGE, MREMAP_MAYMOVE);  // @site:mremap32
    CHECK(r != MAP_FAILED);
    say("mremap", r);
    CHECK(syscall(SYS_pkey_mprotect, p + 24 * PAGE, 2 * PAGE, PROT_READ, -1) == 0);
}

// A sealed mapping refuses munmap: the tracer must not predict that munmap's success.
static void sealed(void) {
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:seal32
    CHECK(p != MAP_FAILED);
    if (syscall(I386_MSEAL, p, 2 * PAGE, 0) != 0) {
        CHECK(errno == ENOSYS);  // a kernel before 6.10
        return;
    }
    CHECK(munmap(p, 2 * PAGE) != 0 && errno == EPERM);
    say("sealed", p);
}

// The old i386 mmap: one pointer to six 32-bit arguments, the offset in bytes.
static void old_mmap(void) {
    uint32_t args[6] = {0, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint32_t)-1, 0};
    long p = syscall(SYS_mmap, args);  // @site:oldmmap32
    CHECK(p != -1);
    say("oldmmap", (void *)p);
}

static void grow_break(void) {
    char *old = sbrk(0);
    CHECK(sbrk(64 * PAGE) != (void *)-1);  // @site:brk32
    memset(old, 1, 64 * PAGE);
    say("brk", old + 32 * PAGE);
}

// shmat through the ipc() multiplexer (the result written through a pointer), and directly.
static void shared_memory(void) {
    int id = shmget(IPC_PRIVATE, 3 * PAGE, IPC_CREAT | 0600);
    CHECK(id >= 0);
    unsigned long attached = 0;
    CHECK(syscall(SYS_ipc, SHMAT, id, 0, &attached, NULL) == 0);  // @site:ipcshmat32
    say("ipcshm", (void *)attached);
    void *direct = shmat(id, NULL, SHM_RDONLY);  // @site:shmat32
    CHECK(direct != (void *)-1);
    say("shm", direct);
    void *gone = shmat(id, NULL, 0);
    CHECK(gone != (void *)-1);
    CHECK(syscall(SYS_ipc, SHMDT, 0, 0, 0, gone) == 0);
    CHECK(shmctl(id, IPC_RMID, NULL) == 0);
}

static volatile sig_atomic_t stop_serving;
static void on_usr1(int sig) { (void)sig; stop_serving = 1; }

static void serve_step(void) {
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:serve32
    CHECK(p != MAP_FAILED);
    p[0] = 1;
    CHECK(munmap(p + PAGE, PAGE) == 0);
    CHECK(mprotect(p + 2 * PAGE, PAGE, PROT_READ) == 0);
    char *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    CHECK(mremap(q, PAGE, 2 * PAGE, MREMAP_MAYMOVE) != MAP_FAILED);
}

static int serve(void) {
    signal(SIGUSR1, on_usr1);
    printf("ready=1\n");
    while (!stop_serving) {
        serve_step();
        usleep(1000);
    }
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && !strcmp(argv[1], "serve")) return serve();
    say("malloc", big_malloc());
    map_calls();
    sealed();
    old_mmap();
    grow_break();
    shared_memory();
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, worker, NULL) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    return 0;
}
