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
            --output), so the program's own stdout stays clean. Any FILE may be - for standard output \
            (at most one of them); the program's own stdout then goes to stderr. Text shows the unnamed \
            regions, [heap] and [stack] (--files: every line), within 120 columns; processes with \
            nothing of their own (a wrapper's shells) fold into one line. \(ExitStatuses.run)
            """
    )

    @OptionGroup var outputs: ReportOutputs
    @OptionGroup var analysis: AnalysisOptions
    @OptionGroup var program: ProgramOptions

    func run() throws {
        let prefetcher = SymbolPrefetcher(symbolizer: analysis.makeSymbolizer())
        let (recorded, temporary) = try outputs.record(prefetcher: prefetcher) { (file, configure) throws(RecordError) in
            try program.record(to: file, configure: configure)
        }
        try outputs.report(recorded, temporary: temporary, analysis: analysis, symbolizer: prefetcher.finish(),
                           programStatus: recorded.status.shellStatus)
        throw ExitCode(recorded.status.shellStatus)
    }
}
