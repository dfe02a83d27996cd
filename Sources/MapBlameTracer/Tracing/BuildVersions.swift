import CShims

/// What `mapblame --version` reports besides the version number, read from the C shim (the only
/// place that sees libunwind's and libdwfl's headers): the commit the binary was built from, which
/// `make` links in over weak defaults (packaging/buildinfo.sh), and the libunwind and elfutils
/// libraries that unwinding and symbolization run with.
public enum BuildVersions {
    /// The git commit of the build, nil for a plain `swift build` (or a build outside git).
    public static var commit: String? {
        guard let c = cshims_build_commit() else { return nil }
        let commit = String(cString: c)
        return commit.isEmpty ? nil : commit
    }

    /// Whether the tree had uncommitted changes at that build; nil when unknown.
    public static var dirty: Bool? {
        switch cshims_build_dirty() {
        case 0: return false
        case 1: return true
        default: return nil
        }
    }

    /// The libunwind version of the headers mapblame was built with ("1.6.2"): libunwind has no
    /// run-time version call.
    public static var libunwindHeaders: String { String(cString: cshims_libunwind_header_version()) }

    /// The libunwind library file this process runs with (links resolved), nil if dladdr cannot say.
    public static var libunwindFile: String? { cshims_libunwind_loaded_file().map { String(cString: $0) } }

    /// elfutils' version as the loaded libdw reports it (dwfl_version).
    public static var elfutils: String { String(cString: cshims_elfutils_version()) }
}
