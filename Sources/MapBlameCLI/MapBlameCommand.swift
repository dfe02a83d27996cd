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
        version: VersionText.text,
        subcommands: [RunCommand.self, RecordCommand.self, ReportCommand.self, ExplainCommand.self, AttachCommand.self,
                      BaselineCommand.self, CheckCommand.self, DiffCommand.self]
    )

    /// Usage errors are one line on stderr and exit status 2; help and --version go to stdout.
    static func main() {
        do {
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
            Diagnostics.fail(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message,
                             status: code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
