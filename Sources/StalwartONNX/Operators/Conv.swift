import Glibc
import StalwartTensor

/// ONNX Conv (1-D and 2-D, groups, dilations, strides, explicit pads or auto_pad) on NCHW
/// float32, with weights packed once at load by `PackedConv2D`. The optimizer may have folded
/// BatchNormalization / affine Mul-Add chains into the weights and attached an activation and
/// a residual input (`inputs[3]`), all applied in the kernel epilogue.
final class ConvOp: Operator {
    let label: String
    let spatialRank: Int
    let kernel: [Int], strides: [Int], dilations: [Int]
    let explicitPads: [Int]          // [begin..., end...]
    let autoPad: String
    let group: Int
    let activation: FusedActivation
    let hasResidual: Bool
    let weightShape: [Int]?          // OIHW when constant
    /// The geometry when the padding is known at load (constant weights, 1-/2-D, explicit or
    /// VALID pads); validated at load, packed on first use.
    let fixedGeometry: Conv2DGeometry?
    let weights: Tensor?, bias: Tensor?
    private let cacheLock = Lock()
    /// NCHW packings by input spatial size ([] for `fixedGeometry`), created when a plan first
    /// runs this convolution on NCHW tensors (most plans run it blocked, see `blockedForm`).
    private var packedBySize: [[Int]: PackedConv2D] = [:]
    /// Blocked forms by input spatial size + [planar input ? 1 : 0].
    private var blockedBySize: [[Int]: BlockedConv] = [:]

    init(_ ctx: OpBuildContext) throws {
        let a = ctx.attrs
        try a.check(known: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
        label = ctx.node.label
        activation = ctx.node.fusedActivation
        hasResidual = ctx.node.fusedResidual
        group = try a.int("group", default: 1)
        autoPad = try a.string("auto_pad", default: "NOTSET")
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
            throw ctx.fail("auto_pad '\(autoPad)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
        }
        weights = ctx.constant(1)
        bias = ctx.hasInput(2) ? ctx.constant(2) : nil
        if ctx.hasInput(2) && bias == nil {
            throw ctx.unsupported("a bias computed at run time is not supported")
        }
        var ks = try a.ints("kernel_shape")
        if let w = weights {
            guard w.shape.count >= 3, w.dtype == .float32 else {
                throw ctx.fail("weights must be float32 of rank ≥ 3, got \(w.dtype) \(w.shape)")
            }
            let wk = Array(w.shape.dropFirst(2))
            if let k = ks, k != wk { throw ctx.fail("kernel_shape \(k) does not match weights \(w.shape)") }
            ks = wk
            weightShape = w.shape
        } else {
            weightShape = nil
        }
        guard let k = ks else { throw ctx.unsupported("weights computed at run time need kernel_shape") }
        spatialRank = k.count
        guard (1...3).contains(spatialRank) else {
            throw ctx.unsupported("\(spatialRank)-D convolution (1-D, 2-D and 3-D are supported)")
        }
        kernel = k
        strides = try a.ints("strides") ?? Array(repeating: 1, count: spatialRank)
        dilations = try a.ints("dilations") ?? Array(repeating: 1, count: spatialRank)
        explicitPads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * spatialRank)
        guard strides.count == spatialRank, dilations.count == spatialRank, explicitPads.count == 2 * spatialRank,
              strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), explicitPads.allSatisfy({ $0 >= 0 }),
              kernel.allSatisfy({ $0 >= 1 }), group >= 1,
              (strides + dilations + explicitPads + kernel + [group]).allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw ctx.fail("invalid strides \(strides), dilations \(dilations), pads \(explicitPads), kernel \(kernel) or group \(group) (each at most 2³¹ − 1)")
        }
        if let w = weights {
            guard w.shape[0] % group == 0 else { throw ctx.fail("output channels \(w.shape[0]) not divisible by group \(group)") }
            if let b = bias, b.shape != [w.shape[0]] || b.dtype != .float32 {
                throw ctx.fail("bias shape \(b.shape) does not match \(w.shape[0]) output channels")
            }
            if spatialRank <= 2 && (autoPad == "NOTSET" || autoPad == "VALID") {
                let g = ConvOp.geometry(pads: autoPad == "VALID" ? Array(repeating: 0, count: 2 * spatialRank) : explicitPads,
                                        w: w.shape, rank: spatialRank, kernel: kernel, strides: strides, dilations: dilations, group: group)
                guard g.outChannels % g.groups == 0, g.inChannels % g.groups == 0 else {
                    throw ctx.fail("channels \(g.inChannels) → \(g.outChannels) not divisible by group \(group)")
                }
                let (k, o1) = g.kernelH.multipliedReportingOverflow(by: g.kernelW)
                let (wc, o2) = w.shape[0].multipliedReportingOverflow(by: w.shape[1])
                let (total, o3) = wc.multipliedReportingOverflow(by: k)
                guard !o1, !o2, !o3, total == w.count else { throw ctx.fail("weights \(w.shape) overflow or do not match the kernel") }
                fixedGeometry = g
                return
            }
        }
        fixedGeometry = nil
    }

    func geometry(pads: [Int], w: [Int]) -> Conv2DGeometry {
        ConvOp.geometry(pads: pads, w: w, rank: spatialRank, kernel: kernel, strides: strides, dilations: dilations, group: group)
    }

    private static func geometry(pads: [Int], w: [Int], rank spatialRank: Int, kernel: [Int], strides: [Int],
                                 dilations: [Int], group: Int) -> Conv2DGeometry {
        if spatialRank == 1 {
            return Conv2DGeometry(inChannels: w[1] * group, outChannels: w[0], groups: group,
                                  kernelH: 1, kernelW: kernel[0], strideH: 1, strideW: strides[0],
                                  dilationH: 1, dilationW: dilations[0],
                                  padTop: 0, padLeft: pads[0], padBottom: 0, padRight: pads[1])
        }
        return Conv2DGeometry(inChannels: w[1] * group, outChannels: w[0], groups: group,
                              kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1],
                              dilationH: dilations[0], dilationW: dilations[1],
                              padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3])
    }

    /// Pads for an input of spatial size `size` (auto_pad resolved as ONNX specifies).
    func pads(for size: [Int]) -> [Int] {
        switch autoPad {
        case "VALID": return Array(repeating: 0, count: 2 * spatialRank)
        case "SAME_UPPER", "SAME_LOWER":
            var b = [Int](), e = [Int]()
            for d in 0..<spatialRank {
                let out = (size[d] + strides[d] - 1) / strides[d]
                let total = max(0, (out - 1) * strides[d] + dilations[d] * (kernel[d] - 1) + 1 - size[d])
                let small = total / 2, large = total - small
                b.append(autoPad == "SAME_UPPER" ? small : large)
                e.append(autoPad == "SAME_UPPER" ? large : small)
            }
            return b + e
        default: return explicitPads
        }
    }

    private func spatial(_ shape: [Int]) -> (h: Int, w: Int) {
        spatialRank == 1 ? (1, shape[2]) : (shape[2], shape[3])
    }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        guard let x = ins.first ?? nil, ins.count >= 2, let w = ins[1] else { throw StalwartError.invalidModel("Conv needs X and W") }
        try Check.float(x, "Conv input")
        guard x.shape.count == 2 + spatialRank else {
            throw StalwartError.shapeMismatch("input must have rank \(2 + spatialRank), got shape \(x.shape)")
        }
        guard w.shape.count == 2 + spatialRank, x.shape[1] == w.shape[1] * group else {
            throw StalwartError.shapeMismatch("input has \(x.shape[1]) channels but weights \(w.shape) with group \(group) expect \(w.shape.count > 1 ? w.shape[1] * group : -1)")
        }
        let size = Array(x.shape.dropFirst(2))
        if spatialRank == 3 {
            let p = pads(for: size)
            var out = [x.shape[0], w.shape[0]]
            for d in 0..<3 {
                let span = size[d] + p[d] + p[3 + d] - (dilations[d] * (kernel[d] - 1) + 1)
                guard span >= 0 else { throw StalwartError.shapeMismatch("input spatial size \(size) is smaller than the kernel window") }
                out.append(span / strides[d] + 1)
            }
            return [ValueInfo(.float32, out)]
        }
        let g = geometry(pads: pads(for: size), w: w.shape)
        let (h, wd) = spatial(x.shape)
        guard let o = g.outputSize(h: h, w: wd) else {
            throw StalwartError.shapeMismatch("input spatial size \(size) is smaller than the kernel window")
        }
        let outShape = spatialRank == 1 ? [x.shape[0], w.shape[0], o.w] : [x.shape[0], w.shape[0], o.h, o.w]
        if hasResidual, ins.count > 3, let r = ins[3], r.shape != outShape {
            // The residual only broadcasts: handled by `executeBroadcastResidual`, as long as
            // the sum keeps the convolution's shape.
            guard Shape.broadcast(outShape, r.shape) == outShape, r.dtype == .float32 else {
                throw StalwartError.unsupported("residual Add of \(r.shape) \(r.dtype) onto the convolution output \(outShape)")
            }
        }
        return [ValueInfo(.float32, outShape)]
    }

    private func packedFor(_ ins: [ValueInfo?], weights w: UnsafePointer<Float>?) throws -> PackedConv2D {
        guard let x = ins[0], let wi = ins[1] else { throw StalwartError.internal("missing input") }
        let size = fixedGeometry != nil ? [] : Array(x.shape.dropFirst(2))
        if weightShape != nil {
            cacheLock.lock()
            if let p = packedBySize[size] { cacheLock.unlock(); return p }
            cacheLock.unlock()
        }
        guard let wp = w ?? weights.map({ UnsafePointer($0.floats) }) else { throw StalwartError.internal("no weights") }
        let p: PackedConv2D
        do {
            p = try PackedConv2D(geometry: fixedGeometry ?? geometry(pads: pads(for: size), w: wi.shape), weights: wp,
                                 bias: bias.map { UnsafePointer($0.floats) }, activation: activation)
        } catch { throw StalwartError(error) }
        if weightShape != nil {
            cacheLock.lock(); packedBySize[size] = p; cacheLock.unlock()
        }
        return p
    }

    /// The blocked form of this convolution for an input of `x`'s shape (see
    /// `BlockedLayoutPass`), or nil when it has none: 3-D/1-D, weights computed at run time, a
    /// grouped convolution that is not depthwise, a broadcasting residual, or sizes the blocked
    /// path does not take. `inputBlocked`: the input is already blocked (otherwise a dense
    /// convolution with fewer than 16 input channels reads it as NCHW planes).
    func blockedForm(input x: ValueInfo, residual: ValueInfo?, output: ValueInfo, inputBlocked: Bool) -> BlockedConv? {
        guard spatialRank == 2, let w = weights, weightShape != nil, x.shape.count == 4, x.dtype == .float32,
              output.shape.count == 4 else { return nil }
        if hasResidual {
            guard let r = residual, r.shape == output.shape, r.dtype == .float32 else { return nil }
        }
        let size = [x.shape[2], x.shape[3]]
        let g = fixedGeometry ?? geometry(pads: pads(for: size), w: w.shape)
        guard BlockedConv.supports(g) else { return nil }
        let planar = !inputBlocked && g.groups == 1 && g.inChannels < ChannelBlocks.width
        let winograd = g.outputSize(h: size[0], w: size[1]).map {
            WinogradConv.preferred(g, oh: $0.h, ow: $0.w, batch: x.shape[0])
        } ?? false
        let key = size + [planar ? 1 : 0, winograd ? 1 : 0]
        cacheLock.lock()
        if let b = blockedBySize[key] { cacheLock.unlock(); return b.supports(h: size[0], w: size[1]) ? b : nil }
        cacheLock.unlock()
        guard let b = try? BlockedConv(geometry: g, weights: w.floats, bias: bias?.floats, activation: activation,
                                       planarInput: planar, winograd: winograd),
              b.supports(h: size[0], w: size[1]) else { return nil }
        cacheLock.lock(); blockedBySize[key] = b; cacheLock.unlock()
        return b
    }

    func scratchBytes(_ ins: [ValueInfo?], threads: Int) -> Int {
        guard spatialRank <= 2, let x = ins[0], let p = try? packedFor(ins, weights: nil) else {
            // 3-D convolution and run-time weights allocate their own scratch in `execute`.
            return 0
        }
        let (h, w) = spatial(x.shape)
        return p.scratchByteCount(batch: x.shape[0], h: h, w: w, threads: threads)
    }

    func execute(_ io: OpIO) throws {
        guard let x = io.inputInfo[0] else { return }
        if spatialRank == 3 { try execute3D(io); return }
        let runtimeWeights = weightShape == nil ? io.inputs[1]?.assumingMemoryBound(to: Float.self) : nil
        let p = try packedFor(io.inputInfo, weights: runtimeWeights)
        let (h, w) = spatial(x.shape)
        var scratch = io.scratch
        var owned: UnsafeMutableRawPointer? = nil
        if weightShape == nil {
            let need = p.scratchByteCount(batch: x.shape[0], h: h, w: w, threads: io.pool.threadCount)
            if need > 0 {
                owned = alignedAllocate(need)
                guard owned != nil else { throw StalwartError.outOfMemory("conv scratch of \(need) bytes") }
                scratch = owned
            }
        }
        defer { free(owned) }
        let residual = hasResidual && io.inputs.count > 3 ? io.inputs[3]?.assumingMemoryBound(to: Float.self) : nil
        if let r = residual, let ri = io.inputInfo[3], ri.shape != io.outputInfo[0].shape {
            try executeBroadcastResidual(io, r, ri.shape, h: h, w: w, scratch: scratch)
            return
        }
        p.run(input: io.f(0), output: io.out(0), residual: residual, batch: x.shape[0], h: h, w: w,
              scratch: scratch, pool: io.pool)
    }

    /// Rare path: the fused residual broadcasts (e.g. [1, C, 1, 1] computed at run time). Runs
    /// the convolution without epilogue, then adds and activates element-wise.
    private func executeBroadcastResidual(_ io: OpIO, _ r: UnsafePointer<Float>, _ rShape: [Int],
                                          h: Int, w: Int, scratch: UnsafeMutableRawPointer?) throws {
        guard let x = io.inputInfo[0], let wi = io.inputInfo[1] else { return }
        let plain: PackedConv2D
        do {
            let wp = weightShape == nil ? io.inputs[1]?.assumingMemoryBound(to: Float.self) : weights.map { UnsafePointer($0.floats) }
            guard let wp else { throw StalwartError.internal("no weights") }
            plain = try PackedConv2D(geometry: geometry(pads: pads(for: Array(x.shape.dropFirst(2))), w: wi.shape), weights: wp,
                                     bias: bias.map { UnsafePointer($0.floats) }, activation: .none)
        } catch let e as TensorError { throw StalwartError(e) }
        let need = plain.scratchByteCount(batch: x.shape[0], h: h, w: w, threads: io.pool.threadCount)
        let own = need > 0 ? alignedAllocate(need) : nil
        defer { free(own) }
        guard need == 0 || own != nil else { throw StalwartError.outOfMemory("conv scratch of \(need) bytes") }
        let out = io.out(0), outShape = io.outputInfo[0].shape
        plain.run(input: io.f(0), output: out, residual: nil, batch: x.shape[0], h: h, w: w, scratch: own, pool: io.pool)
        let it = BroadcastIterator(outShape, rShape, out: outShape)
        let act = activation
        for run in 0..<it.runs {
            let (_, ob) = it.offsets(run: run)
            let base = run * it.innerCount
            for i in 0..<it.innerCount { out[base + i] = act.apply(out[base + i] + r[ob + i * it.innerB]) }
        }
    }
}

extension ConvOp {
    /// 3-D convolution: per image and group, im2col into [Cin/g·kd·kh·kw, OD·OH·OW] then one
    /// SGEMM with the OIDHW weights; bias, residual and activation applied afterwards.
    func execute3D(_ io: OpIO) throws {
        guard let xi = io.inputInfo[0], let wp = io.inputs[1] else { return }
        let x = io.f(0), w = wp.assumingMemoryBound(to: Float.self), y = io.out(0)
        let os = io.outputInfo[0].shape
        let (n, c, m) = (xi.shape[0], xi.shape[1], os[1])
        let ins = Array(xi.shape[2...]), outs = Array(os[2...])
        let p = pads(for: ins)
        let cg = c / group, mg = m / group
        let k = cg * kernel[0] * kernel[1] * kernel[2]
        let plane = outs[0] * outs[1] * outs[2], inPlane = ins[0] * ins[1] * ins[2]
        let (cols, o) = k.multipliedReportingOverflow(by: plane)
        guard !o, let col = alignedAllocate(cols * 4)?.assumingMemoryBound(to: Float.self) else {
            throw StalwartError.outOfMemory("3-D convolution column buffer")
        }
        defer { free(col) }
        for b in 0..<n {
            for g in 0..<group {
                var row = 0
                for ci in 0..<cg {
                    let src = x + (b * c + g * cg + ci) * inPlane
                    for kd in 0..<kernel[0] { for kh in 0..<kernel[1] { for kw in 0..<kernel[2] {
                        let dst = col + row * plane
                        var q = 0
                        for od in 0..<outs[0] {
                            let id = od * strides[0] - p[0] + kd * dilations[0]
                            for oh in 0..<outs[1] {
                                let ih = oh * strides[1] - p[1] + kh * dilations[1]
                                for ow in 0..<outs[2] {
                                    let iw = ow * strides[2] - p[2] + kw * dilations[2]
                                    let inside = id >= 0 && id < ins[0] && ih >= 0 && ih < ins[1] && iw >= 0 && iw < ins[2]
                                    dst[q] = inside ? src[(id * ins[1] + ih) * ins[2] + iw] : 0
                                    q += 1
                                }
                            }
                        }
                        row += 1
                    } } }
                }
                Sgemm.run(transA: false, transB: false, m: mg, n: plane, k: k, alpha: 1,
                          a: w + g * mg * k, lda: k, b: col, ldb: plane, beta: 0,
                          c: y + (b * m + g * mg) * plane, ldc: plane, pool: io.pool)
            }
        }
        let bias = io.inputs.count > 2 ? io.inputs[2]?.assumingMemoryBound(to: Float.self) : nil
        let residual = hasResidual && io.inputs.count > 3 ? io.inputs[3]?.assumingMemoryBound(to: Float.self) : nil
        for b in 0..<n {
            for ch in 0..<m {
                let base = (b * m + ch) * plane
                let bv = bias?[ch] ?? 0
                for i in 0..<plane {
                    var v = y[base + i] + bv
                    if let r = residual { v += r[base + i] }
                    y[base + i] = activation.apply(v)
                }
            }
        }
    }
}
