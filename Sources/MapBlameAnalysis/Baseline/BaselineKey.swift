import MapBlameModel

/// Stable keys for origins (docs/baseline.md): the same code creating the same kind of memory gets
/// the same key in every run, whatever the addresses (ASLR), pids, tids, sizes or build directory.
///
/// - With a symbolized site: `CATEGORY:FUNCTION@MODULE` (`malloc:parse_config@mbfixture`).
/// - With a site that has no function name: `CATEGORY:MODULE+0xOFFSET` (the ELF address inside the
///   module, which ASLR does not move).
/// - `file` and `bss`: `CATEGORY:FILE` with the file's base name (`bss:libc.so.6`): the file is what
///   identifies them (a dlopen()ed library's site would merge every library that call loads).
/// - Otherwise what the origin is, from its attribution, without numbers, addresses and paths'
///   directories (`stack:stack of thread (guard page below)`); origins that carry only words (a
///   JSON report read back, explain's evidence) use their label with those removed.
///
/// File and line are shown next to the key (`site`) but are not part of it: an edit above a call
/// must not turn one site into a vanished one and a new one.
public enum BaselineKey {
    /// The key of an origin, built from its attribution (never from its label's words, except
    /// for origins that carry only words: `Attribution.Kind.described`).
    public static func key(of origin: Origin) -> String {
        key(category: origin.category, attribution: origin.attribution, site: origin.site)
    }

    public static func key(category: Category, attribution: Attribution, site: SymbolizedFrame?) -> String {
        "\(category.rawValue):" + identity(category: category, attribution: attribution, site: site)
    }

    /// A key from words alone (reports read back from JSON, explain's evidence).
    public static func key(category: Category, label: String, site: SymbolizedFrame?) -> String {
        key(category: category, attribution: Attribution(.described(label)), site: site)
    }

    package static func identity(category: Category, attribution: Attribution, site: SymbolizedFrame?) -> String {
        if case .described(let label) = attribution.kind { return identity(category: category, label: label, site: site) }
        if category == .file || category == .bss, let path = filePath(attribution.kind), path.hasPrefix("/") {
            return basename(path)
        }
        if let site { return siteIdentity(site) }
        return identity(of: attribution.kind)
    }

    /// The file that identifies a file mapping or a .bss.
    private static func filePath(_ kind: Attribution.Kind) -> String? {
        switch kind {
        case .file(let path): return path
        case .bss(let file): return file
        default: return nil
        }
    }

    private static func siteIdentity(_ site: SymbolizedFrame) -> String {
        let module = site.module.map(basename) ?? "??"
        if let function = site.function, !site.moduleChanged { return "\(function)@\(module)" }
        return "\(module)+0x\(String(site.moduleOffset, radix: 16))"
    }

    /// The identity of an origin with no site: what it is, without the sizes, addresses, pids and
    /// tids that change from run to run. These strings are part of the baseline format (users'
    /// baselines hold them): they keep the spelling keys had when they were derived from labels,
    /// and are spelled here, apart from the labels, so that rewording a label changes no key.
    package static func identity(of kind: Attribution.Kind) -> String {
        switch kind {
        case .mainStack(let grown): return "stack of the main thread (\(grown ? "grown by the kernel" : "set up at exec"))"
        case .execHeap: return "heap (brk area set up at exec)"
        case .kernelMapping(let name, let atExec): return "\(name) mapped by the kernel\(atExec ? " at exec" : "")"
        case .presentAtExec: return "anonymous memory present right after exec"
        case .untraced: return "no traced syscall created these bytes"
        case .file(let path): return stableLabel(path)
        case .bss(let file): return "bss of " + stableLabel(file)
        case .heapGrowth(let by): return "heap grown by \(by)"
        case .sysvSharedMemory: return "System V shared memory (shmid) attached"
        case .sharedAnonymous: return "shared anonymous memory"
        case .threadStack(let tid, let guardBelow): return "stack of \(tid == nil ? "a thread" : "thread")\(guardBelow ? " (guard page below)" : "")"
        case .stackGuard(let tid): return "guard page of the stack of \(tid == nil ? "a thread" : "thread")"
        case .loaderMemory(let function): return "dynamic loader memory" + (function.map { " from \($0)" } ?? "")
        case .mallocArena(_, let entry): return "glibc malloc arena of thread (created in \(entry))"
        case .largeMalloc(let entry, _, let call): return "\(entry) served by \(call.rawValue)"
        case .allocatorMemory(let allocator, let product): return stableLabel("\(allocator) \(product)")
        case .directMapping(let call, _, let library): return (call == .mremap ? "mremap" : "mmap") + (library.map { " by \($0)" } ?? "")
        case .described(let words): return stableLabel(words)
        }
    }

    /// The identity of words-only origins: the file's base name for file and bss, the site, or the
    /// label made stable.
    package static func identity(category: Category, label: String, site: SymbolizedFrame?) -> String {
        if category == .file || category == .bss {
            let path = category == .bss && label.hasPrefix("bss of ") ? String(label.dropFirst(7)) : label
            if path.hasPrefix("/") { return basename(path) }
        }
        if let site { return siteIdentity(site) }
        return stableLabel(label)
    }

    /// What a key shows as its site: "parse_config (main.c:88)", or the label when there is none.
    public static func siteText(label: String, site: SymbolizedFrame?) -> String {
        site?.shortDescription ?? label
    }

    package static func basename(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    /// The label without what changes from run to run: hexadecimal addresses, sizes ("of 1.0 MiB",
    /// "mmap(65536)"), pids and tids ("thread 1234", "shmid 7"), directories of absolute paths.
    public static func stableLabel(_ label: String) -> String {
        var words: [String] = []
        let tokens = label.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var i = 0
        while i < tokens.count {
            var token = tokens[i]
            // "of 1.0 MiB" / "of 12 KiB" / "of 4096 B": a size.
            if token == "of", i + 2 < tokens.count, isNumber(tokens[i + 1]), isUnit(tokens[i + 2]) {
                i += 3
                continue
            }
            if isNumber(token), i + 1 < tokens.count, isUnit(tokens[i + 1]) {
                i += 2
                continue
            }
            if token.hasPrefix("/") { token = basename(token) }
            token = stripNumbers(token)
            if !token.isEmpty { words.append(token) }
            i += 1
        }
        // "mremap to 32768" → "mremap to" → "mremap"
        var text = words.joined(separator: " ")
        if text.hasSuffix(" to") { text.removeLast(3) }
        text = text.replacingAll(" to from ", with: " from ").replacingAll(" to by ", with: " by ")
            .replacingAll(" )", with: ")").replacingAll("( ", with: "(")
        return text
    }

    package static func isUnit(_ s: String) -> Bool { ["B", "KiB", "MiB", "GiB", "TiB"].contains(s) }

    package static func isNumber(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isNumber || $0 == "." } && s.first!.isNumber
    }

    /// "(65536)" → "", "mmap(65536)" → "mmap", "0x7f00" → "", "1234)" → ")", "#41" → "",
    /// "libc.so.6" unchanged (digits inside a name stay).
    package static func stripNumbers(_ token: String) -> String {
        var t = token
        if let open = t.firstIndex(of: "("), let close = t.lastIndex(of: ")"), open < close,
           isNumber(String(t[t.index(after: open)..<close])) || isHex(String(t[t.index(after: open)..<close])) {
            t.removeSubrange(open...close)
        }
        let core = t.trimmingCharacters { "(),:;#".contains($0) }
        if isNumber(core) || isHex(core) {
            // Keep the punctuation around a removed number: "(shmid 7)" → "(shmid)".
            return String(t.filter { ")".contains($0) })
        }
        return t
    }

    package static func isHex(_ s: String) -> Bool {
        s.hasPrefix("0x") && s.count > 2 && s.dropFirst(2).allSatisfy(\.isHexDigit)
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            result += rest[..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }

    fileprivate func trimmingCharacters(_ drop: (Character) -> Bool) -> String {
        String(self.drop(while: drop).reversed().drop(while: drop).reversed())
    }
}
