import ArgumentParser

/// argument-parser's usage errors in mapblame's own form: `OPTION VALUE: what is wrong`, lower
/// case, no "Error:" or "Please", one line. ("The value '2x' is invalid for '--duration
/// <DURATION>': give seconds..." becomes "--duration 2x: give seconds...".)
enum UsageMessage {
    static func normalize(_ message: String) -> String {
        var text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
        if let invalid = invalidValue(text) { return invalid }
        for (prefix, replacement) in [("Missing expected argument ", "missing argument "), ("Unexpected argument ", "unexpected argument "),
                                      ("Missing value for ", "missing value for "), ("Unknown option ", "unknown option ")]
            where text.hasPrefix(prefix) {
            text = replacement + text.dropFirst(prefix.count)
        }
        // "'--top <N>'" and "'<FILE>'" read as the help's --top N and FILE.
        if text.contains("<") { text = String(text.filter { $0 != "<" && $0 != ">" && $0 != "'" }) }
        if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true {
            text = first.lowercased() + text.dropFirst()
        }
        return text
    }

    /// "The value 'X' is invalid for '--opt <V>'(: REASON | . Please provide one of 'a', 'b'.)"
    static func invalidValue(_ text: String) -> String? {
        let head = "The value '"
        guard text.hasPrefix(head), let valueEnd = text.firstRange(of: "' is invalid for '") else { return nil }
        let value = text[text.index(text.startIndex, offsetBy: head.count)..<valueEnd.lowerBound]
        let rest = text[valueEnd.upperBound...]
        guard let nameEnd = rest.firstIndex(of: "'") else { return nil }
        let option = rest[..<nameEnd].split(separator: " ").first.map(String.init) ?? String(rest[..<nameEnd])
        var tail = rest[rest.index(after: nameEnd)...]
        if tail.hasPrefix(": ") { return "\(option) \(value): \(tail.dropFirst(2))" }
        if let choices = tail.firstRange(of: "Please provide one of ") {
            tail = tail[choices.upperBound...]
            let list = String(tail.filter { $0 != "'" }).trimmingSuffix(".")
            return "\(option) \(value): give one of \(list)"
        }
        return "\(option) \(value): not a valid value"
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
