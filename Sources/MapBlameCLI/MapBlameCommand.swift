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
        subcommands: [RunCommand.self],
        defaultSubcommand: nil
    )
}
