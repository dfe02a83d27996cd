// mapblame-demo: a small program whose /proc/PID/maps shows the unnamed regions people ask about.
//   - a large zeroed static buffer (the executable's .bss)
//   - a shared library with a .bss (libmbfixturelib.so, loaded with dlopen)
//   - a large malloc, which glibc serves with mmap
//   - a worker thread: its stack, its guard page, and the malloc arena it gets
// Run it under mapblame: `make demo`.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char request_log[16 << 20];  // 16 MiB of zeroed static storage

static char *parse_config(size_t size) {
    char *buffer = malloc(size);
    memset(buffer, ' ', size);
    return buffer;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int worker_ready;

static void *worker(void *arg) {
    (void)arg;
    char *scratch = malloc(4096);  // first malloc of this thread: glibc gives it an arena
    memset(scratch, 0, 4096);
    pthread_mutex_lock(&lock);
    worker_ready = 1;
    pthread_cond_signal(&done);
    pthread_mutex_unlock(&lock);
    pause();
    return NULL;
}

static void load_plugin(const char *self) {
    char path[PATH_MAX];
    const char *slash = strrchr(self, '/');
    snprintf(path, sizeof path, "%.*s/libmbfixturelib.so", slash ? (int)(slash - self) : 1, slash ? self : ".");
    void *plugin = dlopen(path, RTLD_NOW);
    if (!plugin) {
        fprintf(stderr, "mapblame-demo: %s\n", dlerror());
        return;
    }
    void *(*touch)(void) = (void *(*)(void))dlsym(plugin, "mbfixturelib_bss_address");
    if (touch) touch();
}

int main(int argc, char **argv) {
    (void)argc;
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);  // keep the large malloc served by mmap
    memset(request_log, 1, 64 * 1024);
    load_plugin(argv[0]);
    char *config = parse_config(1 << 20);
    pthread_t thread;
    pthread_create(&thread, NULL, worker, NULL);
    pthread_mutex_lock(&lock);
    while (!worker_ready) pthread_cond_wait(&done, &lock);
    pthread_mutex_unlock(&lock);
    printf("mapblame-demo: config at %p, request log at %p\n", (void *)config, (void *)request_log);
    return 0;
}
