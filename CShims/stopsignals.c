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

// What the signals and the interval timer were before install: remove puts them back, so a caller
// that had its own (the CLI's progress line runs on SIGALRM too) gets them again, and a second
// session in the same process starts from a clean state.
static const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGALRM};
#define HANDLED (int)(sizeof handled / sizeof handled[0])
static struct sigaction saved[HANDLED];
static struct itimerval saved_timer;
static int installed;

int cshims_stop_signals_install(int tick_milliseconds) {
    if (installed) cshims_stop_signals_remove();
    stop_requested = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < HANDLED; i++) {
        sa.sa_handler = handled[i] == SIGALRM ? tick : request_stop;
        if (sigaction(handled[i], &sa, &saved[i]) != 0) {
            while (--i >= 0) sigaction(handled[i], &saved[i], NULL);
            return -1;
        }
    }
    struct itimerval every = {
        .it_interval = {.tv_sec = tick_milliseconds / 1000, .tv_usec = (tick_milliseconds % 1000) * 1000},
    };
    every.it_value = every.it_interval;
    installed = 1;
    if (setitimer(ITIMER_REAL, &every, &saved_timer) != 0) {
        cshims_stop_signals_remove();
        return -1;
    }
    return 0;
}

void cshims_stop_signals_remove(void) {
    if (!installed) return;
    installed = 0;
    setitimer(ITIMER_REAL, &saved_timer, NULL);
    for (int i = 0; i < HANDLED; i++) sigaction(handled[i], &saved[i], NULL);
}

int cshims_stop_requested(void) { return stop_requested; }
