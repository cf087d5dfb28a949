import StalwartTensor

/// Little-endian writer of the serialized metric states.
public struct ByteWriter {
    public private(set) var data: [UInt8] = []
    public init() {}
    public mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    public mutating func u32(_ v: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    public mutating func u64(_ v: UInt64) { for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func string(_ s: String) { let b = Array(s.utf8); u32(UInt32(b.count)); bytes(b) }
    public mutating func f64s(_ a: [Double]) { u64(UInt64(a.count)); for v in a { f64(v) } }
    public mutating func i64s(_ a: [Int64]) { u64(UInt64(a.count)); for v in a { i64(v) } }
}

/// Reader for `ByteWriter` output: every read is bounds-checked and throws on truncation.
public struct ByteReader {
    private let data: [UInt8]
    private var position = 0
    public init(_ data: [UInt8]) { self.data = data }
    public var remaining: Int { data.count - position }

    public mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= remaining else { throw StalwartError.invalidArgument("corrupt serialized metric: truncated (\(n) bytes wanted, \(remaining) left)") }
        defer { position += n }
        return Array(data[position..<(position + n)])
    }
    public mutating func u32() throws -> UInt32 {
        let b = try bytes(4)
        return b.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }
    public mutating func u64() throws -> UInt64 {
        let b = try bytes(8)
        return b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
    public mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }
    public mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    public mutating func string() throws -> String {
        let n = try u32()
        guard n <= 4096 else { throw StalwartError.invalidArgument("corrupt serialized metric: string of \(n) bytes") }
        return String(decoding: try bytes(Int(n)), as: UTF8.self)
    }
    /// An array whose length is checked against the bytes left before allocating.
    public mutating func f64s() throws -> [Double] {
        let n = try u64()
        guard n <= UInt64(remaining / 8) else { throw StalwartError.invalidArgument("corrupt serialized metric: array of \(n) values") }
        return try (0..<Int(n)).map { _ in try f64() }
    }
    public mutating func i64s() throws -> [Int64] {
        let n = try u64()
        guard n <= UInt64(remaining / 8) else { throw StalwartError.invalidArgument("corrupt serialized metric: array of \(n) values") }
        return try (0..<Int(n)).map { _ in try i64() }
    }
    /// A count (stored as u64) that must be ≤ `limit`.
    public mutating func count(limit: Int) throws -> Int {
        let n = try u64()
        guard n <= UInt64(limit) else { throw StalwartError.invalidArgument("corrupt serialized metric: count \(n) > \(limit)") }
        return Int(n)
    }
}
