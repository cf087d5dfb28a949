#if canImport(Glibc)
import Glibc
#else
import Glibc
#endif

// Reductions and softmax over float32 row-major tensors.

extension TensorOps {
    /// The ONNX Reduce* family.
    public enum ReduceKind: Sendable, Hashable {
        case sum, mean, max, min, prod
        /// Σ|x|.
        case l1
        /// sqrt(Σx²).
        case l2
        /// log Σ exp(x), computed as m + log Σ exp(x − m) with m the max (stable).
        case logSumExp
        /// Σx².
        case sumSquare
    }

    /// Reduces `input` of `shape` over `axes` (sorted, unique, each in 0..<rank). `output`
    /// receives the keepdims=1 shape's elements (reduced axes set to 1), row-major; the caller
    /// reshapes for keepdims=0. Empty `axes` copies the input unchanged (the caller implements
    /// noop_with_empty_axes). A reduction over an empty set yields the ONNX identities: 0 for
    /// sum/l1/l2/sumSquare, 1 for prod, -inf for max and logSumExp, +inf for min, NaN for mean.
    /// Axes are coalesced into alternating kept/reduced runs; the inner loop is a contiguous
    /// reduction (last axis reduced) or an element-wise accumulate (last axis kept).
    /// Accumulates in Float with 4 interleaved partial results.
    public static func reduce(_ input: UnsafePointer<Float>, shape: [Int], axes: [Int],
                              kind: ReduceKind, output: UnsafeMutablePointer<Float>) {
        let r = shape.count
        guard let n = elementCount(shape) else { return }
        var isReduced = [Bool](repeating: false, count: r)
        var prev = -1
        for a in axes {
            guard a > prev, a < r else { return }
            isReduced[a] = true
            prev = a
        }
        if axes.isEmpty {
            if n > 0 { memcpy(output, input, n &* 4) }
            return
        }
        // Coalesce: drop size-1 axes, merge neighbours of the same kind.
        var dims = [Int](), red = [Bool]()
        var reducedCount = 1
        for a in 0..<r {
            if isReduced[a] { reducedCount &*= shape[a] }
            if shape[a] == 1 { continue }
            if let last = red.last, last == isReduced[a] {
                dims[dims.count - 1] &*= shape[a]
            } else {
                dims.append(shape[a]); red.append(isReduced[a])
            }
        }
        var outCount = 1
        for (d, f) in zip(dims, red) where !f { outCount &*= d }
        if outCount == 0 { return }

        switch kind {
        case .sum: reduceCore(SumOp(), input, dims, red, output, outCount)
        case .mean:
            reduceCore(SumOp(), input, dims, red, output, outCount)
            let s = 1 / Float(reducedCount)
            for i in 0..<outCount { output[i] = reducedCount == 0 ? .nan : output[i] * s }
        case .max: reduceCore(MaxOp(), input, dims, red, output, outCount)
        case .min: reduceCore(MinOp(), input, dims, red, output, outCount)
        case .prod: reduceCore(ProdOp(), input, dims, red, output, outCount)
        case .l1: reduceCore(AbsSumOp(), input, dims, red, output, outCount)
        case .sumSquare: reduceCore(SquareSumOp(), input, dims, red, output, outCount)
        case .l2:
            reduceCore(SquareSumOp(), input, dims, red, output, outCount)
            for i in 0..<outCount { output[i] = output[i].squareRoot() }
        case .logSumExp:
            reduceCore(MaxOp(), input, dims, red, output, outCount)
            var shift = [Float](repeating: 0, count: outCount)
            for i in 0..<outCount {
                let m = output[i]
                shift[i] = m.isFinite ? m : 0
            }
            shift.withUnsafeBufferPointer { sb in
                guard let sp = sb.baseAddress else { return }
                reduceCore(ExpShiftOp(), input, dims, red, output, outCount, shift: sp)
                for i in 0..<outCount { output[i] = sp[i] + logf(output[i]) }
            }
        }
    }

    /// Softmax over the middle axis of the [outer, axisLen, inner] view of `input` (row-major),
    /// written to `output` of the same layout. The caller picks the view (opset < 13: flatten at
    /// `axis` → inner = 1; opset ≥ 13: the single axis). Stable: subtracts the max along the
    /// axis before exp. `log` = LogSoftmax: x − max − log Σ exp(x − max).
    public static func softmax(_ input: UnsafePointer<Float>, outer: Int, axisLen: Int, inner: Int,
                               log: Bool, output: UnsafeMutablePointer<Float>) {
        guard outer >= 0, axisLen >= 0, inner >= 0, let oa = checkedMul(outer, axisLen),
              let total = checkedMul(oa, inner), checkedMul(total, 4) != nil else { return }
        if total == 0 { return }
        if inner == 1 {
            for o in 0..<outer {
                let x = input + o &* axisLen, y = output + o &* axisLen
                let m = maxOf(x, axisLen)
                let s = expShiftedSum(x, m, y, axisLen)
                if log {
                    let shift = m + logf(s)
                    for j in 0..<axisLen { y[j] = x[j] - shift }
                } else {
                    let inv = 1 / s
                    for j in 0..<axisLen { y[j] *= inv }
                }
            }
            return
        }
        var buffer = [Float](repeating: 0, count: 2 &* inner)
        buffer.withUnsafeMutableBufferPointer { bb in
            guard let mx = bb.baseAddress else { return }
            let sum = mx + inner
            for o in 0..<outer {
                let x = input + o &* axisLen &* inner, y = output + o &* axisLen &* inner
                for i in 0..<inner { mx[i] = x[i] }
                for a in 1..<axisLen {
                    let xa = x + a &* inner
                    for i in 0..<inner where xa[i] > mx[i] { mx[i] = xa[i] }
                }
                for i in 0..<inner { sum[i] = 0 }
                for a in 0..<axisLen {
                    expShiftedAccumulate(x + a &* inner, mx, y + a &* inner, sum, inner)
                }
                if log {
                    for i in 0..<inner { sum[i] = mx[i] + logf(sum[i]) }
                    for a in 0..<axisLen {
                        let xa = x + a &* inner, ya = y + a &* inner
                        for i in 0..<inner { ya[i] = xa[i] - sum[i] }
                    }
                } else {
                    for i in 0..<inner { sum[i] = 1 / sum[i] }
                    for a in 0..<axisLen {
                        let ya = y + a &* inner
                        for i in 0..<inner { ya[i] *= sum[i] }
                    }
                }
            }
        }
    }
}

extension TensorOps {
    /// y[j] = e^(x[j] − shift) for j < n; returns Σ y.
    @inline(__always)
    static func expShiftedSum(_ x: UnsafePointer<Float>, _ shift: Float,
                              _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        for j in 0..<n { y[j] = fastExp(x[j] - shift) }
        return sumOf(y, n)
    }

    /// y[i] = e^(x[i] − shift[i]); sum[i] += y[i] for i < n.
    @inline(__always)
    static func expShiftedAccumulate(_ x: UnsafePointer<Float>, _ shift: UnsafePointer<Float>,
                                     _ y: UnsafeMutablePointer<Float>,
                                     _ sum: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = fastExp(x[i] - shift[i]) }
        for i in 0..<n { sum[i] += y[i] }
    }
}

// MARK: - Reduce internals

protocol ReduceOp {
    var identity: Float { get }
    /// Element transform applied before combining (|x|, x², exp(x − shift), …).
    func map(_ x: Float, _ shift: Float) -> Float
    func combine(_ a: Float, _ b: Float) -> Float
}

struct SumOp: ReduceOp {
    var identity: Float { 0 }
    @inline(__always) func map(_ x: Float, _ shift: Float) -> Float { x }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { a + b }
}
struct AbsSumOp: ReduceOp {
    var identity: Float { 0 }
    @inline(__always) func map(_ x: Float, _ shift: Float) -> Float { abs(x) }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { a + b }
}
struct SquareSumOp: ReduceOp {
    var identity: Float { 0 }
    @inline(__always) func map(_ x: Float, _ shift: Float) -> Float { x * x }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { a + b }
}
struct ExpShiftOp: ReduceOp {
    var identity: Float { 0 }
    @inline(__always) func map(_ x: Float, _ shift: Float) -> Float { expf(x - shift) }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { a + b }
}
struct ProdOp: ReduceOp {
    var identity: Float { 1 }
    @inline(__always) func map(_ x: Float, _ shift: Float) -> Float { x }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { a * b }
}
struct MaxOp: ReduceOp {
    var identity: Float { -.infinity }
    @inline(__always) func map(_ x: Float, _ shift: Float) -> Float { x }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { b > a ? b : a }
}
struct MinOp: ReduceOp {
    var identity: Float { .infinity }
    @inline(__always) func map(_ x: Float, _ shift: Float) -> Float { x }
    @inline(__always) func combine(_ a: Float, _ b: Float) -> Float { b < a ? b : a }
}

extension TensorOps {
    /// output[o] = combine over the reduced positions of map(x, shift[o]); `dims`/`red` are the
    /// coalesced axes and their reduced flags.
    @inline(__always)
    static func reduceCore<Op: ReduceOp>(_ op: Op, _ input: UnsafePointer<Float>, _ dims: [Int],
                                         _ red: [Bool], _ output: UnsafeMutablePointer<Float>,
                                         _ outCount: Int, shift: UnsafePointer<Float>? = nil) {
        let id = op.identity
        for i in 0..<outCount { output[i] = id }
        if dims.isEmpty {
            // Everything had size 1: one element per output.
            output[0] = op.combine(id, op.map(input[0], shift?[0] ?? 0))
            return
        }
        let k = dims.count
        for d in dims where d == 0 { return }
        let inStrides = Shape.strides(dims)
        var outStrides = [Int](repeating: 0, count: k)
        var acc = 1
        for a in stride(from: k - 1, through: 0, by: -1) where !red[a] {
            outStrides[a] = acc
            acc &*= dims[a]
        }
        let len = dims[k - 1]
        let lastReduced = red[k - 1]
        forEachIndex(Array(dims[0..<(k - 1)]), srcStrides: Array(inStrides[0..<(k - 1)]),
                     dstStrides: Array(outStrides[0..<(k - 1)])) { s, o in
            let x = input + s
            if lastReduced {
                let sh = shift?[o] ?? 0
                var a0 = id, a1 = id, a2 = id, a3 = id
                var j = 0
                while j + 4 <= len {
                    a0 = op.combine(a0, op.map(x[j], sh))
                    a1 = op.combine(a1, op.map(x[j + 1], sh))
                    a2 = op.combine(a2, op.map(x[j + 2], sh))
                    a3 = op.combine(a3, op.map(x[j + 3], sh))
                    j += 4
                }
                while j < len { a0 = op.combine(a0, op.map(x[j], sh)); j += 1 }
                output[o] = op.combine(output[o], op.combine(op.combine(a0, a1), op.combine(a2, a3)))
            } else {
                let y = output + o
                if let sp = shift {
                    let shp = sp + o
                    for j in 0..<len { y[j] = op.combine(y[j], op.map(x[j], shp[j])) }
                } else {
                    for j in 0..<len { y[j] = op.combine(y[j], op.map(x[j], 0)) }
                }
            }
        }
    }
}
