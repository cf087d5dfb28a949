import StalwartTensor

// elastic_transform of Hendrycks' `make_imagenet_c.py` (hendrycks/robustness,
// ImageNet-C/create_c/make_imagenet_c.py), the `.hendrycks` mode of `elasticTransform`.
extension Corruptions {
    /// `elastic_transform(image, severity)` of `make_imagenet_c.py`:
    /// 1. x = image as float32 / 255;
    /// 2. a random affine: the three points (⌊h/2⌋+s, ⌊w/2⌋+s), (⌊h/2⌋+s, ⌊w/2⌋−s),
    ///    (⌊h/2⌋−s, ⌊w/2⌋−s), s = ⌊min(h, w)/3⌋, taken as OpenCV (x, y) points exactly as the
    ///    reference passes them (row and column swapped: it only matters for non-square images),
    ///    are each moved by float32 U(−c₂, c₂) jitter; `cv2.getAffineTransform` then
    ///    `cv2.warpAffine(INTER_LINEAR, BORDER_REFLECT_101)` on the float32 image;
    /// 3. dx, dy = float32(gaussian(U(−1, 1)^{h×w}, σ = c₁, mode 'reflect', truncate 3) · c₀);
    /// 4. `map_coordinates(x, (row + dy, col + dx), order=1, mode='reflect')`, clip to [0, 1],
    ///    ·255 in float32, truncated to uint8 (the reference's `np.uint8(img)` before saving).
    ///
    /// Parameters, (c₀ alpha, c₁ sigma, c₂ jitter) = 244 × (2, .7, .1), (2, .08, .2),
    /// (.05, .01, .02), (.07, .01, .02), (.12, .01, .02): the file's literal 244 (its comment:
    /// "244 should have been 224, but ultimately nothing is incorrect"), used as is. They are
    /// absolute pixel amounts fixed for the 224×224 ImageNet-C crops; at any other size the
    /// reference function is applied as written (only the three control points and the field
    /// sizes follow the image), nothing is rescaled: for size-relative strength use the
    /// `imagecorruptions` mode.
    ///
    /// Draws (`ctx.random`, the reference's order and counts): `uniform(6, ±c₂)` (the 3×2 jitter,
    /// C order: x₀ y₀ x₁ y₁ x₂ y₂), then `uniform(h·w, ±1)` for dx, then `uniform(h·w, ±1)` for dy.
    ///
    /// Precision: getAffineTransform is OpenCV's 6×6 LU with partial pivoting in double (a
    /// singular system gives the zero matrix, as `cv::solve` does); warpAffine reproduces
    /// opencv-python-headless 5.0 on x86-64 with AVX2 dispatch, measured bit-exact: OpenCV 5 no
    /// longer quantises coordinates to 1/32 pixel (INTER_BITS / AB_SCALE tables of OpenCV ≤ 4.10)
    /// but computes them in float32 from the float32-cast inverse matrix — per 16-pixel block
    /// `fma(M₀, x, float(y·M₁) + M₂)`, in the w mod 16 tail columns `fma(x, M₀, y·M₁) + M₂` —
    /// floors them, and interpolates with float32 FMAs (`p₀₀ + a·(p₀₁ − p₀₀)` per row, then the
    /// same across rows). Builds with other SIMD widths or without FMA differ by float32 ulps,
    /// i.e. rarely by 1 grey level after truncation. The Gaussian fields and `map_coordinates` are
    /// SciPy's float64 arithmetic (as `elasticTransform`). Not reproduced: the JPEG (quality 85)
    /// re-encoding `make_imagenet_c.py` applies when it saves the dataset.
    ///
    /// Robustness: coordinates that are not finite or exceed ±2²⁴ pixels (reachable only with
    /// absurd replayed draws) are clamped (NaN → 0) instead of trapping.
    static func elasticTransformHendrycks(_ x: Image, _ ctx: CorruptionContext) throws -> Image {
        let h = x.height, w = x.width
        // (alpha, sigma, jitter) / 244, multiplied in double as Python does.
        let table: [(Double, Double, Double)] = [(2, 0.7, 0.1), (2, 0.08, 0.2), (0.05, 0.01, 0.02),
                                                 (0.07, 0.01, 0.02), (0.12, 0.01, 0.02)]
        let t = table[min(max(ctx.severity, 1), 5) - 1]
        let c = (244 * t.0, 244 * t.1, 244 * t.2)

        let img = WeatherFilters.unitFloats(x)

        // Random affine.
        let c0 = Float(h / 2), c1 = Float(w / 2), s = Float(min(h, w) / 3)
        let pts1: [Float] = [c0 + s, c1 + s, c0 + s, c1 - s, c0 - s, c1 - s]
        let jitter = try ctx.random.uniform(6, low: -c.2, high: c.2)
        var pts2 = pts1
        for i in 0..<6 where i < jitter.count { pts2[i] = pts1[i] + Float(jitter[i]) }
        let m = HendrycksWarp.affineTransform(pts1, pts2)
        let warped = HendrycksWarp.warpAffineLinearReflect101(img, h: h, w: w, m)

        // Displacement fields (float64 Gaussian, scaled, stored as float32).
        let ux = try ctx.random.uniform(h * w, low: -1, high: 1)
        let gx = WeatherFilters.gaussianFilter(ux, h: h, w: w, sigma: (c.1, c.1), truncate: 3, border: .reflect, float32: false)
        let uy = try ctx.random.uniform(h * w, low: -1, high: 1)
        let gy = WeatherFilters.gaussianFilter(uy, h: h, w: w, sigma: (c.1, c.1), truncate: 3, border: .reflect, float32: false)

        let bytes = WeatherFilters.displacedBilinearToBytes(warped, h: h, w: w, gy: gy, gx: gx, alpha: c.0)
        return try Image(width: w, height: h, channels: 3, pixels: bytes)
    }
}

/// OpenCV pieces of the hendrycks elastic transform.
enum HendrycksWarp {
    /// `cv::getAffineTransform(src, dst)` for float32 points (x₀ y₀ x₁ y₁ x₂ y₂): the 6×6 system
    /// solved by OpenCV's `LUImpl` (partial pivoting, ε = 100·DBL_EPSILON) in double; a singular
    /// system yields zeros, as `cv::solve` returns. Row-major 2×3 result.
    static func affineTransform(_ src: [Float], _ dst: [Float]) -> [Double] {
        var a = [Double](repeating: 0, count: 36), b = [Double](repeating: 0, count: 6)
        for i in 0..<3 {
            let j = i * 12, k = i * 12 + 6
            a[j] = Double(src[2 * i]); a[k + 3] = a[j]
            a[j + 1] = Double(src[2 * i + 1]); a[k + 4] = a[j + 1]
            a[j + 2] = 1; a[k + 5] = 1
            b[2 * i] = Double(dst[2 * i]); b[2 * i + 1] = Double(dst[2 * i + 1])
        }
        let n = 6, eps = 100 * Double.ulpOfOne
        for i in 0..<n {
            var k = i
            for j in (i + 1)..<n where abs(a[j * n + i]) > abs(a[k * n + i]) { k = j }
            // `!(… >= eps)` also catches NaN (OpenCV's `< eps` would carry on with NaNs; the
            // result is then meaningless either way).
            if !(abs(a[k * n + i]) >= eps) { return [Double](repeating: 0, count: 6) }
            if k != i {
                for j in i..<n { a.swapAt(i * n + j, k * n + j) }
                b.swapAt(i, k)
            }
            let d = -1 / a[i * n + i]
            for j in (i + 1)..<n {
                let alpha = a[j * n + i] * d
                for q in (i + 1)..<n { a[j * n + q] += alpha * a[i * n + q] }
                b[j] += alpha * b[i]
            }
            a[i * n + i] = -d
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = b[i]
            for q in (i + 1)..<n { s -= a[i * n + q] * b[q] }
            b[i] = s * a[i * n + i]
        }
        return b
    }

    /// BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba), periodic for any offset.
    @inline(__always)
    static func reflect101(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        if n == 1 { return 0 }
        let p = 2 * n - 2
        var m = i % p
        if m < 0 { m += p }
        return m >= n ? p - m : m
    }

    /// ⌊v⌋ and v − ⌊v⌋ of a float32 source coordinate (NaN → 0, clamped to ±2²⁴ first).
    @inline(__always)
    static func floorFrac(_ v: Float) -> (Int, Float) {
        let c: Float = v.isNaN ? 0 : min(max(v, -16_777_216), 16_777_216)
        let t = Float(Int32(c))
        let f = t > c ? t - 1 : t
        return (Int(f), c - f)
    }

    /// `cv::warpAffine(src, M, (w, h), INTER_LINEAR, BORDER_REFLECT_101)` on an interleaved
    /// 3-channel float32 h×w image, as OpenCV 5's `warpAffineLinearInvoker_32FC3` computes it
    /// (AVX2 dispatch: blocks of 16 pixels, scalar tail): inverse of M in double (warpAffine's
    /// own formula), cast to float; float32 source coordinates; float32 FMA interpolation.
    static func warpAffineLinearReflect101(_ src: [Float], h: Int, w: Int, _ dm: [Double]) -> [Float] {
        // Inverse map, as warpAffine does without WARP_INVERSE_MAP.
        var d = dm[0] * dm[4] - dm[1] * dm[3]
        d = d != 0 ? 1 / d : 0
        let a11 = dm[4] * d, a22 = dm[0] * d
        let m1 = dm[1] * -d, m3 = dm[3] * -d
        let b1 = -a11 * dm[2] - m1 * dm[5]
        let b2 = -m3 * dm[2] - a22 * dm[5]
        let m = [Float(a11), Float(m1), Float(b1), Float(m3), Float(a22), Float(b2)]
        var out = [Float](repeating: 0, count: h * w * 3)
        let blockEnd = (w / 16) * 16
        src.withUnsafeBufferPointer { sp in
            out.withUnsafeMutableBufferPointer { op in
                for y in 0..<h {
                    let fy = Float(y)
                    let rowX = fy * m[1] + m[2], rowY = fy * m[4] + m[5]
                    let yM1 = fy * m[1], yM4 = fy * m[4]
                    for x in 0..<w {
                        let fx = Float(x)
                        let sx: Float, sy: Float
                        if x < blockEnd {
                            sx = rowX.addingProduct(m[0], fx)
                            sy = rowY.addingProduct(m[3], fx)
                        } else {
                            sx = yM1.addingProduct(fx, m[0]) + m[2]
                            sy = yM4.addingProduct(fx, m[3]) + m[5]
                        }
                        let (ix, ax) = floorFrac(sx)
                        let (iy, ay) = floorFrac(sy)
                        let x0 = reflect101(ix, w) * 3, x1 = reflect101(ix + 1, w) * 3
                        let y0 = reflect101(iy, h) * w * 3, y1 = reflect101(iy + 1, h) * w * 3
                        let o = (y * w + x) * 3
                        for k in 0..<3 {
                            let p00 = sp[y0 + x0 + k], p01 = sp[y0 + x1 + k]
                            let p10 = sp[y1 + x0 + k], p11 = sp[y1 + x1 + k]
                            let v0 = p00.addingProduct(ax, p01 - p00)
                            let v1 = p10.addingProduct(ax, p11 - p10)
                            op[o + k] = v0.addingProduct(ay, v1 - v0)
                        }
                    }
                }
            }
        }
        return out
    }
}
