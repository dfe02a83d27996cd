// mbfixture: C programs with known mappings, one scenario per argv[1], run by the test suite
// under mapblame. Each scenario prints what it created as `name=value` lines on stdout (addresses
// in hex, pids in decimal); the tests find those addresses in mapblame's JSON report and check
// category, label and site. Lines the tests check as a call site carry a `// @site:NAME` marker:
// the test reads this file to learn their line numbers, so editing the file cannot break them.
// Exit status: 0 ok, 2 unknown scenario, 1 a call failed (errno printed).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "random.h"
#include "signals.h"
#include "stress.h"
#include "exits.h"
#include "serve.h"
#include "predict.h"
#include "arenas.h"
#include "int80.h"
#include "fidelity.h"
#include "jit.h"
#include "exitrace.h"
#include "resident.h"
#include "vary.h"
#include "peak.h"

#define PAGE 4096
#define CHECK(cond) do { if (!(cond)) { perror(#cond); exit(1); } } while (0)

static char big_bss[8 << 20];  // a large zeroed static array: the executable's .bss

static void say(const char *name, const void *address) { printf("%s=%p\n", name, address); }

static void scenario_bss(void) {
    memset(big_bss, 1, 3 * PAGE);
    say("bss", &big_bss[4 << 20]);
}

void *fixture_library_bss(const char *self) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%.*s/libmbfixturelib.so", (int)(strrchr(self, '/') - self), self);
    void *lib = dlopen(path, RTLD_NOW);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); exit(1); }
    void *(*bss_address)(void) = (void *(*)(void))dlsym(lib, "mbfixturelib_bss_address");
    CHECK(bss_address);
    return bss_address();
}

static void scenario_library(const char *self) {
    say("libbss", fixture_library_bss(self));
    printf("libpath=%.*s/libmbfixturelib.so\n", (int)(strrchr(self, '/') - self), self);
}

/// With MBFIXTURE_EXTRA_SITE set, `mmap` makes one more mapping from a site of its own (how the
/// baseline tests add a regression without changing the command line).
static void extra_mapping(void) {
    char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:extra
    CHECK(p != MAP_FAILED);
    p[0] = 1;
    say("extra", p);
}

static void scenario_mmap(void) {
    if (getenv("MBFIXTURE_EXTRA_SITE")) extra_mapping();
    char *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:mmap
    CHECK(p != MAP_FAILED);
    p[0] = 1;
    say("mmap", p);
}

static void scenario_malloc(void) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    char *p = malloc(1 << 20);  // @site:malloc
    CHECK(p);
    memset(p, 1, 2 * PAGE);
    say("malloc", p);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static int started;

static void *thread_main(void *arg) {
    (void)arg;
    char local[64];
    void *arena_block = malloc(1000);  // @site:arena
    memset(local, 0, sizeof local);
    printf("thread_tid=%ld\n", (long)syscall(SYS_gettid));
    say("thread_stack", local);
    say("arena", arena_block);
    fflush(stdout);
    pthread_mutex_lock(&lock);
    started = 1;
    pthread_cond_signal(&ready);
    pthread_mutex_unlock(&lock);
    pause();  // stays alive until the process exits
    return NULL;
}

static void scenario_thread(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);  // @site:thread
    pthread_mutex_lock(&lock);
    while (!started) pthread_cond_wait(&ready, &lock);
    pthread_mutex_unlock(&lock);
}

/// A program's own malloc wrapper (as MariaDB's my_malloc): with --allocator-frames naming it,
/// its caller is the site.
__attribute__((noinline)) static void *fixture_xmalloc(size_t size) {
    void *p = malloc(size);
    CHECK(p);
    return p;
}

/// A program's own pool that maps memory itself: with --allocator-frames naming it, its memory is
/// labelled by it and its caller is the site.
__attribute__((noinline)) static void *fixture_pool_map(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    return p;
}

static void scenario_wrapper(void) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    char *p = fixture_xmalloc(1 << 20);  // @site:wrapper
    memset(p, 1, PAGE);
    say("wrapper", p);
    char *q = fixture_pool_map(32 * PAGE);  // @site:pool
    q[0] = 1;
    say("pool", q);
}

/// Shared mappings: a read-only shared mapping of an ordinary file (the executable, as a locale
/// archive or gconv-modules.cache is mapped) is a file; shared anonymous memory and a memfd are
/// shared memory.
static void scenario_shared(const char *self) {
    int fd = open(self, O_RDONLY);
    CHECK(fd >= 0);
    char *file = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(file != MAP_FAILED);
    close(fd);
    say("shared_file", file);
    char *anon = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(anon != MAP_FAILED);
    anon[0] = 1;
    say("shared_anon", anon);
    int mfd = memfd_create("mbfixture", 0);
    CHECK(mfd >= 0 && ftruncate(mfd, 4 * PAGE) == 0);
    char *memfd = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    CHECK(memfd != MAP_FAILED);
    memfd[0] = 1;
    say("shared_memfd", memfd);
}

static void scenario_munmap(void) {
    char *p = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:munmap
    CHECK(p != MAP_FAILED);
    CHECK(munmap(p + 2 * PAGE, PAGE) == 0);  // a hole in the middle splits it in two
    say("munmap_head", p);
    say("munmap_hole", p + 2 * PAGE);
    say("munmap_tail", p + 3 * PAGE);
}

static void scenario_mprotect(void) {
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:mprotect
    CHECK(p != MAP_FAILED);
    CHECK(mprotect(p + PAGE, PAGE, PROT_READ) == 0);  // splits the region in three
    say("mprotect_head", p);
    say("mprotect_middle", p + PAGE);
}

static void scenario_mremap(void) {
    char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    char *target = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(target != MAP_FAILED);
    char *q = mremap(p, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);  // @site:mremap
    CHECK(q != MAP_FAILED);
    q[0] = 1;
    say("mremap_old", p);
    say("mremap_new", q);
}

static void scenario_fork(void) {
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // @site:child
        CHECK(p != MAP_FAILED);
        printf("child_pid=%d\n", getpid());
        say("child_mmap", p);
        fflush(stdout);
        _exit(0);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child);
}

static void scenario_exec(const char *self) {
    char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    say("before_exec", p);
    fflush(stdout);
    execl(self, self, "mmap", (char *)NULL);
    perror("execl");
    exit(1);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: mbfixture bss|library|mmap|malloc|thread|munmap|mprotect|mremap|fork|exec|wrapper|shared|all|random SEED OPS THREADS FORK|threads N OPS|forks N OPS|exec-thread|loop N|segv-recover|signals N|serve LOG [FORK]|predict|arena-stacks [N]|arenas-vary|int80|jit-code [N]|resident|resident-big MIB [STRIDE]|peak\n");
        return 2;
    }
    const char *s = argv[1];
    if (!strcmp(s, "segv-recover")) return scenario_segv_recover();
    if (!strcmp(s, "signals")) return scenario_signals(argc > 2 ? atoi(argv[2]) : 100);
    if (!strcmp(s, "threads") && argc > 3) return scenario_threads(atoi(argv[2]), strtoul(argv[3], NULL, 10));
    if (!strcmp(s, "forks") && argc > 3) return scenario_forks(atoi(argv[2]), strtoul(argv[3], NULL, 10));
    if (!strcmp(s, "exec-thread")) return scenario_exec_thread(argv[0]);
    if (!strcmp(s, "exit-thread")) return scenario_exit_thread();
    if (!strcmp(s, "exit-group")) return scenario_exit_group(argc > 2 ? atoi(argv[2]) : 16);
    if (!strcmp(s, "abort")) return scenario_abort();
    if (!strcmp(s, "wait-kill")) return scenario_wait_kill();
    if (!strcmp(s, "orphan")) return scenario_orphan();
    if (!strcmp(s, "daemon")) return scenario_daemon();
    if (!strcmp(s, "predict")) return scenario_predict();
    if (!strcmp(s, "arena-stacks")) return scenario_arena_stacks(argc > 2 ? atoi(argv[2]) : 80);
    if (!strcmp(s, "int80")) return scenario_int80();
    if (!strcmp(s, "arenas-vary")) return scenario_arenas_vary();
    if (!strcmp(s, "peak")) return scenario_peak();
    if (!strcmp(s, "foreign-code")) return scenario_foreign_code();
    if (!strcmp(s, "jit-code")) return scenario_jit_code(argc > 2 ? atoi(argv[2]) : 8);
    if (!strcmp(s, "exit-race") && argc > 2) return scenario_exit_race(argv[0], strtoul(argv[2], NULL, 10));
    if (!strcmp(s, "resident")) { scenario_resident(); return 0; }
    if (!strcmp(s, "resident-big") && argc > 2) { scenario_resident_big(strtoul(argv[2], NULL, 10), argc > 3 ? strtoul(argv[3], NULL, 10) : 1); return 0; }
    if (!strcmp(s, "many-vmas") && argc > 2) return scenario_many_vmas(strtoul(argv[2], NULL, 10));
    if (!strcmp(s, "serve") && argc > 2) return scenario_serve(argv[0], argv[2], argc > 3 && atoi(argv[3]));
    if (!strcmp(s, "loop")) {  // loop N: N mmap+munmap pairs (scale tests)
        unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
        for (unsigned long i = 0; i < n; i++) {
            void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            CHECK(p != MAP_FAILED);
            CHECK(munmap(p, PAGE) == 0);
        }
        printf("calls=%lu\n", 2 * n);
        return 0;
    }
    if (!strcmp(s, "random")) {  // random SEED OPS THREADS FORK
        if (argc < 6) { fprintf(stderr, "usage: mbfixture random SEED OPS THREADS FORK\n"); return 2; }
        return scenario_random(strtoull(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), atoi(argv[4]), atoi(argv[5]));
    }
    int all = strcmp(s, "all") == 0;
    int known = all;
    if (all || !strcmp(s, "bss")) { scenario_bss(); known = 1; }
    if (all || !strcmp(s, "library")) { scenario_library(argv[0]); known = 1; }
    if (all || !strcmp(s, "mmap")) { scenario_mmap(); known = 1; }
    if (all || !strcmp(s, "malloc")) { scenario_malloc(); known = 1; }
    if (all || !strcmp(s, "thread")) { scenario_thread(); known = 1; }
    if (all || !strcmp(s, "munmap")) { scenario_munmap(); known = 1; }
    if (all || !strcmp(s, "mprotect")) { scenario_mprotect(); known = 1; }
    if (all || !strcmp(s, "mremap")) { scenario_mremap(); known = 1; }
    if (all || !strcmp(s, "fork")) { scenario_fork(); known = 1; }
    if (!strcmp(s, "exec")) { scenario_exec(argv[0]); known = 1; }
    if (!strcmp(s, "wrapper")) { scenario_wrapper(); known = 1; }
    if (!strcmp(s, "shared")) { scenario_shared(argv[0]); known = 1; }
    if (!known) {
        fprintf(stderr, "mbfixture: unknown scenario %s\n", s);
        return 2;
    }
    return 0;
}
