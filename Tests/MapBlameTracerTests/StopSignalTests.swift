import CShims
import Glibc
import Testing

/// The attach session's signal handlers and timer are scoped: installing starts with the stop flag
/// cleared (a second session in one process must not drain at once) and removing puts back what
/// the caller had (the CLI's progress line also runs on SIGALRM and Int32(ITIMER_REAL.rawValue)).
@Suite(.serialized) struct StopSignalTests {
    static func handler(_ signal: Int32) -> Int {
        var action = sigaction()
        sigaction(signal, nil, &action)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
    }

    @Test func installIsScopedAndStartsCleared() {
        var mine = sigaction(), before = sigaction()
        mine.__sigaction_handler.sa_handler = { _ in }
        sigaction(SIGHUP, &mine, &before)
        defer { sigaction(SIGHUP, &before, nil) }
        let ours = Self.handler(SIGHUP)
        var timer = itimerval(it_interval: timeval(tv_sec: 100, tv_usec: 0), it_value: timeval(tv_sec: 100, tv_usec: 0))
        var previousTimer = itimerval()
        setitimer(Int32(ITIMER_REAL.rawValue), &timer, &previousTimer)
        defer { setitimer(Int32(ITIMER_REAL.rawValue), &previousTimer, nil) }

        #expect(cshims_stop_signals_install(50) == 0)
        #expect(cshims_stop_requested() == 0)
        // The runner's threads block most signals: let this one take SIGHUP while it raises it.
        var hup = sigset_t(), old = sigset_t()
        sigemptyset(&hup)
        sigaddset(&hup, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &hup, &old)
        raise(SIGHUP)
        pthread_sigmask(SIG_SETMASK, &old, nil)
        #expect(cshims_stop_requested() == 1)
        cshims_stop_signals_remove()
        #expect(Self.handler(SIGHUP) == ours, "the caller's SIGHUP handler is back")
        var now = itimerval()
        getitimer(Int32(ITIMER_REAL.rawValue), &now)
        #expect(now.it_interval.tv_sec == 100 && now.it_value.tv_sec > 90, "the caller's timer is back: \(now)")

        #expect(cshims_stop_signals_install(50) == 0)
        #expect(cshims_stop_requested() == 0, "a second session starts without the first one's stop")
        cshims_stop_signals_remove()
    }

    /// Tickers nest (the progress line's around an attach session's): each stop puts back the
    /// SIGALRM handler and ITIMER_REAL that its start found.
    @Test func tickersNestAndRestoreWhatTheyFound() {
        var mine = sigaction(), before = sigaction()
        mine.__sigaction_handler.sa_handler = { _ in }
        sigaction(SIGALRM, &mine, &before)
        defer { sigaction(SIGALRM, &before, nil) }
        let callers = Self.handler(SIGALRM)
        var timer = itimerval(it_interval: timeval(tv_sec: 200, tv_usec: 0), it_value: timeval(tv_sec: 200, tv_usec: 0))
        var previousTimer = itimerval()
        setitimer(Int32(ITIMER_REAL.rawValue), &timer, &previousTimer)
        defer { setitimer(Int32(ITIMER_REAL.rawValue), &previousTimer, nil) }

        var outer = cshims_ticker(), inner = cshims_ticker()
        #expect(cshims_ticker_start(&outer, 250) == 0)
        let outerHandler = Self.handler(SIGALRM)
        #expect(outerHandler != callers, "the ticker installs its own handler")
        #expect(cshims_ticker_start(&inner, 100) == 0)
        var now = itimerval()
        getitimer(Int32(ITIMER_REAL.rawValue), &now)
        #expect(now.it_interval.tv_sec == 0 && now.it_interval.tv_usec == 100_000, "the inner ticker's period: \(now)")
        cshims_ticker_stop(&inner)
        getitimer(Int32(ITIMER_REAL.rawValue), &now)
        #expect(now.it_interval.tv_sec == 0 && now.it_interval.tv_usec == 250_000, "the outer ticker's period is back: \(now)")
        cshims_ticker_stop(&outer)
        #expect(Self.handler(SIGALRM) == callers, "the caller's SIGALRM handler is back")
        getitimer(Int32(ITIMER_REAL.rawValue), &now)
        #expect(now.it_interval.tv_sec == 200 && now.it_value.tv_sec > 190, "the caller's timer is back: \(now)")
        cshims_ticker_stop(&outer)  // a second stop changes nothing
        #expect(Self.handler(SIGALRM) == callers)
    }
}
