import StalwartImageIO
import StalwartPreprocess
import StalwartTensor

// The noise and digital corruptions of `imagecorruptions` 1.1.2 (gaussian, shot, impulse and
// speckle noise; brightness, contrast, saturate, pixelate, JPEG).
//
// Exactness: the reference works on `np.array(x) / 255.` in float64, clips to [0, 1], scales by
// 255 and truncates with `np.uint8`. Every kernel below evaluates the same IEEE-754 double
// expressions in the same order (no fused multiply-add), so given the same random draws
// (`ReplayRandom`) the output bytes are identical to the reference's.
// Random draws are taken from `ctx.random` in the reference's call order and count.
// With the counter-based generator the noise corruptions take a fused path instead: draws are
// generated in parallel chunks and applied at once (float32 arithmetic for the Gaussian ones:
// the same distribution, a different and much faster sequence than going through [Double]).
extension Corruptions {
    /// `clip(x/255 + N(0, c²), 0, 1)·255`, truncated; one normal draw per sample (HWC order).
    static func gaussianNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [0.08, 0.12, 0.18, 0.26, 0.38][ctx.severity - 1]
        if let random = ctx.random as? CounterRandom {
            let s = Float(255 * c)
            return try ndNormalNoise(x, random) { v, z in v + s * z }
        }
        let noise = try ctx.random.normal(x.pixels.count, mean: 0, std: c)
        return try ndMapSamples(x, noise) { v, n in v + n }
    }

    /// `clip(Poisson(x/255·c)/c, 0, 1)·255`, truncated; one Poisson draw per sample.
    static func shotNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [60.0, 25, 12, 5, 3][ctx.severity - 1]
        if let random = ctx.random as? CounterRandom { return ndShotNoise(x, c, random) }
        var lambdas = [Double](repeating: 0, count: x.pixels.count)
        x.pixels.withUnsafeBufferPointer { src in
            lambdas.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count { dst[i] = (Double(src[i]) / 255) * c }
            }
        }
        let k = try ctx.random.poisson(lambdas)
        return try ndMapSamples(x, k) { _, n in n / c }
    }

    /// scikit-image's `random_noise(x/255, mode='s&p', amount=c)`: two `Generator.random(shape)`
    /// draws u, w per sample; where `u <= c` the sample becomes 1 if `w <= 0.5`, else 0.
    static func impulseNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [0.03, 0.06, 0.09, 0.17, 0.27][ctx.severity - 1]
        if let random = ctx.random as? CounterRandom { return ndImpulseNoise(x, c, random) }
        let n = x.pixels.count
        let flip = try ctx.random.uniform(n, low: 0, high: 1)
        let salt = try ctx.random.uniform(n, low: 0, high: 1)
        try ndCheckDraws(flip.count, n); try ndCheckDraws(salt.count, n)
        // Unflipped samples become toByte(value/255), a function of the byte: tabulate it.
        let same = ndScaledValues().map(ndToByte)
        var out = x
        x.pixels.withUnsafeBufferPointer { src in
            flip.withUnsafeBufferPointer { f in
                salt.withUnsafeBufferPointer { s in
                    same.withUnsafeBufferPointer { t in
                        out.pixels.withUnsafeMutableBufferPointer { dst in
                            for i in 0..<n {
                                dst[i] = f[i] <= c ? (s[i] <= 0.5 ? 255 : 0) : t[Int(src[i])]
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `clip(x + x·N(0, c²), 0, 1)·255` with x = value/255, truncated.
    static func speckleNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [0.15, 0.2, 0.35, 0.45, 0.6][ctx.severity - 1]
        if let random = ctx.random as? CounterRandom {
            let s = Float(c)
            return try ndNormalNoise(x, random) { v, z in v + v * (s * z) }
        }
        let noise = try ctx.random.normal(x.pixels.count, mean: 0, std: c)
        return try ndMapSamples(x, noise) { v, n in v + v * n }
    }

    /// HSV round trip (scikit-image `rgb2hsv`/`hsv2rgb`) with V ← clip(V + c, 0, 1).
    static func brightness(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [0.1, 0.2, 0.3, 0.4, 0.5][ctx.severity - 1]
        return ndMapHSV(x) { h, s, v in (h, s, ndClip01(v + c)) }
    }

    /// HSV round trip with S ← clip(S·a + b, 0, 1).
    static func saturate(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let (a, b) = [(0.3, 0.0), (0.1, 0.0), (2.0, 0.0), (5.0, 0.1), (20.0, 0.2)][ctx.severity - 1]
        return ndMapHSV(x) { h, s, v in (h, ndClip01(s * a + b), v) }
    }

    /// `clip((x − m)·c + m, 0, 1)·255`, m the per-channel mean of x = value/255 (NumPy sums a
    /// (H, W, 3) array over axes (0, 1) sequentially in pixel order, as here).
    static func contrast(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [0.4, 0.3, 0.2, 0.1, 0.05][ctx.severity - 1]
        let count = x.width * x.height
        var sum = (0.0, 0.0, 0.0)
        let scaled = ndScaledValues()
        x.pixels.withUnsafeBufferPointer { src in
            scaled.withUnsafeBufferPointer { v in
                for p in 0..<count {
                    sum.0 += v[Int(src[3 * p])]
                    sum.1 += v[Int(src[3 * p + 1])]
                    sum.2 += v[Int(src[3 * p + 2])]
                }
            }
        }
        let m = [sum.0 / Double(count), sum.1 / Double(count), sum.2 / Double(count)]
        // The output depends only on (channel, value): a 3×256 table, then one lookup per sample.
        var table = [UInt8](repeating: 0, count: 3 * 256)
        for ch in 0..<3 {
            for v in 0..<256 { table[ch * 256 + v] = ndToByte((Double(v) / 255 - m[ch]) * c + m[ch]) }
        }
        var out = x
        x.pixels.withUnsafeBufferPointer { src in
            table.withUnsafeBufferPointer { t in
                out.pixels.withUnsafeMutableBufferPointer { dst in
                    for p in 0..<count {
                        dst[3 * p] = t[Int(src[3 * p])]
                        dst[3 * p + 1] = t[256 + Int(src[3 * p + 1])]
                        dst[3 * p + 2] = t[512 + Int(src[3 * p + 2])]
                    }
                }
            }
        }
        return out
    }

    /// Pillow BOX down to (⌊w·c⌋, ⌊h·c⌋), then back up with NEAREST (`imagecorruptions`) or BOX
    /// (`make_imagenet_c.py`, `.hendrycks` mode). Bit-exact with Pillow.
    static func pixelate(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [0.6, 0.5, 0.4, 0.3, 0.25][ctx.severity - 1]
        let w = max(1, Int(Double(x.width) * c)), h = max(1, Int(Double(x.height) * c))
        if let fast = pixelateBands(x, width: w, height: h, hendrycks: ctx.mode == .hendrycks) { return fast }
        let small = try Resize.resize(x, width: w, height: h, filter: .box)
        return try Resize.resize(small, width: x.width, height: x.height,
                                 filter: ctx.mode == .hendrycks ? .box : .nearest)
    }

    /// Pillow's `save(JPEG, quality=c)` (4:2:0 chroma, the libjpeg default Pillow keeps for RGB)
    /// and reload, through TurboJPEG.
    static func jpegCompression(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let q = [25, 18, 15, 10, 7][ctx.severity - 1]
        if let fast = jpegStrips(x, quality: q) { return fast }
        let bytes = try ImageCodec.encodeJPEG(x, quality: q, subsampling: .s420)
        return try bytes.withUnsafeBytes { try ImageCodec.decode($0) }
    }
}

// MARK: - Pixelate and JPEG, row-parallel

/// A flag parallel blocks may raise concurrently (lock-guarded).
private final class ndFlag: @unchecked Sendable {
    private let lock = Lock()
    private var raised = false
    func set() { lock.lock(); raised = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return raised }
}

/// `pixelate` split over the thread pool, or nil (then the caller takes the plain path) when
/// the band resampler does not apply (4 channels, a side that does not shrink, ...).
/// BOX downscale to `w`×`h`: each band of output rows through `Resize.resizedRows8` (the full
/// image's tables, sliced: the same bytes as the whole resize). NEAREST upscale: Pillow's index
/// mapping (`Resize.nearestIndices`, the same double accumulation as `Resize`), fused with the
/// downscale: each block of output rows computes the small rows it reads, then copies pixels.
/// `.hendrycks` (BOX up) runs the upscale as a second banded resize.
private func pixelateBands(_ x: Image, width w: Int, height h: Int, hendrycks: Bool) -> Image? {
    let W = x.width, H = x.height, C = x.channels
    guard C == 1 || C == 3, w != W, h != H, w >= 1, h >= 1 else { return nil }
    let total = W * H * C
    let failure = ndFlag()
    var out: [UInt8]
    if hendrycks {
        if W == w || H == h { return nil }
        var small = [UInt8](repeating: 0, count: w * h * C)
        x.pixels.withUnsafeBufferPointer { src in
            small.withUnsafeMutableBufferPointer { sb in
                guard let sp = sb.baseAddress else { failure.set(); return }
                BlurKernels.parallelRows(h, minRows: 16) { r in
                    if !Resize.resizedRows8(src, width: W, height: H, channels: C, to: w, h, filter: .box,
                                            rows: r, into: sp + r.lowerBound * w * C) { failure.set() }
                }
            }
        }
        if failure.isSet { return nil }
        out = [UInt8](repeating: 0, count: total)
        small.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { ob in
                guard let op = ob.baseAddress else { failure.set(); return }
                BlurKernels.parallelRows(H, minRows: 16) { r in
                    if !Resize.resizedRows8(src, width: w, height: h, channels: C, to: W, H, filter: .box,
                                            rows: r, into: op + r.lowerBound * W * C) { failure.set() }
                }
            }
        }
        return failure.isSet ? nil : try? Image(width: W, height: H, channels: C, pixels: out)
    }
    let xin = Resize.nearestIndices(inSize: w, outSize: W)
    let yin = Resize.nearestIndices(inSize: h, outSize: H)
    guard xin.count == W, yin.count == H, xin.allSatisfy({ $0 >= 0 }), yin.allSatisfy({ $0 >= 0 }) else { return nil }
    // Block b reads small rows yin[first] ... yin[last] (non-decreasing).
    for i in 1..<max(1, H) where yin[i] < yin[i - 1] { return nil }
    let xoff = xin.map { $0 * C }
    out = [UInt8](unsafeUninitializedCapacity: total) { buf, initialized in
        initialized = total
        guard let op = buf.baseAddress else { failure.set(); return }
        x.pixels.withUnsafeBufferPointer { src in
            xoff.withUnsafeBufferPointer { xb in
                guard let xo = xb.baseAddress else { failure.set(); return }
                // Two blocks per thread: balance without recomputing many shared small rows.
                let minRows = max(16, H / max(1, 2 * BlurKernels.pool.threadCount))
                BlurKernels.parallelRows(H, minRows: minRows) { r in
                    let s0 = yin[r.lowerBound], s1 = yin[r.upperBound - 1] + 1
                    let rowBytes = w * C, outRow = W * C
                    let tmp = UnsafeMutablePointer<UInt8>.allocate(capacity: (s1 - s0) * rowBytes)
                    defer { tmp.deallocate() }
                    guard Resize.resizedRows8(src, width: W, height: H, channels: C, to: w, h, filter: .box,
                                              rows: s0..<s1, into: tmp) else {
                        failure.set()
                        (op + r.lowerBound * outRow).initialize(repeating: 0, count: r.count * outRow)
                        return
                    }
                    for y in r {
                        let o = op + y * outRow
                        if y > r.lowerBound && yin[y] == yin[y - 1] {
                            o.initialize(from: o - outRow, count: outRow)
                            continue
                        }
                        let srow = tmp + (yin[y] - s0) * rowBytes
                        if C == 3 {
                            var p = o
                            for i in 0..<W {
                                let q = srow + xo[i]
                                p[0] = q[0]; p[1] = q[1]; p[2] = q[2]
                                p += 3
                            }
                        } else {
                            for i in 0..<W { o[i] = srow[xo[i]] }
                        }
                    }
                }
            }
        }
    }
    return failure.isSet ? nil : try? Image(width: W, height: H, channels: C, pixels: out)
}

/// `jpegCompression` as strips of `ImageCodec.jpegRoundTripRows` (16-row-aligned, one MCU row of
/// context each side; byte-identical to the whole-image round trip, see JPEGStrips.swift), one
/// strip per pool thread; nil (the caller takes the plain path) for non-RGB images or on any
/// TurboJPEG failure.
private func jpegStrips(_ x: Image, quality: Int) -> Image? {
    let W = x.width, H = x.height
    guard x.channels == 3 else { return nil }
    let a = ImageCodec.jpegStripAlignment
    let mcuRows = (H + a - 1) / a
    // At least 4 MCU rows per strip, so the two context rows cost at most half a strip.
    let strips = max(1, min(BlurKernels.pool.threadCount, mcuRows / 4))
    let total = W * H * 3
    let failure = ndFlag()
    let out = [UInt8](unsafeUninitializedCapacity: total) { buf, initialized in
        initialized = total
        guard let op = buf.baseAddress else { failure.set(); return }
        let body = { (s: Int) in
            let r0 = min(H, (s * mcuRows / strips) * a), r1 = min(H, ((s + 1) * mcuRows / strips) * a)
            guard r0 < r1 else { return }
            do {
                try ImageCodec.jpegRoundTripRows(x, quality: quality, rows: r0..<r1, into: op + r0 * W * 3)
            } catch {
                failure.set()
                (op + r0 * W * 3).initialize(repeating: 0, count: (r1 - r0) * W * 3)
            }
        }
        if strips == 1 { body(0) } else { BlurKernels.pool.parallelFor(strips, body) }
    }
    return failure.isSet ? nil : try? Image(width: W, height: H, channels: 3, pixels: out)
}

// MARK: - Fused counter-stream paths

/// Per sample, in 0…255 units: `trunc(clamp(f(v, z), 0, 255))` with z a standard normal of
/// the bulk stream (sample i ↔ normal i). Parallel over chunks, 8 samples per step.
private func ndNormalNoise(_ x: Image, _ random: CounterRandom, _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) throws -> Image {
    let n = x.pixels.count
    // Every output byte is written below: no copy of the input first.
    let pixels = [UInt8](unsafeUninitializedCapacity: n) { dst, initialized in
        initialized = n
        x.pixels.withUnsafeBufferPointer { src in
            guard let s = src.baseAddress, let d = dst.baseAddress else { return }
            random.forEachNormalChunk(n) { start, z in
                guard let zp = z.baseAddress else { return }
                var i = 0
                while i < z.count {
                    let m = min(8, z.count - i)
                    var v = SIMD8<Float>(), zz = SIMD8<Float>()
                    if m == 8 {
                        v = SIMD8<Float>(UnsafeRawPointer(s + start + i).loadUnaligned(as: SIMD8<UInt8>.self))
                        zz = UnsafeRawPointer(zp + i).loadUnaligned(as: SIMD8<Float>.self)
                    } else {
                        for j in 0..<m { v[j] = Float(s[start + i + j]); zz[j] = zp[i + j] }
                    }
                    let b = ndTruncBytes(f(v, zz))
                    if m == 8 {
                        UnsafeMutableRawPointer(d + start + i).storeBytes(of: b, as: SIMD8<UInt8>.self)
                    } else {
                        for j in 0..<m { d[start + i + j] = b[j] }
                    }
                    i += 8
                }
            }
        }
    }
    return try Image(width: x.width, height: x.height, channels: x.channels, pixels: pixels)
}

/// `trunc(clamp(o, 0, 255))` lane-wise for finite |o| < 2²², with integer bit operations only
/// (Swift's masked `replacing` and float→int conversions are lane loops on baseline x86-64):
/// round to nearest by the 1.5·2²³ trick, minus 1 where that rounded up (the sign bit of
/// o − round(o)), then clamped.
@inline(__always)
private func ndTruncBytes(_ o: SIMD8<Float>) -> SIMD8<UInt8> {
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let big = o + magic
    let nearest = unsafeBitCast(big, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let roundedUp = unsafeBitCast(o - (big - magic), to: SIMD8<UInt32>.self) &>> 31
    var v = nearest &- SIMD8<Int32>(truncatingIfNeeded: roundedUp)
    v = v & ~(v &>> 31)                       // max(v, 0)
    let over = v &- 255
    v = over & (over &>> 31) &+ 255           // min(v, 255)
    return SIMD8<UInt8>(truncatingIfNeeded: v)
}

/// `clip(Poisson(v/255·c)/c, 0, 1)·255` per sample, truncated, by table inversion of bulk
/// uniforms (one table per byte value), in parallel chunks.
private func ndShotNoise(_ x: Image, _ c: Double, _ random: CounterRandom) -> Image {
    var tables = PoissonTables()
    let scaled = ndScaledValues()
    for v in 0..<256 { _ = tables.add(max(scaled[v] * c, .leastNormalMagnitude)) }
    // λ = 0 (v = 0) always gives 0; the tiny stand-in rate above does too (e^{-λ} rounds to 1).
    var out = x
    let n = x.pixels.count
    x.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            guard let s = src.baseAddress, let d = dst.baseAddress else { return }
            random.forEachUnitChunk(n) { start, u in
                for i in 0..<u.count {
                    let k = tables.sample(Int(s[start + i]), u[i])
                    d[start + i] = ndToByte(k / c)
                }
            }
        }
    }
    return out
}

/// scikit-image's salt & pepper with amount c, one bulk word w per sample: the sample flips
/// when w < c·2³² and becomes 255 when w is odd, else 0 (given w < c·2³², its low bit is
/// uniform to within 2⁻³²/c).
private func ndImpulseNoise(_ x: Image, _ c: Double, _ random: CounterRandom) -> Image {
    let same = ndScaledValues().map(ndToByte)
    let threshold = UInt32(min(c * 4_294_967_296, 4_294_967_295))
    var out = x
    x.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            guard let s = src.baseAddress, let d = dst.baseAddress else { return }
            same.withUnsafeBufferPointer { t in
                random.forEachWordChunk(src.count) { start, w in
                    for i in 0..<w.count {
                        let v = w[i]
                        d[start + i] = v < threshold ? (v & 1 == 1 ? 255 : 0) : t[Int(s[start + i])]
                    }
                }
            }
        }
    }
    return out
}

// MARK: - Kernels

/// `np.uint8(np.clip(v, 0, 1) * 255)`: clip, scale, truncate.
@inline(__always)
private func ndToByte(_ v: Double) -> UInt8 {
    let c = ndClip01(v) * 255
    return c >= 0 ? UInt8(c) : 0  // NaN (only from a NaN replayed draw) → 0, never a trap
}

/// `np.clip(v, 0, 1)` (NaN propagates as NumPy does; `ndToByte` never sees one from finite draws).
@inline(__always)
private func ndClip01(_ v: Double) -> Double { v < 0 ? 0 : (v > 1 ? 1 : v) }

/// `Double(v) / 255` for v in 0…255 (the same doubles the division gives, looked up).
private func ndScaledValues() -> [Double] { (0..<256).map { Double($0) / 255 } }

private func ndCheckDraws(_ got: Int, _ want: Int) throws {
    guard got == want else { throw StalwartError.invalidArgument("random source returned \(got) draws, wanted \(want)") }
}

/// Per sample: `ndToByte(f(value/255, draw))`.
@inline(__always)
private func ndMapSamples(_ x: Image, _ draws: [Double], _ f: (Double, Double) -> Double) throws -> Image {
    let n = x.pixels.count
    try ndCheckDraws(draws.count, n)
    var out = x
    let scaled = ndScaledValues()
    x.pixels.withUnsafeBufferPointer { src in
        draws.withUnsafeBufferPointer { d in
            scaled.withUnsafeBufferPointer { v in
                out.pixels.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<n { dst[i] = ndToByte(f(v[Int(src[i])], d[i])) }
                }
            }
        }
    }
    return out
}

/// RGB (value/255) → HSV → `f` → RGB, per pixel, with scikit-image 0.26's exact arithmetic,
/// then `ndToByte`.
@inline(__always)
private func ndMapHSV(_ x: Image, _ f: (Double, Double, Double) -> (Double, Double, Double)) -> Image {
    var out = x
    let count = x.width * x.height
    // Rows in parallel (every pixel is independent).
    let w = x.width
    x.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            BlurKernels.parallelRows(x.height) { ys in
                for p in (ys.lowerBound * w)..<min(count, ys.upperBound * w) {
                    let r = Double(src[3 * p]) / 255, g = Double(src[3 * p + 1]) / 255, b = Double(src[3 * p + 2]) / 255
                    let (h0, s0, v0) = ndRgb2hsv(r, g, b)
                    let (h, s, v) = f(h0, s0, v0)
                    let (ro, go, bo) = ndHsv2rgb(h, s, v)
                    dst[3 * p] = ndToByte(ro); dst[3 * p + 1] = ndToByte(go); dst[3 * p + 2] = ndToByte(bo)
                }
            }
        }
    }
    return out
}

/// scikit-image `rgb2hsv` for one pixel: V = max, S = ptp/V (0 where ptp = 0), H from the last
/// channel equal to the max (blue over green over red), `(H/6) mod 1` with NumPy's floored
/// modulo (which can yield exactly 1.0 for tiny negatives), 0 where ptp = 0.
@inline(__always)
private func ndRgb2hsv(_ r: Double, _ g: Double, _ b: Double) -> (Double, Double, Double) {
    let v = max(r, max(g, b)), mn = min(r, min(g, b))
    let delta = v - mn
    if delta == 0 { return (0, 0, v) }
    let s = delta / v
    var h: Double
    if b == v { h = 4.0 + (r - g) / delta } else if g == v { h = 2.0 + (b - r) / delta } else { h = (g - b) / delta }
    h = h / 6.0
    var m = h.truncatingRemainder(dividingBy: 1.0)
    if m != 0 { if m < 0 { m += 1.0 } } else { m = 0 }
    return (m, s, v)
}

/// scikit-image `hsv2rgb` for one pixel: sector `⌊6h⌋ mod 6` (as uint8), f = 6h − ⌊6h⌋.
@inline(__always)
private func ndHsv2rgb(_ h: Double, _ s: Double, _ v: Double) -> (Double, Double, Double) {
    let h6 = h * 6
    let hi = h6.rounded(.down)
    let f = h6 - hi
    let p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s)
    switch Int(hi) % 6 {
    case 0: return (v, t, p)
    case 1: return (q, v, p)
    case 2: return (p, v, t)
    case 3: return (p, q, v)
    case 4: return (t, p, v)
    default: return (v, p, q)
    }
}
