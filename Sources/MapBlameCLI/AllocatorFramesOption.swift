import ArgumentParser
import MapBlame

/// `--allocator-frames REGEX`: the program's own allocator functions (malloc wrappers, pools),
/// whose frames are then never the site and whose mappings are labelled by them. Shared by every
/// command that symbolizes a trace: run, report, attach, baseline, check, diff.
struct AllocatorFramesOption: ParsableArguments {
    @Option(name: .customLong("allocator-frames"), help: ArgumentHelp("Functions matching REGEX (POSIX extended, against the demangled name) are an allocator: never the site; memory they map is labelled by them (repeatable).", valueName: "REGEX"))
    var patterns: [String] = []

    mutating func validate() throws { _ = try frames() }

    func frames() throws(ValidationError) -> AllocatorFrames {
        do {
            return try AllocatorFrames(patterns: patterns)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// For after validation: the patterns compiled then.
    var validated: AllocatorFrames { (try? frames()) ?? (try! AllocatorFrames()) }
}
