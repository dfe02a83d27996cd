import MapBlame

/// mapblame's version number: the one place it is written. The Makefile reads it from this line
/// (`make dist`, `make deb` name their archives with it), so keep it a plain string literal.
let mapblameVersion = "0.1.0"

/// What `mapblame --version` prints: the version, the commit and whether the tree had uncommitted
/// changes (linked in by `make`, packaging/buildinfo.sh; "unknown commit" for a plain `swift build`),
/// and the libunwind and elfutils libraries this process runs with, which decide what backtraces
/// and symbols it can produce.
enum VersionText {
    static var text: String {
        "mapblame \(mapblameVersion) (\(build))\n"
            + "libunwind \(BuildVersions.libunwindHeaders) at build, running "
            + (BuildVersions.libunwindFile ?? "a library dladdr cannot name") + "\n"
            + "elfutils \(BuildVersions.elfutils) running (libdw's dwfl_version)"
    }

    static var build: String {
        guard let commit = BuildVersions.commit else { return "unknown commit" }
        switch BuildVersions.dirty {
        case false?: return "commit \(commit)"
        case true?: return "commit \(commit), with uncommitted changes"
        case nil: return "commit \(commit), tree state unknown"
        }
    }
}
