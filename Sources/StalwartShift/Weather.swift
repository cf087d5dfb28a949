import Glibc
import StalwartImageIO
import StalwartTensor

// snow, frost, fog, spatter and elastic_transform of imagecorruptions 1.1.2, reimplemented with
// the reference's float32/float64 arithmetic, clipping and final `np.uint8` truncation. Random
// numbers come only from `ctx.random`, in the reference's order and counts.
extension Corruptions {
    /// float64 → uint8 as `np.uint8(x)` for x already clipped to [0, 255]: truncation.
    @inline(__always)
    static func truncU8(_ v: Double) -> UInt8 {
        // Branch-free clamp (the predictable NaN test only guards the conversion).
        let c = Swift.min(Swift.max(v, 0), 255)
        return c.isNaN ? 0 : UInt8(truncatingIfNeeded: Int32(c))
    }

    // MARK: fog

    /// imagecorruptions' `plasma_fractal(mapsize, wibbledecay)`: diamond-square, uniform draws
    /// (3 × m² per level: squares, then the two diamond sets) in NumPy's C order; not normalised
    /// (see `plasmaRange`).
    static func plasmaFractal(_ n: Int, decay: Double, _ random: RandomDraws) throws -> [Double] {
        var map = [Double](repeating: 0, count: n * n)
        var step = n
        var wibble = 100.0
        while step >= 2 {
            let m = n / step, half = step / 2
            let usArray = try random.uniform(m * m, low: -wibble, high: wibble)
            usArray.withUnsafeBufferPointer { us in map.withUnsafeMutableBufferPointer { pb in
                guard let p = pb.baseAddress else { return }
                // Rows in parallel: a phase writes only points it never reads.
                BlurKernels.parallelRows(m) { rows in
                for i in rows {
                    let i1 = (i + 1) % m
                    for j in 0..<m {
                        let j1 = j + 1 == m ? 0 : j + 1
                        let a = p[i * step * n + j * step] + p[i1 * step * n + j * step]
                        let b = p[i * step * n + j1 * step] + p[i1 * step * n + j1 * step]
                        p[(i * step + half) * n + j * step + half] = (a + b) / 4 + wibble * us[i * m + j]
                    }
                }
                }
            } }
            let ulArray = try random.uniform(m * m, low: -wibble, high: wibble)
            ulArray.withUnsafeBufferPointer { ul in map.withUnsafeMutableBufferPointer { pb in
                guard let p = pb.baseAddress else { return }
                // Rows in parallel: a phase writes only points it never reads.
                BlurKernels.parallelRows(m) { rows in
                for i in rows {
                    let im = (i + m - 1) % m
                    for j in 0..<m {
                        let j1 = j + 1 == m ? 0 : j + 1
                        let ldr = p[(i * step + half) * n + j * step + half] + p[(im * step + half) * n + j * step + half]
                        let lul = p[i * step * n + j * step] + p[i * step * n + j1 * step]
                        p[i * step * n + j * step + half] = (ldr + lul) / 4 + wibble * ul[i * m + j]
                    }
                }
                }
            } }
            let ttArray = try random.uniform(m * m, low: -wibble, high: wibble)
            ttArray.withUnsafeBufferPointer { tt in map.withUnsafeMutableBufferPointer { pb in
                guard let p = pb.baseAddress else { return }
                // Rows in parallel: a phase writes only points it never reads.
                BlurKernels.parallelRows(m) { rows in
                for i in rows {
                    let i1 = (i + 1) % m
                    for j in 0..<m {
                        let jm = j == 0 ? m - 1 : j - 1
                        let tdr = p[(i * step + half) * n + j * step + half] + p[(i * step + half) * n + jm * step + half]
                        let tul = p[i * step * n + j * step] + p[i1 * step * n + j * step]
                        p[(i * step + half) * n + j * step] = (tdr + tul) / 4 + wibble * tt[i * m + j]
                    }
                }
                }
            } }
            step /= 2
            wibble /= decay
        }
        return map
    }

    /// The reference's normalisation `(map − min) / max(map − min)`, as (lo, hi) with the value
    /// at i being `(map[i] − lo) / hi`: hi = fl(max − lo) equals max over i of fl(map[i] − lo)
    /// because rounded subtraction is monotonic. Min and max in parallel (order-independent).
    static func plasmaRange(_ map: [Double]) -> (lo: Double, hi: Double) {
        let blocks = 16
        var los = [Double](repeating: .infinity, count: blocks), his = [Double](repeating: -.infinity, count: blocks)
        map.withUnsafeBufferPointer { p in
            los.withUnsafeMutableBufferPointer { lb in
                his.withUnsafeMutableBufferPointer { hb in
                    BlurKernels.parallelRows(blocks, minRows: 1) { bs in
                        for b in bs {
                            guard let base = p.baseAddress else { continue }
                            let i0 = b * p.count / blocks, i1 = (b + 1) * p.count / blocks
                            let (lo, hi) = WeatherRowKernels.current.minMax(base + i0, i1 - i0)
                            lb[b] = lo; hb[b] = hi
                        }
                    }
                }
            }
        }
        let lo = los.min() ?? 0
        return (lo, (his.max() ?? 0) - lo)
    }

    static func fog(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [(1.5, 2.0), (2.0, 2.0), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)][ctx.severity - 1]
        let h = x.height, w = x.width
        var n = 1
        while n < max(h, w, 3) { n <<= 1 }
        let maxVal = Double(x.pixels.max() ?? 0) / 255
        let plasma = try plasmaFractal(n, decay: c.1, ctx.random)
        let (lo, hi) = plasmaRange(plasma)
        var out = x
        let den = maxVal + c.0
        x.pixels.withUnsafeBufferPointer { sp in
            out.pixels.withUnsafeMutableBufferPointer { op in
                plasma.withUnsafeBufferPointer { pl in
                    guard let sb = sp.baseAddress, let ob = op.baseAddress, let pb = pl.baseAddress else { return }
                    let k = WeatherRowKernels.current
                    BlurKernels.parallelRows(h) { ys in
                        for y in ys {
                            k.fogRow(ob + y * w * 3, sb + y * w * 3, pb + y * n, lo, hi, c.0, maxVal, den, w)
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: elastic_transform

    static func elasticTransform(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        if ctx.mode == .hendrycks {
            return try elasticTransformHendrycks(x, ctx)
        }
        let h = x.height, w = x.width
        let alpha = [250 * 0.05, 250 * 0.065, 250 * 0.085, 250 * 0.1, 250 * 0.12][ctx.severity - 1]
        let sigma = (Double(h) * 0.01, Double(w) * 0.01)
        let maxD = Double(h) * 0.005
        let ux = try ctx.random.uniform(h * w, low: -maxD, high: maxD)
        let gx = WeatherFilters.gaussianFilter(ux, h: h, w: w, sigma: sigma, truncate: 3, border: .reflect, float32: false)
        let uy = try ctx.random.uniform(h * w, low: -maxD, high: maxD)
        let gy = WeatherFilters.gaussianFilter(uy, h: h, w: w, sigma: sigma, truncate: 3, border: .reflect, float32: false)
        let bytes = WeatherFilters.displacedBilinearToBytes(WeatherFilters.unitFloats(x), h: h, w: w, gy: gy, gx: gx, alpha: alpha)
        return try Image(width: w, height: h, channels: 3, pixels: bytes)
    }

    // MARK: snow

    static func snow(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [(0.1, 0.3, 3.0, 0.5, 10, 4.0, 0.8), (0.2, 0.3, 2.0, 0.5, 12, 4.0, 0.7),
                 (0.55, 0.3, 4.0, 0.9, 12, 8.0, 0.7), (0.55, 0.3, 4.5, 0.85, 12, 8.0, 0.65),
                 (0.55, 0.3, 2.5, 0.85, 12, 12.0, 0.55)][ctx.severity - 1]
        let h = x.height, w = x.width
        let layer = try ctx.random.normal(h * w, mean: c.0, std: c.1)
        // clipped_zoom: central ceil(n / z) crop, zoomed by z.
        let ch0 = Int((Double(h) / c.2).rounded(.up)), ch1 = Int((Double(w) / c.2).rounded(.up))
        let top0 = (h - ch0) / 2, top1 = (w - ch1) / 2
        var crop = [Double](repeating: 0, count: ch0 * ch1)
        for y in 0..<ch0 { for xx in 0..<ch1 { crop[y * ch1 + xx] = layer[(top0 + y) * w + top1 + xx] } }
        var (z, zh, zw) = WeatherFilters.zoomLinear(crop, h: ch0, w: ch1, zoom: c.2)
        for i in z.indices { let v = z[i] < c.3 ? 0 : z[i]; z[i] = min(max(v, 0), 1) }
        let angle = try ctx.random.uniform(1, low: -135, high: -45)[0]
        let blurred = WeatherFilters.motionBlur(z, h: zh, w: zw, radius: c.4, sigma: c.5, angle: angle)
        // Rounded to 8 bits, cropped to the image.
        var s = [Double](repeating: 0, count: h * w)
        s.withUnsafeMutableBufferPointer { sb in
            blurred.withUnsafeBufferPointer { bb in
                guard let sp = sb.baseAddress, let bp = bb.baseAddress else { return }
                BlurKernels.parallelRows(h) { ys in
                    for y in ys { for xx in 0..<w { sp[y * w + xx] = WeatherFilters.rint(bp[y * zw + xx] * 255) / 255 } }
                }
            }
        }
        let a = Float(c.6), b = Float(1 - c.6)
        var out = x
        x.pixels.withUnsafeBufferPointer { sp in
            out.pixels.withUnsafeMutableBufferPointer { op in
                s.withUnsafeBufferPointer { s in
                guard let sb = sp.baseAddress, let ob = op.baseAddress, let tb = s.baseAddress else { return }
                let k = WeatherRowKernels.current
                BlurKernels.parallelRows(h) { ys in
                    for y in ys {
                        k.snowRow(ob + y * w * 3, sb + y * w * 3, tb + y * w, tb + (h - 1 - y) * w, a, b, w)
                    }
                }
                }
            }
        }
        return out
    }

    // MARK: frost

    static func frost(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [(1.0, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)][ctx.severity - 1]
        let idx = try ctx.random.integers(1, low: 0, high: 5)[0]
        guard (0..<5).contains(idx) else { throw StalwartError.invalidArgument("frost texture index \(idx) out of range") }
        let tex = try FrostTextures.texture(idx)  // RGB
        let fh = tex.height, fw = tex.width, h = x.height, w = x.width
        var s = 1.0
        if fh >= h && fw >= w { s = 1 }
        else if fh < h && fw >= w { s = Double(h) / Double(fh) }
        else if fh >= h && fw < w { s = Double(w) / Double(fw) }
        else { s = max(Double(h) / Double(fh), Double(w) / Double(fw)) }
        s *= 1.1
        let nw = Int((Double(fw) * s).rounded(.up)), nh = Int((Double(fh) * s).rounded(.up))
        let y0 = try ctx.random.integers(1, low: 0, high: nh - h)[0]
        let x0 = try ctx.random.integers(1, low: 0, high: nw - w)[0]
        guard y0 >= 0, y0 + h <= nh, x0 >= 0, x0 + w <= nw else {
            throw StalwartError.invalidArgument("frost crop offset out of range")
        }
        // Only the crop of the resized texture is computed.
        let crop = WeatherFilters.resizeCubic(tex.pixels, w: fw, h: fh, ch: 3, dw: nw, dh: nh, x0: x0, y0: y0, cw: w, chh: h)
        var out = x
        x.pixels.withUnsafeBufferPointer { sp in
            out.pixels.withUnsafeMutableBufferPointer { op in
                crop.withUnsafeBufferPointer { cp in
                    guard let sb = sp.baseAddress, let ob = op.baseAddress, let cb = cp.baseAddress else { return }
                    let k = WeatherRowKernels.current
                    BlurKernels.parallelRows(h) { ys in
                        let i0 = ys.lowerBound * w * 3
                        k.frostRow(ob + i0, sb + i0, cb + i0, c.0, c.1, (ys.upperBound - ys.lowerBound) * w * 3)
                    }
                }
            }
        }
        return out
    }

    // MARK: spatter

    static func spatter(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c = [(0.65, 0.3, 4.0, 0.69, 0.6, 0), (0.65, 0.3, 3.0, 0.68, 0.6, 0), (0.65, 0.3, 2.0, 0.68, 0.5, 0),
                 (0.65, 0.3, 1.0, 0.65, 1.5, 1), (0.67, 0.4, 1.0, 0.65, 1.5, 1)][ctx.severity - 1]
        let h = x.height, w = x.width
        let drawn = try ctx.random.normal(h * w, mean: c.0, std: c.1)
        var liquid = WeatherFilters.gaussianFilter(drawn, h: h, w: w, sigma: (c.2, c.2), truncate: 4, border: .nearest, float32: false)
        for i in liquid.indices where liquid[i] < c.3 { liquid[i] = 0 }
        var out = x
        if c.5 == 0 {
            let m = WeatherSpatter.liquidMask(liquid, h: h, w: w, scale: Float(c.4))
            let color: [Float] = [Float(175.0 / 255), Float(238.0 / 255), Float(238.0 / 255)]
            x.pixels.withUnsafeBufferPointer { sp in
                out.pixels.withUnsafeMutableBufferPointer { op in
                    BlurKernels.parallelRows(h) { ys in
                    for p in (ys.lowerBound * w)..<(ys.upperBound * w) {
                        for k in 0..<3 {
                            let t = Float(sp[p * 3 + k]) / 255 + m[p] * color[k]
                            let f = min(max(t, 0), 1) * 255
                            op[p * 3 + k] = f >= 255 ? 255 : (f > 0 ? UInt8(f) : 0)
                        }
                    }
                    }
                }
            }
            return out
        }
        var mask = [Double](repeating: 0, count: h * w)
        for i in mask.indices { mask[i] = liquid[i] > c.3 ? 1 : 0 }
        var m = WeatherFilters.gaussianFilter(mask, h: h, w: w, sigma: (c.4, c.4), truncate: 4, border: .nearest, float32: true)
        for i in m.indices where m[i] < 0.8 { m[i] = 0 }
        let color = [63.0 / 255, 42.0 / 255, 20.0 / 255]
        x.pixels.withUnsafeBufferPointer { sp in
            out.pixels.withUnsafeMutableBufferPointer { op in
                BlurKernels.parallelRows(h) { ys in
                for p in (ys.lowerBound * w)..<(ys.upperBound * w) {
                    let mf = Float(m[p])
                    let keep = 1 - mf
                    for k in 0..<3 {
                        let xv = (Float(sp[p * 3 + k]) / 255) * keep
                        let t = Double(xv) + color[k] * Double(mf)
                        op[p * 3 + k] = truncU8(min(max(t, 0), 1) * 255)
                    }
                }
                }
            }
        }
        return out
    }
}

/// The frost textures (decoded once, lazily, thread-safely: Swift `static let` initialisers run
/// exactly once under `swift_once`). `cv2.imread` gives BGR with PNG alpha stripped and the
/// reference flips the crop back to RGB, so decoding straight to RGB (alpha dropped) is the same.
enum FrostTextures {
    private static let decoded: [Result<Image, Error>] = FrostTextureData.files.map { f in
        Result {
            guard let data = base64Decode(f.base64) else { throw StalwartError.decode("frost texture \(f.name): bad base64") }
            return try data.withUnsafeBytes { try ImageCodec.decode($0) }
        }
    }

    static func texture(_ i: Int) throws -> Image { try decoded[i].get() }

    static func base64Decode(_ s: String) -> [UInt8]? {
        var table = [Int16](repeating: -1, count: 256)
        for (i, ch) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { table[Int(ch)] = Int16(i) }
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count / 4 * 3)
        var acc: UInt32 = 0, bits = 0
        for ch in s.utf8 {
            if ch == UInt8(ascii: "=") { break }
            let v = table[Int(ch)]
            if v < 0 { return nil }
            acc = (acc << 6) | UInt32(v); bits += 6
            if bits >= 8 { bits -= 8; out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits))) }
        }
        return out
    }
}
