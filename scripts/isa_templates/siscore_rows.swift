// MARK: - SI-Score compositing rows (template: scripts/isa_templates/siscore_rows.swift)
//
// Pillow's RGBA arithmetic for SI-Score composites (and the RGBA resize): `rgbA2rgba` /
// `rgba2rgbA` (Convert.c), the bicubic affine transform of `Image.rotate(angle, BICUBIC)` on
// premultiplied pixels (Geometry.c, `bicubic_filter32RGB`) and `paste(rgba, box, mask=rgba)`
// (Paste.c). Integer steps are exact in any order; the bicubic's double arithmetic is Pillow's
// expression evaluated lane-wise with separate multiply and add in Pillow's order, so every ISA
// instance returns Pillow's bytes. Pixels are RGBA bytes (little-endian UInt32 lanes: R in bits
// 0–7, A in 24–31). Callers own and size every buffer; nothing is checked here.

/// `MULDIV255(v, a)` of R, G, B by the pixel's A (`rgbA2rgba`), A kept, on 16 pixels. Two
/// channels share each 32-bit lane as 16-bit fields (R and B, then G and A): v·a + 128 ≤ 65153
/// and (t >> 8) + t ≤ 65407 stay inside their field. 32-bit shifts by constants only (Swift's
/// 16-bit SIMD shifts compile to per-lane loops).
@inline(__always)
func {p}SIScorePremul16(_ p: SIMD16<UInt32>) -> SIMD16<UInt32> {
    let m = SIMD16<UInt32>(repeating: 0x00FF_00FF)
    let bias = SIMD16<UInt32>(repeating: 0x0080_0080)
    let a = p &>> 24
    let te = (p & m) &* a &+ bias                    // R, B
    let re = ((((te &>> 8) & m) &+ te) &>> 8) & m
    let to = ((p &>> 8) & m) &* a &+ bias            // G, (A)
    let ro = ((((to &>> 8) & m) &+ to) &>> 8) & m
    return ((re | (ro &<< 8)) & SIMD16<UInt32>(repeating: 0x00FF_FFFF)) | (p & SIMD16<UInt32>(repeating: 0xFF00_0000))
}

@inline(__always)
func {p}SIScorePremul1(_ p: UInt32) -> UInt32 {
    let a = p &>> 24
    var r = p & 0xFF00_0000
    var k: UInt32 = 0
    while k < 24 {
        let t = ((p &>> k) & 255) &* a &+ 128
        r |= (((t &>> 8) &+ t) &>> 8) &<< k
        k &+= 8
    }
    return r
}

/// RGBA → RGBa of `n` pixels from `s` to `d` (`d == s` allowed: in place).
public func {p}SIScorePremultiplyRow(_ d: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ n: Int) {
    var i = 0
    while i &+ 16 <= n {
        let p = UnsafeRawPointer(s + i &* 4).loadUnaligned(as: SIMD16<UInt32>.self)
        UnsafeMutableRawPointer(d + i &* 4).storeBytes(of: {p}SIScorePremul16(p), as: SIMD16<UInt32>.self)
        i &+= 16
    }
    while i < n {
        let p = UnsafeRawPointer(s + i &* 4).loadUnaligned(as: UInt32.self)
        UnsafeMutableRawPointer(d + i &* 4).storeBytes(of: {p}SIScorePremul1(p), as: UInt32.self)
        i &+= 1
    }
}

/// RGBa → RGBA (`rgba2rgbA`) on 16 pixels: unchanged where A is 0 or 255, else
/// `min(255, 255·v / A)` with integer division, computed as `trunc(Float(255·v) / Float(A))`:
/// the quotient is correctly rounded, and a true quotient below 256 is an integer or at least
/// 1/254 away from one (error < 2⁻¹⁵), so truncation (rounding x − 0.499 to an integer by adding
/// 1.5·2²³) gives the integer quotient; larger ones clamp to 255 either way. Comparisons are
/// done in integer arithmetic (no per-lane branches).
@inline(__always)
func {p}SIScoreUnpremul16(_ p: SIMD16<UInt32>) -> SIMD16<UInt32> {
    let a = p &>> 24
    // keep = 1 where a is 0 or 255: ((a + 255) & 255) ∈ {254, 255}.
    let keep = ((((a &+ 255) & 255) &+ 2) &>> 8)
    let keepMask = SIMD16<UInt32>() &- keep
    let af = unsafeBitCast((a | keep) | SIMD16<UInt32>(repeating: 0x4B00_0000), to: SIMD16<Float>.self)
        - SIMD16<Float>(repeating: 8_388_608)
    let byte = SIMD16<UInt32>(repeating: 255)
    var out = p & SIMD16<UInt32>(repeating: 0xFF00_0000)
    out |= {p}SIScoreUnpremulChannel(p & byte, af, keepMask)
    out |= {p}SIScoreUnpremulChannel((p &>> 8) & byte, af, keepMask) &<< 8
    out |= {p}SIScoreUnpremulChannel((p &>> 16) & byte, af, keepMask) &<< 16
    return out
}

/// One channel of `{p}SIScoreUnpremul16`: `v` (0…255 per lane), `af` = Float(A) (1 where A is
/// 0), `keepMask` all ones where A is 0 or 255.
@inline(__always)
func {p}SIScoreUnpremulChannel(_ v: SIMD16<UInt32>, _ af: SIMD16<Float>, _ keepMask: SIMD16<UInt32>) -> SIMD16<UInt32> {
    let nf = unsafeBitCast((v &* 255) | SIMD16<UInt32>(repeating: 0x4B00_0000), to: SIMD16<Float>.self)
        - SIMD16<Float>(repeating: 8_388_608)                       // exact: 255·v < 2²³
    let x = nf / af
    // trunc(x) for x < 2²²: round x − 0.499 to an integer by adding 1.5·2²³, read the mantissa.
    let r = (x - SIMD16<Float>(repeating: 0.4990234375)) + SIMD16<Float>(repeating: 12_582_912)
    let qi = unsafeBitCast(unsafeBitCast(r, to: SIMD16<UInt32>.self) &- SIMD16<UInt32>(repeating: 0x4B40_0000),
                           to: SIMD16<Int32>.self)
    let over = (SIMD16<Int32>(repeating: 255) &- qi) &>> 31
    let q = unsafeBitCast((qi & ~over) | (SIMD16<Int32>(repeating: 255) & over), to: SIMD16<UInt32>.self)
    return (v & keepMask) | (q & ~keepMask)
}

@inline(__always)
func {p}SIScoreUnpremul1(_ p: UInt32) -> UInt32 {
    let a = p &>> 24
    if a == 0 || a == 255 { return p }
    var r = p & 0xFF00_0000
    var k: UInt32 = 0
    while k < 24 {
        let q = (((p &>> k) & 255) &* 255) / a
        r |= (q > 255 ? 255 : q) &<< k
        k &+= 8
    }
    return r
}

/// RGBa → RGBA of `n` pixels from `s` to `d` (`d == s` allowed: in place).
public func {p}SIScoreUnpremultiplyRow(_ d: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ n: Int) {
    var i = 0
    while i &+ 16 <= n {
        let p = UnsafeRawPointer(s + i &* 4).loadUnaligned(as: SIMD16<UInt32>.self)
        UnsafeMutableRawPointer(d + i &* 4).storeBytes(of: {p}SIScoreUnpremul16(p), as: SIMD16<UInt32>.self)
        i &+= 16
    }
    while i < n {
        let p = UnsafeRawPointer(s + i &* 4).loadUnaligned(as: UInt32.self)
        UnsafeMutableRawPointer(d + i &* 4).storeBytes(of: {p}SIScoreUnpremul1(p), as: UInt32.self)
        i &+= 1
    }
}

/// The 4 bytes at `p` (one RGBA pixel) as doubles, exactly: broadcast, shift each lane to its
/// byte, mask, and read the 2⁵² trick (integer shifts and masks only; generic SIMD integer
/// conversions would be compiled lane by lane).
@inline(__always)
func {p}SIScorePixelF64(_ p: UnsafeRawPointer) -> SIMD4<Double> {
    let w = SIMD4<UInt64>(repeating: UInt64(p.loadUnaligned(as: UInt32.self)))
    let b = (w &>> SIMD4<UInt64>(0, 8, 16, 24)) & SIMD4<UInt64>(repeating: 255)
    return unsafeBitCast(b | SIMD4<UInt64>(repeating: 0x4330_0000_0000_0000), to: SIMD4<Double>.self)
        - SIMD4<Double>(repeating: 0x1p52)
}

/// Pillow's `BICUBIC(v, v1, v2, v3, v4, d)`: `p1 + d·(p2 + d·(p3 + d·p4))` with
/// `p1 = v2`, `p2 = −v1 + v3`, `p3 = 2·(v1 − v2) + v3 − v4`, `p4 = −v1 + v2 − v3 + v4`,
/// evaluated left to right in double, lane-wise.
@inline(__always)
func {p}SIScoreCubic4(_ v1: SIMD4<Double>, _ v2: SIMD4<Double>, _ v3: SIMD4<Double>, _ v4: SIMD4<Double>,
                      _ d: SIMD4<Double>) -> SIMD4<Double> {
    let p2 = -v1 + v3
    let p3 = 2 * (v1 - v2) + v3 - v4
    let p4 = -v1 + v2 - v3 + v4
    return v2 + d * (p2 + d * (p3 + d * p4))
}

/// Pillow's `(UINT8)` store of four bicubic results as one RGBA word: 0 at or below 0, 255 at
/// or above 255, else truncated. Integer and IEEE arithmetic only — lane-wise Swift SIMD
/// operations on the doubles (`replacing`, comparisons, conversions, lane reads) would let LLVM
/// scalarize the whole bicubic: round to an integer by adding 1.5·2⁵² (|t| < 2⁵¹), subtract 1
/// where that rounded up (the sign bit of t − round(t)), clamp to 0…255 with sign masks,
/// narrow the four lanes to bytes.
@inline(__always)
func {p}SIScorePixel(_ t: SIMD4<Double>) -> UInt32 {
    let m = SIMD4<Double>(repeating: 0x1.8p52)
    let r = t + m
    let d = t - (r - m)
    var f = unsafeBitCast(r, to: SIMD4<Int64>.self) &- unsafeBitCast(m, to: SIMD4<Int64>.self)
    f = f &+ (unsafeBitCast(d, to: SIMD4<Int64>.self) &>> 63)
    f = f & ~(f &>> 63)
    let over = (SIMD4<Int64>(repeating: 255) &- f) &>> 63
    f = (f & ~over) | (SIMD4<Int64>(repeating: 255) & over)
    return unsafeBitCast(SIMD4<UInt8>(truncatingIfNeeded: f), to: UInt32.self)
}

/// Row pairs for `{p}SIScoreBicubicRowsRGBA`: `d[x] = a[x] | b[x] << 32` for `n` RGBA pixels
/// (8 bytes each: the pixel of row a, then the pixel of row b).
public func {p}SIScoreInterleaveRows(_ d: UnsafeMutablePointer<UInt8>, _ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>,
                                     _ n: Int) {
    let dr = UnsafeMutableRawPointer(d), ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
    var i = 0
    while i < n {
        let v = UInt64(ar.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
            | UInt64(br.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)) &<< 32
        dr.storeBytes(of: v, toByteOffset: i &* 8, as: UInt64.self)
        i &+= 1
    }
}

/// Where output pixel `x` of a row samples: nil when the result is 0 without arithmetic
/// (outside the source, or 16 zero pixels around the sample), else the first of its two row
/// pairs and the fractions. `by`/`ey` are the row terms `a1·(y + ½)`, `a4·(y + ½)`.
@inline(__always)
func {p}SIScoreBicubicSample(_ x: Int, _ a0: Double, _ a2: Double, _ a3: Double, _ a5: Double, _ by: Double, _ ey: Double,
                             _ fw: Double, _ fh: Double, _ pairs: UnsafePointer<UInt8>, _ stride: Int)
    -> (p: UnsafeRawPointer, dx: Double, dy: Double)? {
    let xin = Double(x) + 0.5
    var xx = a0 * xin + by + a2
    var yy = a3 * xin + ey + a5
    if xx < 0.0 || xx >= fw || yy < 0.0 || yy >= fh { return nil }
    xx = xx - 0.5
    yy = yy - 0.5
    // FLOOR for xx, yy ≥ −0.5: truncate, then step down below an integer.
    var ix = Int(xx)
    if Double(ix) > xx { ix &-= 1 }
    var iy = Int(yy)
    if Double(iy) > yy { iy &-= 1 }
    let pa = UnsafeRawPointer(pairs + (iy &- 1) &* stride + (ix &- 1) &* 8)   // rows iy−1, iy
    let pb = pa + stride &* 2                                                  // rows iy+1, iy+2
    let z = (pa.loadUnaligned(as: UInt64.self) | pa.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        | (pa.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | pa.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        | (pb.loadUnaligned(as: UInt64.self) | pb.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        | (pb.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | pb.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    if z == 0 { return nil }
    return (pa, xx - Double(ix), yy - Double(iy))
}

/// Narrows [tlo, thi] to the values of t with 0 ≤ a·t + b < size, solved in double (callers
/// widen the result by a margin; a = 0 or non-finite bounds leave it unchanged).
@inline(__always)
func {p}SIScoreClip(_ a: Double, _ b: Double, _ size: Double, _ tlo: inout Double, _ thi: inout Double) {
    if a == 0 || !a.isFinite || !b.isFinite { return }
    let t1 = (0 - b) / a, t2 = (size - b) / a
    let lo = t1 < t2 ? t1 : t2, hi = t1 < t2 ? t2 : t1
    if lo > tlo { tlo = lo }
    if hi < thi { thi = hi }
}

/// The 8 bytes at `p` (one pixel of two rows) as 32-bit integers.
@inline(__always)
func {p}SIScoreTapI32(_ p: UnsafeRawPointer) -> SIMD8<Int32> {
    SIMD8<Int32>(truncatingIfNeeded: unsafeBitCast(p.loadUnaligned(as: UInt64.self), to: SIMD8<UInt8>.self))
}

/// `{p}SIScoreCubic8` of integer samples: Pillow computes p2…p4 in double from integer-valued
/// v1…v4, which is exact, so they are computed exactly in integers here and converted once.
@inline(__always)
func {p}SIScoreCubic8I(_ v1: SIMD8<Int32>, _ v2: SIMD8<Int32>, _ v3: SIMD8<Int32>, _ v4: SIMD8<Int32>,
                       _ d: SIMD8<Double>) -> SIMD8<Double> {
    let p1 = SIMD8<Double>(v2)
    let p2 = SIMD8<Double>(v3 &- v1)
    let p3 = SIMD8<Double>(((v1 &- v2) &<< 1) &+ v3 &- v4)
    let p4 = SIMD8<Double>(v2 &- v1 &- v3 &+ v4)
    return p1 + d * (p2 + d * (p3 + d * p4))
}

/// `{p}SIScoreBicubicPixel` with two rows per 8-lane vector: the horizontal cubics of rows
/// (iy−1, iy) and (iy+1, iy+2) in one vector each, then the vertical one on their halves.
@inline(__always)
func {p}SIScoreBicubicPixelWide(_ pa: UnsafeRawPointer, _ stride: Int, _ dx: Double, _ dy: Double) -> UInt32 {
    let pb = pa + stride &* 2
    let dxv = SIMD8<Double>(repeating: dx)
    let ha = {p}SIScoreCubic8I({p}SIScoreTapI32(pa), {p}SIScoreTapI32(pa + 8), {p}SIScoreTapI32(pa + 16),
                               {p}SIScoreTapI32(pa + 24), dxv)
    let hb = {p}SIScoreCubic8I({p}SIScoreTapI32(pb), {p}SIScoreTapI32(pb + 8), {p}SIScoreTapI32(pb + 16),
                               {p}SIScoreTapI32(pb + 24), dxv)
    return {p}SIScorePixel({p}SIScoreCubic4(ha.lowHalf, ha.highHalf, hb.lowHalf, hb.highHalf, SIMD4<Double>(repeating: dy)))
}

/// The bicubic of one sample (`{p}SIScoreBicubicSample`) as an RGBa word: the four rows'
/// horizontal cubics (channels in one vector), then the vertical one.
@inline(__always)
func {p}SIScoreBicubicPixel(_ pa: UnsafeRawPointer, _ stride: Int, _ dx: Double, _ dy: Double) -> UInt32 {
    let pb = pa + stride &* 2
    let dxv = SIMD4<Double>(repeating: dx)
    @inline(__always) func row(_ q: UnsafeRawPointer) -> SIMD4<Double> {
        {p}SIScoreCubic4({p}SIScorePixelF64(q), {p}SIScorePixelF64(q + 8), {p}SIScorePixelF64(q + 16),
                         {p}SIScorePixelF64(q + 24), dxv)
    }
    return {p}SIScorePixel({p}SIScoreCubic4(row(pa), row(pa + 4), row(pb), row(pb + 4), SIMD4<Double>(repeating: dy)))
}

/// Rows `y0 ..< y1` (each `outWidth` pixels, `dst` pointing at row 0, rows `outWidth·4` bytes
/// apart) of Pillow's `ImagingGenericTransform` with `affine_transform` and
/// `bicubic_filter32RGB`, fill on, on a premultiplied RGBA `width`×`height` source.
///
/// `pairs` is the source as row pairs, padded by 2 pixels on every side with the edge pixels
/// replicated: the 8 bytes at `pairs + y·stride + x·8` are pixel (x, y) then pixel (x, y + 1),
/// for x ∈ −2…width+1 and y ∈ −2…height (Pillow's clamped reads — columns clamped to the image,
/// rows past either edge replaced by the previous row — are exactly reads of that padding).
/// `m` holds the six affine coefficients (output → input). Output pixel (x, y) samples
/// `xx = a0·(x + ½) + a1·(y + ½) + a2`, `yy = a3·(x + ½) + a4·(y + ½) + a5`; outside
/// [0, width)×[0, height) it is 0, else the 4×4 bicubic around (xx − ½, yy − ½), rows first,
/// the four channels of a pixel in one vector. A neighbourhood of 16 zero pixels gives 0
/// without arithmetic (its result is exactly 0). Pixels go two at a time so that the two long
/// dependency chains overlap.
public func {p}SIScoreBicubicRowsRGBA(_ dst: UnsafeMutablePointer<UInt8>, _ outWidth: Int, _ y0: Int, _ y1: Int,
                                      _ pairs: UnsafePointer<UInt8>, _ stride: Int, _ width: Int, _ height: Int,
                                      _ m: UnsafePointer<Double>) {
    let a0 = m[0], a1 = m[1], a2 = m[2], a3 = m[3], a4 = m[4], a5 = m[5]
    let fw = Double(width), fh = Double(height)
    var y = y0
    while y < y1 {
        let yin = Double(y) + 0.5
        let by = a1 * yin, ey = a4 * yin
        let drow = UnsafeMutableRawPointer(dst + y &* outWidth &* 4)
        // Columns that may sample inside the source: a conservative interval (2 columns of
        // margin around the solution of 0 ≤ a·(x + ½) + b < size for both coordinates); the
        // exact test still runs on every column inside it, the others are 0.
        var tlo = -Double.infinity, thi = Double.infinity
        {p}SIScoreClip(a0, by + a2, fw, &tlo, &thi)
        {p}SIScoreClip(a3, ey + a5, fh, &tlo, &thi)
        var xlo = 0, xhi = outWidth
        if tlo > thi {
            xhi = 0
        } else {
            // Bounded before converting (a tiny coefficient puts them anywhere in ±1e300).
            if tlo > -1e9 { xlo = Int(tlo < 1e9 ? tlo : 1e9) &- 3; if xlo < 0 { xlo = 0 } }
            if thi < 1e9 { let h = Int(thi > -1e9 ? thi : -1e9) &+ 3; if h < xhi { xhi = h > 0 ? h : 0 } }
            if xlo > xhi { xlo = xhi }
        }
        var z = 0
        while z < xlo { drow.storeBytes(of: 0, toByteOffset: z &* 4, as: UInt32.self); z &+= 1 }
        z = xhi
        while z < outWidth { drow.storeBytes(of: 0, toByteOffset: z &* 4, as: UInt32.self); z &+= 1 }
        var x = xlo
        let outWidth = xhi
        while x &+ 1 < outWidth {
            let s0 = {p}SIScoreBicubicSample(x, a0, a2, a3, a5, by, ey, fw, fh, pairs, stride)
            let s1 = {p}SIScoreBicubicSample(x &+ 1, a0, a2, a3, a5, by, ey, fw, fh, pairs, stride)
            var w0: UInt32 = 0, w1: UInt32 = 0
            if let s0, let s1 {
                w0 = {p}SIScoreBicubicPixelWide(s0.p, stride, s0.dx, s0.dy)
                w1 = {p}SIScoreBicubicPixelWide(s1.p, stride, s1.dx, s1.dy)
            } else if let s0 {
                w0 = {p}SIScoreBicubicPixelWide(s0.p, stride, s0.dx, s0.dy)
            } else if let s1 {
                w1 = {p}SIScoreBicubicPixelWide(s1.p, stride, s1.dx, s1.dy)
            }
            drow.storeBytes(of: UInt64(w0) | UInt64(w1) &<< 32, toByteOffset: x &* 4, as: UInt64.self)
            x &+= 2
        }
        if x < outWidth {
            var w: UInt32 = 0
            if let s = {p}SIScoreBicubicSample(x, a0, a2, a3, a5, by, ey, fw, fh, pairs, stride) {
                w = {p}SIScoreBicubicPixelWide(s.p, stride, s.dx, s.dy)
            }
            drow.storeBytes(of: w, toByteOffset: x &* 4, as: UInt32.self)
        }
        y &+= 1
    }
}

/// `bg.paste(fg, mask=fg)` over one row: `n` RGBA pixels of `fg` onto `n` RGB pixels of `bg`,
/// each channel `DIV255(bg·(255 − a) + fg·a + 128)` (Paste.c `BLEND`), which leaves `bg` as is
/// where a = 0 and gives `fg` where a = 255. Groups of 16 transparent pixels are skipped.
public func {p}SIScorePasteRowRGBA(_ bg: UnsafeMutablePointer<UInt8>, _ fg: UnsafePointer<UInt8>, _ n: Int) {
    var i = 0
    while i < n {
        if i &+ 16 <= n {
            let p = UnsafeRawPointer(fg + i &* 4).loadUnaligned(as: SIMD16<UInt32>.self)
            let a = p &>> 24
            let lo = (a[0] | a[1] | a[2] | a[3]) | (a[4] | a[5] | a[6] | a[7])
            let hi = (a[8] | a[9] | a[10] | a[11]) | (a[12] | a[13] | a[14] | a[15])
            if lo | hi == 0 { i &+= 16; continue }
        }
        let f = fg + i &* 4, b = bg + i &* 3
        let a = UInt32(f[3])
        if a == 255 {
            b[0] = f[0]; b[1] = f[1]; b[2] = f[2]
        } else if a != 0 {
            let ia = 255 &- a
            var k = 0
            while k < 3 {
                let t = UInt32(b[k]) &* ia &+ UInt32(f[k]) &* a &+ 128
                b[k] = UInt8(truncatingIfNeeded: ((t &>> 8) &+ t) &>> 8)
                k &+= 1
            }
        }
        i &+= 1
    }
}

/// Pillow's 8-bit horizontal pass (`ImagingResampleHorizontal_8bpc`) for RGBA (and RGBa) rows,
/// four taps per 16-lane vector: output pixel `x` of row `r` is
/// `clamp((2²¹ + Σ_t src[first[x] − columnOffset + t] · fixed[x][t]) >> 22, 0, 255)` per channel
/// in wrapping 32-bit integers (exact in any order, so Pillow's bytes). `quadWeights` holds,
/// per output, `quads` groups of 16 `Int32`: tap 4q + i's coefficient repeated for the 4
/// channels at lanes 4i…4i+3, zero past `count[x]` (so the up to 3 pixels read past an
/// output's taps count for nothing). Rows `rowStart ..< rowStart + rows` of `src` (`srcStride`
/// bytes apart, buffer ending at `srcEnd`); an output whose 16-byte loads would pass `srcEnd`
/// reads its taps one pixel at a time. `dst` gets `rows` rows of `outSize` pixels, contiguous.
/// An output whose loaded bytes are all zero is 0 (its sum is exactly 0) without multiplying.
public func {p}ResampleHorizontalRGBAQuads(_ src: UnsafePointer<UInt8>, _ srcStride: Int, _ srcEnd: UnsafePointer<UInt8>,
                                           _ rowStart: Int, _ rows: Int, _ columnOffset: Int, _ outSize: Int,
                                           _ quads: Int, _ first: UnsafePointer<Int32>, _ count: UnsafePointer<Int32>,
                                           _ quadWeights: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<UInt8>) {
    let bias = SIMD4<Int32>(repeating: 1 << 21)
    var r = 0
    while r < rows {
        let s = src + (rowStart &+ r) &* srcStride - columnOffset &* 4
        let d = UnsafeMutableRawPointer(dst + r &* outSize &* 4)
        var x = 0
        while x < outSize {
            let p = UnsafeRawPointer(s + Int(first[x]) &* 4)
            let n = Int(count[x])
            let nq = (n &+ 3) &>> 2
            let wq = UnsafeRawPointer(quadWeights + x &* quads &* 16)
            var acc4: SIMD4<Int32>
            if p + nq &* 16 <= UnsafeRawPointer(srcEnd) {
                // Taps that are all zero (transparent pixels) sum to 0: skip the multiplies.
                var any: UInt64 = 0
                var q = 0
                while q < nq {
                    any |= p.loadUnaligned(fromByteOffset: q &* 16, as: UInt64.self)
                        | p.loadUnaligned(fromByteOffset: q &* 16 &+ 8, as: UInt64.self)
                    q &+= 1
                }
                if any == 0 {
                    d.storeBytes(of: 0, toByteOffset: x &* 4, as: UInt32.self)
                    x &+= 1
                    continue
                }
                var acc = SIMD16<Int32>()
                q = 0
                while q < nq {
                    let v = SIMD16<Int32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: q &* 16, as: SIMD16<UInt8>.self))
                    acc = acc &+ v &* wq.loadUnaligned(fromByteOffset: q &* 64, as: SIMD16<Int32>.self)
                    q &+= 1
                }
                let a8 = acc.lowHalf &+ acc.highHalf
                acc4 = a8.lowHalf &+ a8.highHalf
            } else {
                acc4 = SIMD4<Int32>()
                var t = 0
                while t < n {
                    let w = UInt32(p.loadUnaligned(fromByteOffset: t &* 4, as: UInt32.self))
                    let v = SIMD4<Int32>(Int32(w & 255), Int32((w &>> 8) & 255), Int32((w &>> 16) & 255), Int32(w &>> 24))
                    acc4 = acc4 &+ v &* SIMD4<Int32>(repeating: wq.load(fromByteOffset: t &* 16, as: Int32.self))
                    t &+= 1
                }
            }
            var v = (acc4 &+ bias) &>> 22
            v = v & ~(v &>> 31)
            let over = (SIMD4<Int32>(repeating: 255) &- v) &>> 31
            v = (v & ~over) | (SIMD4<Int32>(repeating: 255) & over)
            d.storeBytes(of: SIMD4<UInt8>(truncatingIfNeeded: v), toByteOffset: x &* 4, as: SIMD4<UInt8>.self)
            x &+= 1
        }
        r &+= 1
    }
}
