// A memory copy that survives SIGBUS. The trace writer stores records into a shared mapping of the
// trace file; if another process truncates that file (a second recorder opening the same path
// with O_TRUNC), a store beyond the new end raises SIGBUS. Inside cshims_copy_guarded that fault
// makes the copy fail instead of killing mapblame; any other SIGBUS goes to the handler that was
// there before (the Swift runtime's backtracer, or the default action), as if this one never was.
#include "CShims.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

// Set only while this thread copies; volatile, or the compiler may drop the store before memcpy
// (nothing it can see reads it before it is cleared again).
static __thread sigjmp_buf *volatile guard;
static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    (void)context;
    if (guard) siglongjmp(*guard, 1);
    sigaction(SIGBUS, &previous, NULL);  // not ours: the faulting access repeats under the old handler
}

static void install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;  // NODEFER: leaving by siglongjmp keeps SIGBUS unblocked
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
}

int cshims_copy_guarded(void *dst, const void *src, uint64_t count) {
    pthread_once(&installed, install);
    sigjmp_buf env;
    if (sigsetjmp(env, 0)) {  // 0: no signal mask saved, so no syscall per copy
        guard = NULL;
        return -1;
    }
    guard = &env;
    memcpy(dst, src, count);
    guard = NULL;
    return 0;
}
