import MapBlameModel
import CElfUtils
import Glibc

/// The Symbolizer's use of its `SymbolCache`: a module is known to the cache by its build-id (a
/// module without one is never cached), which libdwfl reads from the module's own ELF file; its
/// DWARF is opened only for addresses the cache does not hold.
extension Symbolizer {
    private func identity(path: String) -> SymbolCacheIdentity? {
        guard cache != nil, let buildID = session(for: path)?.buildID else { return nil }
        return SymbolCacheIdentity(buildID: buildID, debuginfoPath: debuginfoPath)
    }

    package func stored(path: String, fileOffset: UInt64, isReturnAddress: Bool, inlined: Bool) -> [SourceSymbol]? {
        guard let cache, let identity = identity(path: path) else { return nil }
        let key = SymbolCacheKey(fileOffset: fileOffset, isReturnAddress: isReturnAddress, inlined: inlined)
        return cache.module(identity).entries[key]
    }

    package func store(_ symbols: [SourceSymbol], path: String, fileOffset: UInt64, isReturnAddress: Bool, inlined: Bool) {
        guard let cache, let identity = identity(path: path), let session = session(for: path) else { return }
        let key = SymbolCacheKey(fileOffset: fileOffset, isReturnAddress: isReturnAddress, inlined: inlined)
        cache.add(symbols, for: key, in: identity) {
            var validators = [location(of: path).map { SymbolCacheValidator(current: $0) }].compactMap { $0 }
            if let debug = session.debugFile {
                validators.append(SymbolCacheValidator(current: debug))
            } else {
                // None found: each place the build-id search looks must stay empty.
                let name = identity.buildID.prefix(2) + "/" + identity.buildID.dropFirst(2) + ".debug"
                for dir in debuginfoPath.split(separator: ":") where dir.hasPrefix("/") {
                    validators.append(SymbolCacheValidator(current: "\(dir)/.build-id/\(name)"))
                }
            }
            return validators
        }
    }

    /// Whether the cache holds symbols of this module (its DWARF need not be opened ahead).
    package func cacheAnswers(path: String) -> Bool {
        guard let cache, let identity = identity(path: path) else { return false }
        return cache.hasEntries(identity)
    }

    /// Writes what this run added to the cache (after the report; nothing without a cache).
    public func saveCache() {
        cache?.save()
    }
}

extension ModuleSession {
    /// The separate debug file libdwfl read the module's DWARF from, nil when it read none (not
    /// asked yet, none found, or the DWARF is in the module itself).
    package var debugFile: String? {
        var debug: UnsafePointer<CChar>?
        _ = dwfl_module_info(module, nil, nil, nil, nil, nil, nil, &debug)
        return debug.map { String(cString: $0) }
    }
}
