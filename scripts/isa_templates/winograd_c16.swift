// Winograd F(2×2, 3×3) transforms over blocks of 16 channels (instantiated per ISA and for the
// portable set by scripts/generate_isa_kernels.py; `{p}` is the prefix). The GEMMs between
// them run on the NCHWc kernels; `WinogradConv` is the caller.
//
//   V = Bᵀ d B (d: 4×4 input patch),  Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   Y = Aᵀ M A (M: 4×4 products),     Aᵀ = [1 1 1 0; 0 1 −1 −1]
// Position p = 4·i + j of the 4×4 transformed tile is stored at `p · posStride`.

/// Four consecutive pixels (columns x ..< x + 4) of row y of a [h][w][16] plane; pixels
/// outside the plane read as zero.
@inline(__always)
func {p}WinoRow4(_ plane: UnsafePointer<Float>, _ h: Int, _ w: Int, _ y: Int, _ x: Int)
    -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    let z = SIMD16<Float>()
    if y < 0 || y >= h { return (z, z, z, z) }
    let row = UnsafeRawPointer(plane + y &* w &* 16)
    if x >= 0 && x &+ 4 <= w {
        let o = x &* 64
        return (row.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self),
                row.loadUnaligned(fromByteOffset: o &+ 64, as: SIMD16<Float>.self),
                row.loadUnaligned(fromByteOffset: o &+ 128, as: SIMD16<Float>.self),
                row.loadUnaligned(fromByteOffset: o &+ 192, as: SIMD16<Float>.self))
    }
    @inline(__always) func at(_ c: Int) -> SIMD16<Float> {
        c >= 0 && c < w ? row.loadUnaligned(fromByteOffset: c &* 64, as: SIMD16<Float>.self) : z
    }
    return (at(x), at(x &+ 1), at(x &+ 2), at(x &+ 3))
}

/// Row i of Bᵀ d B from row i of Bᵀ d, stored at positions 4i ..< 4i + 4.
@inline(__always)
func {p}WinoStoreIn(_ t0: SIMD16<Float>, _ t1: SIMD16<Float>, _ t2: SIMD16<Float>, _ t3: SIMD16<Float>,
                    _ dst: UnsafeMutableRawPointer, _ posBytes: Int) {
    dst.storeBytes(of: t0 - t2, as: SIMD16<Float>.self)
    dst.storeBytes(of: t1 + t2, toByteOffset: posBytes, as: SIMD16<Float>.self)
    dst.storeBytes(of: t2 - t1, toByteOffset: posBytes &* 2, as: SIMD16<Float>.self)
    dst.storeBytes(of: t1 - t3, toByteOffset: posBytes &* 3, as: SIMD16<Float>.self)
}

/// Input transform of one row of `tiles` tiles of one block: tile j's patch has its top-left
/// pixel at (y0, x0 + 2j) of `plane` ([h][w][16]; outside reads zero, so y0 and x0 may be
/// negative: the padding). Position p of tile j goes to `dst + p·posStride + j·16`.
public func {p}WinogradInputRowC16(plane: UnsafePointer<Float>, h: Int, w: Int, y0: Int, x0: Int, tiles: Int,
                                   dst: UnsafeMutablePointer<Float>, posStride: Int) {
    let posBytes = posStride &* 4
    let out = UnsafeMutableRawPointer(dst)
    var j = 0
    while j < tiles {
        let x = x0 &+ 2 &* j
        let (a0, a1, a2, a3) = {p}WinoRow4(plane, h, w, y0, x)
        let (b0, b1, b2, b3) = {p}WinoRow4(plane, h, w, y0 &+ 1, x)
        let (c0, c1, c2, c3) = {p}WinoRow4(plane, h, w, y0 &+ 2, x)
        let (d0, d1, d2, d3) = {p}WinoRow4(plane, h, w, y0 &+ 3, x)
        let o = out + j &* 64
        // Rows of Bᵀ d: (r0 − r2, r1 + r2, r2 − r1, r1 − r3); then the columns.
        {p}WinoStoreIn(a0 - c0, a1 - c1, a2 - c2, a3 - c3, o, posBytes)
        {p}WinoStoreIn(b0 + c0, b1 + c1, b2 + c2, b3 + c3, o + posBytes &* 4, posBytes)
        {p}WinoStoreIn(c0 - b0, c1 - b1, c2 - b2, c3 - b3, o + posBytes &* 8, posBytes)
        {p}WinoStoreIn(b0 - d0, b1 - d1, b2 - d2, b3 - d3, o + posBytes &* 12, posBytes)
        j &+= 1
    }
}

/// Output transform of one row of `tiles` tiles of one block: tile j's products at
/// `src + p·posStride + j·16`; Y = Aᵀ M A + bias (+ residual), activation code `act` as
/// `{p}ActC16` (1 ReLU, 2 clip; others none), written to pixels (y0 + r, 2j + c) of `dst`
/// ([oh][ow][16]) that lie inside it; `residual` (nil or dst-shaped) may be `dst` itself.
public func {p}WinogradOutputRowC16(src: UnsafePointer<Float>, posStride: Int, tiles: Int, bias: UnsafePointer<Float>,
                                    residual: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>, oh: Int, ow: Int,
                                    y0: Int, act: Int, p0: Float, p1: Float) {
    let posBytes = posStride &* 4
    let m = UnsafeRawPointer(src)
    let b = {p}LoadC16(bias)
    let secondRow = y0 &+ 1 < oh
    @inline(__always) func ld(_ base: UnsafeRawPointer, _ p: Int) -> SIMD16<Float> {
        base.loadUnaligned(fromByteOffset: p &* posBytes, as: SIMD16<Float>.self)
    }
    @inline(__always) func put(_ v: SIMD16<Float>, _ y: Int, _ x: Int) {
        let q = y &* ow &+ x
        var s = v + b
        if let residual { s += {p}LoadC16(residual + q &* 16) }
        UnsafeMutableRawPointer(dst + q &* 16).storeBytes(of: {p}ActC16(s, act, p0, p1), as: SIMD16<Float>.self)
    }
    var j = 0
    while j < tiles {
        let t = m + j &* 64
        // Aᵀ M: rows s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (four columns each).
        let m4 = ld(t, 4), m5 = ld(t, 5), m6 = ld(t, 6), m7 = ld(t, 7)
        let m8 = ld(t, 8), m9 = ld(t, 9), m10 = ld(t, 10), m11 = ld(t, 11)
        let s00 = ld(t, 0) + m4 + m8, s01 = ld(t, 1) + m5 + m9
        let s02 = ld(t, 2) + m6 + m10, s03 = ld(t, 3) + m7 + m11
        let s10 = m4 - m8 - ld(t, 12), s11 = m5 - m9 - ld(t, 13)
        let s12 = m6 - m10 - ld(t, 14), s13 = m7 - m11 - ld(t, 15)
        let x = 2 &* j
        let twoCols = x &+ 1 < ow
        put(s00 + s01 + s02, y0, x)
        if twoCols { put(s01 - s02 - s03, y0, x &+ 1) }
        if secondRow {
            put(s10 + s11 + s12, y0 &+ 1, x)
            if twoCols { put(s11 - s12 - s13, y0 &+ 1, x &+ 1) }
        }
        j &+= 1
    }
}
