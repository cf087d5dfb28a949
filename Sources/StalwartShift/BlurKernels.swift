import Glibc
import StalwartTensor

/// Kernels and filters behind the blur corruptions, each reproducing one library routine of the
/// reference in the same precision and summation order (see the doc comment of each).
/// Buffers are HWC interleaved with 3 channels, row-major, no padding.
enum BlurKernels {
    /// Workers for row-parallel loops (one per core). A call made while the pool is busy (for
    /// example from a batch of corruptions running on many threads) runs inline on its caller.
    static let pool = ThreadPool(threads: 0)

    /// Calls `body(rows)` for contiguous blocks of `0..<count` rows, in parallel. Every output
    /// element is computed by exactly one block, in the same order as a serial loop.
    static func parallelRows(_ count: Int, minRows: Int = 16, _ body: (Range<Int>) -> Void) {
        let blocks = min(max(1, count / minRows), pool.threadCount * 4)
        if blocks <= 1 { body(0..<count); return }
        pool.parallelFor(blocks) { b in
            body((b * count / blocks)..<((b + 1) * count / blocks))
        }
    }

    /// `o[j] = c[j]·k[0] + Σ_{d=r…1} (left[d][j] + right[d][j])·k[d]` for j in 0..<n, in that
    /// order per element (SciPy's symmetric correlation), on the ISA kernels (same bits on all).
    @inline(__always)
    static func symmetricRow(_ o: UnsafeMutablePointer<Double>, _ c: UnsafePointer<Double>,
                             _ left: UnsafePointer<UnsafePointer<Double>>, _ right: UnsafePointer<UnsafePointer<Double>>,
                             _ k: UnsafePointer<Double>, r: Int, n: Int) {
        FilterRowKernels.current.symmetric(o, c, left, right, k, r, n)
    }

    /// `o[j] = Σ_t src[t][j]·w[t]` for j in 0..<n, taps summed in order from 0, on the ISA
    /// kernels (same bits on all).
    @inline(__always)
    static func weightedSumRow(_ o: UnsafeMutablePointer<Double>, _ src: UnsafePointer<UnsafePointer<Double>>,
                               _ w: UnsafePointer<Double>, taps: Int, n: Int) {
        FilterRowKernels.current.weightedSum(o, src, w, taps, n)
    }

    /// `Double(b) / 255` for every byte b (NumPy's `x / 255.`).
    static let unitTable: [Double] = (0..<256).map { Double($0) / 255 }

    /// Whether `kernels.unitRow` (division by fused multiply-adds) reproduces `unitTable` for
    /// all 256 bytes; the table is the fallback otherwise.
    static func unitRowIsExact(_ kernels: GaussianRowKernels) -> Bool {
        let bytes = (0..<256).map { UInt8($0) }
        var got = [Double](repeating: -1, count: 256)
        bytes.withUnsafeBufferPointer { b in
            got.withUnsafeMutableBufferPointer { g in
                if let bp = b.baseAddress, let gp = g.baseAddress { kernels.unitRow(gp, bp, 1.0 / 255, 256) }
            }
        }
        return (0..<256).allSatisfy { got[$0].bitPattern == unitTable[$0].bitPattern }
    }

    /// `unitRowIsExact` of the kernels in use (checked once).
    static let currentUnitRowIsExact = unitRowIsExact(.current)

    /// `d[i] = s[i] / 255.` for i in 0..<n (the same doubles as `unitTable`).
    @inline(__always)
    static func unitRow(_ d: UnsafeMutablePointer<Double>, _ s: UnsafePointer<UInt8>, n: Int,
                        kernels: GaussianRowKernels, exact: Bool) {
        if exact {
            kernels.unitRow(d, s, 1.0 / 255, n)
        } else {
            unitTable.withUnsafeBufferPointer { t in for i in 0..<n { d[i] = t[Int(s[i])] } }
        }
    }

    /// `np.uint8(v)` for v in [0, 255]: truncation toward zero (NaN and out-of-range clamp).
    @inline(__always)
    static func truncU8(_ v: Double) -> UInt8 {
        guard v > 0 else { return 0 }
        return v >= 255 ? 255 : UInt8(v)
    }

    /// NumPy's pairwise summation of a contiguous float64 array (`np.sum`): blocks of ≤ 128
    /// summed with 8 accumulators, larger arrays split in halves (rounded to multiples of 8).
    static func pairwiseSum(_ a: UnsafeBufferPointer<Double>) -> Double {
        let n = a.count
        if n < 8 {
            var r = 0.0
            for v in a { r += v }
            return r
        }
        if n <= 128 {
            var r = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
            var i = 8
            while i < n - n % 8 {
                r.0 += a[i]; r.1 += a[i + 1]; r.2 += a[i + 2]; r.3 += a[i + 3]
                r.4 += a[i + 4]; r.5 += a[i + 5]; r.6 += a[i + 6]; r.7 += a[i + 7]
                i += 8
            }
            var res = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
            while i < n { res += a[i]; i += 1 }
            return res
        }
        var n2 = n / 2
        n2 -= n2 % 8
        return pairwiseSum(UnsafeBufferPointer(rebasing: a[0..<n2])) + pairwiseSum(UnsafeBufferPointer(rebasing: a[n2..<n]))
    }

    static func pairwiseSum(_ a: [Double]) -> Double { a.withUnsafeBufferPointer { pairwiseSum($0) } }

    /// SciPy's `_gaussian_kernel1d(sigma, 0, radius)` with `radius = int(4 * sigma + 0.5)`
    /// (truncate 4): returns the half kernel `w[0...radius]` (symmetric).
    static func scipyGaussian(sigma: Double) -> [Double] {
        let r = Int(4 * sigma + 0.5)
        let scale = -0.5 / (sigma * sigma)
        var phi = (-r...r).map { exp(scale * Double($0 * $0)) }
        let s = pairwiseSum(phi)
        for i in phi.indices { phi[i] = phi[i] / s }
        return Array(phi[r...])
    }

    /// `np.uint8(np.clip(scipy.ndimage.gaussian_filter(x / 255., (σ, σ, 0), mode='nearest'), 0, 1) * 255)`
    /// for an HWC 3-channel image, `kernel` being the half kernel `w[0...r]`: correlate along
    /// rows (axis 0) then columns (axis 1), each output `c·w0 + Σ_{d=r…1} (x[-d] + x[+d])·w_d` —
    /// SciPy's symmetric-kernel loop, farthest taps first, in float64 (GaussianRowKernels: same
    /// bits on every ISA). Each block of rows converts the source rows it needs (x / 255.) into
    /// a ring of 2r + 4 cache-resident rows, runs the vertical pass four rows at a time into
    /// edge-replicated lines and the horizontal pass from those straight to bytes: no full-size
    /// intermediate is allocated.
    static func gaussianNearestToBytes(_ x: Image, kernel k: [Double], kernels g: GaussianRowKernels = .current) -> [UInt8] {
        let (w, h) = (x.width, x.height), r = k.count - 1, rowLen = x.width * 3
        var out = [UInt8](repeating: 0, count: x.pixels.count)
        guard w > 0, h > 0, r >= 0, x.channels == 3, x.pixels.count == rowLen * h else { return out }
        let exact = g.isa == GaussianRowKernels.current.isa ? currentUnitRowIsExact : unitRowIsExact(g)
        let group = 4, ringRows = 2 * r + group
        // The vertical pass runs in column strips whose rows (2r + group of them) fit in L1.
        let strip = max(32, (32768 / ((2 * r + group) * 8)) & ~31)
        // Row strides rounded up to 64 bytes (strips are multiples of 32 doubles), so that the
        // vertical pass loads whole cache lines.
        let stride = (rowLen + 7) & ~7, lineLen = ((w + 2 * r) * 3 + 7) & ~7
        x.pixels.withUnsafeBufferPointer { sb in
            out.withUnsafeMutableBufferPointer { dst in
                k.withUnsafeBufferPointer { kb in
                    guard let src = sb.baseAddress, let kp = kb.baseAddress, let ob = dst.baseAddress else { return }
                    parallelRows(h) { ys in
                        let raw = UnsafeMutableRawPointer.allocate(byteCount: (ringRows * stride + group * lineLen) * 8, alignment: 64)
                        let op = UnsafeMutablePointer<UnsafeMutablePointer<Double>>.allocate(capacity: 2 * group)
                        let sp = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: 2 * (group + 2 * r))
                        defer { raw.deallocate(); op.deallocate(); sp.deallocate() }
                        let ops = op + group, sps = sp + group + 2 * r  // per-strip offsets
                        let ring = raw.bindMemory(to: Double.self, capacity: ringRows * stride + group * lineLen)
                        let lines = ring + ringRows * stride
                        // Line i holds r replicated pixels, the row, r replicated pixels; op[i] is
                        // its first real element.
                        for i in 0..<group { op[i] = lines + i * lineLen + r * 3 }
                        var next = max(0, ys.lowerBound - r)  // the next source row to convert
                        var y0 = ys.lowerBound
                        while y0 < ys.upperBound {
                            let rows = min(group, ys.upperBound - y0)
                            let need = min(h - 1, y0 + rows - 1 + r)
                            while next <= need {
                                unitRow(ring + (next % ringRows) * stride, src + next * rowLen, n: rowLen, kernels: g, exact: exact)
                                next += 1
                            }
                            for i in 0..<(rows + 2 * r) {
                                sp[i] = UnsafePointer(ring + (min(max(y0 - r + i, 0), h - 1) % ringRows) * stride)
                            }
                            var j0 = 0
                            while j0 < rowLen {
                                let n = min(strip, rowLen - j0)
                                for i in 0..<rows { ops[i] = op[i] + j0 }
                                for i in 0..<(rows + 2 * r) { sps[i] = sp[i] + j0 }
                                g.columns(ops, sps, kp, r, rows, n)
                                j0 += n
                            }
                            for i in 0..<rows {
                                let c = op[i], last = c + (w - 1) * 3
                                var p = 1
                                while p <= r {
                                    for ch in 0..<3 { c[-p * 3 + ch] = c[ch]; last[p * 3 + ch] = last[ch] }
                                    p += 1
                                }
                                g.rowBytes(ob + (y0 + i) * rowLen, c, kp, r, 3, rowLen)
                            }
                            y0 += rows
                        }
                    }
                }
            }
        }
        return out
    }

    /// OpenCV's `getGaussianKernel(n, σ, CV_32F)` (the bit-exact double path, then float).
    static func cvGaussian(_ n: Int, sigma: Double) -> [Float] {
        let scale = -0.125 / (sigma * sigma)
        let n2 = (n - 1) / 2
        var values = [Double](repeating: 0, count: n2)
        var sum = 0.0
        var x = 1 - n
        for i in 0..<n2 {
            let t = exp(Double(x * x) * scale)
            values[i] = t; sum += t
            x += 2
        }
        sum = sum * 2 + 1
        sum = 1 / sum
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n2 { out[i] = Float(values[i] * sum); out[n - 1 - i] = out[i] }
        out[n2] = Float(sum)
        return out
    }

    @inline(__always)
    static func reflect101(_ i: Int, _ n: Int) -> Int {
        var i = i
        if n == 1 { return 0 }
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
        return i
    }

    /// The reference's `disk(radius, alias_blur)`: a normalised float32 disk on a 17×17 grid
    /// (radius ≤ 8) or (2r+1)², smoothed by `cv2.GaussianBlur` (3×3 or 5×5, σ = alias_blur,
    /// BORDER_REFLECT_101) in float32. Returned as (side, row-major weights widened to float64,
    /// as `cv2.filter2D` converts them for a float64 image).
    static func disk(radius: Int, aliasBlur: Double) -> (side: Int, weights: [Double]) {
        let half = radius <= 8 ? 8 : radius
        let ks = radius <= 8 ? 3 : 5
        let n = 2 * half + 1
        var d = [Float](repeating: 0, count: n * n)
        var count: Float = 0
        for y in 0..<n { for x in 0..<n {
            let (yy, xx) = (y - half, x - half)
            if yy * yy + xx * xx <= radius * radius { d[y * n + x] = 1; count += 1 }
        } }
        for i in d.indices { d[i] = d[i] / count }
        let g = cvGaussian(ks, sigma: aliasBlur), kr = ks / 2
        // Row pass then column pass (symmetric kernel: centre·k0 + Σ (left + right)·k_d).
        var rows = [Float](repeating: 0, count: n * n)
        for y in 0..<n { for x in 0..<n {
            var s = d[y * n + x] * g[kr]
            for t in 1...kr {
                s += (d[y * n + reflect101(x - t, n)] + d[y * n + reflect101(x + t, n)]) * g[kr + t]
            }
            rows[y * n + x] = s
        } }
        var out = [Double](repeating: 0, count: n * n)
        for y in 0..<n { for x in 0..<n {
            var s = rows[y * n + x] * g[kr]
            for t in 1...kr {
                s += (rows[reflect101(y - t, n) * n + x] + rows[reflect101(y + t, n) * n + x]) * g[kr + t]
            }
            out[y * n + x] = Double(s)
        } }
        return (n, out)
    }

    /// `cv2.filter2D(x[:, :, c] / 255, -1, kernel)` per channel on float64: a direct 2-D
    /// correlation with BORDER_REFLECT_101 (zero taps skipped; they add exactly 0), stored as
    /// `np.uint8(transform(v))`.
    static func correlate2DReflect101ToBytes(_ x: Image, kernel: (side: Int, weights: [Double]),
                                             _ transform: (Double) -> Double) -> [UInt8] {
        let (w, h) = (x.width, x.height)
        let n = kernel.side, r = n / 2
        let pw = w + 2 * r, ph = h + 2 * r
        let padded = [Double](unsafeUninitializedCapacity: pw * ph * 3) { p, count in
            x.pixels.withUnsafeBufferPointer { s in
                for py in 0..<ph {
                    let sy = reflect101(py - r, h)
                    for px in 0..<pw {
                        let sx = reflect101(px - r, w)
                        let di = (py * pw + px) * 3, si = (sy * w + sx) * 3
                        p[di] = Double(s[si]) / 255; p[di + 1] = Double(s[si + 1]) / 255; p[di + 2] = Double(s[si + 2]) / 255
                    }
                }
            }
            count = pw * ph * 3
        }
        // Non-zero taps in row-major kernel order: (offset into the padded image, weight).
        var offsets: [Int] = [], weights: [Double] = []
        for ky in 0..<n { for kx in 0..<n where kernel.weights[ky * n + kx] != 0 {
            offsets.append((ky * pw + kx) * 3); weights.append(kernel.weights[ky * n + kx])
        } }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let rowLen = w * 3, taps = offsets.count
        padded.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                weights.withUnsafeBufferPointer { wp in
                    parallelRows(h) { ys in
                        let src = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: max(taps, 1))
                        let row = UnsafeMutablePointer<Double>.allocate(capacity: rowLen)
                        defer { src.deallocate(); row.deallocate() }
                        for y in ys {
                            let base = p.baseAddress! + y * pw * 3
                            for t in 0..<taps { src[t] = base + offsets[t] }
                            weightedSumRow(row, src, wp.baseAddress!, taps: taps, n: rowLen)
                            let ob = o.baseAddress! + y * rowLen
                            for j in 0..<rowLen { ob[j] = truncU8(transform(row[j])) }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The reference's `getMotionBlurKernel(width, sigma)`: `exp(-i²/(2σ²)) / (√(2π)·σ)` for
    /// i in 0..<width, divided by its NumPy (pairwise) sum.
    static func motionKernel(width: Int, sigma: Double) -> [Double] {
        let s2 = 2 * sigma * sigma
        var k = (0..<width).map { i in exp(Double(-i * i) / s2) / ((2 * Double.pi).squareRoot() * sigma) }
        let z = pairwiseSum(k)
        for i in k.indices { k[i] = k[i] / z }
        return k
    }

    static func hypot(_ a: Double, _ b: Double) -> Double { Glibc.hypot(a, b) }

    /// The shifts of the reference's `_motion_blur(x, radius, sigma, angle)` on an h×w image:
    /// for i in 0..<2r+1, (dx, dy) = −⌈i·(cos, sin)(angle)·width/hyp − 0.5⌉ with the Gaussian
    /// weight of `motionKernel`, stopping at the first shift that leaves the image (the
    /// reference's "exceeded image borders" break). Used by motion_blur and snow.
    static func motionShifts(radius: Int, sigma: Double, angle: Double, height h: Int, width w: Int) -> [(dx: Int, dy: Int, k: Double)] {
        let width = radius * 2 + 1
        let kernel = motionKernel(width: width, sigma: sigma)
        let rad = angle * (Double.pi / 180)
        let py = Double(width) * sin(rad), px = Double(width) * cos(rad)
        let hyp = hypot(py, px)
        var shifts: [(dx: Int, dy: Int, k: Double)] = []
        for i in 0..<width {
            let dy = -Int((Double(i) * py / hyp - 0.5).rounded(.up))
            let dx = -Int((Double(i) * px / hyp - 0.5).rounded(.up))
            if abs(dy) >= h || abs(dx) >= w { break }
            shifts.append((dx, dy, kernel[i]))
        }
        return shifts
    }

    /// `np.arange(start, stop, step)` for float64: `ceil((stop - start) / step)` values
    /// `start + i·δ` with δ = `(start + step) - start`, as NumPy's fill does.
    static func numpyArange(start: Double, stop: Double, step: Double) -> [Double] {
        let n = max(0, Int(((stop - start) / step).rounded(.up)))
        guard n > 1 else { return n == 1 ? [start] : [] }
        let second = start + step, delta = second - start
        return (0..<n).map { i in i == 0 ? start : (i == 1 ? second : start + Double(i) * delta) }
    }

    /// Adds the reference's `clipped_zoom(x, z)[:H, :W]` to `out` (float32): the centre crop of
    /// `ceil(H / z)` × `ceil(W / z)` zoomed by `scipy.ndimage.zoom(order=1)` to
    /// `round(ch·z)` (non-grid mode: input coordinate = i·(in − 1)/(out − 1)); each sample is the
    /// float64 sum of the 4 neighbours × weights, rounded to float32 as SciPy stores it.
    static func addClippedZoom(_ x: [Float], width w: Int, height h: Int, zoom z: Double, into out: inout [Float]) {
        func axis(_ size: Int) -> (top: Int, crop: Int, out: Int, step: Double) {
            let ch = Int((Double(size) / z).rounded(.up))
            let top = (size - ch) >= 0 ? (size - ch) / 2 : -((ch - size + 1) / 2)
            let o = Int((Double(ch) * z).rounded(.toNearestOrEven))
            return (top, ch, o, o > 1 ? Double(ch - 1) / Double(o - 1) : 1)
        }
        let ay = axis(h), ax = axis(w)
        func taps(_ a: (top: Int, crop: Int, out: Int, step: Double), _ n: Int) -> [(Int, Int, Double, Double)] {
            (0..<min(a.out, n)).map { i in
                let c = Double(i) * a.step
                let s = Int(c.rounded(.down)), t = c - Double(s)
                let s0 = min(s, a.crop - 1), s1 = min(s + 1, a.crop - 1)
                return (a.top + s0, a.top + s1, 1 - t, t)
            }
        }
        let ty = taps(ay, h), tx = taps(ax, w)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                parallelRows(ty.count) { ys in for y in ys {
                    let (y0, y1, wy0, wy1) = ty[y]
                    let r0 = src.baseAddress! + y0 * w * 3, r1 = src.baseAddress! + y1 * w * 3
                    let orow = dst.baseAddress! + y * w * 3
                    for (xi, (x0, x1, wx0, wx1)) in tx.enumerated() {
                        let i0 = x0 * 3, i1 = x1 * 3
                        for ch in 0..<3 {
                            var v = Double(r0[i0 + ch]) * wy0 * wx0
                            v += Double(r0[i1 + ch]) * wy0 * wx1
                            v += Double(r1[i0 + ch]) * wy1 * wx0
                            v += Double(r1[i1 + ch]) * wy1 * wx1
                            orow[xi * 3 + ch] += Float(v)
                        }
                    }
                } }
            }
        }
    }
}
