import Glibc
import StalwartTensor

/// Reads an int64/int32 tensor input that must be known when planning (shape, axes, pads...).
func constantInts(_ v: ValueInfo?, _ what: String) throws -> [Int] {
    guard let v else { throw StalwartError.invalidModel("\(what) is missing") }
    guard let c = v.constant else {
        throw StalwartError.unsupported("\(what) must be computable before running (a constant or a shape computation)")
    }
    guard c.dtype == .int64 || c.dtype == .int32 else {
        throw StalwartError.invalidModel("\(what) must be int64, got \(c.dtype)")
    }
    return c.intValues()
}

/// Reshape / Flatten / Squeeze / Unsqueeze / Identity / Dropout: the output shares the input's
/// bytes (the planner aliases them); `execute` copies when the planner could not alias.
final class ViewOp: Operator {
    enum Kind { case reshape(allowZero: Bool), flatten(axis: Int), squeeze([Int]?), unsqueeze([Int]?), identity }
    let kind: Kind
    init(_ kind: Kind) { self.kind = kind }
    var aliasInput: Int? { 0 }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        let count = x.shape.reduce(1, *)
        var out: [Int]
        switch kind {
        case .identity:
            out = x.shape
        case .reshape(let allowZero):
            let spec = try constantInts(ins.count > 1 ? ins[1] : nil, "shape input")
            out = []
            var inferred = -1
            for (i, d) in spec.enumerated() {
                if d == 0 && !allowZero {
                    guard i < x.shape.count else { throw StalwartError.shapeMismatch("shape \(spec) copies dimension \(i) of \(x.shape), which does not exist") }
                    out.append(x.shape[i])
                } else if d == -1 {
                    guard inferred < 0 else { throw StalwartError.invalidModel("shape \(spec) has more than one -1") }
                    inferred = i; out.append(1)
                } else if d < -1 {
                    throw StalwartError.invalidModel("shape \(spec) has a negative dimension")
                } else { out.append(d) }
            }
            let known = out.reduce(1, *)
            if inferred >= 0 {
                guard known > 0, count % known == 0 else {
                    throw StalwartError.shapeMismatch("cannot reshape \(x.shape) to \(spec)")
                }
                out[inferred] = count / known
            }
        case .flatten(let axis):
            let a = axis < 0 ? axis + x.shape.count : axis
            guard a >= 0, a <= x.shape.count else { throw StalwartError.invalidModel("Flatten axis \(axis) out of range for \(x.shape)") }
            out = [x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)]
        case .squeeze(let attrAxes):
            let axesIn = try attrAxes ?? (ins.count > 1 && ins[1] != nil ? constantInts(ins[1], "axes input") : nil)
            if let axesIn {
                let axes = try Set(axesIn.map { try Check.axis($0, rank: x.shape.count) })
                for a in axes where x.shape[a] != 1 {
                    throw StalwartError.shapeMismatch("cannot squeeze axis \(a) of size \(x.shape[a]) in \(x.shape)")
                }
                out = x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
            } else {
                out = x.shape.filter { $0 != 1 }
            }
        case .unsqueeze(let attrAxes):
            let axesIn = try attrAxes ?? constantInts(ins.count > 1 ? ins[1] : nil, "axes input")
            let r = x.shape.count + axesIn.count
            let axes = try Set(axesIn.map { try Check.axis($0, rank: r) })
            guard axes.count == axesIn.count else { throw StalwartError.invalidModel("duplicate axes \(axesIn)") }
            out = []
            var src = x.shape.makeIterator()
            for i in 0..<r { out.append(axes.contains(i) ? 1 : (src.next() ?? 1)) }
        }
        guard out.reduce(1, *) == count else {
            throw StalwartError.shapeMismatch("cannot reshape \(x.shape) (\(count) elements) to \(out)")
        }
        return [ValueInfo(x.dtype, out, constant: nil)]
    }

    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        let bytes = x.shape.reduce(1, *) * x.dtype.byteSize
        if UnsafeRawPointer(io.outputs[0]) != src { io.outputs[0].copyMemory(from: src, byteCount: bytes) }
    }
}

/// Shape (with opset-15 start/end) and Size: known from the input shape alone.
final class ShapeOp: Operator {
    let start: Int?, end: Int?, size: Bool
    init(start: Int?, end: Int?, size: Bool = false) { self.start = start; self.end = end; self.size = size }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        if size {
            let t = try Tensor(shape: [], int64s: [Int64(x.shape.reduce(1, *))])
            return [ValueInfo(t)]
        }
        let r = x.shape.count
        func clampAxis(_ a: Int) -> Int { Swift.min(Swift.max(a < 0 ? a + r : a, 0), r) }
        let s = clampAxis(start ?? 0), e = clampAxis(end ?? r)
        let dims = s < e ? Array(x.shape[s..<e]) : []
        let t = try Tensor(shape: [dims.count], int64s: dims.map { Int64($0) })
        return [ValueInfo(t)]
    }
    func execute(_ io: OpIO) throws {}
}

/// ConstantOfShape: a tensor of the given (planning-time) shape filled with one value.
final class ConstantOfShapeOp: Operator {
    let value: Tensor?
    init(_ ctx: OpBuildContext) throws {
        value = try ctx.attrs.tensor("value")
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        let shape = try constantInts(ins.first ?? nil, "shape input")
        guard shape.allSatisfy({ $0 >= 0 }) else { throw StalwartError.invalidModel("negative shape \(shape)") }
        return [ValueInfo(value?.dtype ?? .float32, shape)]
    }
    func execute(_ io: OpIO) throws {
        let info = io.outputInfo[0]
        let es = info.dtype.byteSize, n = info.shape.reduce(1, *)
        guard let v = value else { memset(io.outputs[0], 0, n * es); return }
        for i in 0..<n { (io.outputs[0] + i * es).copyMemory(from: v.data, byteCount: es) }
    }
}

/// Cast between float32, float64, int64, int32, int8, uint8 and bool.
final class CastOp: Operator {
    let to: DType
    init(_ ctx: OpBuildContext) throws {
        let t = try ctx.attrs.int("to") ?? -1
        guard let d = DType(rawValue: Int32(clamping: t)) else {
            throw ctx.unsupported("cast to \(TensorDecoding.onnxTypeName(Int32(clamping: t)))")
        }
        to = d
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        return [ValueInfo(to, x.shape)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        let n = x.shape.reduce(1, *)
        let dst = io.outputs[0]
        if x.dtype == to { dst.copyMemory(from: src, byteCount: n * to.byteSize); return }
        for i in 0..<n {
            let d: Double
            switch x.dtype {
            case .float32: d = Double(src.load(fromByteOffset: i * 4, as: Float.self))
            case .float64: d = src.load(fromByteOffset: i * 8, as: Double.self)
            case .int64: d = Double(src.load(fromByteOffset: i * 8, as: Int64.self))
            case .int32: d = Double(src.load(fromByteOffset: i * 4, as: Int32.self))
            case .int8: d = Double(src.load(fromByteOffset: i, as: Int8.self))
            case .uint8, .bool: d = Double(src.load(fromByteOffset: i, as: UInt8.self))
            }
            switch to {
            case .float32: dst.storeBytes(of: Float(d), toByteOffset: i * 4, as: Float.self)
            case .float64: dst.storeBytes(of: d, toByteOffset: i * 8, as: Double.self)
            case .int64:
                let v: Int64 = x.dtype == .int64 ? src.load(fromByteOffset: i * 8, as: Int64.self) : Int64(clampingDouble: d)
                dst.storeBytes(of: v, toByteOffset: i * 8, as: Int64.self)
            case .int32: dst.storeBytes(of: Int32(truncatingIfNeeded: Int64(clampingDouble: d)), toByteOffset: i * 4, as: Int32.self)
            case .int8: dst.storeBytes(of: Int8(truncatingIfNeeded: Int64(clampingDouble: d)), toByteOffset: i, as: Int8.self)
            case .uint8: dst.storeBytes(of: UInt8(truncatingIfNeeded: Int64(clampingDouble: d)), toByteOffset: i, as: UInt8.self)
            case .bool: dst.storeBytes(of: UInt8(d != 0 ? 1 : 0), toByteOffset: i, as: UInt8.self)
            }
        }
    }
}

extension Int64 {
    /// Truncates toward zero, saturating at the bounds; NaN becomes 0.
    init(clampingDouble d: Double) {
        if d.isNaN { self = 0 } else if d >= 9.2e18 { self = .max } else if d <= -9.2e18 { self = .min } else { self = Int64(d.rounded(.towardZero)) }
    }
}

/// Range(start, limit, delta) for int64 and float32 scalars known when planning.
final class RangeOp: Operator {
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 3, max: 3, "Range")
        guard let s = ins[0]?.constant, let l = ins[1]?.constant, let d = ins[2]?.constant else {
            throw StalwartError.unsupported("Range inputs must be known before running")
        }
        let start = s.element(asDouble: 0), limit = l.element(asDouble: 0), delta = d.element(asDouble: 0)
        guard delta != 0, delta.isFinite, start.isFinite, limit.isFinite else { throw StalwartError.invalidModel("Range delta must be non-zero and finite") }
        let n = max(0, Int(((limit - start) / delta).rounded(.up)))
        guard n < 1 << 31 else { throw StalwartError.outOfMemory("Range of \(n) elements") }
        return [ValueInfo(s.dtype, [n])]
    }
    func execute(_ io: OpIO) throws {
        guard let info = io.inputInfo[0], let s = io.inputs[0], let d = io.inputs[2] else { return }
        let n = io.outputInfo[0].shape[0]
        switch info.dtype {
        case .float32:
            let a = s.load(as: Float.self), b = d.load(as: Float.self)
            for i in 0..<n { io.out(0)[i] = a + Float(i) * b }
        case .int64:
            let a = s.load(as: Int64.self), b = d.load(as: Int64.self)
            let o = io.outputs[0].assumingMemoryBound(to: Int64.self)
            for i in 0..<n { o[i] = a &+ Int64(i) &* b }
        case .int32:
            let a = s.load(as: Int32.self), b = d.load(as: Int32.self)
            let o = io.outputs[0].assumingMemoryBound(to: Int32.self)
            for i in 0..<n { o[i] = a &+ Int32(truncatingIfNeeded: i) &* b }
        default: throw StalwartError.unsupported("Range of \(info.dtype)")
        }
    }
}

/// Dropout at inference with its mask output requested: Y = X and an all-true mask.
final class DropoutWithMaskOp: Operator {
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        return [ValueInfo(x.dtype, x.shape), ValueInfo(.bool, x.shape)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        let n = x.shape.reduce(1, *)
        io.outputs[0].copyMemory(from: src, byteCount: n * x.dtype.byteSize)
        memset(io.outputs[1], 1, n)
    }
}
