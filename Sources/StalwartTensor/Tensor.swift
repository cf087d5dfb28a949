import Glibc

/// Errors raised by tensor allocation.
public enum TensorError: Error, CustomStringConvertible, Sendable {
    case outOfMemory(bytes: Int)
    case shape(ShapeError)
    case dtypeMismatch(expected: DType, got: DType)
    case countMismatch(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .outOfMemory(let b): return "could not allocate \(b) bytes"
        case .shape(let e): return e.description
        case .dtypeMismatch(let e, let g): return "expected \(e) elements, got \(g)"
        case .countMismatch(let e, let g): return "expected \(e) values, got \(g)"
        }
    }
}

/// A dense, row-major tensor that owns its storage (64-byte aligned, zero-initialized).
///
/// Used for constants (weights, folded shape values) and for inputs/outputs crossing the API.
/// Immutable in practice once built: the engine never writes into a tensor it shares, so a
/// `Tensor` may be read from many threads at once.
public final class Tensor: @unchecked Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let count: Int
    public let byteCount: Int
    public let data: UnsafeMutableRawPointer

    /// Allocates a zero-filled tensor. Throws on overflow or allocation failure, never traps.
    public init(dtype: DType, shape: [Int]) throws(TensorError) {
        let bytes: Int
        do { bytes = try Shape.byteCount(shape, dtype) } catch { throw .shape(error) }
        guard let p = aligned_alloc_zeroed(max(bytes, 64)) else { throw .outOfMemory(bytes: bytes) }
        self.dtype = dtype
        self.shape = shape
        self.count = bytes / dtype.byteSize
        self.byteCount = bytes
        self.data = p
    }

    /// A float32 tensor holding `values` (count must match the shape).
    public convenience init(shape: [Int], floats values: [Float]) throws(TensorError) {
        try self.init(dtype: .float32, shape: shape)
        guard values.count == count else { throw .countMismatch(expected: count, got: values.count) }
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { data.copyMemory(from: base, byteCount: byteCount) }
        }
    }

    /// An int64 tensor holding `values`.
    public convenience init(shape: [Int], int64s values: [Int64]) throws(TensorError) {
        try self.init(dtype: .int64, shape: shape)
        guard values.count == count else { throw .countMismatch(expected: count, got: values.count) }
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { data.copyMemory(from: base, byteCount: byteCount) }
        }
    }

    deinit { free(data) }

    public var floats: UnsafeMutablePointer<Float> { data.assumingMemoryBound(to: Float.self) }
    public var int64s: UnsafeMutablePointer<Int64> { data.assumingMemoryBound(to: Int64.self) }

    /// The elements converted to Int (for shape-like int tensors; floats are truncated).
    public func intValues() -> [Int] {
        var out = [Int](repeating: 0, count: count)
        for i in 0..<count { out[i] = Int(clamping: element(asInt64: i)) }
        return out
    }

    /// Element `i` as Int64 (any dtype).
    public func element(asInt64 i: Int) -> Int64 {
        switch dtype {
        case .float32:
            let v = data.load(fromByteOffset: i * 4, as: Float.self)
            return v.isFinite ? Int64(exactly: v.rounded(.towardZero)) ?? (v < 0 ? Int64.min : Int64.max) : 0
        case .float64:
            let v = data.load(fromByteOffset: i * 8, as: Double.self)
            return v.isFinite ? Int64(exactly: v.rounded(.towardZero)) ?? (v < 0 ? Int64.min : Int64.max) : 0
        case .int64: return data.load(fromByteOffset: i * 8, as: Int64.self)
        case .int32: return Int64(data.load(fromByteOffset: i * 4, as: Int32.self))
        case .uint8, .bool: return Int64(data.load(fromByteOffset: i, as: UInt8.self))
        case .int8: return Int64(data.load(fromByteOffset: i, as: Int8.self))
        }
    }

    /// Element `i` as Double (any dtype).
    public func element(asDouble i: Int) -> Double {
        switch dtype {
        case .float32: return Double(data.load(fromByteOffset: i * 4, as: Float.self))
        case .float64: return data.load(fromByteOffset: i * 8, as: Double.self)
        default: return Double(element(asInt64: i))
        }
    }
}

/// 64-byte aligned, zero-filled allocation; nil on failure. Free with `free`.
@inline(__always)
func aligned_alloc_zeroed(_ bytes: Int) -> UnsafeMutableRawPointer? {
    var p: UnsafeMutableRawPointer? = nil
    let rounded = (bytes + 63) & ~63
    guard posix_memalign(&p, 64, rounded) == 0, let q = p else { return nil }
    memset(q, 0, rounded)
    return q
}

/// Allocates `bytes` of 64-byte aligned memory (not initialized); nil on failure. Free with
/// `free`. Used by arenas and kernel scratch.
public func alignedAllocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
    var p: UnsafeMutableRawPointer? = nil
    let rounded = (max(bytes, 64) + 63) & ~63
    guard posix_memalign(&p, 64, rounded) == 0 else { return nil }
    return p
}
