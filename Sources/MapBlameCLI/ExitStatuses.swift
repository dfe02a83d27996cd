/// The exit statuses of every command, one sentence each: the end of each `--help` and, as a table,
/// README "Exit statuses" (keep the two alike). Every failure is also one line on stderr.
enum ExitStatuses {
    static let run = "Exits with the program's status (128+N if a signal N killed it); 127 if the program does not exist, "
        + "126 if it cannot be executed, 2 for a usage error, 1 if tracing or writing an output failed or --pid/--exe "
        + "matched no process, 3 if --verify found the model disagreeing with the kernel or a label disagreeing with "
        + "explain's evidence."
    static let record = "Exits with the program's status (128+N if a signal N killed it); 127 if the program does not exist, "
        + "126 if it cannot be executed, 2 for a usage error, 1 if the trace cannot be written."
    static let report = "Exits 0; 1 if the trace cannot be read (one line naming the file and byte offset), an output "
        + "cannot be written or --pid/--exe matched no process; 2 for a usage error; 3 if --verify found a mismatch "
        + "or a label disagreement."
    static let explain = "Exits 0; 1 if PID cannot be examined, an output cannot be written or --pid/--exe matched "
        + "no process; 2 for a usage error."
    static let attach = "Exits 0; 1 if PID cannot be traced, an output cannot be written or --pid/--exe matched no "
        + "process; 2 for a usage error; 3 if --verify found the model disagreeing with the kernel or a label "
        + "disagreeing with explain's evidence."
    static let baseline = "Exits 0; 1 if the input cannot be read or traced or the file cannot be written; 2 for a usage error."
    static let check = "Exits 0 within tolerance (and after --update); 1 on a regression, or when the input measured "
        + "cannot be read or traced or an output cannot be written; 2 for a usage error, which includes a baseline "
        + "that cannot be read or is not a baseline, and a baseline for another program."
    static let diff = "Exits 0; 1 if A or B cannot be read or an output cannot be written; 2 for a usage error."
}
