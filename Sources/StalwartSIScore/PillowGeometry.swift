// The Pillow 13 operations SI-Score's generator uses, reproduced exactly: Python's float
// rounding and `%`, `Image.rotate(angle, BICUBIC, expand=True)` (Image.py's matrix and canvas,
// libImaging/Geometry.c's generic affine transform with its bicubic filter on premultiplied
// RGBa), transposes, and `Image.paste(rgba, box, mask=rgba)` (Paste.c's `paste_mask_RGBA`).
import Glibc
import StalwartTensor

/// Python arithmetic the generator relies on.
public enum PyMath {
    /// `round(x, digits)` for |x·10^digits| < 2^52 (digits 0…15): the exact binary value of x
    /// rounded to `digits` decimals, ties to even, as CPython's correctly rounded `round`.
    /// Values outside that range are returned unchanged (CPython does too for huge values).
    public static func round(_ x: Double, _ digits: Int) -> Double {
        guard x.isFinite, (0...15).contains(digits) else { return x }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }   // exact: 10^15 < 2^53
        let p = x * scale
        guard abs(p) < 4.5e15 else { return x }
        let e = (-p).addingProduct(x, scale)           // x·scale − p, exact (FMA)
        let fl = p.rounded(.down)
        let d = (p - fl - 0.5) + e                     // sign of (exact fraction − ½)
        var n = fl
        if d > 0 || (d == 0 && fl.truncatingRemainder(dividingBy: 2) != 0) { n = fl + 1 }
        return n / scale
    }

    /// Python's float `a % b` for b > 0: the result has the sign of b.
    public static func mod(_ a: Double, _ b: Double) -> Double {
        let m = fmod(a, b)
        if m != 0 { return (m < 0) != (b < 0) ? m + b : m }
        return copysign(0, b)
    }

    /// Python's `repr(float)`: shortest round-trip digits, fixed notation for decimal exponents
    /// −4…15, else `d.ddde±XX`; always with a `.` or exponent (`1.0`, `0.15000000000000002`).
    public static func repr(_ x: Double) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x < 0 ? "-inf" : "inf") }
        if x == 0 { return x.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest digits; only the layout differs.
        let s = x.description
        var neg = false
        var body = Substring(s)
        if body.first == "-" { neg = true; body = body.dropFirst() }
        var mant = body, exp = 0
        if let ei = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mant = body[..<ei]
            exp = Int(body[body.index(after: ei)...]) ?? 0
        }
        var intPart = mant, frac = Substring("")
        if let dot = mant.firstIndex(of: ".") { intPart = mant[..<dot]; frac = mant[mant.index(after: dot)...] }
        var digits = Array(String(intPart) + String(frac))
        var point = intPart.count + exp                 // decimal point position in `digits`
        while let f = digits.first, f == "0", digits.count > 1 { digits.removeFirst(); point -= 1 }
        while let l = digits.last, l == "0", digits.count > 1 { digits.removeLast() }
        let decExp = point - 1
        var out = ""
        if decExp >= -4 && decExp < 16 {
            if point <= 0 {
                out = "0." + String(repeating: "0", count: -point) + String(digits)
            } else if point >= digits.count {
                out = String(digits) + String(repeating: "0", count: point - digits.count) + ".0"
            } else {
                out = String(digits[..<point]) + "." + String(digits[point...])
            }
        } else {
            out = String(digits[0])
            if digits.count > 1 { out += "." + String(digits[1...]) }
            let e = abs(decExp)
            out += (decExp < 0 ? "e-" : "e+") + (e < 10 ? "0" : "") + String(e)
        }
        return neg ? "-" + out : out
    }
}

/// Geometry of Pillow's `Image.rotate(angle, resample, expand=True)` without translation.
public struct PillowRotation: Sendable, Equatable {
    /// What `rotate` does for this angle: copy, transpose, or an affine transform.
    public enum Kind: Sendable, Equatable { case copy, rotate90, rotate180, rotate270, affine }
    public let kind: Kind
    /// Output size (the expanded canvas).
    public let width: Int
    public let height: Int
    /// The inverse affine matrix (output → input) passed to `ImagingTransform`.
    public let matrix: [Double]

    /// The rotation of a `width`×`height` image by `degrees` counter-clockwise.
    public init(width w: Int, height h: Int, degrees: Double) {
        let angle = PyMath.mod(degrees, 360.0)
        if angle == 0 { kind = .copy; width = w; height = h; matrix = [1, 0, 0, 0, 1, 0]; return }
        if angle == 180 { kind = .rotate180; width = w; height = h; matrix = [-1, 0, Double(w), 0, -1, Double(h)]; return }
        if angle == 90 { kind = .rotate90; width = h; height = w; matrix = []; return }
        if angle == 270 { kind = .rotate270; width = h; height = w; matrix = []; return }
        let cx = Double(w) / 2, cy = Double(h) / 2
        let rad = -(angle * (Double.pi / 180.0))
        let c = PyMath.round(cos(rad), 15), s = PyMath.round(sin(rad), 15)
        var m = [c, s, 0.0, PyMath.round(-sin(rad), 15), c, 0.0]
        func tf(_ x: Double, _ y: Double) -> (Double, Double) { (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]) }
        let t = tf(-cx - 0, -cy - 0)
        m[2] = t.0 + cx
        m[5] = t.1 + cy
        var xs: [Double] = [], ys: [Double] = []
        for (x, y) in [(0.0, 0.0), (Double(w), 0.0), (Double(w), Double(h)), (0.0, Double(h))] {
            let p = tf(x, y); xs.append(p.0); ys.append(p.1)
        }
        let nw = Int((xs.max() ?? 0).rounded(.up)) - Int((xs.min() ?? 0).rounded(.down))
        let nh = Int((ys.max() ?? 0).rounded(.up)) - Int((ys.min() ?? 0).rounded(.down))
        let u = tf(Double(-(nw - w)) / 2.0, Double(-(nh - h)) / 2.0)
        m[2] = u.0; m[5] = u.1
        kind = .affine; width = nw; height = nh; matrix = m
    }
}

/// Pillow image operations on `Image` (HWC bytes).
public enum PillowOps {
    /// `MULDIV255`: v·a/255 rounded as Pillow does.
    @inline(__always) static func muldiv255(_ v: UInt32, _ a: UInt32) -> UInt32 {
        let t = v &* a &+ 128
        return ((t >> 8) &+ t) >> 8
    }

    /// RGBA → RGBa (`rgbA2rgba`) in place.
    static func premultiply(_ px: inout [UInt8], kernels k: CompositeRowKernels = .current) {
        px.withUnsafeMutableBufferPointer { b in
            guard let p = b.baseAddress else { return }
            k.premultiply(p, p, b.count / 4)
        }
    }

    /// RGBa → RGBA (`rgba2rgbA`) in place: unchanged where a is 0 or 255, else
    /// `min(255, 255·v / a)` with integer division.
    static func unpremultiply(_ px: inout [UInt8], kernels k: CompositeRowKernels = .current) {
        px.withUnsafeMutableBufferPointer { b in
            guard let p = b.baseAddress else { return }
            k.unpremultiply(p, p, b.count / 4)
        }
    }

    /// `Image.rotate(degrees, BICUBIC, expand=True)` of an RGBA image (other channel counts are
    /// rotated without premultiplication, as Pillow does for RGB/L). Returns the expanded image.
    /// Affine RGBA rows are spread over `pool` when given (same bytes).
    public static func rotate(_ image: Image, degrees: Double, pool: ThreadPool? = nil) throws -> Image {
        guard degrees.isFinite else { throw StalwartError.invalidArgument("rotation angle must be finite, got \(degrees)") }
        let r = PillowRotation(width: image.width, height: image.height, degrees: degrees)
        let w = image.width, h = image.height, c = image.channels
        switch r.kind {
        case .copy:
            return image
        case .rotate90, .rotate180, .rotate270:
            var out = try Image(width: r.width, height: r.height, channels: c)
            image.pixels.withUnsafeBufferPointer { src in
                out.pixels.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<r.height {
                        for x in 0..<r.width {
                            let (sx, sy): (Int, Int)
                            switch r.kind {
                            case .rotate90: (sx, sy) = (w - 1 - y, x)
                            case .rotate270: (sx, sy) = (y, h - 1 - x)
                            default: (sx, sy) = (w - 1 - x, h - 1 - y)
                            }
                            let so = (sy * w + sx) * c, d = (y * r.width + x) * c
                            for k in 0..<c { dst[d + k] = src[so + k] }
                        }
                    }
                }
            }
            return out
        case .affine:
            guard r.width >= 1, r.height >= 1, r.width <= 65535, r.height <= 65535 else {
                throw StalwartError.invalidArgument("rotated canvas \(r.width)×\(r.height) is out of range")
            }
            if c == 4 { return try bicubicAffineRGBA(image, outWidth: r.width, outHeight: r.height, matrix: r.matrix, pool: pool) }
            var out = try Image(width: r.width, height: r.height, channels: c)
            let m = r.matrix
            image.pixels.withUnsafeBufferPointer { s in
                out.pixels.withUnsafeMutableBufferPointer { d in
                    guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                    bicubicAffine(sp, width: w, height: h, channels: c, into: dp, outWidth: r.width, outHeight: r.height, matrix: m)
                }
            }
            return out
        }
    }

    /// The affine bicubic rotation of an RGBA image as Pillow does it: premultiplied (RGBa),
    /// transformed, un-premultiplied. The kernel (`CompositeRowKernels.bicubicRows`) reads the
    /// premultiplied source padded by 2 replicated edge pixels on every side (exactly Pillow's
    /// clamped reads) as row pairs. Output rows are split over `pool` when given (each depends
    /// only on the source); the result does not depend on the split.
    static func bicubicAffineRGBA(_ image: Image, outWidth ow: Int, outHeight oh: Int, matrix m: [Double],
                                  kernels k: CompositeRowKernels = .current, pool: ThreadPool? = nil) throws -> Image {
        let w = image.width, h = image.height
        guard image.channels == 4, m.count == 6, w >= 1, h >= 1, image.pixels.count == w * h * 4 else {
            throw StalwartError.invalidArgument("bicubic RGBA transform needs a non-empty 4-channel image and 6 coefficients")
        }
        let pw = w + 4
        let paired = try Image.byteCount(width: pw * 2, height: h + 3, channels: 4)   // 8 bytes per pixel
        let outBytes = try Image.byteCount(width: ow, height: oh, channels: 4)
        let pairStride = pw * 8
        // Row pairs of the premultiplied source padded by 2 replicated pixels: pair row t holds
        // padded rows t and t + 1, padded row r being source row clamp(r − 2), its column c
        // source column clamp(c − 2). Built from two scratch rows.
        let pairs = [UInt8](unsafeUninitializedCapacity: paired) { b, n in
            n = paired
            guard let d = b.baseAddress else { return }
            let rows = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 * pw * 4)
            defer { rows.deallocate() }
            image.pixels.withUnsafeBufferPointer { sb in
                guard let sp = sb.baseAddress else { return }
                func paddedRow(_ r: Int, into row: UnsafeMutablePointer<UInt8>) {
                    let y = min(max(r - 2, 0), h - 1)
                    k.premultiply(row + 8, sp + y * w * 4, w)
                    let raw = UnsafeMutableRawPointer(row)
                    let first = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
                    let last = raw.loadUnaligned(fromByteOffset: 4 * (w + 1), as: UInt32.self)
                    raw.storeBytes(of: first, as: UInt32.self)
                    raw.storeBytes(of: first, toByteOffset: 4, as: UInt32.self)
                    raw.storeBytes(of: last, toByteOffset: 4 * (w + 2), as: UInt32.self)
                    raw.storeBytes(of: last, toByteOffset: 4 * (w + 3), as: UInt32.self)
                }
                var a = rows, c = rows + pw * 4
                paddedRow(0, into: a)
                for t in 0..<(h + 3) {
                    paddedRow(t + 1, into: c)
                    k.interleaveRows(d + t * pairStride, a, c, pw)
                    swap(&a, &c)
                }
            }
        }
        let out = [UInt8](unsafeUninitializedCapacity: outBytes) { b, n in
            n = outBytes
            guard let dp = b.baseAddress else { return }
            pairs.withUnsafeBufferPointer { pb in
                guard let pp = pb.baseAddress else { return }
                m.withUnsafeBufferPointer { mb in
                    guard let mp = mb.baseAddress else { return }
                    let src = pp + 2 * pairStride + 16
                    let band = { (y0: Int, y1: Int) in
                        k.bicubicRows(dp, ow, y0, y1, src, pairStride, w, h, mp)
                        k.unpremultiply(dp + y0 * ow * 4, dp + y0 * ow * 4, (y1 - y0) * ow)
                    }
                    if let pool, pool.threadCount > 1, oh >= 32 {
                        let bands = min(oh / 16, pool.threadCount * 4)
                        pool.parallelFor(bands) { i in band(i * oh / bands, (i + 1) * oh / bands) }
                    } else {
                        band(0, oh)
                    }
                }
            }
        }
        return try Image(width: ow, height: oh, channels: 4, pixels: out)
    }

    /// `ImagingGenericTransform` with `affine_transform` and the bicubic filter (`bicubic_filter8`
    /// / `bicubic_filter32RGB`), `fill` on: samples outside [0, w)×[0, h) are 0.
    static func bicubicAffine(_ src: UnsafePointer<UInt8>, width w: Int, height h: Int, channels c: Int,
                              into dst: UnsafeMutablePointer<UInt8>, outWidth ow: Int, outHeight oh: Int, matrix m: [Double]) {
        let (a0, a1, a2, a3, a4, a5) = (m[0], m[1], m[2], m[3], m[4], m[5])
        let fw = Double(w), fh = Double(h)
        @inline(__always) func cubic(_ v1: SIMD4<Double>, _ v2: SIMD4<Double>, _ v3: SIMD4<Double>, _ v4: SIMD4<Double>,
                                     _ d: Double) -> SIMD4<Double> {
            let p1 = v2
            let p2 = -v1 + v3
            let p3 = 2 * (v1 - v2) + v3 - v4
            let p4 = -v1 + v2 - v3 + v4
            return p1 + d * (p2 + d * (p3 + d * p4))
        }
        @inline(__always) func load(_ row: Int, _ col: Int) -> SIMD4<Double> {
            let o = (row * w + col) * c
            if c == 4 {
                let v = UnsafeRawPointer(src + o).loadUnaligned(as: SIMD4<UInt8>.self)
                return SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]))
            }
            var v = SIMD4<Double>(repeating: 0)
            for k in 0..<c { v[k] = Double(src[o + k]) }
            return v
        }
        @inline(__always) func row(_ r: Int, _ x0: Int, _ x1: Int, _ x2: Int, _ x3: Int, _ dx: Double) -> SIMD4<Double> {
            cubic(load(r, x0), load(r, x1), load(r, x2), load(r, x3), dx)
        }
        for y in 0..<oh {
            let yin = Double(y) + 0.5
            // Row-constant parts of the affine map (same operation order as Pillow:
            // a0·xin + a1·yin + a2, evaluated left to right).
            let by = a1 * yin, ey = a4 * yin
            var o = y * ow * c
            for x in 0..<ow {
                defer { o += c }
                let xin = Double(x) + 0.5
                var xx = a0 * xin + by + a2
                var yy = a3 * xin + ey + a5
                if xx < 0.0 || xx >= fw || yy < 0.0 || yy >= fh {
                    for k in 0..<c { dst[o + k] = 0 }
                    continue
                }
                xx -= 0.5; yy -= 0.5
                let fx = xx.rounded(.down), fy = yy.rounded(.down)
                let dx = xx - fx, dy = yy - fy
                let ix = Int(fx) - 1, iy = Int(fy) - 1
                let v: SIMD4<Double>
                if ix >= 0 && ix + 3 < w && iy >= 0 && iy + 3 < h {
                    // Interior: no clamping.
                    let v1 = row(iy, ix, ix + 1, ix + 2, ix + 3, dx)
                    let v2 = row(iy + 1, ix, ix + 1, ix + 2, ix + 3, dx)
                    let v3 = row(iy + 2, ix, ix + 1, ix + 2, ix + 3, dx)
                    let v4 = row(iy + 3, ix, ix + 1, ix + 2, ix + 3, dx)
                    v = cubic(v1, v2, v3, v4, dy)
                } else {
                    let x0 = min(max(ix, 0), w - 1), x1 = min(max(ix + 1, 0), w - 1)
                    let x2 = min(max(ix + 2, 0), w - 1), x3 = min(max(ix + 3, 0), w - 1)
                    let v1 = row(min(max(iy, 0), h - 1), x0, x1, x2, x3, dx)
                    let v2 = iy + 1 >= 0 && iy + 1 < h ? row(iy + 1, x0, x1, x2, x3, dx) : v1
                    let v3 = iy + 2 >= 0 && iy + 2 < h ? row(iy + 2, x0, x1, x2, x3, dx) : v2
                    let v4 = iy + 3 >= 0 && iy + 3 < h ? row(iy + 3, x0, x1, x2, x3, dx) : v3
                    v = cubic(v1, v2, v3, v4, dy)
                }
                @inline(__always) func u8(_ t: Double) -> UInt8 { t <= 0 ? 0 : t >= 255 ? 255 : UInt8(t) }
                if c == 4 {
                    dst[o] = u8(v[0]); dst[o + 1] = u8(v[1]); dst[o + 2] = u8(v[2]); dst[o + 3] = u8(v[3])
                } else {
                    for k in 0..<c { dst[o + k] = u8(v[k]) }
                }
            }
        }
    }

    /// `bg.paste(fg, box=(left, top), mask=fg)` for an RGB `background` and an RGBA (or RGB,
    /// pasted opaque) `foreground`: each channel becomes `DIV255(bg·(255 − a) + fg·a)`
    /// (Paste.c `BLEND`), the box clipped to the canvas. Other channel counts: no-op.
    /// Rows go through `CompositeRowKernels.pasteRow` (transparent runs skipped, opaque pixels
    /// copied: the blend leaves the background where a = 0 and gives the object where a = 255).
    public static func paste(_ foreground: Image, onto background: inout Image, left: Int, top: Int) {
        let fw = foreground.width, fh = foreground.height, fc = foreground.channels
        let bw = background.width, bh = background.height, bc = background.channels
        var sx = 0, sy = 0, dx = left, dy = top, xs = fw, ys = fh
        if dx < 0 { xs += dx; sx = -dx; dx = 0 }
        if dx + xs > bw { xs = bw - dx }
        if dy < 0 { ys += dy; sy = -dy; dy = 0 }
        if dy + ys > bh { ys = bh - dy }
        guard xs > 0, ys > 0, bc == 3, fc == 3 || fc == 4 else { return }
        let k = CompositeRowKernels.current
        foreground.pixels.withUnsafeBufferPointer { f in
            background.pixels.withUnsafeMutableBufferPointer { b in
                guard let fp = f.baseAddress, let bp = b.baseAddress else { return }
                for y in 0..<ys {
                    let fo = ((y + sy) * fw + sx) * fc
                    let bo = ((y + dy) * bw + dx) * bc
                    if fc == 4 {
                        k.pasteRow(bp + bo, fp + fo, xs)
                    } else {
                        // RGB: opaque, `DIV255(fg·255 + 128)` = fg.
                        (bp + bo).update(from: fp + fo, count: xs * 3)
                    }
                }
            }
        }
    }
}
