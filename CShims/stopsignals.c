// The process-wide signal state the tracer uses, with one owner each and always put back:
// - the ticker: SIGALRM from ITIMER_REAL, installed without SA_RESTART so that it interrupts the
//   tracer's waitpid (the progress line redraws; an attach session looks at its deadline);
// - the stop signals of an attach session: SIGINT, SIGTERM and SIGHUP only set a flag
//   (async-signal-safety), and interrupt waitpid too.
// Each install saves what was there and each remove restores it, so nested owners (a progress
// line around an attach session) and a second session in the same process start clean.
#include "CShims.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>

static void tick(int sig) { (void)sig; }

int cshims_ticker_start(cshims_ticker *_Nonnull t, int milliseconds) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = tick;
    if (sigaction(SIGALRM, &sa, &t->saved_action) != 0) return -1;
    struct itimerval every = {
        .it_interval = {.tv_sec = milliseconds / 1000, .tv_usec = (milliseconds % 1000) * 1000},
    };
    every.it_value = every.it_interval;
    if (setitimer(ITIMER_REAL, &every, &t->saved_timer) != 0) {
        sigaction(SIGALRM, &t->saved_action, NULL);
        return -1;
    }
    t->active = 1;
    return 0;
}

void cshims_ticker_stop(cshims_ticker *_Nonnull t) {
    if (!t->active) return;
    t->active = 0;
    setitimer(ITIMER_REAL, &t->saved_timer, NULL);
    sigaction(SIGALRM, &t->saved_action, NULL);
}

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static const int handled[] = {SIGINT, SIGTERM, SIGHUP};
#define HANDLED (int)(sizeof handled / sizeof handled[0])
static struct sigaction saved[HANDLED];
static cshims_ticker session_ticker;
static int installed;

int cshims_stop_signals_install(int tick_milliseconds) {
    if (installed) cshims_stop_signals_remove();
    stop_requested = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = request_stop;
    for (int i = 0; i < HANDLED; i++) {
        if (sigaction(handled[i], &sa, &saved[i]) != 0) {
            while (--i >= 0) sigaction(handled[i], &saved[i], NULL);
            return -1;
        }
    }
    installed = 1;
    if (cshims_ticker_start(&session_ticker, tick_milliseconds) != 0) {
        cshims_stop_signals_remove();
        return -1;
    }
    return 0;
}

void cshims_stop_signals_remove(void) {
    if (!installed) return;
    installed = 0;
    cshims_ticker_stop(&session_ticker);
    for (int i = 0; i < HANDLED; i++) sigaction(handled[i], &saved[i], NULL);
}

int cshims_stop_requested(void) { return stop_requested; }
