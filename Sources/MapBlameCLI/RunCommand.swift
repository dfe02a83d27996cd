import ArgumentParser
import Glibc
import MapBlame

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program under trace and attribute every region of its final memory map.",
        discussion: """
            Records a trace (as `mapblame record` does, to a temporary file unless --trace names one) \
            and reports it (as `mapblame report` does). The text report goes to stderr (or to \
            --output), so the program's own stdout stays clean. mapblame exits with the program's exit \
            status (128+N if it was killed by signal N), 127 if the program does not exist, 126 if it \
            cannot be executed, 2 for a usage error, 1 if tracing or writing a report failed, and 3 if \
            --verify found the model disagreeing with the kernel.
            """
    )

    @OptionGroup var outputs: ReportOutputs
    @OptionGroup var analysis: AnalysisOptions
    @OptionGroup var program: ProgramOptions

    func run() throws {
        let path = outputs.trace ?? TemporaryFile.path(suffix: ".trace")
        let prefetcher = SymbolPrefetcher(symbolizer: analysis.makeSymbolizer())
        let recorded: RecordResult
        do {
            recorded = try program.record(to: path) { outputs.recording($0, prefetcher: prefetcher) }
        } catch {
            Diagnostics.fail(error.description, status: error.exitStatus)
        }
        outputs.report(recorded, analysis: analysis, symbolizer: prefetcher.finish(),
                       programStatus: recorded.status.shellStatus) { Diagnostics.writeStderr($0) }
        throw ExitCode(recorded.status.shellStatus)
    }
}

enum TemporaryFile {
    /// A fresh path in $TMPDIR (or /tmp).
    static func path(suffix: String) -> String {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(dir)/mapblame-XXXXXX\(suffix)".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
        if fd >= 0 { close(fd) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
