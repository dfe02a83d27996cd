import MapBlameModel
import Glibc

/// Symbols kept between runs, one file per module build-id under `$XDG_CACHE_HOME/mapblame/symbols`
/// (else `~/.cache/mapblame/symbols`), what debuginfod clients do for debug files: a report of
/// `gcc -c` spent most of its time inflating libc6-dbg's compressed DWARF (zlib 44%, libdw 11%),
/// again at every run, for the same few hundred addresses. A module whose file is valid answers
/// from it without opening its DWARF at all.
///
/// A file is valid while every file it was computed from is unchanged (same size, modification
/// time and inode): the module itself, the separate debug file libdwfl used, and, where none was
/// found, each build-id path the search looks at is still absent (a -dbg package installed later
/// invalidates it). Its name hashes the debug search path too (`--debug-dir`).
///
/// Safe under concurrent runs: a file is written whole to a temporary name (O_EXCL) and renamed
/// over the old one, so a reader sees the old file or the new one; the last writer wins, and what
/// another run added meanwhile is only computed again. Bounded: at most `entryLimit` addresses per
/// module, and after each save the oldest files go until the directory holds `byteLimit` bytes.
public final class SymbolCache {
    /// Where the files are (created on first save).
    public let directory: String
    package let entryLimit: Int
    package let byteLimit: Int
    private var modules: [String: ModuleEntries] = [:]

    /// One module's file: what it answers, whether it changed, and what it was computed from.
    package final class ModuleEntries {
        package let file: String
        package var entries: [SymbolCacheKey: [SourceSymbol]] = [:]
        package var dirty = false
        /// What the entries were computed from (set with the first entry added by this run).
        package var validators: [SymbolCacheValidator] = []
        package init(file: String) { self.file = file }
    }

    public init(directory: String, entryLimit: Int = 50_000, byteLimit: Int = 64 << 20) {
        self.directory = directory
        self.entryLimit = entryLimit
        self.byteLimit = byteLimit
    }

    /// The cache of this user: `$XDG_CACHE_HOME/mapblame/symbols`, else `$HOME/.cache/...`; nil
    /// without either.
    public static func standard() -> SymbolCache? {
        let environment = { (name: String) in getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
        guard let base = environment("XDG_CACHE_HOME") ?? environment("HOME").map({ $0 + "/.cache" }) else { return nil }
        return SymbolCache(directory: base + "/mapblame/symbols")
    }

    /// The entries of the module with `identity`, read from its file if that is valid.
    package func module(_ identity: SymbolCacheIdentity) -> ModuleEntries {
        let name = identity.fileName
        if let known = modules[name] { return known }
        let module = ModuleEntries(file: directory + "/" + name)
        if let text = SymbolCacheFile.read(module.file), let parsed = SymbolCacheFile.parse(text), parsed.valid() {
            module.entries = parsed.entries
            module.validators = parsed.validators
        }
        modules[name] = module
        return module
    }

    /// Whether the module's file answered anything (its DWARF need not be opened ahead).
    package func hasEntries(_ identity: SymbolCacheIdentity) -> Bool {
        !module(identity).entries.isEmpty
    }

    /// `validators` is asked once per module and run, at its first new entry.
    package func add(_ symbols: [SourceSymbol], for key: SymbolCacheKey, in identity: SymbolCacheIdentity,
             validators: () -> [SymbolCacheValidator]) {
        let module = module(identity)
        guard module.entries[key] == nil, module.entries.count < entryLimit else { return }
        if !module.dirty { module.validators = validators() }
        module.entries[key] = symbols
        module.dirty = true
    }

    /// Writes every module file that gained entries, then trims the directory. Errors are ignored:
    /// a cache that cannot be written costs only the next run's time.
    public func save() {
        let changed = modules.values.filter(\.dirty)
        guard !changed.isEmpty, SymbolCacheFile.makeDirectories(directory) else { return }
        for module in changed {
            if SymbolCacheFile.write(SymbolCacheFile.render(module.entries, validators: module.validators), to: module.file) {
                module.dirty = false
            }
        }
        SymbolCacheFile.trim(directory, to: byteLimit)
    }
}

/// An address of a module, and which of the two lookups it was.
package struct SymbolCacheKey: Hashable {
    package let fileOffset: UInt64
    package let isReturnAddress: Bool
    /// `symbolizeInlined` (the chain) rather than `symbolize` (one frame).
    package let inlined: Bool

    package init(fileOffset: UInt64, isReturnAddress: Bool, inlined: Bool) {
        self.fileOffset = fileOffset
        self.isReturnAddress = isReturnAddress
        self.inlined = inlined
    }
}

/// What names a module's cache file: its build-id and the debug search path.
package struct SymbolCacheIdentity {
    package let buildID: String
    package let debuginfoPath: String

    package init(buildID: String, debuginfoPath: String) {
        self.buildID = buildID
        self.debuginfoPath = debuginfoPath
    }

    package var fileName: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the search path
        for byte in debuginfoPath.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return buildID + "-" + String(hash, radix: 16) + ".syms"
    }
}

/// A file a module's symbols were computed from, as it was: present with this size, modification
/// time and inode, or absent.
package struct SymbolCacheValidator: Equatable {
    package let path: String
    package let state: String  // "size mtime.ns inode", or "-" for absent

    package init(path: String, state: String) {
        self.path = path
        self.state = state
    }

    /// The file as it is now.
    package init(current path: String) {
        var st = stat()
        self.path = path
        state = stat(path, &st) == 0 ? "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)" : "-"
    }

    package var holds: Bool { SymbolCacheValidator(current: path) == self }
}
