import CShims

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
            + "libunwind \(String(cString: cshims_libunwind_header_version())) at build, running "
            + (cshims_libunwind_loaded_file().map { String(cString: $0) } ?? "a library dladdr cannot name") + "\n"
            + "elfutils \(String(cString: cshims_elfutils_version())) running (libdw's dwfl_version)"
    }

    static var build: String {
        guard let commit = cshims_build_commit().map({ String(cString: $0) }), !commit.isEmpty else {
            return "unknown commit"
        }
        switch cshims_build_dirty() {
        case 0: return "commit \(commit)"
        case 1: return "commit \(commit), with uncommitted changes"
        default: return "commit \(commit), tree state unknown"
        }
    }
}
