import ArgumentParser

@main
struct MapBlameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapblame",
        abstract: "Explain every unnamed region of a process's memory map by the code that created it.",
        discussion: """
            mapblame runs a program under ptrace, stops it only at the memory-mapping syscalls (a seccomp \
            filter lets every other syscall run at full speed), records a backtrace for each, and at exit \
            joins those records with the final /proc/PID/maps and smaps.
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, RecordCommand.self, ReportCommand.self, ExplainCommand.self, AttachCommand.self,
                      BaselineCommand.self, CheckCommand.self, DiffCommand.self]
    )

    /// Usage errors are one line on stderr and exit status 2; help and --version go to stdout.
    static func main() {
        do {
            try checkHelpTopic(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Diagnostics.exitNow(exit.rawValue)
        } catch let failure as CommandFailure {
            Diagnostics.fail(failure.message, status: failure.status)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Diagnostics.exitNow(0)
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            Diagnostics.fail(UsageMessage.normalize(message), status: code == .validationFailure ? 2 : code.rawValue)
        }
    }

    /// `mapblame help NAME` for a NAME that is no command is a usage error (argument-parser would
    /// print the general help and exit 0).
    static func checkHelpTopic(_ arguments: [String]) throws {
        guard arguments.first == "help", let topic = arguments.dropFirst().first, !topic.hasPrefix("-") else { return }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        if !names.contains(topic) {
            throw CommandFailure("help \(topic): no such command (commands: \(names.joined(separator: ", ")))", status: 2)
        }
    }
}
