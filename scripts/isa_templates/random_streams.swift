// MARK: - Counter-based random streams (template: scripts/isa_templates/random_streams.swift)
//
// Philox4x32-10 (Salmon et al., SC 2011) sixteen blocks (two groups) per step, and the transforms from its
// words to samples. The same source is instantiated for every ISA (prefix `{p}`), using only
// IEEE add/mul/div, integer and bit operations — no fused multiply-add, no libm, no masked
// `replacing` (a lane loop on baseline x86-64) — so every instance returns the same bits.
//
// Group layout: a group is 8 consecutive blocks (counters c…c+7, c a multiple of 8), i.e.
// 32 words; word r (0…3) of block j is lane j of vector r.
// - normals: 32 per group, (x0, x1) → samples 0…7 (cosine branch) and 8…15 (sine branch),
//   (x2, x3) → 16…31;
// - units (doubles k·2⁻³² in [0, 1), one word each): 32 per group, in the words' order;
// - words: the 32 words, vector-major (x0 lanes, x1 lanes, x2 lanes, x3 lanes).

/// Words x0…x3 of blocks c…c+15 (lane j = block c + j; two groups): 16 lanes, so AVX-512
/// works on full registers while AVX2 and the portable build split them (same bits).
@inline(__always)
func {p}Philox16(_ c: UInt64, _ h: UInt64, _ key0: UInt32, _ key1: UInt32)
    -> (SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>) {
    // 64-bit counters per lane (the low word may wrap inside the 16 blocks).
    let lo8 = SIMD8<UInt64>(repeating: c) &+ SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7)
    let hi8 = SIMD8<UInt64>(repeating: c) &+ SIMD8<UInt64>(8, 9, 10, 11, 12, 13, 14, 15)
    var x0 = SIMD16<UInt32>(lowHalf: SIMD8<UInt32>(truncatingIfNeeded: lo8), highHalf: SIMD8<UInt32>(truncatingIfNeeded: hi8))
    var x1 = SIMD16<UInt32>(lowHalf: SIMD8<UInt32>(truncatingIfNeeded: lo8 &>> 32), highHalf: SIMD8<UInt32>(truncatingIfNeeded: hi8 &>> 32))
    var x2 = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: h))
    var x3 = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: h >> 32))
    var k0 = key0, k1 = key1
    // Products on 64-bit lanes without any shuffle: viewing 16 words as 8 pairs, the even
    // words are `v & 0xFFFF_FFFF`, the odd words `v >> 32`; the high (low) halves of the two
    // products go back to even/odd word positions with a shift and a mask.
    let m0 = SIMD8<UInt64>(repeating: 0xD251_1F53), m1 = SIMD8<UInt64>(repeating: 0xCD9E_8D57)
    let low = SIMD8<UInt64>(repeating: 0xFFFF_FFFF), high = SIMD8<UInt64>(repeating: 0xFFFF_FFFF_0000_0000)
    var round = 0
    while round < 10 {
        let a = unsafeBitCast(x0, to: SIMD8<UInt64>.self), b = unsafeBitCast(x2, to: SIMD8<UInt64>.self)
        let p0e = (a & low) &* m0, p0o = (a &>> 32) &* m0
        let p1e = (b & low) &* m1, p1o = (b &>> 32) &* m1
        let hi0 = unsafeBitCast((p0e &>> 32) | (p0o & high), to: SIMD16<UInt32>.self)
        let lo0 = unsafeBitCast((p0e & low) | (p0o &<< 32), to: SIMD16<UInt32>.self)
        let hi1 = unsafeBitCast((p1e &>> 32) | (p1o & high), to: SIMD16<UInt32>.self)
        let lo1 = unsafeBitCast((p1e & low) | (p1o &<< 32), to: SIMD16<UInt32>.self)
        let y0 = hi1 ^ x1 ^ SIMD16<UInt32>(repeating: k0)
        let y2 = hi0 ^ x3 ^ SIMD16<UInt32>(repeating: k1)
        x0 = y0; x1 = lo1; x2 = y2; x3 = lo0
        k0 &+= 0x9E37_79B9
        k1 &+= 0xBB67_AE85
        round &+= 1
    }
    return (x0, x1, x2, x3)
}

/// √x for x ≥ 0: three Newton steps on 1/√x from the bit-shift estimate (relative error
/// ≲ 2e-7; √0 = 0).
@inline(__always)
func {p}Sqrt16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var y = unsafeBitCast(SIMD16<UInt32>(repeating: 0x5F37_59DF) &- (unsafeBitCast(x, to: SIMD16<UInt32>.self) &>> 1),
                          to: SIMD16<Float>.self)
    let h = x * 0.5
    y = y * (1.5 - h * y * y)
    y = y * (1.5 - h * y * y)
    y = y * (1.5 - h * y * y)
    return x * y
}

/// ln u for normal floats u > 0: u = m·2ᵉ, m ∈ [1, 2), ln m = 2·atanh(s), s = (m−1)/(m+1)
/// ∈ [0, ⅓), series to s¹⁵ (error < 5e-9 plus rounding).
@inline(__always)
func {p}Log16(_ u: SIMD16<Float>) -> SIMD16<Float> {
    let bits = unsafeBitCast(u, to: SIMD16<Int32>.self)
    let e = (bits &>> 23) &- 127
    let m = unsafeBitCast((bits & 0x7F_FFFF) | 0x3F80_0000, to: SIMD16<Float>.self)
    let s = (m - 1) / (m + 1)
    let s2 = s * s
    var p = s2 * (1.0 / 15) + 1.0 / 13
    p = p * s2 + 1.0 / 11
    p = p * s2 + 1.0 / 9
    p = p * s2 + 1.0 / 7
    p = p * s2 + 1.0 / 5
    p = p * s2 + 1.0 / 3
    p = p * s2 + 1
    // Float(e) exactly (|e| < 2²²) by the 1.5·2²³ trick.
    let ef = unsafeBitCast(e &+ 0x4B40_0000, to: SIMD16<Float>.self) - 12_582_912
    return (s * p) * 2 + ef * 0.693359375 + ef * -2.12194440e-4
}

/// Two standard normals per lane (Box–Muller, float32): r = √(−2 ln u),
/// u = 1 − (a>>9)·2⁻²³ ∈ (0, 1]; angle from b: quadrant = top 2 bits, φ ∈ [0, π/2) from the
/// next 23 bits; sin/cos φ by their Taylor series to φ¹¹ and φ¹² (error < 6e-8). |z| ≤ 5.65.
@inline(__always)
func {p}BoxMuller16(_ a: SIMD16<UInt32>, _ b: SIMD16<UInt32>) -> (SIMD16<Float>, SIMD16<Float>) {
    let one = SIMD16<Float>(repeating: 1)
    let u = one - (unsafeBitCast((a &>> 9) | 0x3F80_0000, to: SIMD16<Float>.self) - one)
    let r = {p}Sqrt16({p}Log16(u) * -2)
    let t = unsafeBitCast(((b &<< 2) &>> 9) | 0x3F80_0000, to: SIMD16<Float>.self) - one
    let phi = t * 1.57079632679489661923
    let p2 = phi * phi
    var s = p2 * (-1.0 / 39_916_800) + 1.0 / 362_880
    s = s * p2 - 1.0 / 5040
    s = s * p2 + 1.0 / 120
    s = s * p2 - 1.0 / 6
    s = (s * p2 + 1) * phi
    var c = p2 * (1.0 / 479_001_600) - 1.0 / 3_628_800
    c = c * p2 + 1.0 / 40320
    c = c * p2 - 1.0 / 720
    c = c * p2 + 1.0 / 24
    c = c * p2 - 0.5
    c = c * p2 + 1
    // Rotate (cos φ, sin φ) by q·90°: q=1 (−s, c), q=2 (−c, −s), q=3 (s, −c), with bit masks.
    let q = b &>> 30
    let swap = SIMD16<UInt32>(repeating: 0) &- (q & 1)
    let cb = unsafeBitCast(c, to: SIMD16<UInt32>.self), sb = unsafeBitCast(s, to: SIMD16<UInt32>.self)
    let cx = (cb & ~swap) | (sb & swap), sx = (sb & ~swap) | (cb & swap)
    let negCos = ((q ^ (q &>> 1)) & 1) &<< 31, negSin = (q &>> 1) &<< 31
    return (r * unsafeBitCast(cx ^ negCos, to: SIMD16<Float>.self), r * unsafeBitCast(sx ^ negSin, to: SIMD16<Float>.self))
}

/// Doubles w·2⁻³² ∈ [0, 1) (exact) for 8 words: Double(w) by the 2⁵² trick.
@inline(__always)
func {p}Units8(_ a: SIMD8<UInt32>) -> (SIMD4<Double>, SIMD4<Double>) {
    let u0 = unsafeBitCast(SIMD4<UInt64>(truncatingIfNeeded: a.lowHalf) | 0x4330_0000_0000_0000, to: SIMD4<Double>.self) - 0x1p52
    let u1 = unsafeBitCast(SIMD4<UInt64>(truncatingIfNeeded: a.highHalf) | 0x4330_0000_0000_0000, to: SIMD4<Double>.self) - 0x1p52
    return (u0 * 0x1p-32, u1 * 0x1p-32)
}

/// Stores the 8 lanes of group `g` (`half` 0 = lanes 0…7, 1 = lanes 8…15 of a pair's vector)
/// at byte `offset` of the group's 128-byte block.
@inline(__always)
func {p}StoreHalf(_ raw: UnsafeMutableRawPointer, _ v: SIMD16<Float>, _ half: Int, _ offset: Int) {
    raw.storeBytes(of: half == 0 ? v.lowHalf : v.highHalf, toByteOffset: offset, as: SIMD8<Float>.self)
}

/// 32·`groups` standard normals of groups starting at block `counter` (a multiple of 8) into
/// `out`, in the group layout. Stream key (`k0`, `k1`), high counter words `high`. Two groups
/// per step (the last odd group uses half of a step).
public func {p}PhiloxNormals(_ out: UnsafeMutablePointer<Float>, groups: Int, counter: UInt64, high: UInt64,
                           k0: UInt32, k1: UInt32) {
    let raw = UnsafeMutableRawPointer(out)
    var g = 0
    while g < groups {
        let w = {p}Philox16(counter &+ UInt64(truncatingIfNeeded: g) &* 8, high, k0, k1)
        let z0 = {p}BoxMuller16(w.0, w.1), z1 = {p}BoxMuller16(w.2, w.3)
        var half = 0
        while half < 2 && g &+ half < groups {
            let base = (g &+ half) &* 128
            {p}StoreHalf(raw, z0.0, half, base)
            {p}StoreHalf(raw, z0.1, half, base &+ 32)
            {p}StoreHalf(raw, z1.0, half, base &+ 64)
            {p}StoreHalf(raw, z1.1, half, base &+ 96)
            half &+= 1
        }
        g &+= 2
    }
}

/// 32·`groups` uniforms in [0, 1) (32 bits each) into `out`, in the group layout.
public func {p}PhiloxUnits(_ out: UnsafeMutablePointer<Double>, groups: Int, counter: UInt64, high: UInt64,
                         k0: UInt32, k1: UInt32) {
    let raw = UnsafeMutableRawPointer(out)
    var g = 0
    while g < groups {
        let w = {p}Philox16(counter &+ UInt64(truncatingIfNeeded: g) &* 8, high, k0, k1)
        var half = 0
        while half < 2 && g &+ half < groups {
            let base = (g &+ half) &* 256
            let v0 = half == 0 ? w.0.lowHalf : w.0.highHalf, v1 = half == 0 ? w.1.lowHalf : w.1.highHalf
            let v2 = half == 0 ? w.2.lowHalf : w.2.highHalf, v3 = half == 0 ? w.3.lowHalf : w.3.highHalf
            let u0 = {p}Units8(v0), u1 = {p}Units8(v1), u2 = {p}Units8(v2), u3 = {p}Units8(v3)
            raw.storeBytes(of: u0.0, toByteOffset: base, as: SIMD4<Double>.self)
            raw.storeBytes(of: u0.1, toByteOffset: base &+ 32, as: SIMD4<Double>.self)
            raw.storeBytes(of: u1.0, toByteOffset: base &+ 64, as: SIMD4<Double>.self)
            raw.storeBytes(of: u1.1, toByteOffset: base &+ 96, as: SIMD4<Double>.self)
            raw.storeBytes(of: u2.0, toByteOffset: base &+ 128, as: SIMD4<Double>.self)
            raw.storeBytes(of: u2.1, toByteOffset: base &+ 160, as: SIMD4<Double>.self)
            raw.storeBytes(of: u3.0, toByteOffset: base &+ 192, as: SIMD4<Double>.self)
            raw.storeBytes(of: u3.1, toByteOffset: base &+ 224, as: SIMD4<Double>.self)
            half &+= 1
        }
        g &+= 2
    }
}

/// The 32·`groups` raw words into `out`, in the group layout.
public func {p}PhiloxWords(_ out: UnsafeMutablePointer<UInt32>, groups: Int, counter: UInt64, high: UInt64,
                         k0: UInt32, k1: UInt32) {
    let raw = UnsafeMutableRawPointer(out)
    var g = 0
    while g < groups {
        let w = {p}Philox16(counter &+ UInt64(truncatingIfNeeded: g) &* 8, high, k0, k1)
        var half = 0
        while half < 2 && g &+ half < groups {
            let base = (g &+ half) &* 128
            raw.storeBytes(of: half == 0 ? w.0.lowHalf : w.0.highHalf, toByteOffset: base, as: SIMD8<UInt32>.self)
            raw.storeBytes(of: half == 0 ? w.1.lowHalf : w.1.highHalf, toByteOffset: base &+ 32, as: SIMD8<UInt32>.self)
            raw.storeBytes(of: half == 0 ? w.2.lowHalf : w.2.highHalf, toByteOffset: base &+ 64, as: SIMD8<UInt32>.self)
            raw.storeBytes(of: half == 0 ? w.3.lowHalf : w.3.highHalf, toByteOffset: base &+ 96, as: SIMD8<UInt32>.self)
            half &+= 1
        }
        g &+= 2
    }
}
