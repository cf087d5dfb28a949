#if canImport(Glibc)
import Glibc
#else
import Glibc
#endif

// Pooling on NC[D]HW float32 tensors. 1-D and 2-D pools run through the 3-D loop with unit
// leading axes; per-axis tables of the valid kernel-tap range for each output index keep the
// inner loop free of bounds checks.

extension TensorOps {
    /// What `pool` computes over each window.
    public enum PoolKind: Sendable, Hashable {
        /// Max over the taps inside the input (padding never wins).
        case max
        /// Mean; with `countIncludePad` the divisor counts taps inside the input plus explicit
        /// pads (not the ceil_mode overhang past the end pad), otherwise only taps inside the input.
        case average(countIncludePad: Bool)
        /// (Σ |x|^p)^(1/p) over taps inside the input (padding contributes 0); p ≥ 1.
        case lp(p: Int)
    }

    /// N-d pooling (1, 2 or 3 spatial dims). `input` is [N, C, spatial...] row-major, `output`
    /// is [N, C, outSpatial...]. `kernel`, `strides` (≥ 1), `dilations` (≥ 1), `padsBegin`,
    /// `padsEnd` (≥ 0) and `outSpatial` have one entry per spatial dim. Output index o covers
    /// taps `o*stride - padBegin + k*dilation`, k < kernel; taps outside the input are skipped
    /// (clipped), which also handles ceil_mode outputs whose window runs past the end pad.
    /// The averaging divisor follows ONNX Runtime (see `PoolKind.average`). A window with no tap
    /// inside the input yields 0 (average, Lp) or `-Float.greatestFiniteMagnitude` (max, as
    /// ONNX Runtime). Parallel over output rows of all planes.
    public static func pool(_ input: UnsafePointer<Float>, shape: [Int], kind: PoolKind,
                            kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int],
                            padsEnd: [Int], outSpatial: [Int], output: UnsafeMutablePointer<Float>,
                            pool: ThreadPool) {
        let s = shape.count - 2
        guard s >= 1, s <= 3, kernel.count == s, strides.count == s, dilations.count == s,
              padsBegin.count == s, padsEnd.count == s, outSpatial.count == s,
              elementCount(shape) != nil,
              let outCount = elementCount(Array(shape[0..<2]) + outSpatial) else { return }
        if outCount == 0 { return }
        if case .lp(let p) = kind, p < 1 { return }
        // Pad to 3 spatial axes (leading unit axes).
        var geo = PoolGeometry()
        for a in 0..<3 {
            let j = a - (3 - s)
            if j < 0 {
                geo.axes[a] = PoolAxis(inLen: 1, outLen: 1, k: 1, stride: 1, dil: 1, pb: 0, pe: 0)
                continue
            }
            let ax = PoolAxis(inLen: shape[2 + j], outLen: outSpatial[j], k: kernel[j],
                              stride: strides[j], dil: dilations[j], pb: padsBegin[j], pe: padsEnd[j])
            guard ax.k >= 1, ax.stride >= 1, ax.dil >= 1, ax.pb >= 0, ax.pe >= 0,
                  let a1 = checkedMul(ax.outLen, ax.stride), let a2 = checkedMul(ax.k, ax.dil),
                  a1 < Int.max / 8, a2 < Int.max / 8, ax.pb < Int.max / 8, ax.pe < Int.max / 8
            else { return }
            geo.axes[a] = ax
        }
        geo.buildTables()
        let planes = shape[0] &* shape[1]
        let rows = planes &* geo.axes[0].outLen &* geo.axes[1].outLen
        let window = geo.axes[0].k &* geo.axes[1].k &* geo.axes[2].k
        let work = geo.axes[2].outLen &* Swift.max(window, 1)
        geo.table.withUnsafeBufferPointer { tb in
            guard let t = tb.baseAddress else { return }
            parallelRanges(pool, count: rows, workPerItem: work) { range in
                switch kind {
                case .max:
                    poolRows(MaxAcc(), input, output, geo, t, range)
                case .average(let includePad):
                    poolRows(MeanAcc(includePad: includePad), input, output, geo, t, range)
                case .lp(let p):
                    if p == 1 {
                        poolRows(AbsSumAcc(), input, output, geo, t, range)
                    } else if p == 2 {
                        poolRows(L2Acc(), input, output, geo, t, range)
                    } else {
                        poolRows(PowAcc(p: Float(p)), input, output, geo, t, range)
                    }
                }
            }
        }
    }

    /// Global pooling: `input` [batch, channels, spatial] (spatial = product of the spatial
    /// dims), `output` [batch, channels]: the mean (`max == false`) or the max of each plane.
    /// An empty plane yields 0 (mean) or `-Float.greatestFiniteMagnitude` (max). Sums use 8
    /// independent Float lanes (pairwise-like error, ~1e-6 relative for 10⁵ elements).
    public static func globalPool(_ input: UnsafePointer<Float>, batch: Int, channels: Int,
                                  spatial: Int, max: Bool, output: UnsafeMutablePointer<Float>,
                                  pool: ThreadPool) {
        guard batch >= 0, channels >= 0, spatial >= 0, let planes = checkedMul(batch, channels),
              checkedMul(planes, spatial) != nil else { return }
        parallelRanges(pool, count: planes, workPerItem: spatial) { range in
            for p in range {
                let x = input + p &* spatial
                if spatial == 0 {
                    output[p] = max ? -Float.greatestFiniteMagnitude : 0
                } else if max {
                    output[p] = maxOf(x, spatial)
                } else {
                    output[p] = sumOf(x, spatial) / Float(spatial)
                }
            }
        }
    }

    /// Sum of `n` floats with 8 independent accumulators (vectorizes, reduces rounding error).
    @inline(__always)
    static func sumOf(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            a += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = a.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Max of `n ≥ 1` floats (4 interleaved running maxima; NaN inputs are skipped).
    @inline(__always)
    static func maxOf(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0
        var i = 0
        while i + 4 <= n {
            m0 = x[i] > m0 ? x[i] : m0
            m1 = x[i + 1] > m1 ? x[i + 1] : m1
            m2 = x[i + 2] > m2 ? x[i + 2] : m2
            m3 = x[i + 3] > m3 ? x[i + 3] : m3
            i += 4
        }
        while i < n { m0 = x[i] > m0 ? x[i] : m0; i += 1 }
        return Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
    }
}

// MARK: - Pool internals

struct PoolAxis {
    var inLen = 1, outLen = 1, k = 1, stride = 1, dil = 1, pb = 0, pe = 0
}

/// Geometry of a pool padded to 3 spatial axes, with a flat table holding, per axis and output
/// index: tap start offset, first valid tap, end valid tap, taps inside input + explicit pads.
struct PoolGeometry {
    var axes = [PoolAxis](repeating: PoolAxis(), count: 3)
    var table = [Int]()
    var base = [0, 0, 0]

    mutating func buildTables() {
        var t = [Int]()
        for a in 0..<3 {
            base[a] = t.count
            let ax = axes[a]
            for o in 0..<Swift.max(ax.outLen, 0) {
                let start = o * ax.stride - ax.pb
                let lo = start >= 0 ? 0 : Swift.min(ax.k, (-start + ax.dil - 1) / ax.dil)
                let room = ax.inLen - start
                var hi = room > 0 ? Swift.min(ax.k, (room + ax.dil - 1) / ax.dil) : 0
                if hi < lo { hi = lo }
                let padRoom = ax.inLen + ax.pe - start
                let cnt = padRoom > 0 ? Swift.min(ax.k, (padRoom + ax.dil - 1) / ax.dil) : 0
                t.append(start); t.append(lo); t.append(hi); t.append(cnt)
            }
        }
        table = t
    }
}

protocol PoolAccumulator {
    var initial: Float { get }
    func combine(_ acc: Float, _ x: Float) -> Float
    func finish(_ acc: Float, valid: Int, padded: Int) -> Float
}

struct MaxAcc: PoolAccumulator {
    var initial: Float { -.infinity }
    @inline(__always) func combine(_ acc: Float, _ x: Float) -> Float { x > acc ? x : acc }
    @inline(__always) func finish(_ acc: Float, valid: Int, padded: Int) -> Float {
        valid > 0 ? acc : -Float.greatestFiniteMagnitude
    }
}

struct MeanAcc: PoolAccumulator {
    let includePad: Bool
    var initial: Float { 0 }
    @inline(__always) func combine(_ acc: Float, _ x: Float) -> Float { acc + x }
    @inline(__always) func finish(_ acc: Float, valid: Int, padded: Int) -> Float {
        let n = includePad ? padded : valid
        return valid > 0 && n > 0 ? acc / Float(n) : 0
    }
}

struct AbsSumAcc: PoolAccumulator {
    var initial: Float { 0 }
    @inline(__always) func combine(_ acc: Float, _ x: Float) -> Float { acc + abs(x) }
    @inline(__always) func finish(_ acc: Float, valid: Int, padded: Int) -> Float { acc }
}

struct L2Acc: PoolAccumulator {
    var initial: Float { 0 }
    @inline(__always) func combine(_ acc: Float, _ x: Float) -> Float { acc + x * x }
    @inline(__always) func finish(_ acc: Float, valid: Int, padded: Int) -> Float { acc.squareRoot() }
}

struct PowAcc: PoolAccumulator {
    let p: Float
    var initial: Float { 0 }
    @inline(__always) func combine(_ acc: Float, _ x: Float) -> Float { acc + powf(abs(x), p) }
    @inline(__always) func finish(_ acc: Float, valid: Int, padded: Int) -> Float { powf(acc, 1 / p) }
}

extension TensorOps {
    /// Computes output rows `range` (row = one (plane, od, oh) line of `outW` outputs).
    @inline(__always)
    static func poolRows<A: PoolAccumulator>(_ acc: A, _ input: UnsafePointer<Float>,
                                             _ output: UnsafeMutablePointer<Float>,
                                             _ g: PoolGeometry, _ t: UnsafePointer<Int>,
                                             _ range: Range<Int>) {
        let ad = g.axes[0], ah = g.axes[1], aw = g.axes[2]
        let ID = ad.inLen, IH = ah.inLen, IW = aw.inLen
        let OD = ad.outLen, OH = ah.outLen, OW = aw.outLen
        let dd = ad.dil, dh = ah.dil, dw = aw.dil
        let td = t + g.base[0], th = t + g.base[1], tw = t + g.base[2]
        let inPlane = ID &* IH &* IW, outPlane = OD &* OH &* OW
        let rowsPerPlane = OD &* OH
        if rowsPerPlane == 0 || OW == 0 { return }
        for row in range {
            let plane = row / rowsPerPlane, rem = row % rowsPerPlane
            let od = rem / OH, oh = rem % OH
            let src = input + plane &* inPlane
            let dst = output + plane &* outPlane + rem &* OW
            let d0 = td[4 &* od], dlo = td[4 &* od + 1], dhi = td[4 &* od + 2], dcnt = td[4 &* od + 3]
            let h0 = th[4 &* oh], hlo = th[4 &* oh + 1], hhi = th[4 &* oh + 2], hcnt = th[4 &* oh + 3]
            let validDH = (dhi - dlo) &* (hhi - hlo), padDH = dcnt &* hcnt
            for ow in 0..<OW {
                let w0 = tw[4 &* ow], wlo = tw[4 &* ow + 1], whi = tw[4 &* ow + 2], wcnt = tw[4 &* ow + 3]
                var v = acc.initial
                var kd = dlo
                while kd < dhi {
                    let dOff = (d0 &+ kd &* dd) &* IH
                    var kh = hlo
                    while kh < hhi {
                        let rowBase = (dOff &+ h0 &+ kh &* dh) &* IW &+ w0
                        var kw = wlo
                        while kw < whi {
                            v = acc.combine(v, src[rowBase &+ kw &* dw])
                            kw &+= 1
                        }
                        kh &+= 1
                    }
                    kd &+= 1
                }
                dst[ow] = acc.finish(v, valid: validDH &* (whi - wlo), padded: padDH &* wcnt)
            }
        }
    }
}
