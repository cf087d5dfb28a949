// Depthwise convolution over blocks of 16 channels in channel-interleaved layout (instantiated
// per ISA and for the portable set by scripts/generate_isa_kernels.py; `{p}` is the prefix).

@inline(__always)
func {p}LoadC16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Activation codes 1 (ReLU, NaN stays NaN) and 2 (clip to [p0, p1]); any other code returns
/// `x` unchanged (the caller applies it). Transparent: `@inline(__always)` let LLVM merge it
/// with an identical function and call the merged copy from the kernels' stores.
@_transparent
func {p}ActC16(_ x: SIMD16<Float>, _ act: Int, _ p0: Float, _ p1: Float) -> SIMD16<Float> {
    if act == 1 { return x.replacing(with: SIMD16<Float>(), where: x .< SIMD16<Float>()) }
    if act == 2 {
        let lo = SIMD16<Float>(repeating: p0), hi = SIMD16<Float>(repeating: p1)
        let t = x.replacing(with: lo, where: x .< lo)
        return t.replacing(with: hi, where: t .> hi)
    }
    return x
}

/// Eight consecutive outputs of one row at stride 1, dilation 1, for kw = 3 (`five` false) or
/// 5: each input pixel of a kernel row is loaded once and feeds every output it touches
/// (12 loads for 40 FMAs at kw = 5 instead of 45), taps summed in (ky, kx) order after the
/// bias as in `{p}DepthwiseC16`. `r`: the first output's window origin; `rowBytes`: bytes per
/// window row; `weights` [kh·kw][16].
@inline(__always)
func {p}DwRow8Unit(_ r: UnsafeRawPointer, _ rowBytes: Int, _ kh: Int, _ five: Bool, _ weights: UnsafePointer<Float>,
                   _ b: SIMD16<Float>)
    -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
    var t = UnsafeRawPointer(weights)
    var o = r
    var ky = 0
    @inline(__always) func x(_ i: Int) -> SIMD16<Float> { o.loadUnaligned(fromByteOffset: i &* 64, as: SIMD16<Float>.self) }
    @inline(__always) func w(_ i: Int) -> SIMD16<Float> { t.loadUnaligned(fromByteOffset: i &* 64, as: SIMD16<Float>.self) }
    while ky < kh {
        let w0 = w(0), w1 = w(1), w2 = w(2)
        let x0 = x(0), x1 = x(1), x2 = x(2), x3 = x(3), x4 = x(4), x5 = x(5), x6 = x(6), x7 = x(7), x8 = x(8), x9 = x(9)
        a0 = a0.addingProduct(w0, x0).addingProduct(w1, x1).addingProduct(w2, x2)
        a1 = a1.addingProduct(w0, x1).addingProduct(w1, x2).addingProduct(w2, x3)
        a2 = a2.addingProduct(w0, x2).addingProduct(w1, x3).addingProduct(w2, x4)
        a3 = a3.addingProduct(w0, x3).addingProduct(w1, x4).addingProduct(w2, x5)
        a4 = a4.addingProduct(w0, x4).addingProduct(w1, x5).addingProduct(w2, x6)
        a5 = a5.addingProduct(w0, x5).addingProduct(w1, x6).addingProduct(w2, x7)
        a6 = a6.addingProduct(w0, x6).addingProduct(w1, x7).addingProduct(w2, x8)
        a7 = a7.addingProduct(w0, x7).addingProduct(w1, x8).addingProduct(w2, x9)
        if five {
            let w3 = w(3), w4 = w(4), x10 = x(10), x11 = x(11)
            a0 = a0.addingProduct(w3, x3).addingProduct(w4, x4)
            a1 = a1.addingProduct(w3, x4).addingProduct(w4, x5)
            a2 = a2.addingProduct(w3, x5).addingProduct(w4, x6)
            a3 = a3.addingProduct(w3, x6).addingProduct(w4, x7)
            a4 = a4.addingProduct(w3, x7).addingProduct(w4, x8)
            a5 = a5.addingProduct(w3, x8).addingProduct(w4, x9)
            a6 = a6.addingProduct(w3, x9).addingProduct(w4, x10)
            a7 = a7.addingProduct(w3, x10).addingProduct(w4, x11)
            t += 320
        } else {
            t += 192
        }
        o += rowBytes
        ky &+= 1
    }
    return (a0, a1, a2, a3, a4, a5, a6, a7)
}

/// As `{p}DwRow8Unit` at stride 2: output j reads pixels 2j ..< 2j + kw of each kernel row
/// (17 loads for 24 FMAs at kw = 3, 19 for 40 at kw = 5, instead of 24 and 40).
@inline(__always)
func {p}DwRow8Stride2(_ r: UnsafeRawPointer, _ rowBytes: Int, _ kh: Int, _ five: Bool, _ weights: UnsafePointer<Float>,
                      _ b: SIMD16<Float>)
    -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
    var t = UnsafeRawPointer(weights)
    var o = r
    var ky = 0
    @inline(__always) func x(_ i: Int) -> SIMD16<Float> { o.loadUnaligned(fromByteOffset: i &* 64, as: SIMD16<Float>.self) }
    @inline(__always) func w(_ i: Int) -> SIMD16<Float> { t.loadUnaligned(fromByteOffset: i &* 64, as: SIMD16<Float>.self) }
    while ky < kh {
        let w0 = w(0), w1 = w(1), w2 = w(2)
        let x0 = x(0), x1 = x(1), x2 = x(2), x3 = x(3), x4 = x(4), x5 = x(5), x6 = x(6), x7 = x(7), x8 = x(8)
        let x9 = x(9), x10 = x(10), x11 = x(11), x12 = x(12), x13 = x(13), x14 = x(14), x15 = x(15), x16 = x(16)
        a0 = a0.addingProduct(w0, x0).addingProduct(w1, x1).addingProduct(w2, x2)
        a1 = a1.addingProduct(w0, x2).addingProduct(w1, x3).addingProduct(w2, x4)
        a2 = a2.addingProduct(w0, x4).addingProduct(w1, x5).addingProduct(w2, x6)
        a3 = a3.addingProduct(w0, x6).addingProduct(w1, x7).addingProduct(w2, x8)
        a4 = a4.addingProduct(w0, x8).addingProduct(w1, x9).addingProduct(w2, x10)
        a5 = a5.addingProduct(w0, x10).addingProduct(w1, x11).addingProduct(w2, x12)
        a6 = a6.addingProduct(w0, x12).addingProduct(w1, x13).addingProduct(w2, x14)
        a7 = a7.addingProduct(w0, x14).addingProduct(w1, x15).addingProduct(w2, x16)
        if five {
            let w3 = w(3), w4 = w(4), x17 = x(17), x18 = x(18)
            a0 = a0.addingProduct(w3, x3).addingProduct(w4, x4)
            a1 = a1.addingProduct(w3, x5).addingProduct(w4, x6)
            a2 = a2.addingProduct(w3, x7).addingProduct(w4, x8)
            a3 = a3.addingProduct(w3, x9).addingProduct(w4, x10)
            a4 = a4.addingProduct(w3, x11).addingProduct(w4, x12)
            a5 = a5.addingProduct(w3, x13).addingProduct(w4, x14)
            a6 = a6.addingProduct(w3, x15).addingProduct(w4, x16)
            a7 = a7.addingProduct(w3, x17).addingProduct(w4, x18)
            t += 320
        } else {
            t += 192
        }
        o += rowBytes
        ky &+= 1
    }
    return (a0, a1, a2, a3, a4, a5, a6, a7)
}

/// One block of 16 channels: `dst[oy][ox][c] = act(bias[c] + Σ_{ky, kx} weights[ky·kw + kx][c] ·
/// src[oy·sh + ky·dh][ox·sw + kx·dw][c])`, taps summed in (ky, kx) order after the bias.
/// `src`: the zero-padded input window, rows of `cols` pixels × 16 floats; `weights`:
/// [kh·kw][16]; `bias`: [16]; `dst`: [oh][ow][16]. `act` as `{p}ActC16` (other codes: none).
/// Output pixels are taken in row-major order eight at a time (then four, then one), across
/// row ends: each pixel of a group has its own input base, so rows shorter than eight (7×7
/// maps) still run eight independent FMA chains per weight load. For kw 3 or 5 at horizontal
/// stride 1 or 2 (dilation 1), groups within a row load each input pixel once, and rows of
/// 4–7 outputs run as such groups of which only `ow` outputs are stored: the kernel may then
/// read up to 4 pixels (64 floats) past the end of `src`'s window, which callers must own.
public func {p}DepthwiseC16(src: UnsafePointer<Float>, cols: Int, sh: Int, sw: Int, kh: Int, kw: Int,
                            dh: Int, dw: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                            oh: Int, ow: Int, dst: UnsafeMutablePointer<Float>, act: Int, p0: Float, p1: Float) {
    let b = {p}LoadC16(bias)
    let rowStep = cols &* 16, colStep = sw &* 16
    let dyStep = dh &* rowStep, dxStep = dw &* 16
    let out = UnsafeMutableRawPointer(dst)
    let total = oh &* ow
    // Input base of output pixel q: advanced pixel by pixel (no division per pixel).
    var oy = 0, ox = 0
    @inline(__always) func next() -> UnsafePointer<Float> {
        let p = src + (oy &* sh &* rowStep &+ ox &* colStep)
        ox &+= 1
        if ox == ow { ox = 0; oy &+= 1 }
        return p
    }
    // Horizontal stride 1 or 2, dilation 1, kw 3 or 5 (EfficientNet's depthwise layers): in-row
    // groups load each input pixel once (`{p}DwRow8Unit`, `{p}DwRow8Stride2`).
    let unitRow = (sw == 1 || sw == 2) && dw == 1 && (kw == 3 || kw == 5)
    // Rows of fewer than 8 outputs (7×7 maps) through the row kernels as well: 8 outputs per
    // row, of which `ow` are stored. Reads up to (8 − ow)·sw ≤ 4 pixels past the end of a row's
    // window, so callers leave 4 pixels (64 floats) of slack after `src`'s window.
    if unitRow && ow < 8 && (8 &- ow) &* sw <= 4 {
        var oy = 0
        while oy < oh {
            let origin = UnsafeRawPointer(src + oy &* sh &* rowStep)
            let (a0, a1, a2, a3, a4, a5, a6, _) = sw == 1
                ? {p}DwRow8Unit(origin, dyStep &* 4, kh, kw == 5, weights, b)
                : {p}DwRow8Stride2(origin, dyStep &* 4, kh, kw == 5, weights, b)
            let d = oy &* ow &* 64
            out.storeBytes(of: {p}ActC16(a0, act, p0, p1), toByteOffset: d, as: SIMD16<Float>.self)
            out.storeBytes(of: {p}ActC16(a1, act, p0, p1), toByteOffset: d &+ 64, as: SIMD16<Float>.self)
            out.storeBytes(of: {p}ActC16(a2, act, p0, p1), toByteOffset: d &+ 128, as: SIMD16<Float>.self)
            out.storeBytes(of: {p}ActC16(a3, act, p0, p1), toByteOffset: d &+ 192, as: SIMD16<Float>.self)
            if ow > 4 { out.storeBytes(of: {p}ActC16(a4, act, p0, p1), toByteOffset: d &+ 256, as: SIMD16<Float>.self) }
            if ow > 5 { out.storeBytes(of: {p}ActC16(a5, act, p0, p1), toByteOffset: d &+ 320, as: SIMD16<Float>.self) }
            if ow > 6 { out.storeBytes(of: {p}ActC16(a6, act, p0, p1), toByteOffset: d &+ 384, as: SIMD16<Float>.self) }
            oy &+= 1
        }
        return
    }
    var q = 0
    while q &+ 8 <= total {
      if ox &+ 8 <= ow && unitRow {
        let origin = UnsafeRawPointer(src + (oy &* sh &* rowStep &+ ox &* colStep))
        let (a0, a1, a2, a3, a4, a5, a6, a7) = sw == 1
            ? {p}DwRow8Unit(origin, dyStep &* 4, kh, kw == 5, weights, b)
            : {p}DwRow8Stride2(origin, dyStep &* 4, kh, kw == 5, weights, b)
        let d = q &* 64
        out.storeBytes(of: {p}ActC16(a0, act, p0, p1), toByteOffset: d, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a1, act, p0, p1), toByteOffset: d &+ 64, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a2, act, p0, p1), toByteOffset: d &+ 128, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a3, act, p0, p1), toByteOffset: d &+ 192, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a4, act, p0, p1), toByteOffset: d &+ 256, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a5, act, p0, p1), toByteOffset: d &+ 320, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a6, act, p0, p1), toByteOffset: d &+ 384, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a7, act, p0, p1), toByteOffset: d &+ 448, as: SIMD16<Float>.self)
        q &+= 8
        ox &+= 8
        if ox == ow { ox = 0; oy &+= 1 }
      } else if ox &+ 8 <= ow {
        // Inside one row: one base, neighbours `colStep` apart (fewer live registers).
        let r = src + (oy &* sh &* rowStep &+ ox &* colStep)
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        var t = weights
        var ky = 0
        var rowOff = 0
        while ky < kh {
            var o = r + rowOff
            var kx = 0
            while kx < kw {
                let wv = {p}LoadC16(t)
                a0 = a0.addingProduct(wv, {p}LoadC16(o))
                a1 = a1.addingProduct(wv, {p}LoadC16(o + colStep))
                a2 = a2.addingProduct(wv, {p}LoadC16(o + 2 &* colStep))
                a3 = a3.addingProduct(wv, {p}LoadC16(o + 3 &* colStep))
                a4 = a4.addingProduct(wv, {p}LoadC16(o + 4 &* colStep))
                a5 = a5.addingProduct(wv, {p}LoadC16(o + 5 &* colStep))
                a6 = a6.addingProduct(wv, {p}LoadC16(o + 6 &* colStep))
                a7 = a7.addingProduct(wv, {p}LoadC16(o + 7 &* colStep))
                t += 16
                o += dxStep
                kx &+= 1
            }
            rowOff &+= dyStep
            ky &+= 1
        }
        let d = q &* 64
        out.storeBytes(of: {p}ActC16(a0, act, p0, p1), toByteOffset: d, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a1, act, p0, p1), toByteOffset: d &+ 64, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a2, act, p0, p1), toByteOffset: d &+ 128, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a3, act, p0, p1), toByteOffset: d &+ 192, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a4, act, p0, p1), toByteOffset: d &+ 256, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a5, act, p0, p1), toByteOffset: d &+ 320, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a6, act, p0, p1), toByteOffset: d &+ 384, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a7, act, p0, p1), toByteOffset: d &+ 448, as: SIMD16<Float>.self)
        q &+= 8
        ox &+= 8
        if ox == ow { ox = 0; oy &+= 1 }
      } else {
        // Across a row end: a base per pixel.
        let r0 = next(), r1 = next(), r2 = next(), r3 = next(), r4 = next(), r5 = next(), r6 = next(), r7 = next()
        var a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b
        var t = weights
        var ky = 0
        var rowOff = 0
        while ky < kh {
            var o = rowOff
            var kx = 0
            while kx < kw {
                let wv = {p}LoadC16(t)
                a0 = a0.addingProduct(wv, {p}LoadC16(r0 + o))
                a1 = a1.addingProduct(wv, {p}LoadC16(r1 + o))
                a2 = a2.addingProduct(wv, {p}LoadC16(r2 + o))
                a3 = a3.addingProduct(wv, {p}LoadC16(r3 + o))
                a4 = a4.addingProduct(wv, {p}LoadC16(r4 + o))
                a5 = a5.addingProduct(wv, {p}LoadC16(r5 + o))
                a6 = a6.addingProduct(wv, {p}LoadC16(r6 + o))
                a7 = a7.addingProduct(wv, {p}LoadC16(r7 + o))
                t += 16
                o &+= dxStep
                kx &+= 1
            }
            rowOff &+= dyStep
            ky &+= 1
        }
        let d = q &* 64
        out.storeBytes(of: {p}ActC16(a0, act, p0, p1), toByteOffset: d, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a1, act, p0, p1), toByteOffset: d &+ 64, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a2, act, p0, p1), toByteOffset: d &+ 128, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a3, act, p0, p1), toByteOffset: d &+ 192, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a4, act, p0, p1), toByteOffset: d &+ 256, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a5, act, p0, p1), toByteOffset: d &+ 320, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a6, act, p0, p1), toByteOffset: d &+ 384, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a7, act, p0, p1), toByteOffset: d &+ 448, as: SIMD16<Float>.self)
        q &+= 8
      }
    }
    while q &+ 4 <= total {
        let r0 = next(), r1 = next(), r2 = next(), r3 = next()
        var a0 = b, a1 = b, a2 = b, a3 = b
        var t = weights
        var ky = 0
        var rowOff = 0
        while ky < kh {
            var o = rowOff
            var kx = 0
            while kx < kw {
                let wv = {p}LoadC16(t)
                a0 = a0.addingProduct(wv, {p}LoadC16(r0 + o))
                a1 = a1.addingProduct(wv, {p}LoadC16(r1 + o))
                a2 = a2.addingProduct(wv, {p}LoadC16(r2 + o))
                a3 = a3.addingProduct(wv, {p}LoadC16(r3 + o))
                t += 16
                o &+= dxStep
                kx &+= 1
            }
            rowOff &+= dyStep
            ky &+= 1
        }
        let d = q &* 64
        out.storeBytes(of: {p}ActC16(a0, act, p0, p1), toByteOffset: d, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a1, act, p0, p1), toByteOffset: d &+ 64, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a2, act, p0, p1), toByteOffset: d &+ 128, as: SIMD16<Float>.self)
        out.storeBytes(of: {p}ActC16(a3, act, p0, p1), toByteOffset: d &+ 192, as: SIMD16<Float>.self)
        q &+= 4
    }
    while q < total {
        let r0 = next()
        var a0 = b
        var t = weights
        var ky = 0
        var rowOff = 0
        while ky < kh {
            var o = rowOff
            var kx = 0
            while kx < kw {
                a0 = a0.addingProduct({p}LoadC16(t), {p}LoadC16(r0 + o))
                t += 16
                o &+= dxStep
                kx &+= 1
            }
            rowOff &+= dyStep
            ky &+= 1
        }
        out.storeBytes(of: {p}ActC16(a0, act, p0, p1), toByteOffset: q &* 64, as: SIMD16<Float>.self)
        q &+= 1
    }
}

/// 16 vectors: a 16×16 block, one row per vector.
typealias {p}Block16 = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

@inline(__always)
func {p}Unzip(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>) {
    let c = SIMD32<Float>(lowHalf: a, highHalf: b)
    return (c.evenHalf, c.oddHalf)
}

/// One perfect-unshuffle round: row i < 8 ← even lanes of rows 2i ‖ 2i+1, row i + 8 ← odd lanes.
/// It rotates the 8-bit (row, lane) index left by one bit, so four rounds transpose the block.
@inline(__always)
func {p}UnzipRound(_ v: {p}Block16) -> {p}Block16 {
    let (e0, o0) = {p}Unzip(v.0, v.1)
    let (e1, o1) = {p}Unzip(v.2, v.3)
    let (e2, o2) = {p}Unzip(v.4, v.5)
    let (e3, o3) = {p}Unzip(v.6, v.7)
    let (e4, o4) = {p}Unzip(v.8, v.9)
    let (e5, o5) = {p}Unzip(v.10, v.11)
    let (e6, o6) = {p}Unzip(v.12, v.13)
    let (e7, o7) = {p}Unzip(v.14, v.15)
    return (e0, e1, e2, e3, e4, e5, e6, e7, o0, o1, o2, o3, o4, o5, o6, o7)
}

@inline(__always)
func {p}Transpose16(_ v: {p}Block16) -> {p}Block16 {
    {p}UnzipRound({p}UnzipRound({p}UnzipRound({p}UnzipRound(v))))
}

/// Loads 16 rows of 16 floats, row r at `p + r·stride` (rows ≥ `rows` are zero).
@inline(__always)
func {p}LoadBlock16(_ p: UnsafePointer<Float>, _ stride: Int, _ rows: Int) -> {p}Block16 {
    let z = SIMD16<Float>()
    return (
        {p}LoadC16(p),
        rows > 1 ? {p}LoadC16(p + 1 &* stride) : z,
        rows > 2 ? {p}LoadC16(p + 2 &* stride) : z,
        rows > 3 ? {p}LoadC16(p + 3 &* stride) : z,
        rows > 4 ? {p}LoadC16(p + 4 &* stride) : z,
        rows > 5 ? {p}LoadC16(p + 5 &* stride) : z,
        rows > 6 ? {p}LoadC16(p + 6 &* stride) : z,
        rows > 7 ? {p}LoadC16(p + 7 &* stride) : z,
        rows > 8 ? {p}LoadC16(p + 8 &* stride) : z,
        rows > 9 ? {p}LoadC16(p + 9 &* stride) : z,
        rows > 10 ? {p}LoadC16(p + 10 &* stride) : z,
        rows > 11 ? {p}LoadC16(p + 11 &* stride) : z,
        rows > 12 ? {p}LoadC16(p + 12 &* stride) : z,
        rows > 13 ? {p}LoadC16(p + 13 &* stride) : z,
        rows > 14 ? {p}LoadC16(p + 14 &* stride) : z,
        rows > 15 ? {p}LoadC16(p + 15 &* stride) : z)
}

/// Stores the 16 rows of `v`, row r at `p + r·stride`, only rows < `rows`.
@inline(__always)
func {p}StoreBlock16(_ v: {p}Block16, _ p: UnsafeMutablePointer<Float>, _ stride: Int, _ rows: Int) {
    let q = UnsafeMutableRawPointer(p)
    let s = stride &* 4
    q.storeBytes(of: v.0, as: SIMD16<Float>.self)
    if rows > 1 { q.storeBytes(of: v.1, toByteOffset: 1 &* s, as: SIMD16<Float>.self) }
    if rows > 2 { q.storeBytes(of: v.2, toByteOffset: 2 &* s, as: SIMD16<Float>.self) }
    if rows > 3 { q.storeBytes(of: v.3, toByteOffset: 3 &* s, as: SIMD16<Float>.self) }
    if rows > 4 { q.storeBytes(of: v.4, toByteOffset: 4 &* s, as: SIMD16<Float>.self) }
    if rows > 5 { q.storeBytes(of: v.5, toByteOffset: 5 &* s, as: SIMD16<Float>.self) }
    if rows > 6 { q.storeBytes(of: v.6, toByteOffset: 6 &* s, as: SIMD16<Float>.self) }
    if rows > 7 { q.storeBytes(of: v.7, toByteOffset: 7 &* s, as: SIMD16<Float>.self) }
    if rows > 8 { q.storeBytes(of: v.8, toByteOffset: 8 &* s, as: SIMD16<Float>.self) }
    if rows > 9 { q.storeBytes(of: v.9, toByteOffset: 9 &* s, as: SIMD16<Float>.self) }
    if rows > 10 { q.storeBytes(of: v.10, toByteOffset: 10 &* s, as: SIMD16<Float>.self) }
    if rows > 11 { q.storeBytes(of: v.11, toByteOffset: 11 &* s, as: SIMD16<Float>.self) }
    if rows > 12 { q.storeBytes(of: v.12, toByteOffset: 12 &* s, as: SIMD16<Float>.self) }
    if rows > 13 { q.storeBytes(of: v.13, toByteOffset: 13 &* s, as: SIMD16<Float>.self) }
    if rows > 14 { q.storeBytes(of: v.14, toByteOffset: 14 &* s, as: SIMD16<Float>.self) }
    if rows > 15 { q.storeBytes(of: v.15, toByteOffset: 15 &* s, as: SIMD16<Float>.self) }
}

/// Interleaves 16 channel rows: `dst[x·16 + c] = src[c·planeStride + x]` for x < count, c < nc
/// (lanes c ≥ nc are zero). 16 pixels at a time through a register transpose.
public func {p}InterleaveC16(src: UnsafePointer<Float>, planeStride: Int, nc: Int, count: Int,
                             dst: UnsafeMutablePointer<Float>) {
    var x = 0
    while x &+ 16 <= count {
        {p}StoreBlock16({p}Transpose16({p}LoadBlock16(src + x, planeStride, nc)), dst + x &* 16, 16, 16)
        x &+= 16
    }
    while x < count {
        var c = 0
        while c < 16 { dst[x &* 16 &+ c] = c < nc ? src[c &* planeStride &+ x] : 0; c &+= 1 }
        x &+= 1
    }
}

/// Transposes pixel-major rows back to channel planes: `dst[c·dstStride + p] = act(src[p·srcStride
/// + c] + bias[c] + residual[c·dstStride + p])` for c < nc ≤ 16, p < count (nil bias or
/// residual: not added). Each row is read 16 floats wide (lanes ≥ nc are read, not stored).
/// `act` as `{p}ActC16` (other codes apply nothing). 16 pixels at a time through a register
/// transpose.
public func {p}TransposeOut16(src: UnsafePointer<Float>, srcStride: Int, nc: Int, count: Int,
                              dst: UnsafeMutablePointer<Float>, dstStride: Int, bias: UnsafePointer<Float>?,
                              residual: UnsafePointer<Float>?, act: Int, p0: Float, p1: Float) {
    var x = 0
    while x &+ 16 <= count {
        var v = {p}Transpose16({p}LoadBlock16(src + x &* srcStride, srcStride, 16))
        if let b = bias {
            v.0 += SIMD16<Float>(repeating: b[0])
            if nc > 1 { v.1 += SIMD16<Float>(repeating: b[1]) }
            if nc > 2 { v.2 += SIMD16<Float>(repeating: b[2]) }
            if nc > 3 { v.3 += SIMD16<Float>(repeating: b[3]) }
            if nc > 4 { v.4 += SIMD16<Float>(repeating: b[4]) }
            if nc > 5 { v.5 += SIMD16<Float>(repeating: b[5]) }
            if nc > 6 { v.6 += SIMD16<Float>(repeating: b[6]) }
            if nc > 7 { v.7 += SIMD16<Float>(repeating: b[7]) }
            if nc > 8 { v.8 += SIMD16<Float>(repeating: b[8]) }
            if nc > 9 { v.9 += SIMD16<Float>(repeating: b[9]) }
            if nc > 10 { v.10 += SIMD16<Float>(repeating: b[10]) }
            if nc > 11 { v.11 += SIMD16<Float>(repeating: b[11]) }
            if nc > 12 { v.12 += SIMD16<Float>(repeating: b[12]) }
            if nc > 13 { v.13 += SIMD16<Float>(repeating: b[13]) }
            if nc > 14 { v.14 += SIMD16<Float>(repeating: b[14]) }
            if nc > 15 { v.15 += SIMD16<Float>(repeating: b[15]) }
        }
        if let r = residual {
            let q = r + x
            v.0 += {p}LoadC16(q)
            if nc > 1 { v.1 += {p}LoadC16(q + 1 &* dstStride) }
            if nc > 2 { v.2 += {p}LoadC16(q + 2 &* dstStride) }
            if nc > 3 { v.3 += {p}LoadC16(q + 3 &* dstStride) }
            if nc > 4 { v.4 += {p}LoadC16(q + 4 &* dstStride) }
            if nc > 5 { v.5 += {p}LoadC16(q + 5 &* dstStride) }
            if nc > 6 { v.6 += {p}LoadC16(q + 6 &* dstStride) }
            if nc > 7 { v.7 += {p}LoadC16(q + 7 &* dstStride) }
            if nc > 8 { v.8 += {p}LoadC16(q + 8 &* dstStride) }
            if nc > 9 { v.9 += {p}LoadC16(q + 9 &* dstStride) }
            if nc > 10 { v.10 += {p}LoadC16(q + 10 &* dstStride) }
            if nc > 11 { v.11 += {p}LoadC16(q + 11 &* dstStride) }
            if nc > 12 { v.12 += {p}LoadC16(q + 12 &* dstStride) }
            if nc > 13 { v.13 += {p}LoadC16(q + 13 &* dstStride) }
            if nc > 14 { v.14 += {p}LoadC16(q + 14 &* dstStride) }
            if nc > 15 { v.15 += {p}LoadC16(q + 15 &* dstStride) }
        }
        if act == 1 || act == 2 {
            v.0 = {p}ActC16(v.0, act, p0, p1)
            v.1 = {p}ActC16(v.1, act, p0, p1)
            v.2 = {p}ActC16(v.2, act, p0, p1)
            v.3 = {p}ActC16(v.3, act, p0, p1)
            v.4 = {p}ActC16(v.4, act, p0, p1)
            v.5 = {p}ActC16(v.5, act, p0, p1)
            v.6 = {p}ActC16(v.6, act, p0, p1)
            v.7 = {p}ActC16(v.7, act, p0, p1)
            v.8 = {p}ActC16(v.8, act, p0, p1)
            v.9 = {p}ActC16(v.9, act, p0, p1)
            v.10 = {p}ActC16(v.10, act, p0, p1)
            v.11 = {p}ActC16(v.11, act, p0, p1)
            v.12 = {p}ActC16(v.12, act, p0, p1)
            v.13 = {p}ActC16(v.13, act, p0, p1)
            v.14 = {p}ActC16(v.14, act, p0, p1)
            v.15 = {p}ActC16(v.15, act, p0, p1)
        }
        {p}StoreBlock16(v, dst + x, dstStride, nc)
        x &+= 16
    }
    while x < count {
        var c = 0
        while c < nc {
            var s = src[x &* srcStride &+ c]
            if let b = bias { s += b[c] }
            if let r = residual { s += r[c &* dstStride &+ x] }
            if act == 1 { s = s < 0 ? 0 : s }  // NaN stays NaN
            if act == 2 { s = s < p0 ? p0 : s; s = s > p1 ? p1 : s }
            dst[c &* dstStride &+ x] = s
            c &+= 1
        }
        x &+= 1
    }
}

/// One output row of a 2-D max pool over a 16-channel block ([h][w][16], `src` at the block):
/// `dst[ox] = max over ky ∈ [hlo, hhi), kx ∈ [wlo, whi) of src[h0 + ky·dh][w0 + kx·dw]`, where
/// (w0, wlo, whi) = `cols[4·ox ..< 4·ox + 3]` (the pool tables of `TensorOps.pool`); taps are
/// folded as `x > acc ? x : acc` from −inf in (ky, kx) order (NaN never wins, the first of
/// equal zeros stays), and an empty window gives −greatestFiniteMagnitude, as the NCHW pool.
public func {p}MaxPoolRowC16(src: UnsafePointer<Float>, w: Int, h0: Int, hlo: Int, hhi: Int, dh: Int, dw: Int,
                             cols: UnsafePointer<Int>, outW: Int, dst: UnsafeMutablePointer<Float>) {
    let out = UnsafeMutableRawPointer(dst)
    let rowStep = dh &* w &* 16, colStep = dw &* 16
    var ox = 0
    while ox < outW {
        let w0 = cols[4 &* ox], wlo = cols[4 &* ox &+ 1], whi = cols[4 &* ox &+ 2]
        var m = SIMD16<Float>(repeating: -.infinity)
        if hhi > hlo && whi > wlo {
            var r = src + ((h0 &+ hlo &* dh) &* w &+ w0 &+ wlo &* dw) &* 16
            var ky = hlo
            while ky < hhi {
                var q = r
                var kx = wlo
                while kx < whi {
                    let v = {p}LoadC16(q)
                    m = m.replacing(with: v, where: v .> m)
                    q += colStep
                    kx &+= 1
                }
                r += rowStep
                ky &+= 1
            }
        } else {
            m = SIMD16<Float>(repeating: -Float.greatestFiniteMagnitude)
        }
        out.storeBytes(of: m, toByteOffset: ox &* 64, as: SIMD16<Float>.self)
        ox &+= 1
    }
}
