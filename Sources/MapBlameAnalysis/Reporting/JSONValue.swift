import MapBlameModel

/// A JSON value that keeps object keys in the order they were written (so reports read in schema
/// order) and writes explicit nulls.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        a.serialized() == b.serialized()
    }

    public static func hex(_ value: UInt64) -> JSONValue { .string("0x" + String(value, radix: 16)) }
    public static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    public static func optional(_ i: Int?) -> JSONValue { i.map { .int(Int64($0)) } ?? .null }

    /// Serializes with two-space indentation for objects and arrays of objects; scalar arrays on one line.
    public func serialized(indent: Int = 0) -> String {
        var out = ""
        write(to: &out, indent: indent)
        return out
    }

    private func write(to out: inout String, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .string(let s): JSONValue.escape(s, into: &out)
        case .array(let items):
            let compact = items.allSatisfy { if case .object = $0 { return false }; if case .array = $0 { return false }; return true }
            if items.isEmpty || compact {
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += ", " }
                    item.write(to: &out, indent: indent)
                }
                out += "]"
            } else {
                out += "[\n"
                for (i, item) in items.enumerated() {
                    out += String(repeating: " ", count: indent + 2)
                    item.write(to: &out, indent: indent + 2)
                    out += i + 1 < items.count ? ",\n" : "\n"
                }
                out += String(repeating: " ", count: indent) + "]"
            }
        case .object(let fields):
            if fields.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            for (i, (key, value)) in fields.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                JSONValue.escape(key, into: &out)
                out += ": "
                value.write(to: &out, indent: indent + 2)
                out += i + 1 < fields.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    /// Compact JSON (no whitespace) in plain printable ASCII, safe as the text of a `<script>`
    /// element (the HTML report's data block): see `escape(_:into:scriptSafe:)`.
    public func compactScriptSafe() -> String {
        var out = ""
        out.reserveCapacity(1 << 16)
        writeCompact(to: &out)
        return out
    }

    private func writeCompact(to out: inout String) {
        switch self {
        case .null, .bool, .int: write(to: &out, indent: 0)
        case .string(let s): JSONValue.escape(s, into: &out, scriptSafe: true)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.writeCompact(to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, (key, item)) in fields.enumerated() {
                if i > 0 { out += "," }
                JSONValue.escape(key, into: &out, scriptSafe: true)
                out += ":"
                item.writeCompact(to: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal. `scriptSafe`: in plain printable ASCII, everything else a `\uXXXX`
    /// escape (UTF-16, so characters above U+FFFF become surrogate pairs), and `<`, `>`, `&`, `'`
    /// escaped too, so neither `</script>` nor `<!--` can ever appear in a `<script>` element's text;
    /// `JSON.parse` gives back the exact string. Otherwise UTF-8 with only what JSON requires escaped,
    /// plus U+2028/U+2029 (line terminators in JavaScript source).
    package static func escape(_ s: String, into out: inout String, scriptSafe: Bool = false) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scriptSafe && (scalar == "<" || scalar == ">" || scalar == "&" || scalar == "'"):
                escapeUnit(UInt16(scalar.value), into: &out)
            case " "..."~": out.unicodeScalars.append(scalar)
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scriptSafe || scalar.value < 0x20 || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    for unit in String(scalar).utf16 { escapeUnit(unit, into: &out) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static let hexDigits = Array("0123456789abcdef".unicodeScalars)

    private static func escapeUnit(_ unit: UInt16, into out: inout String) {
        out += "\\u"
        for shift in stride(from: 12, through: 0, by: -4) {
            out.unicodeScalars.append(hexDigits[Int((unit >> UInt16(shift)) & 0xf)])
        }
    }
}
