// JSON text → BaselineJSONParser.parse (the reader of baselines and JSON reports). A value that
// parses must serialize and parse back to itself.
import FuzzSupport
import MapBlame

fuzzMain { bytes in
    guard let value = try? BaselineJSONParser.parse(String(decoding: bytes, as: UTF8.self)) else { return }
    let text = value.serialized()
    guard let again = try? BaselineJSONParser.parse(text) else { fatalError("serialized JSON does not parse: \(text)") }
    precondition(again == value, "JSON round trip changed the value: \(text)")
}
