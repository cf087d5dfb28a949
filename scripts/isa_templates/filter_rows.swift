// MARK: - Float64 filter rows (template: scripts/isa_templates/filter_rows.swift)
//
// The inner loops of the blur corruptions, which reproduce SciPy/OpenCV float64 filters sum by
// sum: every output element is accumulated in exactly the stated order with separate multiply
// and add (no fused multiply-add), so each ISA instance returns the same bits as a scalar loop.

/// `o[j] = Σ_t src[t][j]·w[t]` for j in 0..<n, taps summed in order from t = 0.
public func {p}WeightedSumRowF64(_ o: UnsafeMutablePointer<Double>, _ src: UnsafePointer<UnsafePointer<Double>>,
                                 _ w: UnsafePointer<Double>, taps: Int, n: Int) {
    var j = 0
    while j &+ 32 <= n {
        var a0 = SIMD8<Double>(), a1 = SIMD8<Double>(), a2 = SIMD8<Double>(), a3 = SIMD8<Double>()
        var t = 0
        while t < taps {
            let p = UnsafeRawPointer(src[t] + j), k = SIMD8<Double>(repeating: w[t])
            a0 = a0 + p.loadUnaligned(as: SIMD8<Double>.self) * k
            a1 = a1 + p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self) * k
            a2 = a2 + p.loadUnaligned(fromByteOffset: 128, as: SIMD8<Double>.self) * k
            a3 = a3 + p.loadUnaligned(fromByteOffset: 192, as: SIMD8<Double>.self) * k
            t &+= 1
        }
        let q = UnsafeMutableRawPointer(o + j)
        q.storeBytes(of: a0, as: SIMD8<Double>.self)
        q.storeBytes(of: a1, toByteOffset: 64, as: SIMD8<Double>.self)
        q.storeBytes(of: a2, toByteOffset: 128, as: SIMD8<Double>.self)
        q.storeBytes(of: a3, toByteOffset: 192, as: SIMD8<Double>.self)
        j &+= 32
    }
    while j &+ 8 <= n {
        var acc = SIMD8<Double>()
        var t = 0
        while t < taps {
            acc = acc + UnsafeRawPointer(src[t] + j).loadUnaligned(as: SIMD8<Double>.self) * SIMD8<Double>(repeating: w[t])
            t &+= 1
        }
        UnsafeMutableRawPointer(o + j).storeBytes(of: acc, as: SIMD8<Double>.self)
        j &+= 8
    }
    while j < n {
        var acc = 0.0
        var t = 0
        while t < taps { acc = acc + src[t][j] * w[t]; t &+= 1 }
        o[j] = acc
        j &+= 1
    }
}

/// `o[j] = c[j]·k[0] + Σ_{d=r…1} (left[d][j] + right[d][j])·k[d]` for j in 0..<n, in that order
/// per element (SciPy's symmetric correlation, farthest taps first).
public func {p}SymmetricRowF64(_ o: UnsafeMutablePointer<Double>, _ c: UnsafePointer<Double>,
                               _ left: UnsafePointer<UnsafePointer<Double>>, _ right: UnsafePointer<UnsafePointer<Double>>,
                               _ k: UnsafePointer<Double>, r: Int, n: Int) {
    var j = 0
    while j &+ 16 <= n {
        let k0 = SIMD8<Double>(repeating: k[0])
        let cp = UnsafeRawPointer(c + j)
        var a0 = cp.loadUnaligned(as: SIMD8<Double>.self) * k0
        var a1 = cp.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self) * k0
        var d = r
        while d >= 1 {
            let l = UnsafeRawPointer(left[d] + j), rr = UnsafeRawPointer(right[d] + j)
            let kd = SIMD8<Double>(repeating: k[d])
            a0 = a0 + (l.loadUnaligned(as: SIMD8<Double>.self) + rr.loadUnaligned(as: SIMD8<Double>.self)) * kd
            a1 = a1 + (l.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
                       + rr.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)) * kd
            d &-= 1
        }
        let q = UnsafeMutableRawPointer(o + j)
        q.storeBytes(of: a0, as: SIMD8<Double>.self)
        q.storeBytes(of: a1, toByteOffset: 64, as: SIMD8<Double>.self)
        j &+= 16
    }
    while j < n {
        var acc = c[j] * k[0]
        var d = r
        while d >= 1 { acc = acc + (left[d][j] + right[d][j]) * k[d]; d &-= 1 }
        o[j] = acc
        j &+= 1
    }
}

// MARK: - defocus_blur rows (DefocusKernels in StalwartShift)
//
// The decomposed disk filter: running column sums of the padded image (bytes widened to UInt16
// by the caller) in wrapping UInt16 (a difference of two is an exact column box sum < 2¹⁶), the
// exact integer disk sums, scaled once to float64, and weighted sums of float64 rows stored as
// `np.uint8(clip(v, 0, 1)·255)`. Integer parts are exact, conversions exact (the 2⁵² trick), and
// the float64 sums use separate multiply and add in the stated order, so every ISA instance
// returns the same bits. Widening conversions take 8 lanes straight from memory
// (`SIMD8<UInt64>(truncatingIfNeeded: load SIMD8<UInt16>)`): 16- and 32-lane widenings of a
// register were left out of line as standard-library specialisations, which the linker may
// share with code for other CPUs (scripts/check_isa_symbols.py flags them).

/// `d[i] = s[i] &+ b[i]` for i in 0..<n (wrapping).
public func {p}DefocusAddRowU16(_ d: UnsafeMutablePointer<UInt16>, _ s: UnsafePointer<UInt16>,
                                _ b: UnsafePointer<UInt16>, n: Int) {
    var i = 0
    while i &+ 32 <= n {
        UnsafeMutableRawPointer(d + i).storeBytes(
            of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD32<UInt16>.self) &+ UnsafeRawPointer(b + i).loadUnaligned(as: SIMD32<UInt16>.self),
            as: SIMD32<UInt16>.self)
        i &+= 32
    }
    while i < n {
        d[i] = s[i] &+ b[i]
        i &+= 1
    }
}

/// `d[i] = Double(b[i])` for i in 0..<n (exact: the 2⁵² trick).
public func {p}DefocusU16ToF64Row(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<UInt16>, n: Int) {
    let magic = SIMD8<UInt64>(repeating: 0x4330_0000_0000_0000)
    var i = 0
    while i &+ 8 <= n {
        let v = SIMD8<UInt64>(truncatingIfNeeded: UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<UInt16>.self))
        UnsafeMutableRawPointer(d + i).storeBytes(of: unsafeBitCast(v | magic, to: SIMD8<Double>.self) - 0x1p52,
                                                  as: SIMD8<Double>.self)
        i &+= 8
    }
    while i < n {
        d[i] = Double(bitPattern: UInt64(truncatingIfNeeded: b[i]) | 0x4330_0000_0000_0000) - 0x1p52
        i &+= 1
    }
}

/// `o[j] = Σ_t (hi[t][j] &− lo[t][j])` for j in 0..<n, in wrapping UInt16: the exact disk sum
/// when it is below 2¹⁶ (the caller splits the taps into groups that are).
public func {p}DefocusDiskRowU16(_ o: UnsafeMutablePointer<UInt16>, _ lo: UnsafePointer<UnsafePointer<UInt16>>,
                                 _ hi: UnsafePointer<UnsafePointer<UInt16>>, taps: Int, n: Int) {
    var j = 0
    while j &+ 64 <= n {
        var a0 = SIMD32<UInt16>(), a1 = SIMD32<UInt16>()
        var t = 0
        while t < taps {
            let h = UnsafeRawPointer(hi[t] + j), l = UnsafeRawPointer(lo[t] + j)
            a0 = a0 &+ (h.loadUnaligned(as: SIMD32<UInt16>.self) &- l.loadUnaligned(as: SIMD32<UInt16>.self))
            a1 = a1 &+ (h.loadUnaligned(fromByteOffset: 64, as: SIMD32<UInt16>.self)
                        &- l.loadUnaligned(fromByteOffset: 64, as: SIMD32<UInt16>.self))
            t &+= 1
        }
        let q = UnsafeMutableRawPointer(o + j)
        q.storeBytes(of: a0, as: SIMD32<UInt16>.self)
        q.storeBytes(of: a1, toByteOffset: 64, as: SIMD32<UInt16>.self)
        j &+= 64
    }
    while j &+ 8 <= n {
        var a = SIMD8<UInt16>()
        var t = 0
        while t < taps {
            a = a &+ (UnsafeRawPointer(hi[t] + j).loadUnaligned(as: SIMD8<UInt16>.self)
                      &- UnsafeRawPointer(lo[t] + j).loadUnaligned(as: SIMD8<UInt16>.self))
            t &+= 1
        }
        UnsafeMutableRawPointer(o + j).storeBytes(of: a, as: SIMD8<UInt16>.self)
        j &+= 8
    }
    while j < n {
        var a: UInt16 = 0
        var t = 0
        while t < taps { a = a &+ (hi[t][j] &- lo[t][j]); t &+= 1 }
        o[j] = a
        j &+= 1
    }
}

/// `o[j] = scale · Double(a[j] + b[j])` for j in 0..<n (b[j] read only when `hasB`): exact
/// conversion (the 2⁵² trick), then one multiplication.
public func {p}DefocusScaleRowF64(_ o: UnsafeMutablePointer<Double>, _ a: UnsafePointer<UInt16>, _ b: UnsafePointer<UInt16>,
                                  hasB: Bool, scale: Double, n: Int) {
    let sc = SIMD8<Double>(repeating: scale)
    let magic = SIMD8<UInt64>(repeating: 0x4330_0000_0000_0000)
    var j = 0
    if hasB {
        while j &+ 8 <= n {
            let v = SIMD8<UInt64>(truncatingIfNeeded: UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<UInt16>.self))
                &+ SIMD8<UInt64>(truncatingIfNeeded: UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<UInt16>.self))
            UnsafeMutableRawPointer(o + j).storeBytes(of: (unsafeBitCast(v | magic, to: SIMD8<Double>.self) - 0x1p52) * sc,
                                                      as: SIMD8<Double>.self)
            j &+= 8
        }
    } else {
        while j &+ 8 <= n {
            let v = SIMD8<UInt64>(truncatingIfNeeded: UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<UInt16>.self))
            UnsafeMutableRawPointer(o + j).storeBytes(of: (unsafeBitCast(v | magic, to: SIMD8<Double>.self) - 0x1p52) * sc,
                                                      as: SIMD8<Double>.self)
            j &+= 8
        }
    }
    while j < n {
        var v = UInt64(truncatingIfNeeded: a[j])
        if hasB { v = v &+ UInt64(truncatingIfNeeded: b[j]) }
        o[j] = (Double(bitPattern: v | 0x4330_0000_0000_0000) - 0x1p52) * scale
        j &+= 1
    }
}

/// `o[j] = np.uint8(clip(Σ_g w[g]·(Σ_{t ∈ group g} src[t][j]), 0, 1) · 255)` for j in 0..<n:
/// group g is the next `counts[g]` rows of `src`, added in order, then multiplied by its weight
/// and added to the sum (groups in order, separate multiply and add); v·255 is floored exactly
/// by the 2⁵² trick (the low word of `f + 2⁵²` is the integer f); NaN gives 0.
public func {p}DefocusWeightedBytesRowF64(_ o: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UnsafePointer<Double>>,
                                          _ w: UnsafePointer<Double>, counts: UnsafePointer<Int>, groups: Int, n: Int) {
    var j = 0
    while j &+ 32 <= n {
        var a0 = SIMD8<Double>(), a1 = SIMD8<Double>(), a2 = SIMD8<Double>(), a3 = SIMD8<Double>()
        var t = 0, g = 0
        while g < groups {
            let p = UnsafeRawPointer(src[t] + j)
            var s0 = p.loadUnaligned(as: SIMD8<Double>.self), s1 = p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
            var s2 = p.loadUnaligned(fromByteOffset: 128, as: SIMD8<Double>.self)
            var s3 = p.loadUnaligned(fromByteOffset: 192, as: SIMD8<Double>.self)
            let end = t &+ counts[g]
            t &+= 1
            while t < end {
                let q = UnsafeRawPointer(src[t] + j)
                s0 = s0 + q.loadUnaligned(as: SIMD8<Double>.self)
                s1 = s1 + q.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self)
                s2 = s2 + q.loadUnaligned(fromByteOffset: 128, as: SIMD8<Double>.self)
                s3 = s3 + q.loadUnaligned(fromByteOffset: 192, as: SIMD8<Double>.self)
                t &+= 1
            }
            let k = SIMD8<Double>(repeating: w[g])
            a0 = a0 + s0 * k
            a1 = a1 + s1 * k
            a2 = a2 + s2 * k
            a3 = a3 + s3 * k
            g &+= 1
        }
        {p}StoreUnitBytes32(o + j, a0, a1, a2, a3)
        j &+= 32
    }
    while j < n {
        var a = 0.0
        var t = 0, g = 0
        while g < groups {
            var s = src[t][j]
            let end = t &+ counts[g]
            t &+= 1
            while t < end { s = s + src[t][j]; t &+= 1 }
            a = a + s * w[g]
            g &+= 1
        }
        if a < 0 { a = 0 }
        if a > 1 { a = 1 }
        let x = a * 255, mm = 0x1p52
        var f = (x + mm) - mm
        if f > x { f = f - 1 }
        o[j] = UInt8(truncatingIfNeeded: (f + mm).bitPattern)
        j &+= 1
    }
}

/// `np.uint8(clip(v, 0, 1)·255)` of 32 float64 values v0…v3 (NaN → 0), stored at `o`:
/// v·255 ∈ [0, 255] floored exactly by the 2⁵² trick (the low word of `f + 2⁵²` is f).
@inline(__always)
func {p}StoreUnitBytes32(_ o: UnsafeMutablePointer<UInt8>, _ v0: SIMD8<Double>, _ v1: SIMD8<Double>,
                         _ v2: SIMD8<Double>, _ v3: SIMD8<Double>) {
    let zero = SIMD8<Double>(), one = SIMD8<Double>(repeating: 1), m = SIMD8<Double>(repeating: 0x1p52)
    let c255 = SIMD8<Double>(repeating: 255)
    var a0 = v0, a1 = v1, a2 = v2, a3 = v3
    a0 = a0.replacing(with: zero, where: .!(a0 .> zero)); a0 = a0.replacing(with: one, where: a0 .> one) * c255
    a1 = a1.replacing(with: zero, where: .!(a1 .> zero)); a1 = a1.replacing(with: one, where: a1 .> one) * c255
    a2 = a2.replacing(with: zero, where: .!(a2 .> zero)); a2 = a2.replacing(with: one, where: a2 .> one) * c255
    a3 = a3.replacing(with: zero, where: .!(a3 .> zero)); a3 = a3.replacing(with: one, where: a3 .> one) * c255
    var f0 = (a0 + m) - m, f1 = (a1 + m) - m, f2 = (a2 + m) - m, f3 = (a3 + m) - m
    f0 = f0.replacing(with: f0 - one, where: f0 .> a0); f1 = f1.replacing(with: f1 - one, where: f1 .> a1)
    f2 = f2.replacing(with: f2 - one, where: f2 .> a2); f3 = f3.replacing(with: f3 - one, where: f3 .> a3)
    let b0 = SIMD16<UInt32>(lowHalf: SIMD8<UInt32>(truncatingIfNeeded: unsafeBitCast(f0 + m, to: SIMD8<UInt64>.self)),
                            highHalf: SIMD8<UInt32>(truncatingIfNeeded: unsafeBitCast(f1 + m, to: SIMD8<UInt64>.self)))
    let b1 = SIMD16<UInt32>(lowHalf: SIMD8<UInt32>(truncatingIfNeeded: unsafeBitCast(f2 + m, to: SIMD8<UInt64>.self)),
                            highHalf: SIMD8<UInt32>(truncatingIfNeeded: unsafeBitCast(f3 + m, to: SIMD8<UInt64>.self)))
    UnsafeMutableRawPointer(o).storeBytes(
        of: SIMD32<UInt8>(lowHalf: SIMD16<UInt8>(truncatingIfNeeded: b0), highHalf: SIMD16<UInt8>(truncatingIfNeeded: b1)),
        as: SIMD32<UInt8>.self)
}
