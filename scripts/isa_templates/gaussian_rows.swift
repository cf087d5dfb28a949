// MARK: - gaussian_blur rows (template: scripts/isa_templates/gaussian_rows.swift)
//
// SciPy's separable float64 Gaussian (`correlate1d` with a symmetric kernel, mode 'nearest') as
// used by gaussian_blur and glass_blur: every output is `c·k0 + Σ_{d=r…1} (x[−d] + x[+d])·k_d`
// accumulated in exactly that order with separate multiply and add (no contraction), so each
// ISA instance returns the same bits as SciPy. Callers own and size every buffer; nothing is
// checked here.

/// `d[i] = Double(s[i]) / 255` for i in 0..<n, as q0 = a·inv, q = q0 + (a − q0·255)·inv with
/// fused multiply-adds (`inv` = 1/255 rounded): correctly rounded for every byte (the caller
/// checks all 256 once and falls back to a table otherwise).
public func {p}GaussianUnitRowF64(_ d: UnsafeMutablePointer<Double>, _ s: UnsafePointer<UInt8>, inv: Double, n: Int) {
    let magic = SIMD8<UInt64>(repeating: 0x4330_0000_0000_0000)
    let vinv = SIMD8<Double>(repeating: inv), c255 = SIMD8<Double>(repeating: 255)
    var i = 0
    while i &+ 8 <= n {
        let v = SIMD8<UInt64>(truncatingIfNeeded: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD8<UInt8>.self))
        let a = unsafeBitCast(v | magic, to: SIMD8<Double>.self) - 0x1p52
        let q0 = a * vinv
        let rem = a.addingProduct(-q0, c255)
        UnsafeMutableRawPointer(d + i).storeBytes(of: q0.addingProduct(rem, vinv), as: SIMD8<Double>.self)
        i &+= 8
    }
    while i < n {
        let a = Double(bitPattern: UInt64(truncatingIfNeeded: s[i]) | 0x4330_0000_0000_0000) - 0x1p52
        let q0 = a * inv
        let rem = a.addingProduct(-q0, 255)
        d[i] = q0.addingProduct(rem, inv)
        i &+= 1
    }
}

/// The vertical pass for `rows` output rows: output row i (0..<rows) is
/// `o[i][j] = s[i+r][j]·k[0] + Σ_{d=r…1} (s[i+r−d][j] + s[i+r+d][j])·k[d]`, j in 0..<n, where
/// `s` holds the `rows + 2r` (edge-clamped) source rows. Rows go in pairs that share loads:
/// row `i+r+1−d` is the left tap of row i+1 at distance d and of row i at d − 1.
public func {p}GaussianColumnsF64(_ o: UnsafePointer<UnsafeMutablePointer<Double>>, _ s: UnsafePointer<UnsafePointer<Double>>,
                                  _ k: UnsafePointer<Double>, r: Int, rows: Int, n: Int) {
    typealias V = SIMD8<Double>
    let k0 = V(repeating: k[0])
    var i = 0
    while i &+ 2 <= rows {
        let oa = o[i], ob = o[i &+ 1]
        let ca = s[i &+ r], cb = s[i &+ r &+ 1]
        var j = 0
        while j &+ 32 <= n {
            let pa = UnsafeRawPointer(ca + j), pb = UnsafeRawPointer(cb + j)
            var a0 = pa.loadUnaligned(as: V.self) * k0, a1 = pa.loadUnaligned(fromByteOffset: 64, as: V.self) * k0
            var a2 = pa.loadUnaligned(fromByteOffset: 128, as: V.self) * k0, a3 = pa.loadUnaligned(fromByteOffset: 192, as: V.self) * k0
            var b0 = pb.loadUnaligned(as: V.self) * k0, b1 = pb.loadUnaligned(fromByteOffset: 64, as: V.self) * k0
            var b2 = pb.loadUnaligned(fromByteOffset: 128, as: V.self) * k0, b3 = pb.loadUnaligned(fromByteOffset: 192, as: V.self) * k0
            // pl = left tap of row i at the current d, pr = right tap of row i+1.
            let l0 = UnsafeRawPointer(s[i] + j), r0 = UnsafeRawPointer(s[i &+ 2 &* r &+ 1] + j)
            var pl0 = l0.loadUnaligned(as: V.self), pl1 = l0.loadUnaligned(fromByteOffset: 64, as: V.self)
            var pl2 = l0.loadUnaligned(fromByteOffset: 128, as: V.self), pl3 = l0.loadUnaligned(fromByteOffset: 192, as: V.self)
            var pr0 = r0.loadUnaligned(as: V.self), pr1 = r0.loadUnaligned(fromByteOffset: 64, as: V.self)
            var pr2 = r0.loadUnaligned(fromByteOffset: 128, as: V.self), pr3 = r0.loadUnaligned(fromByteOffset: 192, as: V.self)
            var d = r
            while d >= 1 {
                let kd = V(repeating: k[d])
                let ra = UnsafeRawPointer(s[i &+ r &+ d] + j), lb = UnsafeRawPointer(s[i &+ r &+ 1 &- d] + j)
                let ra0 = ra.loadUnaligned(as: V.self), ra1 = ra.loadUnaligned(fromByteOffset: 64, as: V.self)
                let ra2 = ra.loadUnaligned(fromByteOffset: 128, as: V.self), ra3 = ra.loadUnaligned(fromByteOffset: 192, as: V.self)
                let lb0 = lb.loadUnaligned(as: V.self), lb1 = lb.loadUnaligned(fromByteOffset: 64, as: V.self)
                let lb2 = lb.loadUnaligned(fromByteOffset: 128, as: V.self), lb3 = lb.loadUnaligned(fromByteOffset: 192, as: V.self)
                a0 = a0 + (pl0 + ra0) * kd; a1 = a1 + (pl1 + ra1) * kd
                a2 = a2 + (pl2 + ra2) * kd; a3 = a3 + (pl3 + ra3) * kd
                b0 = b0 + (lb0 + pr0) * kd; b1 = b1 + (lb1 + pr1) * kd
                b2 = b2 + (lb2 + pr2) * kd; b3 = b3 + (lb3 + pr3) * kd
                pl0 = lb0; pl1 = lb1; pl2 = lb2; pl3 = lb3
                pr0 = ra0; pr1 = ra1; pr2 = ra2; pr3 = ra3
                d &-= 1
            }
            let qa = UnsafeMutableRawPointer(oa + j), qb = UnsafeMutableRawPointer(ob + j)
            qa.storeBytes(of: a0, as: V.self); qa.storeBytes(of: a1, toByteOffset: 64, as: V.self)
            qa.storeBytes(of: a2, toByteOffset: 128, as: V.self); qa.storeBytes(of: a3, toByteOffset: 192, as: V.self)
            qb.storeBytes(of: b0, as: V.self); qb.storeBytes(of: b1, toByteOffset: 64, as: V.self)
            qb.storeBytes(of: b2, toByteOffset: 128, as: V.self); qb.storeBytes(of: b3, toByteOffset: 192, as: V.self)
            j &+= 32
        }
        while j &+ 8 <= n {
            var a = UnsafeRawPointer(ca + j).loadUnaligned(as: V.self) * k0
            var b = UnsafeRawPointer(cb + j).loadUnaligned(as: V.self) * k0
            var pl = UnsafeRawPointer(s[i] + j).loadUnaligned(as: V.self)
            var pr = UnsafeRawPointer(s[i &+ 2 &* r &+ 1] + j).loadUnaligned(as: V.self)
            var d = r
            while d >= 1 {
                let kd = V(repeating: k[d])
                let ra = UnsafeRawPointer(s[i &+ r &+ d] + j).loadUnaligned(as: V.self)
                let lb = UnsafeRawPointer(s[i &+ r &+ 1 &- d] + j).loadUnaligned(as: V.self)
                a = a + (pl + ra) * kd
                b = b + (lb + pr) * kd
                pl = lb; pr = ra
                d &-= 1
            }
            UnsafeMutableRawPointer(oa + j).storeBytes(of: a, as: V.self)
            UnsafeMutableRawPointer(ob + j).storeBytes(of: b, as: V.self)
            j &+= 8
        }
        while j < n {
            var a = ca[j] * k[0], b = cb[j] * k[0]
            var d = r
            while d >= 1 {
                a = a + (s[i &+ r &- d][j] + s[i &+ r &+ d][j]) * k[d]
                b = b + (s[i &+ r &+ 1 &- d][j] + s[i &+ r &+ 1 &+ d][j]) * k[d]
                d &-= 1
            }
            oa[j] = a; ob[j] = b
            j &+= 1
        }
        i &+= 2
    }
    if i < rows {
        let oa = o[i], ca = s[i &+ r]
        var j = 0
        while j &+ 32 <= n {
            let pa = UnsafeRawPointer(ca + j)
            var a0 = pa.loadUnaligned(as: V.self) * k0, a1 = pa.loadUnaligned(fromByteOffset: 64, as: V.self) * k0
            var a2 = pa.loadUnaligned(fromByteOffset: 128, as: V.self) * k0, a3 = pa.loadUnaligned(fromByteOffset: 192, as: V.self) * k0
            var d = r
            while d >= 1 {
                let kd = V(repeating: k[d])
                let l = UnsafeRawPointer(s[i &+ r &- d] + j), rr = UnsafeRawPointer(s[i &+ r &+ d] + j)
                a0 = a0 + (l.loadUnaligned(as: V.self) + rr.loadUnaligned(as: V.self)) * kd
                a1 = a1 + (l.loadUnaligned(fromByteOffset: 64, as: V.self) + rr.loadUnaligned(fromByteOffset: 64, as: V.self)) * kd
                a2 = a2 + (l.loadUnaligned(fromByteOffset: 128, as: V.self) + rr.loadUnaligned(fromByteOffset: 128, as: V.self)) * kd
                a3 = a3 + (l.loadUnaligned(fromByteOffset: 192, as: V.self) + rr.loadUnaligned(fromByteOffset: 192, as: V.self)) * kd
                d &-= 1
            }
            let qa = UnsafeMutableRawPointer(oa + j)
            qa.storeBytes(of: a0, as: V.self); qa.storeBytes(of: a1, toByteOffset: 64, as: V.self)
            qa.storeBytes(of: a2, toByteOffset: 128, as: V.self); qa.storeBytes(of: a3, toByteOffset: 192, as: V.self)
            j &+= 32
        }
        while j &+ 8 <= n {
            var a = UnsafeRawPointer(ca + j).loadUnaligned(as: V.self) * k0
            var d = r
            while d >= 1 {
                a = a + (UnsafeRawPointer(s[i &+ r &- d] + j).loadUnaligned(as: V.self)
                         + UnsafeRawPointer(s[i &+ r &+ d] + j).loadUnaligned(as: V.self)) * V(repeating: k[d])
                d &-= 1
            }
            UnsafeMutableRawPointer(oa + j).storeBytes(of: a, as: V.self)
            j &+= 8
        }
        while j < n {
            var a = ca[j] * k[0]
            var d = r
            while d >= 1 { a = a + (s[i &+ r &- d][j] + s[i &+ r &+ d][j]) * k[d]; d &-= 1 }
            oa[j] = a
            j &+= 1
        }
    }
}

/// The horizontal pass stored as bytes: `o[j] = np.uint8(clip(c[j]·k[0] + Σ_{d=r…1}
/// (c[j − step·d] + c[j + step·d])·k[d], 0, 1)·255)` for j in 0..<n; `c` must be readable from
/// `c − step·r` to `c + n + step·r` (the caller replicates the edge pixels there).
public func {p}GaussianRowBytesF64(_ o: UnsafeMutablePointer<UInt8>, _ c: UnsafePointer<Double>, _ k: UnsafePointer<Double>,
                                   r: Int, step: Int, n: Int) {
    typealias V = SIMD8<Double>
    let k0 = V(repeating: k[0])
    let zero = V(), one = V(repeating: 1), m = V(repeating: 0x1p52), c255 = V(repeating: 255)
    var j = 0
    while j &+ 32 <= n {
        let pc = UnsafeRawPointer(c + j)
        var a0 = pc.loadUnaligned(as: V.self) * k0, a1 = pc.loadUnaligned(fromByteOffset: 64, as: V.self) * k0
        var a2 = pc.loadUnaligned(fromByteOffset: 128, as: V.self) * k0, a3 = pc.loadUnaligned(fromByteOffset: 192, as: V.self) * k0
        var d = r
        while d >= 1 {
            let kd = V(repeating: k[d])
            let l = UnsafeRawPointer(c + (j &- step &* d)), rr = UnsafeRawPointer(c + (j &+ step &* d))
            a0 = a0 + (l.loadUnaligned(as: V.self) + rr.loadUnaligned(as: V.self)) * kd
            a1 = a1 + (l.loadUnaligned(fromByteOffset: 64, as: V.self) + rr.loadUnaligned(fromByteOffset: 64, as: V.self)) * kd
            a2 = a2 + (l.loadUnaligned(fromByteOffset: 128, as: V.self) + rr.loadUnaligned(fromByteOffset: 128, as: V.self)) * kd
            a3 = a3 + (l.loadUnaligned(fromByteOffset: 192, as: V.self) + rr.loadUnaligned(fromByteOffset: 192, as: V.self)) * kd
            d &-= 1
        }
        {p}StoreUnitBytes32(o + j, a0, a1, a2, a3)
        j &+= 32
    }
    while j &+ 8 <= n {
        var a = UnsafeRawPointer(c + j).loadUnaligned(as: V.self) * k0
        var d = r
        while d >= 1 {
            a = a + (UnsafeRawPointer(c + (j &- step &* d)).loadUnaligned(as: V.self)
                     + UnsafeRawPointer(c + (j &+ step &* d)).loadUnaligned(as: V.self)) * V(repeating: k[d])
            d &-= 1
        }
        a = a.replacing(with: zero, where: .!(a .> zero)); a = a.replacing(with: one, where: a .> one) * c255
        var f = (a + m) - m
        f = f.replacing(with: f - one, where: f .> a)
        UnsafeMutableRawPointer(o + j).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: unsafeBitCast(f + m, to: SIMD8<UInt64>.self)),
                                                  as: SIMD8<UInt8>.self)
        j &+= 8
    }
    while j < n {
        var a = c[j] * k[0]
        var d = r
        while d >= 1 { a = a + (c[j &- step &* d] + c[j &+ step &* d]) * k[d]; d &-= 1 }
        if !(a > 0) { a = 0 }
        if a > 1 { a = 1 }
        let x = a * 255, mm = 0x1p52
        var f = (x + mm) - mm
        if f > x { f = f - 1 }
        o[j] = UInt8(truncatingIfNeeded: (f + mm).bitPattern)
        j &+= 1
    }
}
