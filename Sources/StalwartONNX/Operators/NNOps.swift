import StalwartTensor

/// MaxPool / AveragePool / LpPool (1-, 2- and 3-D) with pads, auto_pad, dilations, ceil_mode
/// and count_include_pad.
final class PoolOp: Operator {
    let kind: TensorOps.PoolKind
    let kernel: [Int], strides: [Int], dilations: [Int], pads: [Int]
    let autoPad: String, ceilMode: Bool
    let hasIndices: Bool

    init(_ ctx: OpBuildContext, kind: TensorOps.PoolKind) throws {
        let a = ctx.attrs
        try a.check(known: ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides", "storage_order", "p"])
        guard let k = try a.ints("kernel_shape"), !k.isEmpty, k.count <= 3, k.allSatisfy({ $0 >= 1 }) else {
            throw ctx.fail("kernel_shape must list 1 to 3 positive sizes")
        }
        self.kind = kind
        kernel = k
        strides = try a.ints("strides") ?? Array(repeating: 1, count: k.count)
        dilations = try a.ints("dilations") ?? Array(repeating: 1, count: k.count)
        pads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * k.count)
        autoPad = try a.string("auto_pad", default: "NOTSET")
        ceilMode = try a.int("ceil_mode", default: 0) != 0
        hasIndices = ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty
        if hasIndices { throw ctx.unsupported("MaxPool's Indices output") }
        guard strides.count == k.count, dilations.count == k.count, pads.count == 2 * k.count,
              strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), pads.allSatisfy({ $0 >= 0 }),
              (k + strides + dilations + pads).allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw ctx.fail("invalid kernel \(k), strides \(strides), dilations \(dilations) or pads \(pads) (each at most 2³¹ − 1)")
        }
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else { throw ctx.fail("auto_pad '\(autoPad)'") }
    }

    /// Whether a blocked form exists (`BlockedMaxPoolOp`): 2-D max pools.
    var blockedCapable: Bool {
        if case .max = kind { return kernel.count == 2 }
        return false
    }

    /// (padsBegin, padsEnd, outSpatial) for an input spatial size.
    func geometry(_ size: [Int]) throws -> ([Int], [Int], [Int]) {
        let r = kernel.count
        var pb = Array(pads[..<r]), pe = Array(pads[r...]), out = [Int](repeating: 0, count: r)
        for d in 0..<r {
            let ek = dilations[d] * (kernel[d] - 1) + 1
            switch autoPad {
            case "VALID":
                pb[d] = 0; pe[d] = 0
                out[d] = (size[d] - ek) / strides[d] + 1
            case "SAME_UPPER", "SAME_LOWER":
                out[d] = (size[d] + strides[d] - 1) / strides[d]
                let total = max(0, (out[d] - 1) * strides[d] + ek - size[d])
                let small = total / 2
                pb[d] = autoPad == "SAME_UPPER" ? small : total - small
                pe[d] = total - pb[d]
            default:
                let span = size[d] + pb[d] + pe[d] - ek
                guard span >= 0 else { throw StalwartError.shapeMismatch("pooling window \(kernel) larger than padded input \(size)") }
                if ceilMode {
                    out[d] = (span + strides[d] - 1) / strides[d] + 1
                    // The last window must start inside the input or the left padding.
                    if (out[d] - 1) * strides[d] >= size[d] + pb[d] { out[d] -= 1 }
                } else {
                    out[d] = span / strides[d] + 1
                }
            }
            guard out[d] > 0 else { throw StalwartError.shapeMismatch("pooling output would be empty for input \(size)") }
        }
        return (pb, pe, out)
    }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        try Check.float(x, "input")
        guard x.shape.count == 2 + kernel.count else {
            throw StalwartError.shapeMismatch("input must have rank \(2 + kernel.count), got \(x.shape)")
        }
        let (_, _, out) = try geometry(Array(x.shape.dropFirst(2)))
        return [ValueInfo(.float32, Array(x.shape.prefix(2)) + out)]
    }

    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        let (pb, pe, out) = try geometry(Array(x.shape.dropFirst(2)))
        TensorOps.pool(io.f(0), shape: x.shape, kind: kind, kernel: kernel, strides: strides, dilations: dilations,
                       padsBegin: pb, padsEnd: pe, outSpatial: out, output: io.out(0), pool: io.pool)
    }
}

/// GlobalAveragePool / GlobalMaxPool over all spatial dims.
final class GlobalPoolOp: Operator {
    let max: Bool
    init(max: Bool) { self.max = max }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        try Check.float(x, "input")
        guard x.shape.count >= 2 else { throw StalwartError.shapeMismatch("input must be [N, C, ...], got \(x.shape)") }
        return [ValueInfo(.float32, Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2))]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        TensorOps.globalPool(io.f(0), batch: x.shape[0], channels: x.shape[1], spatial: x.shape.dropFirst(2).reduce(1, *),
                             max: max, output: io.out(0), pool: io.pool)
    }
}

/// BatchNormalization in inference mode (only when it could not be folded into a Conv).
final class BatchNormOp: Operator {
    let epsilon: Float
    init(_ ctx: OpBuildContext) throws {
        epsilon = try ctx.attrs.float("epsilon", default: 1e-5)
        if try ctx.attrs.int("training_mode", default: 0) != 0 { throw ctx.unsupported("training_mode=1") }
        if ctx.node.outputs.count > 1 && ctx.node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw ctx.unsupported("BatchNormalization training outputs")
        }
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 5, max: 5, "BatchNormalization")
        guard let x = ins[0] else { return [] }
        try Check.float(x, "input")
        guard x.shape.count >= 2 else { throw StalwartError.shapeMismatch("input must be [N, C, ...]") }
        for i in 1...4 where ins[i]?.shape.reduce(1, *) != x.shape[1] {
            throw StalwartError.shapeMismatch("parameter \(i) must have \(x.shape[1]) elements")
        }
        return [ValueInfo(.float32, x.shape)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        TensorOps.batchNorm(io.f(0), shape: x.shape, scale: io.f(1), bias: io.f(2), mean: io.f(3), variance: io.f(4),
                            epsilon: epsilon, output: io.out(0), pool: io.pool)
    }
}

/// InstanceNormalization and GroupNormalization (opset 18 per-group and opset 21 per-channel
/// scale/bias).
final class NormOp: Operator {
    let epsilon: Float
    let groups: Int?   // nil = instance norm
    let perGroupScale: Bool
    init(_ ctx: OpBuildContext, group: Bool) throws {
        epsilon = try ctx.attrs.float("epsilon", default: 1e-5)
        if group {
            guard let g = try ctx.attrs.int("num_groups"), g >= 1 else { throw ctx.fail("num_groups must be ≥ 1") }
            groups = g
            perGroupScale = ctx.opset < 21
        } else { groups = nil; perGroupScale = false }
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 3, max: 3, "normalization")
        guard let x = ins[0], let s = ins[1], let b = ins[2] else { return [] }
        try Check.float(x, "input")
        guard x.shape.count >= 2 else { throw StalwartError.shapeMismatch("input must be [N, C, ...]") }
        let c = x.shape[1]
        let want = perGroupScale ? (groups ?? c) : c
        guard s.shape.reduce(1, *) == want, b.shape.reduce(1, *) == want else {
            throw StalwartError.shapeMismatch("scale and bias must have \(want) elements")
        }
        if let g = groups, c % g != 0 { throw StalwartError.shapeMismatch("\(c) channels not divisible into \(g) groups") }
        return [ValueInfo(.float32, x.shape)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        guard let g = groups else {
            TensorOps.instanceNorm(io.f(0), shape: x.shape, scale: io.f(1), bias: io.f(2), epsilon: epsilon, output: io.out(0), pool: io.pool)
            return
        }
        let c = x.shape[1]
        var scale = [Float](repeating: 0, count: c), bias = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            let src = perGroupScale ? ch / (c / g) : ch
            scale[ch] = io.f(1)[src]; bias[ch] = io.f(2)[src]
        }
        TensorOps.groupNorm(io.f(0), shape: x.shape, groups: g, scale: scale, bias: bias, epsilon: epsilon, output: io.out(0), pool: io.pool)
    }
}

/// LRN across channels.
final class LRNOp: Operator {
    let size: Int, alpha: Float, beta: Float, bias: Float
    init(_ ctx: OpBuildContext) throws {
        guard let s = try ctx.attrs.int("size"), s >= 1 else { throw ctx.fail("size must be ≥ 1") }
        size = s
        alpha = try ctx.attrs.float("alpha", default: 1e-4)
        beta = try ctx.attrs.float("beta", default: 0.75)
        bias = try ctx.attrs.float("bias", default: 1)
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        try Check.float(x, "input")
        guard x.shape.count >= 2 else { throw StalwartError.shapeMismatch("input must be [N, C, ...]") }
        return [ValueInfo(.float32, x.shape)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        TensorOps.lrn(io.f(0), shape: x.shape, size: size, alpha: alpha, beta: beta, bias: bias, output: io.out(0))
    }
}

/// Softmax / LogSoftmax: opset < 13 flattens to 2-D at `axis` (default 1); opset ≥ 13 works
/// along the single `axis` (default -1).
final class SoftmaxOp: Operator {
    let axis: Int, legacy: Bool, log: Bool
    init(_ ctx: OpBuildContext, log: Bool) throws {
        legacy = ctx.opset < 13
        axis = try ctx.attrs.int("axis", default: legacy ? 1 : -1)
        self.log = log
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        try Check.float(x, "input")
        _ = try Check.axis(axis, rank: x.shape.count)
        return [ValueInfo(.float32, x.shape)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        let s = x.shape
        let a = try Check.axis(axis, rank: s.count)
        let outer = s[..<a].reduce(1, *)
        let (len, inner) = legacy ? (s[a...].reduce(1, *), 1) : (s.isEmpty ? 1 : s[a], s.isEmpty ? 1 : s[(a + 1)...].reduce(1, *))
        TensorOps.softmax(io.f(0), outer: outer, axisLen: len, inner: inner, log: log, output: io.out(0))
    }
}

/// ReduceMean/Sum/Max/Min/Prod/L1/L2/LogSumExp/SumSquare with axes as attribute or input
/// (input form: ReduceSum from opset 13, the others from 18) and keepdims.
final class ReduceOp: Operator {
    let kind: TensorOps.ReduceKind
    let attrAxes: [Int]?, keepDims: Bool, noopWithEmptyAxes: Bool, axesFromInput: Bool
    init(_ ctx: OpBuildContext, kind: TensorOps.ReduceKind, inputAxesSince: Int) throws {
        self.kind = kind
        axesFromInput = ctx.opset >= inputAxesSince
        attrAxes = axesFromInput ? nil : try ctx.attrs.ints("axes")
        keepDims = try ctx.attrs.int("keepdims", default: 1) != 0
        noopWithEmptyAxes = try ctx.attrs.int("noop_with_empty_axes", default: 0) != 0
    }
    func axes(_ ins: [ValueInfo?], rank: Int) throws -> [Int]? {
        var list = attrAxes
        if axesFromInput, ins.count > 1, ins[1] != nil { list = try constantInts(ins[1], "axes") }
        if let l = list, !l.isEmpty { return Array(Set(try l.map { try Check.axis($0, rank: rank) })).sorted() }
        return noopWithEmptyAxes ? nil : Array(0..<rank)
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        try Check.float(x, "input")
        guard let ax = try axes(ins, rank: x.shape.count) else { return [ValueInfo(.float32, x.shape)] }
        var out: [Int] = []
        for (d, n) in x.shape.enumerated() {
            if ax.contains(d) { if keepDims { out.append(1) } } else { out.append(n) }
        }
        return [ValueInfo(.float32, out)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        guard let ax = try axes(io.inputInfo, rank: x.shape.count) else {
            io.outputs[0].copyMemory(from: io.f(0), byteCount: x.shape.reduce(1, *) * 4)
            return
        }
        TensorOps.reduce(io.f(0), shape: x.shape, axes: ax, kind: kind, output: io.out(0))
    }
}

/// ArgMax / ArgMin along an axis (keepdims, select_last_index) → int64.
final class ArgOp: Operator {
    let axis: Int, keepDims: Bool, last: Bool, isMax: Bool
    init(_ ctx: OpBuildContext, max: Bool) throws {
        axis = try ctx.attrs.int("axis", default: 0)
        keepDims = try ctx.attrs.int("keepdims", default: 1) != 0
        last = try ctx.attrs.int("select_last_index", default: 0) != 0
        isMax = max
    }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        try Check.float(x, "input")
        let a = try Check.axis(axis, rank: x.shape.count)
        var out = x.shape
        if keepDims { out[a] = 1 } else { out.remove(at: a) }
        return [ValueInfo(.int64, out)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        let a = try Check.axis(axis, rank: x.shape.count)
        let outer = x.shape[..<a].reduce(1, *), len = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *)
        let p = io.f(0), o = io.outputs[0].assumingMemoryBound(to: Int64.self)
        for i in 0..<outer {
            for j in 0..<inner {
                var best = 0
                var bv = p[i * len * inner + j]
                for k in 1..<max(len, 1) {
                    let v = p[(i * len + k) * inner + j]
                    let better = isMax ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv)
                    if better { bv = v; best = k }
                }
                o[i * inner + j] = Int64(best)
            }
        }
    }
}

/// Resize (opset 10+) and Upsample (opset 7–9): nearest, linear and cubic.
final class ResizeOp: Operator {
    let mode: TensorOps.ResizeMode
    let transform: TensorOps.CoordinateTransform
    let excludeOutside: Bool
    let upsample: Bool
    let attrScales: [Float]?
    let opset: Int

    init(_ ctx: OpBuildContext, upsample: Bool) throws {
        let a = ctx.attrs
        opset = ctx.opset
        self.upsample = upsample
        let m = try a.string("mode", default: "nearest")
        let nm = try a.string("nearest_mode", default: "round_prefer_floor")
        let near: TensorOps.NearestMode
        switch nm {
        case "round_prefer_floor": near = .roundPreferFloor
        case "round_prefer_ceil": near = .roundPreferCeil
        case "floor": near = .floor
        case "ceil": near = .ceil
        default: throw ctx.unsupported("nearest_mode '\(nm)'")
        }
        switch m {
        case "nearest": mode = .nearest(upsample || ctx.opset < 11 ? .floor : near)
        case "linear", "bilinear": mode = .linear
        case "cubic": mode = .cubic(a: try a.float("cubic_coeff_a", default: -0.75))
        default: throw ctx.unsupported("mode '\(m)'")
        }
        let ct = upsample || ctx.opset < 11 ? "asymmetric" : try a.string("coordinate_transformation_mode", default: "half_pixel")
        switch ct {
        case "half_pixel": transform = .halfPixel
        case "pytorch_half_pixel": transform = .pytorchHalfPixel
        case "align_corners": transform = .alignCorners
        case "asymmetric": transform = .asymmetric
        case "tf_half_pixel_for_nn": transform = .tfHalfPixelForNN
        case "half_pixel_symmetric": transform = .halfPixelSymmetric
        default: throw ctx.unsupported("coordinate_transformation_mode '\(ct)'")
        }
        excludeOutside = try a.int("exclude_outside", default: 0) != 0
        if try a.int("antialias", default: 0) != 0 { throw ctx.unsupported("antialias=1") }
        if let kar = try a.string("keep_aspect_ratio_policy"), kar != "stretch" { throw ctx.unsupported("keep_aspect_ratio_policy '\(kar)'") }
        if try a.ints("axes") != nil { throw ctx.unsupported("Resize axes attribute") }
        attrScales = upsample ? try a.floats("scales") : nil
    }

    func resolve(_ ins: [ValueInfo?], _ shape: [Int]) throws -> (scales: [Float], out: [Int]) {
        var scales: [Float]? = attrScales
        var sizes: [Int]? = nil
        if upsample, scales == nil, ins.count > 1, let s = ins[1]?.constant { scales = (0..<s.count).map { Float(s.element(asDouble: $0)) } }
        if !upsample {
            let scaleIdx = opset >= 11 ? 2 : 1
            if ins.count > scaleIdx, let s = ins[scaleIdx], s.shape.reduce(1, *) > 0 {
                guard let c = s.constant else { throw StalwartError.unsupported("Resize scales must be known before running") }
                scales = (0..<c.count).map { Float(c.element(asDouble: $0)) }
            }
            if opset >= 11, ins.count > 3, let s = ins[3], s.shape.reduce(1, *) > 0 {
                sizes = try constantInts(s, "sizes")
            }
        }
        if let sz = sizes {
            guard sz.count == shape.count, sz.allSatisfy({ $0 > 0 }) else { throw StalwartError.invalidModel("sizes \(sz) do not match rank \(shape.count)") }
            return (zip(sz, shape).map { Float($0) / Float($1) }, sz)
        }
        guard let sc = scales, sc.count == shape.count, sc.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw StalwartError.invalidModel("Resize needs scales or sizes matching rank \(shape.count)")
        }
        let out = zip(shape, sc).map { Int((Float($0) * $1).rounded(.down)) }
        guard out.allSatisfy({ $0 > 0 && $0 < 1 << 24 }) else { throw StalwartError.shapeMismatch("resized shape \(out) is empty or too large") }
        return (sc, out)
    }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil else { throw StalwartError.invalidModel("missing input") }
        try Check.float(x, "input")
        return [ValueInfo(.float32, try resolve(ins, x.shape).out)]
    }
    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        let r = try resolve(io.inputInfo, x.shape)
        TensorOps.resize(io.f(0), shape: x.shape, outShape: r.out, scales: r.scales, mode: mode, transform: transform,
                         excludeOutside: excludeOutside, output: io.out(0))
    }
}
