import ArgumentParser
import MapBlame

extension FoldedReporter.Weight: ExpressibleByArgument {}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, html, folded
}

/// The one output convention of every reporting command (run, attach, report, explain, check,
/// diff): `--format` and `-o` choose the main output, `--json/--html/--folded FILE` add others
/// (any together), `-` is standard output, `--weight` weighs every folded output. Same names, help
/// and defaults everywhere; what a command cannot write (check and diff: html, folded) is a usage
/// error. README "Output files".
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("format"), help: ArgumentHelp("The main output: text, json (docs/json-report.md), html (one self-contained page) or folded (collapsed stacks for flamegraph.pl, inferno, speedscope); check and diff: text or json (docs/comparison-json.md).", valueName: "FORMAT"))
    var format: OutputFormat = .text

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the main output to FILE (- for standard output). Default: standard output, but text goes to standard error for run, attach and check (the program's own output stays apart).", valueName: "FILE"))
    var output: String?

    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the JSON output to FILE.", valueName: "FILE"))
    var json: String?

    @Option(name: .customLong("html"), help: ArgumentHelp("Also write the HTML page to FILE.", valueName: "FILE"))
    var html: String?

    @Option(name: .customLong("folded"), help: ArgumentHelp("Also write collapsed stacks to FILE.", valueName: "FILE"))
    var folded: String?

    @Option(name: .customLong("weight"), help: ArgumentHelp("Weigh the stacks of every folded output by mapped bytes, RSS or count.", valueName: "WEIGHT"))
    var weight: FoldedReporter.Weight = .bytes

    /// Where the main output goes when -o is not given.
    enum Stream { case standardOutput, standardError }

    /// The destination of the main output: -o, else `-` (standard output) or nil (standard error).
    func mainDestination(textOnStandardError: Bool) -> String? {
        if let output { return output }
        return textOnStandardError && format == .text ? nil : "-"
    }

    /// Every output asked for: its option (for messages), format and destination (nil: stderr).
    func outputs(textOnStandardError: Bool) -> [(option: String, format: OutputFormat, path: String?)] {
        var list: [(option: String, format: OutputFormat, path: String?)] = [
            (output == nil ? "the \(format.rawValue) output" : "--output", format, mainDestination(textOnStandardError: textOnStandardError)),
        ]
        if let json { list.append(("--json", .json, json)) }
        if let html { list.append(("--html", .html, html)) }
        if let folded { list.append(("--folded", .folded, folded)) }
        return list
    }

    /// Checks, before anything runs, that `command` can write every format asked for and that each
    /// file can be written, at most one of them (with `others`, e.g. --trace) on standard output.
    func validate(command: String, formats: [OutputFormat] = OutputFormat.allCases, textOnStandardError: Bool,
                  others: [(option: String, value: String?)] = []) throws {
        let can = formats.map(\.rawValue).joined(separator: " or ")
        if !formats.contains(format) { throw ValidationError("--format \(format.rawValue): \(command) writes \(can)") }
        for (option, format, _) in outputs(textOnStandardError: textOnStandardError).dropFirst() where !formats.contains(format) {
            throw ValidationError("\(option): \(command) writes \(can), not \(format.rawValue)")
        }
        let main = outputs(textOnStandardError: textOnStandardError)[0]
        let implicit = output == nil && main.path == "-" ? "the \(format.rawValue) output" : nil
        try OutputChecks.validate([("--output", output), ("--json", json), ("--html", html), ("--folded", folded)] + others,
                                  standardOutput: implicit)
    }

    /// Whether any output goes to standard output (the traced program's own stdout then goes to stderr).
    func usesStandardOutput(textOnStandardError: Bool) -> Bool {
        outputs(textOnStandardError: textOnStandardError).contains { $0.path == "-" }
    }

    /// Writes every output asked for, each rendered once by `render`. Exits 1 with one line if a
    /// file cannot be written.
    func write(textOnStandardError: Bool, _ render: (OutputFormat) -> String) throws {
        var rendered: [OutputFormat: String] = [:]
        do {
            for (_, format, path) in outputs(textOnStandardError: textOnStandardError) {
                let text = rendered[format] ?? render(format)
                rendered[format] = text
                if let path { try OutputFile.write(text, to: path) } else { Diagnostics.writeStderr(text) }
            }
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
    }
}
