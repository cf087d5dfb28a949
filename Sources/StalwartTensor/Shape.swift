/// Shape arithmetic that never traps: every product is overflow-checked.
public enum ShapeError: Error, CustomStringConvertible, Sendable {
    case overflow([Int])
    case negative([Int])

    public var description: String {
        switch self {
        case .overflow(let s): return "shape \(s) has too many elements"
        case .negative(let s): return "shape \(s) has a negative dimension"
        }
    }
}

public enum Shape {
    /// Number of elements of `shape` (1 for a scalar), or an error on overflow / negative dims.
    public static func elementCount(_ shape: [Int]) throws(ShapeError) -> Int {
        var n = 1
        for d in shape {
            if d < 0 { throw .negative(shape) }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { throw .overflow(shape) }
            n = p
        }
        return n
    }

    /// Byte count of a tensor of `shape` with elements of `dtype`, overflow-checked.
    public static func byteCount(_ shape: [Int], _ dtype: DType) throws(ShapeError) -> Int {
        let n = try elementCount(shape)
        let (b, o) = n.multipliedReportingOverflow(by: dtype.byteSize)
        if o || b > Int.max / 2 { throw .overflow(shape) }
        return b
    }

    /// Row-major strides in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc &*= shape[i]
        }
        return s
    }

    /// NumPy broadcast of two shapes, or nil if they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }
}
