import ArgumentParser
import MapBlame

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show how the mappings of two runs differ, key by key (docs/baseline.md).",
        discussion: """
            A and B are each a trace, a JSON report or a baseline. Prints, per process, the totals and \
            the keys that grew, shrank, are new in B (with their backtrace) or vanished, as `check` \
            does, without tolerances or a verdict; --format json writes the same as data \
            (docs/comparison-json.md). \(ExitStatuses.diff)
            """
    )

    @Argument(help: ArgumentHelp("The earlier run.", valueName: "A"))
    var a: String

    @Argument(help: ArgumentHelp("The later run.", valueName: "B"))
    var b: String

    @Flag(name: .customLong("all"), help: "List unchanged keys too.")
    var all = false

    @Option(name: .customLong("debug-dir"), help: ArgumentHelp("Extra directory to search for separate debug info (repeatable).", valueName: "DIR"))
    var debugDirs: [String] = []

    @OptionGroup var allocators: AllocatorFramesOption
    @OptionGroup var outputs: OutputOptions

    mutating func validate() throws {
        try outputs.validate(command: "diff", formats: [.text, .json], textOnStandardError: false)
    }

    func run() throws {
        let before = try BaselineLoader.measure(path: a, debugDirs: debugDirs, allocators: allocators.validated)
        let after = try BaselineLoader.measure(path: b, debugDirs: debugDirs, allocators: allocators.validated)
        let comparison = BaselineComparison(baseline: before, current: after, tolerances: ToleranceSet())
        try outputs.write(textOnStandardError: false) { format in
            format == .json ? ComparisonJSON.render(comparison, baseline: a, current: b, check: false)
                : ComparisonRenderer.table(comparison, all: all, marks: false)
        }
    }
}
