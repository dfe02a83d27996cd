extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines (the padding of /proc fields).
    package var trimmingWhitespace: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
