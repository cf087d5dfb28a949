#if canImport(Glibc)
import Glibc
#else
import Glibc
#endif

// Pooling on NC[D]HW float32 tensors. 1-D and 2-D pools run through the 3-D loop with unit
// leading axes; per-axis tables of the valid kernel-tap range for each output index keep the
// inner loop free of bounds checks. Max pools with width dilation 1 take a SIMD path (see
// "Max pool fast path" below) that computes 8 neighbouring outputs at once, bit-identical to
// the generic loop.

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
    /// ONNX Runtime). Parallel over output rows of all planes. Max pools with unit width
    /// dilation run a SIMD row kernel (`maxPoolRowsFast`) that is bit-identical to the generic
    /// loop, NaN and signed zeros included.
    public static func pool(_ input: UnsafePointer<Float>, shape: [Int], kind: PoolKind,
                            kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int],
                            padsEnd: [Int], outSpatial: [Int], output: UnsafeMutablePointer<Float>,
                            pool: ThreadPool) {
        self.pool(input, shape: shape, kind: kind, kernel: kernel, strides: strides, dilations: dilations,
                  padsBegin: padsBegin, padsEnd: padsEnd, outSpatial: outSpatial, output: output,
                  pool: pool, fastPaths: true)
    }

    /// `pool` with the fast paths switchable: `fastPaths == false` runs every pool through the
    /// generic scalar loop (the reference the fast paths are tested against).
    static func pool(_ input: UnsafePointer<Float>, shape: [Int], kind: PoolKind,
                     kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int],
                     padsEnd: [Int], outSpatial: [Int], output: UnsafeMutablePointer<Float>,
                     pool: ThreadPool, fastPaths: Bool) {
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
        var work = geo.axes[2].outLen &* Swift.max(window, 1)
        var fastMax = false
        if case .max = kind, fastPaths, geo.axes[2].dil == 1 { fastMax = true }
        geo.table.withUnsafeBufferPointer { tb in
            guard let t = tb.baseAddress else { return }
            let vector = fastMax ? maxPoolVectorColumns(geo, t) : 0..<0
            // 8-wide kernels cost about a quarter of the scalar loop per tap.
            if !vector.isEmpty { work = Swift.max(work / 4, 1) }
            parallelRanges(pool, count: rows, workPerItem: work) { range in
                switch kind {
                case .max:
                    if fastMax {
                        maxPoolRowsFast(input, output, geo, t, vector, range)
                    } else {
                        poolRows(MaxAcc(), input, output, geo, t, range)
                    }
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

// MARK: - Max pool fast path

// Exactness. The generic loop folds every window with c(acc, x) = x > acc ? x : acc from -inf,
// taps in (kd, kh, kw) order. The result is the largest non-NaN tap (-inf when all are NaN);
// the only order dependence is between +0 and -0, where the first zero met wins. The kernels
// below fold each output's taps in that same order (rows in (kd, kh) order, taps left to right
// within a row), vectorized across 8 neighbouring outputs, so their results are bit-identical to
// the generic loop. A separable "vertical max first" pass would visit taps column by column and
// can flip the sign of a zero result (e.g. window [-1, -0; +0, -1] gives -0, column order +0).

/// A max window width, constant for the common widths so the tap loop unrolls.
protocol MaxPoolTaps { var k: Int { get } }
struct MaxPoolTaps2: MaxPoolTaps { var k: Int { 2 } }
struct MaxPoolTaps3: MaxPoolTaps { var k: Int { 3 } }
struct MaxPoolTapsN: MaxPoolTaps { let k: Int }

/// The input rows one output row reads, in fold order: `nd` depth slices `dStep` apart, each
/// with `nh` rows `hStep` apart, starting at `first` (column 0 of the first tapped row).
struct MaxPoolRows {
    let first: UnsafePointer<Float>
    let nd: Int, dStep: Int, nh: Int, hStep: Int
}

extension TensorOps {
    /// The output columns the vector kernels may compute: a contiguous range of columns whose
    /// 8-wide loads stay inside the input row (window start ≥ 0 and start + span ≤ width, span =
    /// the kernel width, or 2 for stride 2 with a 1-wide kernel). Empty unless the width
    /// dilation is 1, the width stride is 1 or 2 and at least 8 columns qualify.
    static func maxPoolVectorColumns(_ g: PoolGeometry, _ t: UnsafePointer<Int>) -> Range<Int> {
        let aw = g.axes[2], tw = t + g.base[2]
        guard aw.dil == 1, aw.stride == 1 || aw.stride == 2 else { return 0..<0 }
        let span = aw.stride == 2 ? Swift.max(aw.k, 2) : aw.k
        func inside(_ o: Int) -> Bool {
            let start = tw[4 &* o]
            return start >= 0 && start <= aw.inLen &- span
        }
        var a = 0
        while a < aw.outLen && !inside(a) { a &+= 1 }
        var b = a
        while b < aw.outLen && inside(b) { b &+= 1 }
        return b &- a >= 8 ? a..<b : 0..<0
    }

    /// One step of the max fold on 8 lanes: `x > acc ? x : acc` (a single maxps).
    @inline(__always)
    static func maxStep(_ acc: SIMD8<Float>, _ x: SIMD8<Float>) -> SIMD8<Float> {
        acc.replacing(with: x, where: x .> acc)
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Max pool output rows `range` (row = one (plane, od, oh) line of `outW` outputs) for width
    /// dilation 1; depth and height may have any dilation. Columns in `vector` (see
    /// `maxPoolVectorColumns`) run 8 at a time, the others take a scalar loop over their valid
    /// taps. No scratch memory; reads stay inside the rows each window covers.
    static func maxPoolRowsFast(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                _ g: PoolGeometry, _ t: UnsafePointer<Int>, _ vector: Range<Int>,
                                _ range: Range<Int>) {
        let ad = g.axes[0], ah = g.axes[1], aw = g.axes[2]
        let IH = ah.inLen, IW = aw.inLen
        let OD = ad.outLen, OH = ah.outLen, OW = aw.outLen
        let td = t + g.base[0], th = t + g.base[1], tw = t + g.base[2]
        let inPlane = ad.inLen &* IH &* IW, outPlane = OD &* OH &* OW
        let rowsPerPlane = OD &* OH
        if rowsPerPlane == 0 || OW == 0 || range.isEmpty { return }
        let k = aw.k, s2 = aw.stride == 2
        let vecLo = vector.isEmpty ? OW : vector.lowerBound, vecHi = vector.isEmpty ? OW : vector.upperBound
        let dStep = ad.dil &* IH &* IW, hStep = ah.dil &* IW
        // Walk (plane, od, oh) incrementally from the first row of the range.
        let rem = range.lowerBound % rowsPerPlane
        var od = rem / OH, oh = rem % OH
        var src = input + (range.lowerBound / rowsPerPlane) &* inPlane
        var dst = output + (range.lowerBound / rowsPerPlane) &* outPlane + rem &* OW
        for _ in range {
            defer {
                dst += OW
                oh &+= 1
                if oh == OH { oh = 0; od &+= 1; if od == OD { od = 0; src += inPlane } }
            }
            let d0 = td[4 &* od], dlo = td[4 &* od + 1], dhi = td[4 &* od + 2]
            let h0 = th[4 &* oh], hlo = th[4 &* oh + 1], hhi = th[4 &* oh + 2]
            if dhi <= dlo || hhi <= hlo {
                for ow in 0..<OW { dst[ow] = -Float.greatestFiniteMagnitude }
                continue
            }
            let d = d0 &+ dlo &* ad.dil, h = h0 &+ hlo &* ah.dil
            let offset: Int = (d &* IH &+ h) &* IW
            let rows = MaxPoolRows(first: src + offset, nd: dhi &- dlo, dStep: dStep, nh: hhi &- hlo,
                                   hStep: hStep)
            maxPoolScalar(rows, tw, dst, 0..<vecLo)
            if vecLo < vecHi {
                switch (s2, k) {
                case (false, 2): maxPoolS1(rows, tw, dst, vecLo, vecHi, MaxPoolTaps2())
                case (false, 3): maxPoolS1(rows, tw, dst, vecLo, vecHi, MaxPoolTaps3())
                case (false, _): maxPoolS1(rows, tw, dst, vecLo, vecHi, MaxPoolTapsN(k: k))
                case (true, 2): maxPoolS2(rows, tw, dst, vecLo, vecHi, MaxPoolTaps2())
                case (true, 3): maxPoolS2(rows, tw, dst, vecLo, vecHi, MaxPoolTaps3())
                case (true, _): maxPoolS2(rows, tw, dst, vecLo, vecHi, MaxPoolTapsN(k: k))
                }
            }
            maxPoolScalar(rows, tw, dst, vecHi..<OW)
        }
    }

    /// Scalar max over the valid taps of columns `cols` (table ranges; no valid tap gives
    /// `-Float.greatestFiniteMagnitude`).
    @inline(__always)
    static func maxPoolScalar(_ r: MaxPoolRows, _ tw: UnsafePointer<Int>, _ dst: UnsafeMutablePointer<Float>,
                              _ cols: Range<Int>) {
        for ow in cols {
            let w0 = tw[4 &* ow], wlo = tw[4 &* ow + 1], whi = tw[4 &* ow + 2]
            if whi <= wlo { dst[ow] = -Float.greatestFiniteMagnitude; continue }
            var v = -Float.infinity
            var slice = r.first + w0
            for _ in 0..<r.nd {
                var p = slice
                for _ in 0..<r.nh {
                    var kw = wlo
                    while kw < whi { let x = p[kw]; v = x > v ? x : v; kw &+= 1 }
                    p += r.hStep
                }
                slice += r.dStep
            }
            dst[ow] = v
        }
    }

    /// Vector columns [lo, hi) (hi - lo ≥ 8), 8 outputs per step, the last step overlapping the
    /// previous one: `foldRow(acc, p)` folds the taps of one input row into the 8 outputs whose
    /// first window starts at `p`; rows are visited in the generic loop's order.
    @inline(__always)
    static func maxPoolVector(_ r: MaxPoolRows, _ tw: UnsafePointer<Int>, _ dst: UnsafeMutablePointer<Float>,
                              _ lo: Int, _ hi: Int,
                              _ foldRow: (SIMD8<Float>, UnsafePointer<Float>) -> SIMD8<Float>) {
        var j = lo
        while true {
            if j &+ 8 > hi { j = hi &- 8 }
            var acc = SIMD8<Float>(repeating: -.infinity)
            var slice = r.first + tw[4 &* j]
            for _ in 0..<r.nd {
                var p = slice
                for _ in 0..<r.nh {
                    acc = foldRow(acc, p)
                    p += r.hStep
                }
                slice += r.dStep
            }
            UnsafeMutableRawPointer(dst + j).storeBytes(of: acc, as: SIMD8<Float>.self)
            j &+= 8
            if j >= hi { break }
        }
    }

    /// Width stride 1: output o reads columns start(o) ..< start(o) + k.
    @inline(__always)
    static func maxPoolS1<K: MaxPoolTaps>(_ r: MaxPoolRows, _ tw: UnsafePointer<Int>,
                                          _ dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int,
                                          _ taps: K) {
        let k = taps.k
        maxPoolVector(r, tw, dst, lo, hi) { acc, p in
            var a = acc
            for kw in 0..<k { a = maxStep(a, load8(p + kw)) }
            return a
        }
    }

    /// Width stride 2. For 8 outputs whose windows start at column s, s + 2, …: tap 0 is the
    /// even half of the 16 floats at s, tap kw ≥ 1 the odd half of the 16 floats at s + kw - 1.
    /// Reads span s ..< s + 14 + max(k, 2).
    @inline(__always)
    static func maxPoolS2<K: MaxPoolTaps>(_ r: MaxPoolRows, _ tw: UnsafePointer<Int>,
                                          _ dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int,
                                          _ taps: K) {
        let k = taps.k
        maxPoolVector(r, tw, dst, lo, hi) { acc, p in
            var a = maxStep(acc, load16(p).evenHalf)
            var kw = 1
            while kw < k { a = maxStep(a, load16(p + (kw &- 1)).oddHalf); kw &+= 1 }
            return a
        }
    }
}
