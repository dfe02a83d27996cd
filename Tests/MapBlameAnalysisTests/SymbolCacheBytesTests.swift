import Foundation
import Testing
@testable import MapBlameAnalysis

/// `SymbolCacheBytes`: a symbol cache file read by bytes gives what the Character reader gives,
/// on the files this version writes and on every odd text (where it declines and that reader decides).
@Suite struct SymbolCacheBytesTests {
    static func same(_ a: SymbolCacheFile.Parsed?, _ b: SymbolCacheFile.Parsed?) -> Bool {
        a?.entries == b?.entries && a?.validators == b?.validators && (a == nil) == (b == nil)
    }

    /// parse's answer, the Character reader's, and the byte reader's when it gives one.
    static func agree(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let slow = SymbolCacheFile.parseByCharacters(text)
        #expect(same(SymbolCacheFile.parse(text), slow), "\(text.debugDescription)", sourceLocation: sourceLocation)
        if let plain = SymbolCacheBytes.parse(text) { #expect(same(plain, slow), "\(text.debugDescription)", sourceLocation: sourceLocation) }
    }

    static let entries: [SymbolCacheKey: [SourceSymbol]] = [
        SymbolCacheKey(fileOffset: 0x1234, isReturnAddress: true, inlined: true): [
            SourceSymbol(function: "std::vector<int>::push_back(int const&)", file: "/usr/include/c++/12/bits/stl_vector.h",
                         line: 1287, elfAddress: 0x2234, inlined: true),
            SourceSymbol(function: "main", file: "/src/main.c", line: 7, elfAddress: 0x2234, inlined: false)],
        SymbolCacheKey(fileOffset: 0, isReturnAddress: false, inlined: false): [
            SourceSymbol(function: nil, file: nil, line: nil, elfAddress: 0)],
        SymbolCacheKey(fileOffset: 0xffff_ffff_ffff, isReturnAddress: false, inlined: true): [
            SourceSymbol(function: "", file: "", line: 0, elfAddress: 0xABCDEF, inlined: false)],
    ]
    static let validators = [SymbolCacheValidator(path: "/usr/lib/debug/.build-id/ab/cd.debug", state: "1 2.3 4"),
                             SymbolCacheValidator(path: "/lib/x.so", state: "-")]

    @Test("A file this version writes, ASCII names: read by bytes, the same entries and validators")
    func writtenFile() throws {
        let text = SymbolCacheFile.render(Self.entries, validators: Self.validators)
        let plain = try #require(SymbolCacheBytes.parse(text))
        #expect(plain.entries == Self.entries && plain.validators == Self.validators)
        Self.agree(text)
    }

    @Test("Odd texts: escapes, names outside ASCII, cut files, signs, CRs, blank lines: the Character reader decides")
    func oddTexts() {
        let text = SymbolCacheFile.render(Self.entries, validators: Self.validators)
        let escaped = SymbolCacheFile.render([SymbolCacheKey(fileOffset: 1, isReturnAddress: false, inlined: false):
            [SourceSymbol(function: "a\tb%09\nc", file: "/x y/caf\u{e9}.c", line: 7, elfAddress: 2, inlined: true)]],
                                             validators: [SymbolCacheValidator(path: "/a\tb", state: "-")])
        #expect(SymbolCacheBytes.parse(escaped) == nil)
        var texts: [String] = [text, escaped, "", "mapblame-symbols 1", "mapblame-symbols 1\n", "mapblame-symbols 1\nend 0\n",
                               "mapblame-symbols 1\nend +0\n", "mapblame-symbols 2\nend 0\n", text + "trailing\n"]
        let replacements: [(String, String)] = [
            ("\n", "\r\n"), ("end 3", "end 2"), ("end 3", "end 03"), ("end 3\n", "end 3"), ("\nE ", "\n\nE "),
            ("E 1234 ", "E +1234 "), ("E 1234 1 1 2", "E  1234  1 1  2"), (" 1 1 2\n", " 1 1 3\n"), (" 1 1 2\n", " 1 1 0\n"),
            (" 1 1 2\n", " 1 1 -2\n"), (" 1 1 2\n", " yes 1 2\n"), ("\t1287\t", "\t+1287\t"), ("\t1287\t", "\t12x\t"),
            ("\t2234\t", "\t\t"), ("V =/lib/x.so", "V /lib/x.so"), ("\t-\n", "\t-\textra\n"),
        ]
        for (of, with) in replacements { texts.append(text.replacingOccurrences(of: of, with: with)) }
        // Cut after every line.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for n in 0..<lines.count { texts.append(lines[0..<n].joined(separator: "\n") + "\n") }
        for t in texts { Self.agree(t) }
        #expect(SymbolCacheFile.parse(text.replacingOccurrences(of: "end 3", with: "end 2")) == nil)
        #expect(SymbolCacheFile.parse(escaped)?.entries.first?.value.first?.function == "a\tb%09\nc")
    }
}
