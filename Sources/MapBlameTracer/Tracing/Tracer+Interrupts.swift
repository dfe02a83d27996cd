import Glibc
import MapBlameModel

/// The launch's shield (`TraceOptions.shieldInterrupts`): Ctrl-C reaches the program, which
/// decides, while the tracer lives on to write the report; undone when tracing ends.
extension Tracer {
    /// Sets SIGINT and SIGQUIT to SIG_IGN if they had their default action; returns their actions
    /// before, for `restoreInterrupts` (nil if it changed nothing).
    package static func ignoreInterrupts() -> (sigaction, sigaction)? {
        var interrupt = sigaction(), quit = sigaction()
        guard sigaction(SIGINT, nil, &interrupt) == 0, interrupt.__sigaction_handler.sa_handler == nil,
              sigaction(SIGQUIT, nil, &quit) == 0 else { return nil }
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        return (interrupt, quit)
    }

    /// Puts back what `ignoreInterrupts` changed, once tracing is over.
    package func restoreInterrupts() {
        guard var (interrupt, quit) = shieldedInterrupts else { return }
        sigaction(SIGINT, &interrupt, nil)
        sigaction(SIGQUIT, &quit, nil)
        shieldedInterrupts = nil
    }
}
