/// Fitting the text reports into a terminal's width (120 columns): long paths lose their leading
/// directories first (`…/release/mapblame-demo`), then what still does not fit goes on indented
/// continuation lines, so no word of the report is lost. Only the text reports are shortened: the
/// JSON and HTML reports keep every path whole.
package enum TextLayout {
    /// The widest line the text reports write.
    package static let width = 120

    /// `line` as one or more lines of at most `width` characters, each ending in a newline:
    /// paths shortened, then wrapped at spaces with `indent` spaces before each continuation.
    package static func fit(_ line: String, width: Int = width, indent: Int = 8) -> String {
        let short = shortened(line, width: width)
        guard short.count > width else { return short + "\n" }
        return wrap(short, width: width, indent: indent)
    }

    /// `text` with its paths shortened (longest first, then harder) until it fits in `width`, or
    /// until no path can lose more.
    package static func shortened(_ text: String, width: Int) -> String {
        guard text.count > width else { return text }
        var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for keep in [2, 1] {
            for i in words.indices.sorted(by: { words[$0].count > words[$1].count }) {
                let total = words.reduce(words.count - 1) { $0 + $1.count }
                guard total > width else { return words.joined(separator: " ") }
                words[i] = shortPath(words[i], keeping: keep)
            }
        }
        return words.joined(separator: " ")
    }

    /// "/work/main/.build/release/mapblame-demo" keeping 2 → "…/release/mapblame-demo". A word
    /// that is not a path of more than `keeping` components (after a leading punctuation such as
    /// `(`) is returned unchanged.
    package static func shortPath(_ word: String, keeping: Int) -> String {
        guard let slash = word.firstIndex(of: "/") else { return word }
        var lead = word[..<slash]
        if lead.hasSuffix("…") { lead = lead.dropLast() }  // already shortened once: shorten again
        guard lead.allSatisfy({ "([{'\"`=".contains($0) }) else { return word }
        let parts = word[slash...].split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count > keeping else { return word }
        return lead + "…/" + parts.suffix(keeping).joined(separator: "/")
    }

    /// Breaks `text` at spaces into lines of at most `width`, each continuation indented by
    /// `indent`. A word longer than a line (a C++ or Rust name) is cut after a `::`, `,`, `<`, `(`
    /// or `/` in the line's second half when it has one (`softBreak`), else at the width.
    package static func wrap(_ text: String, width: Int, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = "", first = true
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if first {
                line += word
                first = false
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = pad + word
            }
            while line.count > width {
                let cut = softBreak(in: line, width: width) ?? width
                lines.append(String(line.prefix(cut)))
                line = pad + line.dropFirst(cut)
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Where to cut a line longer than `width` inside a word: just after the last `::`, `,`, `<`,
    /// `(` or `/` among its first `width` characters, if that keeps more than half the width on
    /// the line (a cut in the middle of an identifier reads as two words); nil: no such place.
    package static func softBreak(in line: String, width: Int) -> Int? {
        let head = Array(line.prefix(width))
        var end = head.count
        while end > width / 2 {
            let c = head[end - 1]
            if ",<(/".contains(c) || (c == ":" && end >= 2 && head[end - 2] == ":") { return end }
            end -= 1
        }
        return nil
    }

    /// `s` padded with spaces to `width` (and one space after it when it is longer).
    package static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    /// `s` right-aligned in `width`.
    package static func lpad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }
}
