// libunwind as Debian builds it (1.6.2, --enable-block-signals) brackets every lock of its caches
// with two sigprocmask calls, so that a signal handler unwinding the same thread cannot deadlock:
// about 30 rt_sigprocmask syscalls per backtrace, more than all the ptrace work of a stop.
// UNW_CACHE_PER_THREAD would avoid the locks but is silently treated as UNW_CACHE_GLOBAL there.
// The tracer never unwinds from a signal handler, so while a thread is inside cshims_backtrace
// those calls are pointless: this definition of sigprocmask (the executable's symbols come first
// in the dynamic lookup order, so libunwind's calls land here) does nothing on such a thread and
// is glibc's sigprocmask everywhere else. libunwind restores the masks it saved in pairs, all
// inside the walk, so the mask of the thread is the same before and after.
//
// It lives in a target of its own that only the mapblame executable (and the test runner, to
// measure what users run) links: a program that uses the MapBlame library keeps glibc's
// sigprocmask unless it opts in by linking this target too.
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "CShims.h"

int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
    if (cshims_backtrace_in_progress()) {
        if (old) sigemptyset(old);
        return 0;
    }
    int rc = pthread_sigmask(how, set, old);  // what glibc's sigprocmask does, errno aside
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}
