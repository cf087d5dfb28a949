import StalwartTensor

/// A JSON document (RFC 8259). Objects keep their members in document order (duplicate keys
/// are kept; `subscript(key:)` returns the first). Numbers are `Double`. Immutable value type,
/// `Sendable`, safe to share between threads.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Maximum nesting depth of arrays and objects accepted by `parse`.
    public static let maxDepth = 512

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    // MARK: - Accessors

    /// The first member named `key` of an object; nil for other values or a missing key.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var double: Double? { if case .number(let x) = self { return x } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: [(String, JSONValue)]? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The number as an `Int` when it is exactly integral and within ±2^53 (so exactly
    /// representable); nil otherwise (also for non-numbers).
    public var int: Int? {
        guard case .number(let x) = self, x.isFinite, x == x.rounded(.towardZero), abs(x) <= 9_007_199_254_740_992
        else { return nil }
        return Int(x)
    }

    // MARK: - Parsing

    /// Parses one JSON text (strict RFC 8259: no comments, no trailing commas, no leading zeros,
    /// no control characters in strings, valid UTF-8, `\u` escapes with surrogate pairs; a
    /// leading UTF-8 BOM is accepted). Throws `StalwartError.decode` with the byte offset of the
    /// problem. Numbers that overflow a Double, nesting deeper than `maxDepth` and lone
    /// surrogates are errors.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buf in
            var p = JSONParser(b: buf, i: 0)
            if buf.count >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { p.i = 3 }
            p.skipSpace()
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buf.count else { throw p.fail("unexpected data after the JSON value") }
            return v
        }
    }

    /// Parses a JSON text given as a String.
    public static func parse(_ text: String) throws -> JSONValue { try parse(Array(text.utf8)) }

    // MARK: - Serialisation

    /// The JSON text of this value. Integral numbers with |x| < 2^53 print without a fraction
    /// (`3`, `-0` prints as `0`); others print Swift's shortest round-trip `description`
    /// (`0.1`, `1e-05`); NaN and ±∞ print `null`. Strings escape `"`, `\` and control
    /// characters. `pretty`: two-space indentation, one member per line, `": "` separators.
    public func serialized(pretty: Bool = false) -> String {
        var out = ""
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(to out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += JSONValue.format(x)
        case .string(let s): s.appendJSONQuoted(to: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                item.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (n, (k, v)) in members.enumerated() {
                if n > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                k.appendJSONQuoted(to: &out)
                out += pretty ? ": " : ":"
                v.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    static func format(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(.towardZero), abs(x) < 9_007_199_254_740_992 { return String(Int64(x)) }
        return x.description
    }
}

/// Recursive-descent parser over a byte buffer; `i` is the current offset.
private struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var i: Int

    func fail(_ what: String) -> StalwartError {
        .decode("invalid JSON at byte \(i): \(what)")
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func literal(_ word: String, _ v: JSONValue) throws -> JSONValue {
        let w = Array(word.utf8)
        let n = w.count
        guard b.count - i >= n else { throw fail("truncated literal, expected '\(word)'") }
        for k in 0..<n where b[i + k] != w[k] { throw fail("invalid literal, expected '\(word)'") }
        i += n
        return v
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard i < b.count else { throw fail("unexpected end of input, expected a value") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character '\(printable(b[i]))', expected a value")
        }
    }

    func printable(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }

    mutating func array(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value(depth: depth))
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input inside an array") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']' in an array, found '\(printable(b[i]))'")
        }
    }

    mutating func object(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
        i += 1
        var members: [(String, JSONValue)] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input inside an object") }
            guard b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key, found '\(printable(b[i]))'") }
            let key = try string()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
            i += 1
            skipSpace()
            members.append((key, try value(depth: depth)))
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input inside an object") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("expected ',' or '}' in an object, found '\(printable(b[i]))'")
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard b.count - i >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    mutating func string() throws -> String {
        let start = i
        i += 1
        var bytes: [UInt8] = []
        var runStart = i
        while true {
            guard i < b.count else { i = start; throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                bytes.append(contentsOf: b[runStart..<i])
                i += 1
                break
            }
            if c < 0x20 { throw fail("unescaped control character in a string") }
            if c != UInt8(ascii: "\\") { i += 1; continue }
            bytes.append(contentsOf: b[runStart..<i])
            i += 1
            guard i < b.count else { throw fail("truncated escape in a string") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    guard b.count - i >= 2, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("high surrogate \\u\(String(scalar, radix: 16)) not followed by a low surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low < 0xE000 else { throw fail("invalid low surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    throw fail("lone low surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                bytes.append(contentsOf: UTF8.encode(u) ?? UTF8.EncodedScalar())
            default:
                i -= 1
                throw fail("invalid escape '\\\(printable(e))'")
            }
            runStart = i
        }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            i = start
            throw fail("string is not valid UTF-8")
        }
        return s
    }

    mutating func number() throws -> Double {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        func isDigit(_ k: Int) -> Bool { k < b.count && b[k] >= UInt8(ascii: "0") && b[k] <= UInt8(ascii: "9") }
        guard isDigit(i) else { throw fail("expected a digit in a number") }
        if b[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw fail("leading zero in a number") }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw fail("expected a digit after '.' in a number") }
            while isDigit(i) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw fail("expected a digit in a number's exponent") }
            while isDigit(i) { i += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let x = Double(text), x.isFinite else {
            let end = i
            i = start
            throw fail("number '\(text.prefix(40))' (\(end - start) bytes) is out of range")
        }
        return x
    }
}
