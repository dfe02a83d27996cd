import MapBlameModel

/// The protocol buffers wire format, as much of it as profile.proto needs: varint fields (wire type
/// 0), length-delimited fields (2: strings, nested messages, packed repeated integers). Fields equal
/// to their default (0, empty) are left out, as protobuf encoders do.
struct ProtobufWriter {
    /// Protobuf's varints are the trace format's LEB128 ones (`ByteWriter.varint`).
    private var out = ByteWriter()
    var bytes: [UInt8] { out.bytes }

    private mutating func varint(_ value: UInt64) { out.varint(value) }

    private mutating func key(_ field: Int, wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An unsigned (uint64) or, bit for bit, a signed (int64: negative numbers take ten bytes) field.
    mutating func int(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        key(field, wireType: 0)
        varint(value)
    }

    mutating func int(_ field: Int, _ value: Int64) { int(field, UInt64(bitPattern: value)) }
    mutating func int(_ field: Int, _ value: Int) { int(field, UInt64(bitPattern: Int64(value))) }
    mutating func bool(_ field: Int, _ value: Bool) { int(field, UInt64(value ? 1 : 0)) }

    /// A length-delimited field of raw bytes; `always`: written even when empty (an element of a
    /// repeated field, such as the empty string every string table starts with).
    mutating func bytes(_ field: Int, _ value: [UInt8], always: Bool = false) {
        guard always || !value.isEmpty else { return }
        key(field, wireType: 2)
        varint(UInt64(value.count))
        out.bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8), always: true) }

    /// A nested message, always written (a repeated message field's element may be all defaults).
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytes(field, inner.bytes, always: true)
    }

    /// A packed repeated integer field.
    mutating func packed(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var inner = ProtobufWriter()
        values.forEach { inner.varint($0) }
        bytes(field, inner.bytes)
    }
}
