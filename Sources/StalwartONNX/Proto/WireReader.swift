// A bounds-checked reader of the protobuf wire format (proto2/proto3 encoding).
//
// Every read checks the bytes it needs against `end` before touching memory; every length prefix
// is checked against the remaining bytes before anything is allocated or sliced; varints longer
// than 10 bytes are rejected; no arithmetic here can overflow for any input (offsets are `Int`s in
// `0...buffer.count`, lengths are compared as `UInt64` before conversion). Errors carry the
// absolute byte offset; message decoders add the field path as the error unwinds.

/// Why decoding stopped. Internal: `ONNXDecoder` turns it into `StalwartError.invalidModel`.
struct WireError: Error {
    enum Reason {
        /// A fixed-size value or varint starting at `offset` needs bytes past `limit`.
        case truncated(limit: Int)
        /// A length prefix read just before `offset` declares more bytes than remain before `limit`.
        case lengthOverrun(declared: UInt64, limit: Int)
        /// More than 10 continuation bytes.
        case varintTooLong
        /// Wire type 3/4 (proto1 groups, never used by ONNX) or 6/7 (undefined).
        case invalidWireType(Int)
        /// Field number 0 or above 2^29 − 1.
        case invalidFieldNumber(UInt64)
        /// A packed fixed-width field whose byte length is not a multiple of the element size.
        case packedLength(length: Int, elementSize: Int)
        /// Nesting deeper than `limit` (hostile input would otherwise exhaust the stack).
        case tooDeep(what: String, limit: Int)
    }

    var reason: Reason
    /// Absolute byte offset into the decoded buffer.
    var offset: Int
    /// Field path, innermost component first (e.g. ["attribute[3]", "node[12](conv1)", "graph"]).
    var path: [String] = []
    /// The name of the message being unwound, if known (a node's or tensor's `name`); the next
    /// `within` shows it after that message's component.
    var label: String?

    init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// Adds the enclosing field's name while unwinding.
    func within(_ component: String) -> WireError {
        var e = self
        if let label = e.label {
            e.path.append("\(component)(\(label))")
            e.label = nil
        } else {
            e.path.append(component)
        }
        return e
    }

    /// Records the name of the message being unwound (ignored if empty). Names come from the
    /// file, so control characters become "?" and long names are cut to 48 characters.
    func labeled(_ name: String) -> WireError {
        guard !name.isEmpty else { return self }
        var e = self
        var label = String(String.UnicodeScalarView(name.unicodeScalars.prefix(48).map {
            $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) ? "?" : $0
        }))
        if name.unicodeScalars.count > 48 { label += "…" }
        e.label = label
        return e
    }

    /// The user-facing message. `bufferCount` tells "end of the buffer" from "end of a message".
    func message(bufferCount: Int) -> String {
        // Outermost first; a very deep path (hostile nesting) keeps its two ends.
        var components = Array(path.reversed())
        if components.count > 16 {
            let elided = components.count - 12
            components = components.prefix(6) + ["…(\(elided) more)…"] + components.suffix(6)
        }
        let where_ = path.isEmpty ? "the top-level ModelProto" : "field '\(components.joined(separator: "."))'"
        func boundary(_ limit: Int) -> String {
            limit >= bufferCount
                ? "the end of the buffer at byte \(limit)"
                : "the end of its enclosing message at byte \(limit)"
        }
        switch reason {
        case .truncated(let limit):
            return "truncated ONNX: \(where_) starting at byte \(offset) runs past \(boundary(limit))"
        case .lengthOverrun(let declared, let limit):
            return "truncated ONNX: \(where_) declares \(declared) bytes at byte \(offset), "
                + "which runs past \(boundary(limit))"
        case .varintTooLong:
            return "invalid ONNX: \(where_) has a varint longer than 10 bytes at byte \(offset)"
        case .invalidWireType(let w):
            let kind = (w == 3 || w == 4) ? "group wire type \(w) (not used by ONNX)" : "undefined wire type \(w)"
            return "invalid ONNX: \(where_) has a field with \(kind) at byte \(offset)"
        case .invalidFieldNumber(let n):
            return "invalid ONNX: \(where_) has a field with invalid number \(n) at byte \(offset)"
        case .packedLength(let length, let size):
            return "invalid ONNX: \(where_) is a packed array of \(size)-byte values "
                + "but holds \(length) bytes (not a multiple of \(size)) at byte \(offset)"
        case .tooDeep(let what, let limit):
            return "invalid ONNX: \(where_) nests \(what) more than \(limit) levels deep at byte \(offset)"
        }
    }
}

/// Protobuf wire types.
enum WireType {
    static let varint = 0
    static let fixed64 = 1
    static let lengthDelimited = 2
    static let fixed32 = 5
}

/// A cursor over `[pos, end)` of a buffer that starts at `base`. Offsets are absolute (relative to
/// `base`, the start of the whole model) so that errors point at the right byte.
struct WireReader {
    let base: UnsafeRawPointer
    private(set) var pos: Int
    let end: Int

    /// `base` must be valid for `count` bytes.
    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.pos = 0
        self.end = max(count, 0)
    }

    private init(base: UnsafeRawPointer, pos: Int, end: Int) {
        self.base = base
        self.pos = pos
        self.end = end
    }

    var isAtEnd: Bool { pos >= end }

    // MARK: Primitive reads

    /// A base-128 varint of at most 10 bytes. Bits beyond 64 in the 10th byte are discarded, as
    /// protobuf's reference parser does.
    @inline(__always)
    mutating func readVarint() throws(WireError) -> UInt64 {
        var p = pos
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard p < end else { throw WireError(.truncated(limit: end), at: pos) }
            let byte = base.load(fromByteOffset: p, as: UInt8.self)
            p &+= 1
            result |= UInt64(byte & 0x7F) &<< shift
            if byte < 0x80 {
                pos = p
                return result
            }
            shift &+= 7
            if shift >= 70 { throw WireError(.varintTooLong, at: pos) }
        }
    }

    /// A field key: (field number ≥ 1, wire type). Rejects wire types 3, 4, 6, 7 here, so that
    /// callers only see 0, 1, 2 and 5.
    @inline(__always)
    mutating func readTag() throws(WireError) -> (field: Int, wire: Int) {
        let start = pos
        let key = try readVarint()
        let field = key >> 3
        guard field >= 1, field <= (1 << 29) - 1 else {
            throw WireError(.invalidFieldNumber(field), at: start)
        }
        let wire = Int(truncatingIfNeeded: key & 7)
        switch wire {
        case WireType.varint, WireType.fixed64, WireType.lengthDelimited, WireType.fixed32:
            return (Int(truncatingIfNeeded: field), wire)
        default:
            throw WireError(.invalidWireType(wire), at: start)
        }
    }

    @inline(__always)
    mutating func readFixed32() throws(WireError) -> UInt32 {
        guard end &- pos >= 4 else { throw WireError(.truncated(limit: end), at: pos) }
        let v = base.loadUnaligned(fromByteOffset: pos, as: UInt32.self)
        pos &+= 4
        return UInt32(littleEndian: v)
    }

    @inline(__always)
    mutating func readFixed64() throws(WireError) -> UInt64 {
        guard end &- pos >= 8 else { throw WireError(.truncated(limit: end), at: pos) }
        let v = base.loadUnaligned(fromByteOffset: pos, as: UInt64.self)
        pos &+= 8
        return UInt64(littleEndian: v)
    }

    /// Reads a length prefix and checks it against the remaining bytes. Returns the payload's
    /// absolute start and length and moves past the payload.
    @inline(__always)
    mutating func readLengthDelimited() throws(WireError) -> (start: Int, count: Int) {
        let declared = try readVarint()
        let remaining = end &- pos
        guard declared <= UInt64(remaining) else {
            throw WireError(.lengthOverrun(declared: declared, limit: end), at: pos)
        }
        let start = pos
        let count = Int(truncatingIfNeeded: declared)
        pos = start &+ count
        return (start, count)
    }

    /// Skips one field's value of the given wire type (0, 1, 2 or 5; `readTag` rejects others).
    mutating func skip(_ wire: Int) throws(WireError) {
        switch wire {
        case WireType.varint: _ = try readVarint()
        case WireType.fixed64: _ = try readFixed64()
        case WireType.lengthDelimited: _ = try readLengthDelimited()
        case WireType.fixed32: _ = try readFixed32()
        default: throw WireError(.invalidWireType(wire), at: pos)
        }
    }

    // MARK: Typed fields
    //
    // Each takes the wire type found in the key. A value with an unexpected wire type is an unknown
    // field as far as protobuf is concerned: it is skipped, as the reference parser does.

    /// A nested message: a reader over its payload, positioned after it in `self`; nil (after
    /// skipping) if the wire type is not length-delimited.
    @inline(__always)
    mutating func submessage(_ wire: Int) throws(WireError) -> WireReader? {
        guard wire == WireType.lengthDelimited else {
            try skip(wire)
            return nil
        }
        let (start, count) = try readLengthDelimited()
        return WireReader(base: base, pos: start, end: start &+ count)
    }

    /// A length-delimited payload as raw bytes in the buffer (no copy); nil on wire mismatch.
    @inline(__always)
    mutating func bytesField(_ wire: Int) throws(WireError) -> UnsafeRawBufferPointer? {
        guard wire == WireType.lengthDelimited else {
            try skip(wire)
            return nil
        }
        let (start, count) = try readLengthDelimited()
        return UnsafeRawBufferPointer(start: base + start, count: count)
    }

    /// `string` field, decoded as UTF-8 with U+FFFD for invalid sequences.
    @inline(__always)
    mutating func string(_ wire: Int, into value: inout String) throws(WireError) {
        if let b = try bytesField(wire) { value = String(decoding: b, as: UTF8.self) }
    }

    mutating func appendString(_ wire: Int, to values: inout [String]) throws(WireError) {
        if let b = try bytesField(wire) { values.append(String(decoding: b, as: UTF8.self)) }
    }

    /// `bytes` field, copied.
    mutating func bytes(_ wire: Int, into value: inout [UInt8]) throws(WireError) {
        if let b = try bytesField(wire) { value = [UInt8](b) }
    }

    mutating func appendBytes(_ wire: Int, to values: inout [[UInt8]]) throws(WireError) {
        if let b = try bytesField(wire) { values.append([UInt8](b)) }
    }

    /// `int64` / `uint64` / `int32` / enum fields: the raw varint, nil on wire mismatch.
    @inline(__always)
    mutating func varintField(_ wire: Int) throws(WireError) -> UInt64? {
        guard wire == WireType.varint else {
            try skip(wire)
            return nil
        }
        return try readVarint()
    }

    mutating func int64(_ wire: Int, into value: inout Int64) throws(WireError) {
        if let v = try varintField(wire) { value = Int64(bitPattern: v) }
    }

    /// int32 and enums: negative values are sign-extended to 10 bytes on the wire; truncation
    /// recovers them.
    mutating func int32(_ wire: Int, into value: inout Int32) throws(WireError) {
        if let v = try varintField(wire) { value = Int32(truncatingIfNeeded: v) }
    }

    mutating func float(_ wire: Int, into value: inout Float) throws(WireError) {
        guard wire == WireType.fixed32 else { return try skip(wire) }
        value = Float(bitPattern: try readFixed32())
    }

    // MARK: Repeated scalars, packed or not

    /// Repeated varint field (`int64`, `int32`, `uint64`): one value per key (unpacked) or a
    /// length-delimited run of varints (packed). Both must be accepted.
    @inline(__always)
    mutating func appendVarints<T>(
        _ wire: Int, to values: inout [T], _ convert: (UInt64) -> T
    ) throws(WireError) {
        switch wire {
        case WireType.varint:
            values.append(convert(try readVarint()))
        case WireType.lengthDelimited:
            let (start, count) = try readLengthDelimited()
            var sub = WireReader(base: base, pos: start, end: start &+ count)
            // Exact element count of a well-formed run = bytes without the continuation bit;
            // bounded by the checked payload length, so this cannot over-allocate.
            var n = 0
            var p = start
            while p < sub.end {
                if base.load(fromByteOffset: p, as: UInt8.self) < 0x80 { n &+= 1 }
                p &+= 1
            }
            values.reserveCapacity(values.count &+ n)
            while !sub.isAtEnd { values.append(convert(try sub.readVarint())) }
        default:
            try skip(wire)
        }
    }

    /// Repeated fixed-width field (`float` as fixed32, `double` as fixed64), packed or not.
    /// `T` is a 4- or 8-byte trivial type whose little-endian bytes are the wire bytes.
    @inline(__always)
    mutating func appendFixed<T: BitwiseCopyable>(
        _ wire: Int, to values: inout [T], _ fromBits: (UInt64) -> T
    ) throws(WireError) {
        let size = MemoryLayout<T>.size
        let unpackedWire = size == 4 ? WireType.fixed32 : WireType.fixed64
        switch wire {
        case unpackedWire:
            values.append(fromBits(size == 4 ? UInt64(try readFixed32()) : try readFixed64()))
        case WireType.lengthDelimited:
            let (start, count) = try readLengthDelimited()
            guard count % size == 0 else {
                throw WireError(.packedLength(length: count, elementSize: size), at: start)
            }
            let n = count / size
            #if _endian(little)
            let chunk = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
                if let dst = buffer.baseAddress {
                    UnsafeMutableRawPointer(dst).copyMemory(from: base + start, byteCount: count)
                }
                initialized = n
            }
            if values.isEmpty { values = chunk } else { values.append(contentsOf: chunk) }
            #else
            values.reserveCapacity(values.count &+ n)
            var sub = WireReader(base: base, pos: start, end: start &+ count)
            while !sub.isAtEnd {
                values.append(fromBits(size == 4 ? UInt64(try sub.readFixed32()) : try sub.readFixed64()))
            }
            #endif
        default:
            try skip(wire)
        }
    }
}
