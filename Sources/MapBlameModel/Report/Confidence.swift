/// How sure explain's evidence is of a verdict: `certain` when the evidence proves it (a thread's
/// stack pointer inside the region, a heap_info that checks out, an ELF header), `likely` when it
/// only fits.
public enum Confidence: String, Sendable, Equatable {
    case certain
    case likely
}
