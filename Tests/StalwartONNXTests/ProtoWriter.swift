// A minimal protobuf encoder for tests: writes messages field by field.

/// A minimal protobuf writer for hand-made test messages.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ b: [UInt8]) { bytes += b }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wire: Int) { varint(UInt64(field) << 3 | UInt64(wire)) }

    /// int64/int32/enum/uint64 field; negative values take 10 bytes, as protobuf writes them.
    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func bytes(_ field: Int, _ payload: [UInt8]) {
        tag(field, 2)
        varint(UInt64(payload.count))
        bytes += payload
    }

    mutating func string(_ field: Int, _ s: String) { bytes(field, Array(s.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var sub = ProtoWriter()
        build(&sub)
        bytes(field, sub.bytes)
    }

    mutating func packedVarints(_ field: Int, _ values: [UInt64]) {
        var sub = ProtoWriter()
        for v in values { sub.varint(v) }
        bytes(field, sub.bytes)
    }

    mutating func packedFixed32(_ field: Int, _ values: [UInt32]) {
        var sub = ProtoWriter()
        for v in values { withUnsafeBytes(of: v.littleEndian) { sub.bytes += $0 } }
        bytes(field, sub.bytes)
    }

    mutating func packedFixed64(_ field: Int, _ values: [UInt64]) {
        var sub = ProtoWriter()
        for v in values { withUnsafeBytes(of: v.littleEndian) { sub.bytes += $0 } }
        bytes(field, sub.bytes)
    }
}
