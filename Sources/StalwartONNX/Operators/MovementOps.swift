import StalwartTensor

/// Transpose with an explicit or default (reversed) permutation; any dtype.
final class TransposeOp: Operator {
    let perm: [Int]?
    init(_ ctx: OpBuildContext) throws { perm = try ctx.attrs.ints("perm") }
    func permutation(_ rank: Int) -> [Int] { perm ?? Array((0..<rank).reversed()) }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        let p = permutation(x.shape.count)
        guard p.count == x.shape.count, Set(p) == Set(0..<x.shape.count) else {
            throw StalwartError.invalidModel("perm \(p) is not a permutation of rank \(x.shape.count)")
        }
        return [ValueInfo(x.dtype, p.map { x.shape[$0] })]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        TensorOps.transpose(src, shape: x.shape, perm: permutation(x.shape.count), elementSize: x.dtype.byteSize, output: io.outputs[0])
    }
}

/// Concat along an axis; any dtype.
final class ConcatOp: Operator {
    let axis: Int
    init(_ ctx: OpBuildContext) throws {
        guard let a = try ctx.attrs.int("axis") else { throw ctx.fail("missing required attribute 'axis'") }
        axis = a
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        let vals = ins.compactMap { $0 }
        guard let first = vals.first else { throw StalwartError.invalidModel("Concat needs inputs") }
        let a = try Check.axis(axis, rank: first.shape.count)
        var out = first.shape
        out[a] = 0
        for v in vals {
            guard v.dtype == first.dtype, v.shape.count == first.shape.count else {
                throw StalwartError.shapeMismatch("Concat inputs differ in type or rank: \(vals.map(\.shape))")
            }
            for d in 0..<out.count where d != a && v.shape[d] != first.shape[d] {
                throw StalwartError.shapeMismatch("Concat inputs differ outside axis \(a): \(vals.map(\.shape))")
            }
            out[a] += v.shape[a]
        }
        return [ValueInfo(first.dtype, out)]
    }
    func execute(_ io: OpIO) throws {
        var parts: [(UnsafeRawPointer, [Int])] = []
        for (p, info) in zip(io.inputs, io.inputInfo) { if let p, let info { parts.append((p, info.shape)) } }
        let info = io.outputInfo[0]
        TensorOps.concat(parts, axis: try Check.axis(axis, rank: info.shape.count), elementSize: info.dtype.byteSize, output: io.outputs[0])
    }
}

/// Split into parts given by the attribute (opset < 13), the `split` input (≥ 13), or evenly
/// (with `num_outputs` at opset 18, the last part may be smaller).
final class SplitOp: Operator {
    let axis: Int, attrSplit: [Int]?, outputCount: Int, numOutputs: Int?
    init(_ ctx: OpBuildContext) throws {
        axis = try ctx.attrs.int("axis", default: 0)
        attrSplit = try ctx.attrs.ints("split")
        numOutputs = try ctx.attrs.int("num_outputs")
        outputCount = ctx.node.outputs.count
    }
    func sizes(_ ins: [ValueInfo?], _ len: Int) throws -> [Int] {
        if let s = attrSplit { return s }
        if ins.count > 1, ins[1] != nil { return try constantInts(ins[1], "split input") }
        let n = numOutputs ?? outputCount
        guard n > 0 else { throw StalwartError.invalidModel("Split into 0 parts") }
        if numOutputs != nil {
            let chunk = (len + n - 1) / n
            return (0..<n).map { max(0, min(chunk, len - $0 * chunk)) }
        }
        guard len % n == 0 else { throw StalwartError.shapeMismatch("axis of length \(len) cannot be split evenly into \(n)") }
        return Array(repeating: len / n, count: n)
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        let a = try Check.axis(axis, rank: x.shape.count)
        let s = try sizes(ins, x.shape[a])
        guard s.reduce(0, +) == x.shape[a], s.allSatisfy({ $0 >= 0 }), s.count == outputCount else {
            throw StalwartError.shapeMismatch("split \(s) does not partition axis \(a) of \(x.shape) into \(outputCount) outputs")
        }
        return s.map { var sh = x.shape; sh[a] = $0; return ValueInfo(x.dtype, sh) }
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        let a = try Check.axis(axis, rank: x.shape.count)
        TensorOps.split(src, shape: x.shape, axis: a, sizes: io.outputInfo.map { $0.shape[a] },
                        elementSize: x.dtype.byteSize, outputs: io.outputs)
    }
}

/// Slice (attribute form before opset 10, inputs after), with negative steps and clamping.
final class SliceOp: Operator {
    let attrStarts: [Int]?, attrEnds: [Int]?, attrAxes: [Int]?
    init(_ ctx: OpBuildContext) throws {
        if ctx.opset < 10 {
            attrStarts = try ctx.attrs.ints("starts"); attrEnds = try ctx.attrs.ints("ends"); attrAxes = try ctx.attrs.ints("axes")
        } else { attrStarts = nil; attrEnds = nil; attrAxes = nil }
    }
    func resolve(_ ins: [ValueInfo?], _ shape: [Int]) throws -> (starts: [Int], steps: [Int], out: [Int]) {
        let starts = try attrStarts ?? constantInts(ins.count > 1 ? ins[1] : nil, "starts")
        let ends = try attrEnds ?? constantInts(ins.count > 2 ? ins[2] : nil, "ends")
        let axesIn = try attrAxes ?? (ins.count > 3 && ins[3] != nil ? constantInts(ins[3], "axes") : Array(0..<starts.count))
        let stepsIn = ins.count > 4 && ins[4] != nil ? try constantInts(ins[4], "steps") : Array(repeating: 1, count: starts.count)
        guard starts.count == ends.count, axesIn.count == starts.count, stepsIn.count == starts.count else {
            throw StalwartError.invalidModel("starts, ends, axes and steps differ in length")
        }
        let r = shape.count
        var st = [Int](repeating: 0, count: r), sp = [Int](repeating: 1, count: r), out = shape
        for (k, axIn) in axesIn.enumerated() {
            let ax = try Check.axis(axIn, rank: r)
            let dim = shape[ax], step = stepsIn[k]
            guard step != 0 else { throw StalwartError.invalidModel("Slice step is 0") }
            var s = starts[k], e = ends[k]
            if s < 0 { s += dim }
            if e < 0 { e += dim }
            if step > 0 {
                s = min(max(s, 0), dim); e = min(max(e, 0), dim)
                out[ax] = e > s ? (e - s + step - 1) / step : 0
            } else {
                s = min(max(s, -1), dim - 1); e = min(max(e, -1), dim - 1)
                out[ax] = s > e ? (s - e + (-step) - 1) / (-step) : 0
            }
            st[ax] = s; sp[ax] = step
        }
        return (st, sp, out)
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        return [ValueInfo(x.dtype, try resolve(ins, x.shape).out)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        let r = try resolve(io.inputInfo, x.shape)
        TensorOps.slice(src, shape: x.shape, starts: r.starts, steps: r.steps, outShape: r.out,
                        elementSize: x.dtype.byteSize, output: io.outputs[0])
    }
}

/// Pad: constant (any value), reflect and edge; pads from the attribute (opset < 11) or input,
/// optional axes (opset 18).
final class PadOp: Operator {
    let mode: TensorOps.PadMode
    let attrPads: [Int]?, attrValue: Float
    init(_ ctx: OpBuildContext) throws {
        let m = try ctx.attrs.string("mode", default: "constant")
        switch m {
        case "constant": mode = .constant
        case "reflect": mode = .reflect
        case "edge": mode = .edge
        case "wrap": mode = .wrap
        default: throw ctx.unsupported("pad mode '\(m)'")
        }
        attrPads = ctx.opset < 11 ? try ctx.attrs.ints("pads") : nil
        attrValue = try ctx.attrs.float("value", default: 0)
    }
    func pads(_ ins: [ValueInfo?], rank: Int) throws -> [Int] {
        let p = try attrPads ?? constantInts(ins.count > 1 ? ins[1] : nil, "pads")
        if ins.count > 3, ins[3] != nil {
            let axes = try constantInts(ins[3], "axes").map { try Check.axis($0, rank: rank) }
            guard p.count == 2 * axes.count else { throw StalwartError.invalidModel("pads length \(p.count) ≠ 2 × axes \(axes.count)") }
            var full = [Int](repeating: 0, count: 2 * rank)
            for (k, a) in axes.enumerated() { full[a] = p[k]; full[rank + a] = p[axes.count + k] }
            return full
        }
        guard p.count == 2 * rank else { throw StalwartError.invalidModel("pads has \(p.count) values for rank \(rank)") }
        return p
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        let r = x.shape.count, p = try pads(ins, rank: r)
        var out = x.shape
        for d in 0..<r {
            out[d] = x.shape[d] + p[d] + p[r + d]
            guard out[d] >= 0 else { throw StalwartError.shapeMismatch("pads \(p) crop more than \(x.shape)") }
            // Negative pads crop first; reflect/edge/wrap then read the cropped extent.
            let kept = x.shape[d] + min(p[d], 0) + min(p[r + d], 0)
            if mode != .constant && kept <= 0 && (p[d] > 0 || p[r + d] > 0) {
                throw StalwartError.shapeMismatch("cannot \(mode)-pad an empty extent of axis \(d) in \(x.shape) with pads \(p)")
            }
        }
        return [ValueInfo(x.dtype, out)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        let p = try pads(io.inputInfo, rank: x.shape.count)
        // The constant: input 2 when given (same dtype as x), else the opset < 11 float
        // attribute for float tensors, else zero (nil).
        var value = attrValue
        withUnsafeBytes(of: &value) { attr in
            let given = io.inputs.count > 2 ? io.inputs[2] : nil
            let constant = given ?? (x.dtype == .float32 ? attr.baseAddress : nil)
            TensorOps.pad(src, shape: x.shape, pads: p, mode: mode, constantValue: constant,
                          elementSize: x.dtype.byteSize, output: io.outputs[0])
        }
    }
}

/// Gather along an axis with int64/int32 indices (negative indices wrap).
final class GatherOp: Operator {
    let axis: Int
    init(_ ctx: OpBuildContext) throws { axis = try ctx.attrs.int("axis", default: 0) }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 2, max: 2, "Gather")
        guard let x = ins[0], let idx = ins[1] else { return [] }
        guard idx.dtype == .int64 || idx.dtype == .int32 else { throw StalwartError.invalidModel("indices must be int64 or int32") }
        let a = try Check.axis(axis, rank: x.shape.count)
        return [ValueInfo(x.dtype, Array(x.shape[..<a]) + idx.shape + Array(x.shape[(a + 1)...]))]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let ii = io.inputInfo[1], let src = io.inputs[0], let ip = io.inputs[1] else { return }
        let a = try Check.axis(axis, rank: x.shape.count)
        let dim = x.shape[a], n = ii.shape.reduce(1, *)
        var idx = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var v = ii.dtype == .int64 ? Int(clamping: ip.load(fromByteOffset: i * 8, as: Int64.self))
                                       : Int(ip.load(fromByteOffset: i * 4, as: Int32.self))
            if v < 0 { v += dim }
            guard v >= 0, v < dim else { throw StalwartError.invalidArgument("Gather index \(v) out of range for axis of size \(dim)") }
            idx[i] = v
        }
        TensorOps.gather(src, shape: x.shape, axis: a, indices: idx, indicesShape: ii.shape,
                         elementSize: x.dtype.byteSize, output: io.outputs[0])
    }
}

/// Expand (NumPy broadcast to a planning-time shape) and Tile.
final class ExpandOp: Operator {
    let tile: Bool
    init(tile: Bool) { self.tile = tile }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        let v = try constantInts(ins.count > 1 ? ins[1] : nil, tile ? "repeats" : "shape")
        if tile {
            guard v.count == x.shape.count, v.allSatisfy({ $0 >= 0 }) else { throw StalwartError.invalidModel("repeats \(v) do not match rank \(x.shape.count)") }
            return [ValueInfo(x.dtype, zip(x.shape, v).map(*))]
        }
        guard let out = Shape.broadcast(x.shape, v) else {
            throw StalwartError.shapeMismatch("cannot expand \(x.shape) to \(v)")
        }
        return [ValueInfo(x.dtype, out)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0], let src = io.inputs[0] else { return }
        let out = io.outputInfo[0].shape, es = x.dtype.byteSize
        if !tile {
            TensorOps.broadcast(src, shape: x.shape, to: out, elementSize: es, output: io.outputs[0])
            return
        }
        // Tile: out[i] = x[i mod shape].
        let n = out.reduce(1, *), ost = Shape.strides(out), ist = Shape.strides(x.shape)
        for i in 0..<n {
            var off = 0
            for d in 0..<out.count { off += ((i / ost[d]) % out[d] % max(x.shape[d], 1)) * ist[d] }
            (io.outputs[0] + i * es).copyMemory(from: src + off * es, byteCount: es)
        }
    }
}
