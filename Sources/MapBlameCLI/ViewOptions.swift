import ArgumentParser
import MapBlame

/// What a report shows, shared by run, attach, report and explain: which processes (--pid,
/// --exe), which addresses (--address), and in the text, file-backed lines (--files) and how many
/// sites (--top). Applied to the report before any output is rendered, so every format agrees.
struct ViewOptions: ParsableArguments {
    @Option(name: .customLong("pid"), help: ArgumentHelp("Report only process N (repeatable; with --exe, either matches).", valueName: "N"))
    var pids: [Int32] = []

    @Option(name: .customLong("exe"), help: ArgumentHelp("Report only processes running NAME: a base name (python3.11) or a whole path (repeatable).", valueName: "NAME"))
    var executables: [String] = []

    @Option(name: .customLong("address"), help: ArgumentHelp("Show only the region holding ADDR (hexadecimal, 0x optional): its byte ranges, their backtraces and evidence; or the nearest regions (repeatable).", valueName: "ADDR"))
    var addressTexts: [String] = []

    @Flag(name: .customLong("files"), help: "List file-backed lines in the text too (by default only unnamed regions, [heap] and [stack]; the summary counts everything).")
    var files = false

    @Option(name: .customLong("top"), help: ArgumentHelp("Rows of the text's top-sites table (0: none).", valueName: "N"))
    var top: Int = 10

    mutating func validate() throws {
        for text in addressTexts where AddressFocus.parse(text) == nil {
            throw ValidationError("--address \(text): not a hexadecimal address (like 0x7faa0461f000 or 7faa0461f000)")
        }
        for pid in pids where pid <= 0 { throw ValidationError("--pid \(pid): not a process id (a positive number)") }
        if top < 0 { throw ValidationError("--top \(top): give a number of rows, 0 or more") }
    }

    var addresses: [UInt64] { addressTexts.compactMap(AddressFocus.parse) }

    var selection: ReportSelection { ReportSelection(pids: pids, executables: executables) }

    var text: TextOptions {
        // A selection asks for those processes in full: nothing of them is folded.
        TextOptions(files: files, topSites: top, foldShortProcesses: selection.isEmpty)
    }

    /// `report` with the selected processes only, the launched program first; exits 1 with one
    /// line naming the processes there are when a --pid or --exe matches none.
    func select(_ report: Report) throws -> Report {
        do {
            return try selection.apply(to: report)
        } catch {
            throw CommandFailure(error.description, status: 1)
        }
    }

    /// Renders `report` (already selected) in `format`; `text` renders the text of a report with
    /// no --address (explain's differs from the others').
    func render(_ report: Report, format: OutputFormat, weight: FoldedReporter.Weight, explain: Bool = false,
                text: (Report) -> String) -> String {
        let focus = addresses.isEmpty ? nil : AddressFocus(addresses: addresses)
        switch format {
        case .text:
            if let focus { return AddressReporter.render(report, focus: focus, explain: explain) }
            return text(report)
        case .json: return focus.map { $0.json(report) } ?? JSONReporter.render(report)
        case .html: return HTMLReporter.render(focus.map { $0.focused(report) } ?? report, foldShortProcesses: selection.isEmpty)
        case .folded: return FoldedReporter.render(focus.map { $0.focused(report) } ?? report, weight: weight)
        }
    }
}
