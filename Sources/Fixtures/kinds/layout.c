// A C program for BinaryKindTests and NamespaceTests, compiled by the tests (-static, -static-pie,
// or PIE to run in another mount namespace or a chroot). Lines the tests check as sites carry
// `// @site:NAME` markers.
//   layout        a 4 MiB malloc (served by mmap) and a 1 MiB mmap, kept until exit; prints
//                 big=ADDR table=ADDR
//   layout serve  the same, then ready=1, then a 64 KiB mmap from grow_pool every 10 ms until
//                 SIGUSR1 (exit 0) or 30 s (exit 1); prints pool=ADDR for each
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char scratch[1 << 20];  // a .bss for explain to find
static volatile sig_atomic_t stop;

__attribute__((noinline)) void *my_function(size_t n) {
    char *p = malloc(n); // @site:big_malloc
    memset(p, 1, 4096);
    return p;
}

__attribute__((noinline)) void *map_table(size_t n) {
    return mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); // @site:table_mmap
}

__attribute__((noinline)) void *grow_pool(void) {
    return mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); // @site:pool_mmap
}

static void on_usr1(int sig) {
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    scratch[0] = 1;
    printf("big=%p\n", my_function(4 << 20));
    printf("table=%p\n", map_table(1 << 20));
    if (argc < 2 || strcmp(argv[1], "serve") != 0) return 0;
    signal(SIGUSR1, on_usr1);
    printf("ready=1\n");
    for (int i = 0; i < 3000 && !stop; i++) {
        printf("pool=%p\n", grow_pool());
        usleep(10000);
    }
    return stop ? 0 : 1;
}
