import Glibc
import StalwartTensor

// The five blur corruptions of `imagecorruptions` 1.1.2, reproduced operation by operation in
// the reference's precision (float64 where NumPy/SciPy/OpenCV compute in float64, float32 where
// the reference casts to float32), with its clipping and its final `np.uint8` truncation.
// Kernels and filters live in BlurKernels.swift.
extension Corruptions {
    /// `defocus_blur`: a disk kernel K (float32, anti-aliased with OpenCV's 3×3 or 5×5 Gaussian)
    /// correlated with each channel of `x / 255` in float64 (`cv2.filter2D`, BORDER_REFLECT_101),
    /// clipped, ×255, truncated.
    ///
    /// Computed as K = (g gᵀ) ⊛ (c·disk) + E (DefocusKernels): the disk sums exactly in integers
    /// from running column sums, then c, OpenCV's separable Gaussian g and the few taps of E
    /// (what the reflection at the kernel array's border adds, radius 8 and 10) in float64. Taps
    /// of E ≤ 1e-9 (float32 rounding residue, Σ|·| ≤ 5e-8) are dropped and c is rescaled so that
    /// the kernel's mass stays ΣK exactly (flat areas come out as with K: v·ΣK); an output can
    /// then move by ≤ ~1e-5 levels against the direct float64 sum, which changed none of the
    /// 1.8 million values compared in DefocusTests.
    ///
    /// Parity: OpenCV runs this correlation through a DFT (kernel area ≥ 50), so its sums carry
    /// ~1e-16 relative rounding noise that no direct sum copies; after `×255` and truncation a
    /// value that lands on an integer can differ by 1 (~1e-6 of the values).
    static func defocusBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c: (Int, Double) = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)][ctx.severity - 1]
        let bytes = DefocusKernels.defocus(x, radius: c.0, aliasBlur: c.1)
        return try Image(width: x.width, height: x.height, channels: 3, pixels: bytes)
    }

    /// `glass_blur`: Gaussian blur (σ), truncated to uint8, then `iterations` passes of the
    /// reference's local pixel "swap" scanning rows and columns backwards, then Gaussian blur
    /// again. The swap is NumPy's `x[h, w], x[h', w'] = x[h', w'], x[h, w]` on row views, which
    /// copies `x[h', w']` into `x[h, w]` and leaves `x[h', w']` unchanged; reproduced as such.
    /// Draws: per pixel visited, `np.random.randint(-δ, δ, size=2)` = (dx, dy), in scan order.
    static func glassBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c: (Double, Int, Int) = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)][ctx.severity - 1]
        let (w, h) = (x.width, x.height)
        let gk = BlurKernels.scipyGaussian(sigma: c.0)
        // np.uint8(v·255) here is np.uint8(clip(v, 0, 1)·255): v ≥ 0, and v > 1 gives 255 both ways.
        var img = BlurKernels.gaussianNearestToBytes(x, kernel: gk)
        let d = c.1
        // range(H - d, d, -1) × range(W - d, d, -1)
        let rows = max(0, h - 2 * d), cols = max(0, w - 2 * d)
        for _ in 0..<c.2 where rows > 0 && cols > 0 {
            let draws = try ctx.random.integers(2 * rows * cols, low: -d, high: d)
            // Replayed values come from the caller: an offset outside [-δ, δ) would index
            // outside the image, so refuse it.
            guard draws.allSatisfy({ $0 >= -d && $0 < d }) else {
                throw StalwartError.invalidArgument("glass_blur draws must be integers in [\(-d), \(d))")
            }
            img.withUnsafeMutableBufferPointer { p in
                draws.withUnsafeBufferPointer { r in
                    var k = 0
                    var hh = h - d
                    while hh > d {
                        var ww = w - d
                        while ww > d {
                            let dx = r[k], dy = r[k + 1]
                            k += 2
                            let dst = (hh * w + ww) * 3, s = ((hh + dy) * w + ww + dx) * 3
                            p[dst] = p[s]; p[dst + 1] = p[s + 1]; p[dst + 2] = p[s + 2]
                            ww -= 1
                        }
                        hh -= 1
                    }
                }
            }
        }
        let second = try Image(width: w, height: h, channels: 3, pixels: img)
        let bytes = BlurKernels.gaussianNearestToBytes(second, kernel: gk)
        return try Image(width: w, height: h, channels: 3, pixels: bytes)
    }

    /// `motion_blur` (the reference's shift-and-accumulate, not ImageMagick): angle ~
    /// U(-45, 45) degrees (one `np.random.uniform` draw); `2r+1` edge-replicating shifts of the
    /// uint8 image along the angle, weighted by a one-sided Gaussian (σ) and summed in float64.
    static func motionBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c: (Int, Int) = [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)][ctx.severity - 1]
        let angle = try ctx.random.uniform(1, low: -45, high: 45)[0]
        let (w, h) = (x.width, x.height)
        let shifts = BlurKernels.motionShifts(radius: c.0, sigma: Double(c.1), angle: angle, height: h, width: w)
        // Shifting with edge replication = reading a copy padded by m replicated columns.
        let m = shifts.map { abs($0.dx) }.max() ?? 0
        let pw = w + 2 * m
        var padded = [Double](repeating: 0, count: pw * h * 3)
        padded.withUnsafeMutableBufferPointer { p in
            x.pixels.withUnsafeBufferPointer { s in
                for y in 0..<h { for px in 0..<pw {
                    let si = (y * w + min(max(px - m, 0), w - 1)) * 3, di = (y * pw + px) * 3
                    p[di] = Double(s[si]); p[di + 1] = Double(s[si + 1]); p[di + 2] = Double(s[si + 2])
                } }
            }
        }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let weights = shifts.map(\.k)
        out.withUnsafeMutableBufferPointer { o in
            padded.withUnsafeBufferPointer { p in
                weights.withUnsafeBufferPointer { wp in
                    // Rows in parallel; each pixel sums its shifts in the reference's order,
                    // then np.clip(·, 0, 255) and np.uint8.
                    BlurKernels.parallelRows(h) { ys in
                        let src = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: max(shifts.count, 1))
                        let row = UnsafeMutablePointer<Double>.allocate(capacity: w * 3)
                        defer { src.deallocate(); row.deallocate() }
                        for y in ys {
                            for (t, sh) in shifts.enumerated() {
                                src[t] = p.baseAddress! + (min(max(y - sh.dy, 0), h - 1) * pw + m - sh.dx) * 3
                            }
                            BlurKernels.weightedSumRow(row, src, wp.baseAddress!, taps: shifts.count, n: w * 3)
                            let ob = o.baseAddress! + y * w * 3
                            for j in 0..<(w * 3) { ob[j] = BlurKernels.truncU8(min(max(row[j], 0), 255)) }
                        }
                    }
                }
            }
        }
        return try Image(width: w, height: h, channels: 3, pixels: out)
    }

    /// `zoom_blur`: the mean of the image and its centre crops zoomed back up (SciPy
    /// `ndimage.zoom`, order 1, non-grid mode) by each factor of `np.arange(1, stop, step)`,
    /// in float32 like the reference. Severity 1 has 12 factors (`np.arange` rounding).
    static func zoomBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let c: (Double, Double) = [(1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03)][ctx.severity - 1]
        let factors = BlurKernels.numpyArange(start: 1, stop: c.0, step: c.1)
        let (w, h) = (x.width, x.height)
        let xf = x.pixels.map { Float(Double($0) / 255) }
        var out = [Float](repeating: 0, count: xf.count)
        for z in factors {
            BlurKernels.addClippedZoom(xf, width: w, height: h, zoom: z, into: &out)
        }
        let n = Float(factors.count + 1)
        var img = x
        for i in 0..<xf.count {
            let v = (xf[i] + out[i]) / n
            img.pixels[i] = BlurKernels.truncU8(Double(min(max(v, 0), 1) * 255))
        }
        return img
    }

    /// `gaussian_blur`: `skimage.filters.gaussian(x / 255, σ, channel_axis=-1)` — SciPy's
    /// separable Gaussian (truncate 4, mode 'nearest') in float64 — clipped, ×255, truncated.
    static func gaussianBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let sigma: Double = [1, 2, 3, 4, 6][ctx.severity - 1]
        let bytes = BlurKernels.gaussianNearestToBytes(x, kernel: BlurKernels.scipyGaussian(sigma: sigma))
        return try Image(width: x.width, height: x.height, channels: 3, pixels: bytes)
    }
}
