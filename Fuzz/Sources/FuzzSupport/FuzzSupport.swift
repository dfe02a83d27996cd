import CFuzz
import Glibc

/// The body of the running fuzz target (libFuzzer's callback is a C function: it cannot capture).
nonisolated(unsafe) private var target: (([UInt8]) -> Void)?

/// Runs libFuzzer with the process's arguments, calling `body` once per input; never returns.
/// A parser that traps (Swift runtime error) or that AddressSanitizer catches is a crash: libFuzzer
/// writes the input to crash-<sha1> (see -artifact_prefix) and exits non-zero.
public func fuzzMain(_ body: @escaping ([UInt8]) -> Void) -> Never {
    target = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        target?(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    })
}

/// A file holding the current input, for the readers that take a path (the trace reader).
public enum InputFile {
    public static let path: String = {
        let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        return "\(dir)/mapblame-fuzz-\(getpid()).input"
    }()

    /// Writes `bytes` to `path` (replacing what was there); traps if it cannot, which is not a finding.
    public static func write(_ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            precondition(n > 0 || errno == EINTR, "cannot write \(path)")
            if n > 0 { done += n }
        }
    }

    /// Removes the file at exit (libFuzzer exits through exit(), which runs atexit handlers).
    public static func removeAtExit() {
        _ = path
        atexit { unlink(InputFile.path) }
    }
}
