import Glibc
import MapBlame

/// The live line on stderr while tracing: events, processes, live mappings, anonymous bytes,
/// elapsed time. Only when stderr is a terminal and --quiet is not given; dimmed unless NO_COLOR
/// is set. A 250 ms interval timer interrupts the tracer's waitpid so the line keeps ticking while
/// the program runs without stopping.
enum ProgressLine {
    static func enabled(quiet: Bool) -> Bool {
        !quiet && isatty(2) == 1
    }

    static func start() -> @Sendable (TraceProgress) -> Void {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }  // no SA_RESTART: waitpid returns EINTR
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGALRM, &action, nil)
        var timer = itimerval(it_interval: timeval(tv_sec: 0, tv_usec: 250_000), it_value: timeval(tv_sec: 0, tv_usec: 250_000))
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil)
        let dim = getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true
        return { p in
            let text = "mapblame: \(p.events) events, \(p.processes) process\(p.processes == 1 ? "" : "es"), "
                + "\(p.mappings) mappings, \(ByteCount.text(p.anonymousBytes)) anonymous, "
                + "\(Int(p.elapsedSeconds * 10) / 10).\(Int(p.elapsedSeconds * 10) % 10) s"
            Diagnostics.writeStderr("\r" + (dim ? "\u{1b}[2m" + text + "\u{1b}[0m" : text) + "\u{1b}[K")
        }
    }

    /// Stops the timer and clears the line.
    static func stop() {
        var timer = itimerval()
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil)
        signal(SIGALRM, SIG_DFL)
        Diagnostics.writeStderr("\r\u{1b}[K")
    }
}
