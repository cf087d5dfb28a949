import Glibc
import StalwartTensor

// Numeric building blocks of the weather/digital corruptions, each mirroring the arithmetic
// (operation order, float32 vs float64 storage) of the SciPy / OpenCV / imagecorruptions
// function named in its comment, so that replayed draws reproduce the reference's pixels.
// All work on row-major single-channel planes; no per-pixel allocation.
enum WeatherFilters {
    /// SciPy's 'reflect' (half-sample symmetric, d c b a | a b c d | d c b a), periodic.
    @inline(__always)
    static func reflect(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        let p = 2 * n
        var m = i % p
        if m < 0 { m += p }
        return m >= n ? p - 1 - m : m
    }

    @inline(__always)
    static func clamp(_ i: Int, _ n: Int) -> Int { i < 0 ? 0 : (i >= n ? n - 1 : i) }

    /// ⌊c⌋ for |c| < 2⁶² without a libm call (the baseline x86-64 target has no `roundsd`).
    @inline(__always)
    static func floor(_ c: Double) -> Double { let t = Double(Int(c)); return t > c ? t - 1 : t }

    /// Round half to even (`np.round`, `rint`) for |v| < 2⁵¹, in the default rounding mode.
    @inline(__always)
    static func rint(_ v: Double) -> Double { v >= 0 ? (v + 6_755_399_441_055_744) - 6_755_399_441_055_744 : -((-v + 6_755_399_441_055_744) - 6_755_399_441_055_744) }

    /// `scipy.ndimage._filters._gaussian_kernel1d(sigma, 0, radius)`, radius `int(truncate·σ + 0.5)`.
    static func gaussianKernel(sigma: Double, truncate: Double) -> [Double] {
        let r = Int(truncate * sigma + 0.5)
        let s2 = sigma * sigma
        var w = (-r...r).map { x -> Double in exp(-0.5 / s2 * Double(x * x)) }
        let sum = w.reduce(0, +)
        for i in w.indices { w[i] /= sum }
        return w
    }

    enum Border { case reflect, nearest }

    /// `scipy.ndimage.gaussian_filter` on an h×w plane: axis 0 then axis 1, each a symmetric
    /// `correlate1d` accumulated as SciPy does (`x[i]·w0 + Σ_{j=r…1} (x[i-j] + x[i+j])·w_j`).
    /// `float32`: the array is float32, so each pass's output is rounded to Float.
    static func gaussianFilter(_ src: [Double], h: Int, w: Int, sigma: (Double, Double), truncate: Double,
                               border: Border, float32: Bool) -> [Double] {
        var a = src
        var b = [Double](repeating: 0, count: h * w)
        let ky = gaussianKernel(sigma: sigma.0, truncate: truncate)
        let kx = gaussianKernel(sigma: sigma.1, truncate: truncate)
        let ry = ky.count / 2, rx = kx.count / 2
        @inline(__always) func idx(_ i: Int, _ n: Int) -> Int { border == .reflect ? reflect(i, n) : clamp(i, n) }
        // Rows in parallel (each output row is computed by one block, in the same order).
        a.withUnsafeBufferPointer { ipb in
            b.withUnsafeMutableBufferPointer { opb in
                guard let ip = ipb.baseAddress, let op = opb.baseAddress else { return }
                // `columns` evaluates c·k[0] + Σ_{d=r…1} (up_d + down_d)·k[d] in this same order.
                let kc = UnsafeMutablePointer<Double>.allocate(capacity: ry + 1)
                defer { kc.deallocate() }
                for d in 0...ry { kc[d] = ky[ry - d] }
                let cols = GaussianRowKernels.current.columns
                BlurKernels.parallelRows(h) { ys in
                    let rows = ys.upperBound - ys.lowerBound
                    let srcRows = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: rows + 2 * ry)
                    let outRows = UnsafeMutablePointer<UnsafeMutablePointer<Double>>.allocate(capacity: rows)
                    defer { srcRows.deallocate(); outRows.deallocate() }
                    for t in 0..<(rows + 2 * ry) { srcRows[t] = ip + idx(ys.lowerBound - ry + t, h) * w }
                    for t in 0..<rows { outRows[t] = op + (ys.lowerBound + t) * w }
                    cols(outRows, srcRows, kc, ry, rows, w)
                    if float32 {
                        for i in (ys.lowerBound * w)..<(ys.upperBound * w) { op[i] = Double(Float(op[i])) }
                    }
                }
            }
        }
        // Axis 1: one padded line at a time (per block of rows), accumulated tap by tap across
        // the line (the same per-output order as above, vectorisable over x).
        let lw = w + 2 * rx
        b.withUnsafeBufferPointer { ip in
            a.withUnsafeMutableBufferPointer { opb in
                kx.withUnsafeBufferPointer { kp in
                    guard let opp = opb.baseAddress else { return }
                    let kc = UnsafeMutablePointer<Double>.allocate(capacity: rx + 1)
                    defer { kc.deallocate() }
                    for d in 0...rx { kc[d] = kp[rx - d] }
                    let cols = GaussianRowKernels.current.columns
                    BlurKernels.parallelRows(h) { ys in
                        let lp = UnsafeMutablePointer<Double>.allocate(capacity: lw)
                        let taps = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: 2 * rx + 1)
                        var o = opp
                        defer { lp.deallocate(); taps.deallocate() }
                        // One output "row" whose 2rx + 1 source rows are the padded line shifted by t.
                        for t in 0...(2 * rx) { taps[t] = UnsafePointer(lp + t) }
                        for y in ys {
                            o = opp + y * w
                            for i in 0..<lw { lp[i] = ip[y * w + idx(i - rx, w)] }
                            withUnsafePointer(to: &o) { cols($0, taps, kc, rx, 1, w) }
                            if float32 { for x in 0..<w { o[x] = Double(Float(o[x])) } }
                        }
                    }
                }
            }
        }
        return a
    }

    /// imagecorruptions' `_motion_blur(x, radius, sigma, angle)` on an h×w float64 plane:
    /// Σ_i kernel[i] · shift(x, dx_i, dy_i) with edge-replicating shifts, accumulated in float64.
    static func motionBlur(_ src: [Double], h: Int, w: Int, radius: Int, sigma: Double, angle: Double) -> [Double] {
        let shifts = BlurKernels.motionShifts(radius: radius, sigma: sigma, angle: angle, height: h, width: w)
        var out = [Double](repeating: 0, count: h * w)
        let axpy = WeatherRowKernels.current.axpyRow
        src.withUnsafeBufferPointer { spb in
            out.withUnsafeMutableBufferPointer { opb in
                guard let sp = spb.baseAddress, let op = opb.baseAddress else { return }
                // Rows in parallel; each element still sums the shifts in the reference's order.
                BlurKernels.parallelRows(h) { ys in
                    for y in ys {
                        for (dx, dy, k) in shifts {
                            // Columns x − dx inside [0, w): [lo, hi); left of lo reads column 0, right reads w − 1.
                            let lo = max(0, dx), hi = min(w, w + dx)
                            let s = sp + clamp(y - dy, h) * w, o = op + y * w
                            var x = 0
                            while x < lo { o[x] = o[x] + k * s[0]; x += 1 }
                            let sx = s - dx
                            if hi > x { axpy(o + x, sx + x, k, hi - x); x = hi }
                            while x < w { o[x] = o[x] + k * s[w - 1]; x += 1 }
                        }
                    }
                }
            }
        }
        return out
    }

    /// An HWC byte image as float32 `value / 255` (`np.array(x, dtype=np.float32) / 255.`),
    /// rows in parallel.
    static func unitFloats(_ x: Image) -> [Float] {
        let n = x.pixels.count, rowLen = max(1, x.width * x.channels)
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            x.pixels.withUnsafeBufferPointer { sp in
                guard let op = out.baseAddress, let sb = sp.baseAddress else { return }
                BlurKernels.parallelRows(x.height) { ys in
                    var i = ys.lowerBound * rowLen
                    let end = min(n, ys.upperBound * rowLen)
                    while i < end { op[i] = Float(sb[i]) / 255; i += 1 }
                }
            }
            initialized = n
        }
    }

    /// The elastic transforms' resampling: `scipy.ndimage.map_coordinates(img, (y + dy, x + dx),
    /// order=1, mode='reflect')` of an h×w×3 float32 image, with dy = float32(gy·α) and
    /// dx = float32(gx·α) (the references' `.astype(np.float32)`), summed in float64 in SciPy's
    /// tap order; then `np.clip(·, 0, 1)·255` in float32 and `np.uint8` truncation (NaN → 0).
    /// Coordinates are clamped to ±2²⁴ first so no input can overflow an integer conversion.
    /// Rows in parallel.
    static func displacedBilinearToBytes(_ img: [Float], h: Int, w: Int, gy: [Double], gx: [Double], alpha: Double) -> [UInt8] {
        let n = h * w * 3
        @inline(__always) func safe(_ c: Double) -> Double { c.isNaN ? 0 : Swift.min(Swift.max(c, -16_777_216), 16_777_216) }
        return [UInt8](unsafeUninitializedCapacity: n) { out, initialized in
            img.withUnsafeBufferPointer { ip in
                guard let op = out.baseAddress, ip.count >= n, gy.count >= h * w, gx.count >= h * w else { return }
                BlurKernels.parallelRows(h) { ys in
                    for y in ys {
                        for xx in 0..<w {
                            let p = y * w + xx
                            let (sy, wy0, wy1) = linearWeights(safe(Double(y) + Double(Float(gy[p] * alpha))))
                            let (sx, wx0, wx1) = linearWeights(safe(Double(xx) + Double(Float(gx[p] * alpha))))
                            let r0 = reflect(sy, h) * w, r1 = reflect(sy + 1, h) * w
                            let c0 = reflect(sx, w), c1 = reflect(sx + 1, w)
                            for k in 0..<3 {
                                var t = 0.0
                                t += Double(ip[(r0 + c0) * 3 + k]) * wy0 * wx0
                                t += Double(ip[(r0 + c1) * 3 + k]) * wy0 * wx1
                                t += Double(ip[(r1 + c0) * 3 + k]) * wy1 * wx0
                                t += Double(ip[(r1 + c1) * 3 + k]) * wy1 * wx1
                                let f = Float(t)
                                let v = (f.isNaN ? 0 : Swift.min(Swift.max(f, 0), 1)) * 255
                                op[p * 3 + k] = v >= 255 ? 255 : (v > 0 ? UInt8(v) : 0)
                            }
                        }
                    }
                }
            }
            initialized = n
        }
    }

    /// Spline-order-1 weights of SciPy (`spline_coefficients`): start = ⌊c⌋, wₖ = 1 − |start − c + k|.
    @inline(__always)
    static func linearWeights(_ c: Double) -> (Int, Double, Double) {
        let s = floor(c)
        let y0 = abs(s - c), y1 = abs(s - c + 1)
        return (Int(s), y0 > 1 ? 0 : 1 - y0, y1 > 1 ? 0 : 1 - y1)
    }

    /// `scipy.ndimage.zoom(plane, (z, z), order=1)` (grid_mode False, mode 'constant') of an
    /// h×w float64 plane: output `round(h·z)`×`round(w·z)`, coordinate o·(n−1)/(m−1); output
    /// points whose coordinate exceeds n−1 (rounding) get cval 0 as in SciPy.
    static func zoomLinear(_ src: [Double], h: Int, w: Int, zoom: Double) -> (plane: [Double], h: Int, w: Int) {
        let oh = Int((Double(h) * zoom).rounded(.toNearestOrEven)), ow = Int((Double(w) * zoom).rounded(.toNearestOrEven))
        let fy = oh > 1 ? Double(h - 1) / Double(oh - 1) : 1, fx = ow > 1 ? Double(w - 1) / Double(ow - 1) : 1
        var xs = [(Int, Int, Double, Double, Bool)]()
        xs.reserveCapacity(ow)
        for o in 0..<ow {
            let c = Double(o) * fx
            let (s, a, b) = linearWeights(c)
            xs.append((clamp(s, w), clamp(s + 1, w), a, b, c <= Double(w - 1) && c >= 0))
        }
        var out = [Double](repeating: 0, count: oh * ow)
        src.withUnsafeBufferPointer { sp in
            out.withUnsafeMutableBufferPointer { opb in
                guard let op = opb.baseAddress else { return }
                BlurKernels.parallelRows(oh) { oys in
                for oy in oys {
                    let c = Double(oy) * fy
                    if c > Double(h - 1) || c < 0 { continue }
                    let (s, a, b) = linearWeights(c)
                    let r0 = clamp(s, h) * w, r1 = clamp(s + 1, h) * w
                    for ox in 0..<ow {
                        let q = xs[ox]
                        if !q.4 { continue }
                        var t = 0.0
                        t += sp[r0 + q.0] * a * q.2
                        t += sp[r0 + q.1] * a * q.3
                        t += sp[r1 + q.0] * b * q.2
                        t += sp[r1 + q.1] * b * q.3
                        op[oy * ow + ox] = t
                    }
                }
                }
            }
        }
        return (out, oh, ow)
    }

    /// OpenCV 5 `cv::resize(src, dsize, INTER_CUBIC)` for 8-bit interleaved images (measured
    /// against opencv-python-headless 5.0): source coordinate `(d + 0.5)·scale − 0.5` and Keys
    /// cubic (A = −0.75) coefficients in double, stored as float; float horizontal then vertical
    /// passes; round half to even and saturate; borders replicate. Differs from OpenCV by 1 on
    /// ≈ 1 in 10⁵ samples whose value lies within 10⁻⁵ of a .5 tie.
    /// Only the `cw`×`chh` window at (`x0`, `y0`) of the `dw`×`dh` result is computed (the
    /// values are those of the full resize).
    static func resizeCubic(_ src: [UInt8], w: Int, h: Int, ch: Int, dw: Int, dh: Int,
                            x0: Int, y0: Int, cw: Int, chh: Int) -> [UInt8] {
        func coeffs(_ n: Int, _ dn: Int) -> ([Int], [Float]) {
            let scale = 1.0 / (Double(dn) / Double(n))
            var ofs = [Int](repeating: 0, count: dn), al = [Float](repeating: 0, count: dn * 4)
            let A = -0.75
            for d in 0..<dn {
                var f = (Double(d) + 0.5) * scale - 0.5
                let s = f.rounded(.down)
                f -= s
                ofs[d] = Int(s)
                let c0 = ((A * (f + 1) - 5 * A) * (f + 1) + 8 * A) * (f + 1) - 4 * A
                let c1 = ((A + 2) * f - (A + 3)) * f * f + 1
                let c2 = ((A + 2) * (1 - f) - (A + 3)) * (1 - f) * (1 - f) + 1
                let c3 = 1 - c0 - c1 - c2
                al[d * 4] = Float(c0); al[d * 4 + 1] = Float(c1); al[d * 4 + 2] = Float(c2); al[d * 4 + 3] = Float(c3)
            }
            return (ofs, al)
        }
        let (xo, xa) = coeffs(w, dw), (yo, ya) = coeffs(h, dh)
        // Source rows the window needs.
        let rlo = clamp(yo[y0] - 1, h), rhi = clamp(yo[y0 + chh - 1] + 2, h)
        let nr = rhi - rlo + 1, rowLen = cw * ch
        var hrows = [Float](repeating: 0, count: nr * rowLen)
        // Per output column: the four source byte offsets and weights.
        var xi = [Int](repeating: 0, count: cw * 4), xw = [Float](repeating: 0, count: cw * 4)
        for d in 0..<cw {
            let s = xo[x0 + d]
            for k in 0..<4 { xi[d * 4 + k] = clamp(s - 1 + k, w) * ch; xw[d * 4 + k] = xa[(x0 + d) * 4 + k] }
        }
        src.withUnsafeBufferPointer { sp in
            hrows.withUnsafeMutableBufferPointer { hp in
                xi.withUnsafeBufferPointer { xi in
                    xw.withUnsafeBufferPointer { xw in
                        guard let sbase = sp.baseAddress, let hbase = hp.baseAddress else { return }
                        BlurKernels.parallelRows(nr) { rows in
                        for y in (rlo + rows.lowerBound)..<(rlo + rows.upperBound) {
                            let srow = sbase + y * w * ch, drow = hbase + (y - rlo) * rowLen
                            for d in 0..<cw {
                                let q = d * 4
                                let p0 = srow + xi[q], p1 = srow + xi[q + 1], p2 = srow + xi[q + 2], p3 = srow + xi[q + 3]
                                let a0 = xw[q], a1 = xw[q + 1], a2 = xw[q + 2], a3 = xw[q + 3]
                                for c in 0..<ch {
                                    var t = Float(p0[c]) * a0
                                    t += Float(p1[c]) * a1
                                    t += Float(p2[c]) * a2
                                    t += Float(p3[c]) * a3
                                    drow[d * ch + c] = t
                                }
                            }
                        }
                        }
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: chh * rowLen)
        hrows.withUnsafeBufferPointer { hp in
            out.withUnsafeMutableBufferPointer { opb in
                guard let op = opb.baseAddress else { return }
                BlurKernels.parallelRows(chh) { ds in
                for d in ds {
                    let s = yo[y0 + d], q = (y0 + d) * 4
                    let r0 = (clamp(s - 1, h) - rlo) * rowLen, r1 = (clamp(s, h) - rlo) * rowLen
                    let r2 = (clamp(s + 1, h) - rlo) * rowLen, r3 = (clamp(s + 2, h) - rlo) * rowLen
                    let b0 = ya[q], b1 = ya[q + 1], b2 = ya[q + 2], b3 = ya[q + 3]
                    let o = d * rowLen
                    for i in 0..<rowLen {
                        var t = hp[r0 + i] * b0
                        t += hp[r1 + i] * b1
                        t += hp[r2 + i] * b2
                        t += hp[r3 + i] * b3
                        // Round half to even (|t| < 2²² here; the default rounding mode is to-nearest-even):
                        // u = t + 1.5·2²³ lies in [2²³, 2²⁴), so its low mantissa bits hold round(t) + 2²²,
                        // read back without a trapping conversion (keeps the loop vectorisable).
                        let u = t + 12_582_912
                        var v = Int32(bitPattern: u.bitPattern) &- 0x4B40_0000
                        v = v < 0 ? 0 : v
                        v = v > 255 ? 255 : v
                        op[o + i] = UInt8(truncatingIfNeeded: v)
                    }
                }
                }
            }
        }
        return out
    }
}
