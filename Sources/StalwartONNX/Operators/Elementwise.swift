import Glibc
import StalwartTensor

/// Iterates a NumPy-broadcast binary operation as runs of contiguous output elements:
/// `body(outOffset, aOffset, aStep, bOffset, bStep, count)` where steps are 0 (broadcast) or 1.
/// The innermost dimensions that both operands share contiguously are merged into one run.
struct BroadcastIterator {
    let outShape: [Int]
    let aStrides: [Int], bStrides: [Int]
    let innerCount: Int, innerA: Int, innerB: Int
    let outerShape: [Int], outerA: [Int], outerB: [Int]

    init(_ a: [Int], _ b: [Int], out: [Int]) {
        let r = out.count
        func bstr(_ s: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: r - s.count) + s
            let st = Shape.strides(padded)
            return (0..<r).map { padded[$0] == 1 && out[$0] != 1 ? 0 : st[$0] }
        }
        let sa = bstr(a), sb = bstr(b)
        // Merge trailing dims while both operands move contiguously in the same way.
        var k = r
        var count = 1
        var stepA = -1, stepB = -1
        while k > 0 {
            let d = k - 1
            let ka = sa[d] == 0 ? 0 : 1, kb = sb[d] == 0 ? 0 : 1
            let contiguousA = ka == 0 || sa[d] == count
            let contiguousB = kb == 0 || sb[d] == count
            if stepA == -1 { stepA = ka; stepB = kb }
            guard ka == stepA, kb == stepB, contiguousA, contiguousB else { break }
            count *= out[d]
            k -= 1
        }
        if r == 0 { count = 1; stepA = 0; stepB = 0 }
        outShape = out; aStrides = sa; bStrides = sb
        innerCount = count; innerA = max(stepA, 0); innerB = max(stepB, 0)
        outerShape = Array(out[0..<k]); outerA = Array(sa[0..<k]); outerB = Array(sb[0..<k])
    }

    /// Number of runs (product of the outer dims).
    var runs: Int { outerShape.reduce(1, *) }

    @inline(__always)
    func offsets(run: Int) -> (a: Int, b: Int) {
        var rem = run, oa = 0, ob = 0
        var d = outerShape.count - 1
        while d >= 0 {
            let n = outerShape[d]
            let i = rem % n
            rem /= n
            oa += i * outerA[d]; ob += i * outerB[d]
            d -= 1
        }
        return (oa, ob)
    }
}

/// Binary arithmetic with NumPy broadcasting: Add, Sub, Mul, Div, Pow, PRelu, Max, Min and the
/// comparisons. Float32 everywhere; int64/int32 for the integer arithmetic that shape
/// subgraphs use.
final class BinaryOp: Operator {
    enum Kind { case add, sub, mul, div, pow, max, min, prelu, equal, less, greater, lessOrEqual, greaterOrEqual, and, or }
    let kind: Kind
    init(_ kind: Kind) { self.kind = kind }

    var isComparison: Bool { [.equal, .less, .greater, .lessOrEqual, .greaterOrEqual, .and, .or].contains(kind) }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 2, max: 2, "binary operator")
        guard let a = ins[0], let b = ins[1] else { throw StalwartError.invalidModel("missing input") }
        guard a.dtype == b.dtype || kind == .pow else {
            throw StalwartError.invalidModel("operand types differ: \(a.dtype) and \(b.dtype)")
        }
        if kind == .pow && b.dtype != .float32 && a.dtype == .float32 {
            throw StalwartError.unsupported("Pow with a \(b.dtype) exponent")
        }
        guard let out = Shape.broadcast(a.shape, b.shape) else {
            throw StalwartError.shapeMismatch("shapes \(a.shape) and \(b.shape) cannot be broadcast")
        }
        switch a.dtype {
        case .float32, .int64, .int32: break
        case .bool where kind == .and || kind == .or || kind == .equal: break
        default: throw StalwartError.unsupported("element type \(a.dtype)")
        }
        return [ValueInfo(isComparison ? .bool : a.dtype, out)]
    }

    func execute(_ io: OpIO) throws {
        guard let a = io.inputInfo[0], let b = io.inputInfo[1], let pa = io.inputs[0], let pb = io.inputs[1] else { return }
        let it = BroadcastIterator(a.shape, b.shape, out: io.outputInfo[0].shape)
        switch a.dtype {
        case .float32:
            let x = pa.assumingMemoryBound(to: Float.self), y = pb.assumingMemoryBound(to: Float.self)
            if isComparison {
                compare(it, x, y, io.outputs[0].assumingMemoryBound(to: Bool.self), io.pool)
            } else {
                floatOp(it, x, y, io.out(0), io.pool)
            }
        case .int64:
            try intOp(it, pa.assumingMemoryBound(to: Int64.self), pb.assumingMemoryBound(to: Int64.self), io.outputs[0], isComparison)
        case .int32:
            try intOp(it, pa.assumingMemoryBound(to: Int32.self), pb.assumingMemoryBound(to: Int32.self), io.outputs[0], isComparison)
        case .bool:
            let x = pa.assumingMemoryBound(to: Bool.self), y = pb.assumingMemoryBound(to: Bool.self)
            let o = io.outputs[0].assumingMemoryBound(to: Bool.self)
            for r in 0..<it.runs {
                let (oa, ob) = it.offsets(run: r)
                for i in 0..<it.innerCount {
                    let u = x[oa + i * it.innerA], v = y[ob + i * it.innerB]
                    o[r * it.innerCount + i] = kind == .and ? (u && v) : kind == .or ? (u || v) : (u == v)
                }
            }
        default: throw StalwartError.unsupported("element type \(a.dtype)")
        }
    }

    private func floatOp(_ it: BroadcastIterator, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                         _ o: UnsafeMutablePointer<Float>, _ pool: ThreadPool) {
        let n = it.innerCount, sa = it.innerA, sb = it.innerB, kind = self.kind
        let work = it.runs * n
        let chunks = work >= 1 << 16 ? min(it.runs, pool.threadCount * 4) : 1
        pool.parallelFor(chunks) { c in
            let lo = it.runs * c / chunks, hi = it.runs * (c + 1) / chunks
            for r in lo..<hi {
                let (oa, ob) = it.offsets(run: r)
                let dst = o + r * n, pa = x + oa, pb = y + ob
                BinaryOp.kernel(kind, pa, sa, pb, sb, dst, n)
            }
        }
    }

    @inline(__always)
    static func kernel(_ kind: Kind, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                       _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        switch kind {
        case .add:
            if sa == 1 && sb == 1 { for i in 0..<n { o[i] = a[i] + b[i] } }
            else if sb == 0 { let v = b[0]; for i in 0..<n { o[i] = a[i * sa] + v } }
            else { let v = a[0]; for i in 0..<n { o[i] = v + b[i] } }
        case .sub:
            if sa == 1 && sb == 1 { for i in 0..<n { o[i] = a[i] - b[i] } }
            else if sb == 0 { let v = b[0]; for i in 0..<n { o[i] = a[i * sa] - v } }
            else { let v = a[0]; for i in 0..<n { o[i] = v - b[i] } }
        case .mul:
            if sa == 1 && sb == 1 { for i in 0..<n { o[i] = a[i] * b[i] } }
            else if sb == 0 { let v = b[0]; for i in 0..<n { o[i] = a[i * sa] * v } }
            else { let v = a[0]; for i in 0..<n { o[i] = v * b[i] } }
        case .div:
            if sa == 1 && sb == 1 { for i in 0..<n { o[i] = a[i] / b[i] } }
            else if sb == 0 { let v = b[0]; for i in 0..<n { o[i] = a[i * sa] / v } }
            else { let v = a[0]; for i in 0..<n { o[i] = v / b[i] } }
        case .pow: for i in 0..<n { o[i] = powf(a[i * sa], b[i * sb]) }
        case .max: for i in 0..<n { let u = a[i * sa], v = b[i * sb]; o[i] = u.isNaN || v.isNaN ? .nan : Swift.max(u, v) }
        case .min: for i in 0..<n { let u = a[i * sa], v = b[i * sb]; o[i] = u.isNaN || v.isNaN ? .nan : Swift.min(u, v) }
        case .prelu: for i in 0..<n { let u = a[i * sa]; o[i] = u < 0 ? u * b[i * sb] : u }
        default: break
        }
    }

    private func compare(_ it: BroadcastIterator, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                         _ o: UnsafeMutablePointer<Bool>, _ pool: ThreadPool) {
        for r in 0..<it.runs {
            let (oa, ob) = it.offsets(run: r)
            for i in 0..<it.innerCount {
                let u = x[oa + i * it.innerA], v = y[ob + i * it.innerB]
                let res: Bool
                switch kind {
                case .equal: res = u == v
                case .less: res = u < v
                case .greater: res = u > v
                case .lessOrEqual: res = u <= v
                case .greaterOrEqual: res = u >= v
                default: res = false
                }
                o[r * it.innerCount + i] = res
            }
        }
    }

    private func intOp<T: FixedWidthInteger>(_ it: BroadcastIterator, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>,
                                             _ out: UnsafeMutableRawPointer, _ cmp: Bool) throws {
        let o = out.assumingMemoryBound(to: T.self), ob = out.assumingMemoryBound(to: Bool.self)
        for r in 0..<it.runs {
            let (oa, obb) = it.offsets(run: r)
            for i in 0..<it.innerCount {
                let u = x[oa + i * it.innerA], v = y[obb + i * it.innerB]
                let k = r * it.innerCount + i
                switch kind {
                case .add: o[k] = u &+ v
                case .sub: o[k] = u &- v
                case .mul: o[k] = u &* v
                case .div:
                    guard v != 0 else { throw StalwartError.invalidArgument("integer division by zero") }
                    // ONNX integer Div truncates toward zero (like C).
                    o[k] = (u == T.min && v == -1) ? T.min : u / v
                case .max: o[k] = Swift.max(u, v)
                case .min: o[k] = Swift.min(u, v)
                case .pow:
                    var acc: T = 1
                    if v > 0 { for _ in 0..<Int(clamping: Swift.min(Int64(v), 64)) { acc = acc &* u } }
                    o[k] = v < 0 ? 0 : acc
                case .prelu: o[k] = u < 0 ? u &* v : u
                case .equal: ob[k] = u == v
                case .less: ob[k] = u < v
                case .greater: ob[k] = u > v
                case .lessOrEqual: ob[k] = u <= v
                case .greaterOrEqual: ob[k] = u >= v
                case .and, .or: ob[k] = false
                }
            }
        }
    }
}

/// Element-wise unary functions on float32 (Neg/Abs also on int64).
final class UnaryOp: Operator {
    let name: String
    let f: (Float) -> Float
    let allowsInt: Bool
    init(_ name: String, allowsInt: Bool = false, _ f: @escaping (Float) -> Float) {
        self.name = name; self.f = f; self.allowsInt = allowsInt
    }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 1, max: 1, name)
        guard let x = ins[0] else { return [] }
        if !(allowsInt && x.dtype == .int64) { try Check.float(x, "\(name) input") }
        return [ValueInfo(x.dtype, x.shape)]
    }

    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        let n = x.shape.reduce(1, *)
        if x.dtype == .int64 {
            let a = io.inputs[0].unsafelyUnwrapped.assumingMemoryBound(to: Int64.self)
            let o = io.outputs[0].assumingMemoryBound(to: Int64.self)
            for i in 0..<n { o[i] = Int64(f(Float(a[i]))) }
            return
        }
        let a = io.f(0), o = io.out(0), f = self.f
        let chunks = n >= 1 << 15 ? io.pool.threadCount * 4 : 1
        io.pool.parallelFor(chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            for i in lo..<hi { o[i] = f(a[i]) }
        }
    }
}

/// An activation that Conv can absorb (Relu, Clip, LeakyRelu, HardSigmoid, HardSwish,
/// Sigmoid); run standalone when not fused.
final class ActivationOp: Operator {
    let activation: FusedActivation?
    let node: IRNode
    /// Clip with min/max given as runtime inputs resolves them per call.
    init(_ activation: FusedActivation?, node: IRNode) { self.activation = activation; self.node = node }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        if x.dtype == .int64 && activation == nil { return [ValueInfo(x.dtype, x.shape)] }
        try Check.float(x, "input")
        return [ValueInfo(x.dtype, x.shape)]
    }

    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        let n = x.shape.reduce(1, *)
        var act = activation ?? .none
        if activation == nil {  // Clip with non-constant bounds
            if x.dtype == .int64 {
                let a = io.inputs[0].unsafelyUnwrapped.assumingMemoryBound(to: Int64.self)
                let o = io.outputs[0].assumingMemoryBound(to: Int64.self)
                let lo = io.inputs.count > 1 ? io.inputs[1]?.load(as: Int64.self) ?? .min : .min
                let hi = io.inputs.count > 2 ? io.inputs[2]?.load(as: Int64.self) ?? .max : .max
                for i in 0..<n { o[i] = Swift.min(Swift.max(a[i], lo), hi) }
                return
            }
            let lo = io.inputs.count > 1 ? io.inputs[1]?.load(as: Float.self) ?? -.infinity : -.infinity
            let hi = io.inputs.count > 2 ? io.inputs[2]?.load(as: Float.self) ?? .infinity : .infinity
            act = .clip(min: lo, max: hi)
        }
        let a = io.f(0), o = io.out(0)
        let chunks = n >= 1 << 15 ? io.pool.threadCount * 4 : 1
        io.pool.parallelFor(chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            for i in lo..<hi { o[i] = act.apply(a[i]) }
        }
    }
}

/// Variadic Sum / Mean / Max / Min with broadcasting (folded pairwise).
final class VariadicOp: Operator {
    let kind: BinaryOp.Kind  // add, max, min
    let mean: Bool
    init(_ kind: BinaryOp.Kind, mean: Bool = false) { self.kind = kind; self.mean = mean }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard !ins.isEmpty else { throw StalwartError.invalidModel("needs at least one input") }
        var shape: [Int] = []
        guard let first = ins[0] else { throw StalwartError.invalidModel("missing input") }
        try Check.float(first, "input")
        for v in ins {
            guard let v else { throw StalwartError.invalidModel("missing input") }
            try Check.float(v, "input")
            guard let s = Shape.broadcast(shape, v.shape) else {
                throw StalwartError.shapeMismatch("shapes cannot be broadcast: \(shape) and \(v.shape)")
            }
            shape = s
        }
        return [ValueInfo(.float32, shape)]
    }

    func execute(_ io: OpIO) throws {
        let out = io.outputInfo[0].shape
        let n = out.reduce(1, *)
        let o = io.out(0)
        // o = broadcast(x0); then o = op(o, xi).
        guard let x0 = io.inputInfo[0] else { return }
        let first = BroadcastIterator(out, x0.shape, out: out)
        let p0 = io.f(0)
        for r in 0..<first.runs {
            let (_, ob) = first.offsets(run: r)
            for i in 0..<first.innerCount { o[r * first.innerCount + i] = p0[ob + i * first.innerB] }
        }
        for k in 1..<max(io.inputs.count, 1) {
            guard let xi = io.inputInfo[k] else { continue }
            let it = BroadcastIterator(out, xi.shape, out: out)
            let p = io.f(k)
            for r in 0..<it.runs {
                let (oa, ob) = it.offsets(run: r)
                BinaryOp.kernel(kind, UnsafePointer(o + oa), it.innerA, p + ob, it.innerB, o + r * it.innerCount, it.innerCount)
            }
        }
        if mean {
            let s = 1 / Float(io.inputs.count)
            for i in 0..<n { o[i] *= s }
        }
    }
}

/// Where(cond, x, y) with broadcasting (float32/int64).
final class WhereOp: Operator {
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 3, max: 3, "Where")
        guard let c = ins[0], let x = ins[1], let y = ins[2] else { return [] }
        guard c.dtype == .bool, x.dtype == y.dtype, x.dtype.byteSize == 4 || x.dtype.byteSize == 8 else {
            throw StalwartError.unsupported("Where types \(c.dtype), \(x.dtype), \(y.dtype)")
        }
        guard let s1 = Shape.broadcast(c.shape, x.shape), let s = Shape.broadcast(s1, y.shape) else {
            throw StalwartError.shapeMismatch("shapes cannot be broadcast")
        }
        return [ValueInfo(x.dtype, s)]
    }
    func execute(_ io: OpIO) throws {
        guard let c = io.inputInfo[0], let x = io.inputInfo[1], let y = io.inputInfo[2],
              let pc = io.inputs[0], let px = io.inputs[1], let py = io.inputs[2] else { return }
        let out = io.outputInfo[0].shape
        let strides = Shape.strides(out)
        func idx(_ s: [Int], _ flat: Int) -> Int {
            let r = out.count, pad = r - s.count
            var off = 0, mul = 1
            for d in stride(from: r - 1, through: pad, by: -1) {
                let i = (flat / strides[d]) % out[d]
                let dim = s[d - pad]
                if dim != 1 { off += i * mul }
                mul *= dim
            }
            return off
        }
        let n = out.reduce(1, *), es = x.dtype.byteSize
        let cond = pc.assumingMemoryBound(to: Bool.self)
        for i in 0..<n {
            let src = cond[idx(c.shape, i)] ? px + idx(x.shape, i) * es : py + idx(y.shape, i) * es
            (io.outputs[0] + i * es).copyMemory(from: src, byteCount: es)
        }
    }
}
