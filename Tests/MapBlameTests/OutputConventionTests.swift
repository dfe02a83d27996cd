import Foundation
import Glibc
import Testing

/// One output convention on every reporting command (README "Output files"): the same options,
/// formats and defaults on run, attach, report, explain, check and diff, checked on what each
/// invocation really writes.
@Suite(.serialized)
struct OutputConventionTests {
    /// What an invocation should write to a file or stream.
    enum Expect { case text, json, comparisonJSON, html, folded }

    /// Checks `content` is a real output of kind `kind` (not empty, parsed where it can be).
    static func check(_ content: String, is kind: Expect, _ what: String) {
        switch kind {
        case .text:
            #expect(content.hasPrefix("mapblame") || content.contains("== "), "\(what): \(content.prefix(200))")
        case .json, .comparisonJSON:
            let root = (try? JSONSerialization.jsonObject(with: Data(content.utf8))) as? [String: Any]
            let format = kind == .json ? "mapblame-report" : "mapblame-comparison"
            #expect(root?["format"] as? String == format, "\(what): \(content.prefix(200))")
        case .html:
            #expect(content.hasPrefix("<!DOCTYPE html>") && content.contains("mapblame-data"), "\(what): \(content.prefix(100))")
        case .folded:
            let lines = content.split(separator: "\n")
            #expect(!lines.isEmpty, "\(what): no stacks")
            #expect(lines.allSatisfy { $0.split(separator: " ").last.map { UInt64($0) != nil } ?? false }, "\(what): \(content.prefix(200))")
        }
    }

    /// The commands, each with its arguments before the output options, the kind of its JSON, and
    /// whether its text goes to stderr by default.
    struct Command {
        var name: String
        var arguments: [String]
        var json: Expect
        var textOnStderr: Bool
        var pictures: Bool  // html and folded
    }

    @Test func everyCommandTakesTheSameOutputOptions() throws {
        let dir = NSTemporaryDirectory() + "mapblame-outputs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/t.trace", baseline = dir + "/b.json"
        #expect(try runCommand([Build.mapblame, "record", "-o", trace, "--", Build.fixture, "mmap"]).status == 0)
        #expect(try runCommand([Build.mapblame, "baseline", "-o", baseline, "--from", trace]).status == 0)
        let served = try AttachTests.Served.start()
        defer { served.finish() }
        let commands = [
            Command(name: "run", arguments: ["run", "-q"], json: .json, textOnStderr: true, pictures: true),
            Command(name: "attach", arguments: ["attach", "\(served.pid)", "-q", "--duration", "200ms"], json: .json,
                    textOnStderr: true, pictures: true),
            Command(name: "report", arguments: ["report", trace], json: .json, textOnStderr: false, pictures: true),
            Command(name: "explain", arguments: ["explain", "\(served.pid)"], json: .json, textOnStderr: false, pictures: true),
            Command(name: "check", arguments: ["check", "--baseline", baseline, "--from", trace], json: .comparisonJSON,
                    textOnStderr: true, pictures: false),
            Command(name: "diff", arguments: ["diff", trace, baseline], json: .comparisonJSON, textOnStderr: false, pictures: false),
        ]
        for command in commands {
            let program = command.name == "run" ? ["--", Build.fixture, "mmap"] : []
            func invoke(_ options: [String]) throws -> Finished {
                try runCommand([Build.mapblame] + command.arguments + options + program)
            }
            func read(_ file: String) -> String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }

            // The default: text, on stderr for run, attach and check, else on stdout.
            let plain = try invoke([])
            #expect(plain.status == 0, "\(command.name): \(plain.stderr)")
            Self.check(command.textOnStderr ? plain.stderr : plain.stdout, is: .text, "\(command.name) default")

            // --format with -o FILE, and with - (standard output).
            let formats: [(String, Expect)] = [("text", .text), ("json", command.json)]
                + (command.pictures ? [("html", .html), ("folded", .folded)] : [])
            for (format, kind) in formats {
                let file = dir + "/\(command.name).\(format)"
                let written = try invoke(["--format", format, "-o", file])
                #expect(written.status == 0, "\(command.name) --format \(format): \(written.stderr)")
                Self.check(read(file), is: kind, "\(command.name) --format \(format) -o FILE")
                let streamed = try invoke(["--format", format, "-o", "-"])
                #expect(streamed.status == 0, "\(command.name) --format \(format) -o -: \(streamed.stderr)")
                Self.check(streamed.stdout, is: kind, "\(command.name) --format \(format) -o -")
            }

            // The shortcuts, all together, beside the text.
            var shortcuts = ["--json", dir + "/\(command.name).s.json"]
            if command.pictures {
                shortcuts += ["--html", dir + "/\(command.name).s.html", "--folded", dir + "/\(command.name).s.folded", "--weight", "count"]
            }
            let together = try invoke(shortcuts + ["-o", dir + "/\(command.name).s.txt"])
            #expect(together.status == 0, "\(command.name) shortcuts: \(together.stderr)")
            Self.check(read(dir + "/\(command.name).s.txt"), is: .text, "\(command.name) -o with shortcuts")
            Self.check(read(dir + "/\(command.name).s.json"), is: command.json, "\(command.name) --json")
            if command.pictures {
                Self.check(read(dir + "/\(command.name).s.html"), is: .html, "\(command.name) --html")
                let folded = read(dir + "/\(command.name).s.folded")
                Self.check(folded, is: .folded, "\(command.name) --folded")
                // --weight count: every stack weighs its number of byte ranges, far below its bytes.
                let weights = folded.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { UInt64($0) } }
                #expect(weights.allSatisfy { $0 < 4096 }, "\(command.name) --weight count: \(weights)")
            } else {
                // What check and diff cannot write is a usage error, one line.
                for option in [["--format", "html"], ["--folded", dir + "/x"], ["--html", dir + "/x"]] {
                    let refused = try invoke(option)
                    #expect(refused.status == 2 && refused.stderr.split(separator: "\n").count == 1,
                            "\(command.name) \(option): \(refused.status) \(refused.stderr)")
                    #expect(refused.stderr.contains("writes text or json"), "\(refused.stderr)")
                }
            }
            // Two outputs on standard output: refused, exit 2.
            let twice = try invoke(["--format", "json", "--json", "-"])
            #expect(twice.status == 2 && twice.stderr.contains("standard output"), "\(command.name): \(twice.stderr)")
        }
        let end = served.finish()
        #expect(end.status == 0 && end.values["ok"] == "1", "the served process after the attaches: \(end)")
    }

    /// Every command's --help ends with its exit statuses; `help` of no command is a usage error.
    @Test func helpNamesExitStatusesAndRefusesUnknownTopics() throws {
        for command in ["run", "record", "report", "explain", "attach", "baseline", "check", "diff"] {
            let help = try runCommand([Build.mapblame, command, "--help"])
            #expect(help.status == 0)
            // argument-parser wraps the text: compare it with its line breaks as spaces.
            let words = help.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
            #expect(words.contains("Exits "), "\(command) --help: no exit statuses")
            #expect(words.contains("2 for a usage error"), "\(command) --help")
        }
        let check = try runCommand([Build.mapblame, "check", "--help"]).stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
            .joined(separator: " ")
        #expect(check.contains("2 for a usage error, which includes a baseline that cannot be read"), "\(check)")
        let unknown = try runCommand([Build.mapblame, "help", "nosuch"])
        #expect(unknown.status == 2 && unknown.stderr == "mapblame: help nosuch: no such command (commands: run, record, report, explain, attach, baseline, check, diff)\n",
                "\(unknown.stderr)")
        #expect(try runCommand([Build.mapblame, "help", "run"]).status == 0)
    }

    /// argument-parser's usage errors read like mapblame's own: `OPTION VALUE: what is wrong`.
    @Test func usageErrorsHaveOneForm() throws {
        let cases: [([String], String)] = [
            (["attach", "1", "--duration", "2x"], "mapblame: --duration 2x: give seconds (30, 2.5) or a number with a unit (500ms, 2s, 5m, 1h), more than 0\n"),
            (["report", "--format", "xml", "t"], "mapblame: --format xml: give one of text, json, html or folded\n"),
            (["report"], "mapblame: missing argument FILE\n"),
            (["attach", "abc"], "mapblame: PID abc: not a process id (a positive number)\n"),
            (["report", "t", "--address", "0xzz"], "mapblame: --address 0xzz: not a hexadecimal address (like 0x7faa0461f000 or 7faa0461f000)\n"),
            (["report", "t", "--top", "-1"], "mapblame: missing value for --top N\n"),
        ]
        for (arguments, message) in cases {
            let r = try runCommand([Build.mapblame] + arguments)
            #expect(r.status == 2, "\(arguments)")
            #expect(r.stderr == message, "\(arguments): \(r.stderr)")
        }
    }

    /// `--duration` takes a unit.
    @Test func durationTakesUnits() throws {
        let served = try AttachTests.Served.start()
        defer { served.finish() }
        let r = try runCommand([Build.mapblame, "attach", "\(served.pid)", "-q", "--duration", "300ms", "-o", "/dev/null"])
        #expect(r.status == 0, "\(r.stderr)")
    }
}
