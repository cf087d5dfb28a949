import StalwartTensor

/// Rewrites an ONNX file's `metadata_props` without decoding the rest: the top-level fields
/// are copied byte for byte, entries whose key is being set are dropped, and the new entries
/// (ModelProto field 14, StringStringEntryProto {key = 1, value = 2}) are appended, which
/// protobuf parsers read as part of the repeated field. Keys stay unique, as the ONNX
/// checker requires.
public enum ModelAnnotation {
    public static func setMetadata(_ bytes: UnsafeRawBufferPointer, _ entries: [(key: String, value: String)]) throws -> [UInt8] {
        guard let base = bytes.baseAddress, bytes.count > 0 else { throw StalwartError.invalidModel("model is empty (0 bytes)") }
        // Validate first: it must decode as a model.
        _ = try ONNXDecoder.decodeModel(bytes)
        let replacing = Set(entries.map(\.key))
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + entries.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 16 })
        var r = WireReader(base: base, count: bytes.count)
        do {
            while !r.isAtEnd {
                let start = r.pos
                let (field, wire) = try r.readTag()
                if field == 14, wire == WireType.lengthDelimited, var sub = try r.submessage(wire) {
                    var key = ""
                    while !sub.isAtEnd {
                        let (f, w) = try sub.readTag()
                        if f == 1 { try sub.string(w, into: &key) } else { try sub.skip(w) }
                    }
                    if replacing.contains(key) { continue }
                } else {
                    try r.skip(wire)
                }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<r.pos]))
            }
        } catch {
            throw StalwartError.invalidModel("cannot rewrite metadata: \(error)")
        }
        for e in entries {
            var entry: [UInt8] = []
            appendField(&entry, 1, Array(e.key.utf8))
            appendField(&entry, 2, Array(e.value.utf8))
            appendField(&out, 14, entry)
        }
        return out
    }

    static func appendVarint(_ out: inout [UInt8], _ v: UInt64) {
        var v = v
        while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }

    static func appendField(_ out: inout [UInt8], _ field: Int, _ payload: [UInt8]) {
        appendVarint(&out, UInt64(field) << 3 | 2)
        appendVarint(&out, UInt64(payload.count))
        out.append(contentsOf: payload)
    }
}
