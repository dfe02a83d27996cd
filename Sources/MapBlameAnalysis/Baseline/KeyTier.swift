import MapBlameModel

/// Who made a key's memory: the program's own code, or the system it runs on (docs/baseline.md,
/// "Two tiers"). `check` gates the program's keys; the system's are reported, and gate only with
/// `--gate-system`, because they differ from machine to machine (another kernel has
/// `[vvar_vclock]`, another libc has another .bss size, another ld.so allocates other TLS blocks)
/// while the program is the same.
public enum KeyTier: String, Sendable, CaseIterable {
    case program
    case system

    /// The tier of an origin of a process whose executable is `executable` (full path), from its
    /// structured attribution and its site's module: never from the label's words, except for
    /// origins that carry only words (a JSON report read back).
    public static func of(_ origin: Origin, executable: String?) -> KeyTier {
        of(category: origin.category, attribution: origin.attribution, site: origin.site, executable: executable)
    }

    public static func of(category: Category, attribution: Attribution, site: SymbolizedFrame?, executable: String?) -> KeyTier {
        switch attribution.kind {
        // What the kernel and the loader set up before the program's first instruction, and the
        // loader's own memory later (TLS blocks, link maps: their sizes are ld.so's, whoever
        // called dlopen or pthread_create).
        case .mainStack, .execHeap, .kernelMapping, .presentAtExec, .loaderMemory:
            return .system
        case .file(let path), .bss(let path):
            return module(path, executable: executable)
        case .described(let label):
            // Words only: the category says as much as the words do.
            switch category {
            case .stack, .vdso, .loader: return .system
            case .file, .bss:
                let path = category == .bss && label.hasPrefix("bss of ") ? String(label.dropFirst(7)) : label
                if path.hasPrefix("/") { return module(path, executable: executable) }
            default: break
            }
        default:
            break
        }
        // Made by a call: whose code made it is the site's module (the first frame outside libc,
        // ld.so and the allocators). No site (no frames, an unwinding that failed): the program's,
        // so that what cannot be placed still gates.
        guard let path = site?.module else { return .program }
        return module(path, executable: executable)
    }

    /// A module is the program's when it is the executable itself, or a file outside the system's
    /// directories (a library built and shipped with the program: `./build/libfoo.so`,
    /// `/opt/app/lib/libapp.so`, a toolchain's runtime outside /usr). Libraries of the
    /// distribution (`/usr/lib`, `/lib64/ld-linux-x86-64.so.2`...) and the system's data files
    /// (`/usr/share/locale`, `/etc/ld.so.cache`) are the system's.
    public static func module(_ path: String, executable: String?) -> KeyTier {
        if let executable, path == executable { return .program }
        return isSystemPath(path) ? .system : .program
    }

    /// Directories of the distribution: its libraries, executables and data.
    public static let systemDirectories = ["/usr/lib/", "/usr/lib32/", "/usr/lib64/", "/usr/libx32/", "/usr/libexec/",
                                           "/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/share/", "/etc/",
                                           "/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/var/cache/", "/var/lib/"]

    public static func isSystemPath(_ path: String) -> Bool {
        // A kernel-provided name ("[vdso]") is the system's; a relative path can only be the program's.
        if path.hasPrefix("[") { return true }
        return systemDirectories.contains { path.hasPrefix($0) }
    }
}
