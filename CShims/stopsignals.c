// Ending an attach session from a signal: the handler may only set a flag (async-signal-safety),
// and it must be installed without SA_RESTART so that it interrupts the tracer's waitpid.
#include "CShims.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void tick(int sig) { (void)sig; }

int cshims_stop_signals_install(int tick_milliseconds) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = request_stop;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = tick;
    if (sigaction(SIGALRM, &sa, NULL) != 0) return -1;
    struct itimerval every = {
        .it_interval = {.tv_sec = tick_milliseconds / 1000, .tv_usec = (tick_milliseconds % 1000) * 1000},
    };
    every.it_value = every.it_interval;
    return setitimer(ITIMER_REAL, &every, NULL);
}

void cshims_stop_signals_remove(void) {
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

int cshims_stop_requested(void) { return stop_requested; }
