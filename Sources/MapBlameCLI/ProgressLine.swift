import CShims
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

    /// The ticker that redraws the line (the shim's: it saves and restores what SIGALRM and
    /// ITIMER_REAL were before).
    nonisolated(unsafe) private static let ticker = UnsafeMutablePointer<cshims_ticker>.allocate(capacity: 1)

    static func start() -> @Sendable (TraceProgress) -> Void {
        ticker.initialize(to: cshims_ticker())
        _ = cshims_ticker_start(ticker, 250)
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
        cshims_ticker_stop(ticker)
        Diagnostics.writeStderr("\r\u{1b}[K")
    }
}
