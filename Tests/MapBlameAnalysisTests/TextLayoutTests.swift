import Testing
@testable import MapBlameAnalysis

/// `TextLayout.wrap`: what a word longer than the line becomes.
@Suite struct TextLayoutTests {
    /// node's report: a demangled C++ name of 300 characters without a space.
    static let cxx = "std::vector<v8::internal::Handle<v8::internal::HeapObject>, std::allocator<v8::internal::Handle<v8::internal::HeapObject> > >::_M_realloc_insert<v8::internal::Handle<v8::internal::HeapObject> const&>(__gnu_cxx::__normal_iterator<v8::internal::Handle<v8::internal::HeapObject>*, std::vector<v8::internal::Handle<v8::internal::HeapObject>, std::allocator<v8::internal::Handle<v8::internal::HeapObject> > > >, v8::internal::Handle<v8::internal::HeapObject> const&)"

    @Test("A long C++ name is cut after ::, <, ( or a comma, never inside an identifier, and nothing is lost")
    func cutsAtPunctuation() {
        let text = "heap: heap grown by operator new from " + Self.cxx
        let wrapped = TextLayout.wrap(text, width: 120, indent: 45)
        let lines = wrapped.split(separator: "\n").map(String.init)
        #expect(lines.count > 2)
        for line in lines {
            #expect(line.count <= 120, "\(line)")
        }
        // Read back against the text: every line is the next piece of it (after the indent), and
        // where no space follows a piece, the piece ends at a break character.
        let chars = Array(text)
        var at = 0
        for (n, line) in lines.enumerated() {
            let piece = Array(n == 0 ? line : String(line.dropFirst(45)))
            #expect(n == 0 || line.hasPrefix(String(repeating: " ", count: 45)))
            #expect(Array(chars[at..<min(at + piece.count, chars.count)]) == piece, "line \(n) is not the text's next piece")
            at += piece.count
            if at < chars.count {
                if chars[at] == " " {
                    at += 1  // broken at a space
                } else {
                    #expect(",<(/:".contains(piece.last!), "cut inside a word: \(line)")
                }
            }
        }
        #expect(at == chars.count, "nothing lost")
    }

    @Test("Without a place to break in the line's second half, a word is cut at the width")
    func hardCut() {
        let word = String(repeating: "x", count: 50) + "::" + String(repeating: "y", count: 200)
        let lines = TextLayout.wrap(word, width: 120, indent: 4).split(separator: "\n").map(String.init)
        #expect(lines[0].count == 120)  // the `::` is at 52, in the first half: not taken
        #expect(lines.allSatisfy { $0.count <= 120 })
        #expect(lines.map { $0.trimmingPrefix(while: { $0 == " " }) }.joined() == word)
        #expect(TextLayout.softBreak(in: String(repeating: "a", count: 200), width: 120) == nil)
        #expect(TextLayout.softBreak(in: String(repeating: "a", count: 100) + "::" + String(repeating: "b", count: 100), width: 120) == 102)
    }
}
