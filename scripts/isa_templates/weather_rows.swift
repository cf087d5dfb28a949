// MARK: - fog / snow / frost blend rows (template: scripts/isa_templates/weather_rows.swift)
//
// The final per-pixel blends of fog, snow and frost (imagecorruptions 1.1.2), each evaluated with
// the IEEE operations of the scalar formula in Weather.swift in the same order (separate multiply
// and add, division kept as division), so every ISA instance returns the same bytes. Rows are
// interleaved RGB; `n` counts pixels. Callers own and size every buffer; nothing is checked here.

/// `np.uint8(clip(v, 0, 1)·255)` on 8 lanes: clamp, scale, truncate by the 2⁵² trick; NaN gives 0.
@inline(__always)
func {p}WeatherUnitBytes(_ v: SIMD8<Double>) -> SIMD8<UInt8> {
    let one = SIMD8<Double>(repeating: 1), m = SIMD8<Double>(repeating: 0x1p52)
    // Lane-wise `t < 0 ? 0 : t`, `t > 1 ? 1 : t` (max/min instructions; NaN passes through).
    var a = SIMD8<Double>()
    a[0] = {p}WeatherClamp01(v[0]); a[1] = {p}WeatherClamp01(v[1]); a[2] = {p}WeatherClamp01(v[2]); a[3] = {p}WeatherClamp01(v[3])
    a[4] = {p}WeatherClamp01(v[4]); a[5] = {p}WeatherClamp01(v[5]); a[6] = {p}WeatherClamp01(v[6]); a[7] = {p}WeatherClamp01(v[7])
    a = a * SIMD8<Double>(repeating: 255)
    let f = (a + m) - m
    var g = SIMD8<Double>()
    g[0] = f[0] > a[0] ? 1 : 0; g[1] = f[1] > a[1] ? 1 : 0; g[2] = f[2] > a[2] ? 1 : 0; g[3] = f[3] > a[3] ? 1 : 0
    g[4] = f[4] > a[4] ? 1 : 0; g[5] = f[5] > a[5] ? 1 : 0; g[6] = f[6] > a[6] ? 1 : 0; g[7] = f[7] > a[7] ? 1 : 0
    return SIMD8<UInt8>(truncatingIfNeeded: unsafeBitCast((f - g * one) + m, to: SIMD8<UInt64>.self))
}

@inline(__always)
func {p}WeatherClamp01(_ x: Double) -> Double {
    let t = x < 0 ? 0 : x
    return t > 1 ? 1 : t
}

/// Scalar `np.uint8(clip(v, lo, hi)…)` tail helper: v already scaled to [0, 255] after clamping.
@inline(__always)
func {p}WeatherTrunc(_ xIn: Double) -> UInt8 {
    var x = xIn
    if x < 0 { x = 0 }
    if x > 255 { x = 255 }
    let mm = 0x1p52
    var f = (x + mm) - mm
    if f > x { f = f - 1 }
    return UInt8(truncatingIfNeeded: (f + mm).bitPattern)
}

@inline(__always)
func {p}WeatherUnit(_ v: Double) -> UInt8 {
    var a = v
    if a < 0 { a = 0 }
    if a > 1 { a = 1 }
    return {p}WeatherTrunc(a * 255)
}

@inline(__always)
func {p}WeatherBytesF64(_ p: UnsafeRawPointer) -> SIMD8<Double> {
    let v = SIMD8<UInt64>(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<UInt8>.self))
    return unsafeBitCast(v | SIMD8<UInt64>(repeating: 0x4330_0000_0000_0000), to: SIMD8<Double>.self) - 0x1p52
}

/// fog: per pixel `add = c0·((pl − lo)/hi)`, per channel
/// `o = np.uint8(clip((s/255 + add)·maxVal/den, 0, 1)·255)`.
public func {p}FogBlendRow(_ o: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ pl: UnsafePointer<Double>,
                           lo: Double, hi: Double, c0: Double, maxVal: Double, den: Double, n: Int) {
    typealias V = SIMD8<Double>
    let vlo = V(repeating: lo), vhi = V(repeating: hi), vc0 = V(repeating: c0)
    let vmax = V(repeating: maxVal), vden = V(repeating: den), c255 = V(repeating: 255)
    var x = 0
    while x &+ 8 <= n {
        let a = vc0 * ((UnsafeRawPointer(pl + x).loadUnaligned(as: V.self) - vlo) / vhi)
        var a0 = V(), a1 = V(), a2 = V()
        a0[0] = a[0]; a0[1] = a[0]; a0[2] = a[0]; a0[3] = a[1]; a0[4] = a[1]; a0[5] = a[1]; a0[6] = a[2]; a0[7] = a[2]
        a1[0] = a[2]; a1[1] = a[3]; a1[2] = a[3]; a1[3] = a[3]; a1[4] = a[4]; a1[5] = a[4]; a1[6] = a[4]; a1[7] = a[5]
        a2[0] = a[5]; a2[1] = a[5]; a2[2] = a[6]; a2[3] = a[6]; a2[4] = a[6]; a2[5] = a[7]; a2[6] = a[7]; a2[7] = a[7]
        let b = UnsafeRawPointer(s + x &* 3)
        let d0 = {p}WeatherBytesF64(b), d1 = {p}WeatherBytesF64(b + 8), d2 = {p}WeatherBytesF64(b + 16)
        let q = UnsafeMutableRawPointer(o + x &* 3)
        q.storeBytes(of: {p}WeatherUnitBytes((d0 / c255 + a0) * vmax / vden), as: SIMD8<UInt8>.self)
        q.storeBytes(of: {p}WeatherUnitBytes((d1 / c255 + a1) * vmax / vden), toByteOffset: 8, as: SIMD8<UInt8>.self)
        q.storeBytes(of: {p}WeatherUnitBytes((d2 / c255 + a2) * vmax / vden), toByteOffset: 16, as: SIMD8<UInt8>.self)
        x &+= 8
    }
    while x < n {
        let add = c0 * ((pl[x] - lo) / hi)
        let i = x &* 3
        o[i] = {p}WeatherUnit((Double(s[i]) / 255 + add) * maxVal / den)
        o[i &+ 1] = {p}WeatherUnit((Double(s[i &+ 1]) / 255 + add) * maxVal / den)
        o[i &+ 2] = {p}WeatherUnit((Double(s[i &+ 2]) / 255 + add) * maxVal / den)
        x &+= 1
    }
}

/// frost over `n` bytes: `o = np.uint8(clip(c0·s + c1·t, 0, 255))`.
public func {p}FrostBlendRow(_ o: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ t: UnsafePointer<UInt8>,
                             c0: Double, c1: Double, n: Int) {
    typealias V = SIMD8<Double>
    let zero = V(), one = V(repeating: 1), top = V(repeating: 255), m = V(repeating: 0x1p52)
    let v0 = V(repeating: c0), v1 = V(repeating: c1)
    var i = 0
    while i &+ 8 <= n {
        let v = v0 * {p}WeatherBytesF64(UnsafeRawPointer(s + i)) + v1 * {p}WeatherBytesF64(UnsafeRawPointer(t + i))
        var a = v.replacing(with: zero, where: v .< zero)
        a = a.replacing(with: top, where: a .> top)
        var f = (a + m) - m
        f = f.replacing(with: f - one, where: f .> a)
        UnsafeMutableRawPointer(o + i).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: unsafeBitCast(f + m, to: SIMD8<UInt64>.self)),
                                                  as: SIMD8<UInt8>.self)
        i &+= 8
    }
    while i < n {
        o[i] = {p}WeatherTrunc(c0 * Double(s[i]) + c1 * Double(t[i]))
        i &+= 1
    }
}

/// snow: per pixel (Float) `r = s/255`, `gray = r·0.299 + g·0.587 + b·0.114`, `lift = gray·1.5 + 0.5`,
/// `m = a·r + b·max(r, lift)`; per channel `o = np.uint8(clip(Double(m) + add[x] + rot[n−1−x], 0, 1)·255)`.
public func {p}SnowBlendRow(_ o: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ add: UnsafePointer<Double>,
                            _ rot: UnsafePointer<Double>, a: Float, b: Float, n: Int) {
    typealias F = SIMD8<Float>
    typealias V = SIMD8<Double>
    let fm = SIMD8<UInt32>(repeating: 0x4B00_0000), fmv = F(repeating: 8388608)
    let f255 = F(repeating: 255), va = F(repeating: a), vb = F(repeating: b)
    let kr = F(repeating: 0.299), kg = F(repeating: 0.587), kb = F(repeating: 0.114)
    let k15 = F(repeating: 1.5), k05 = F(repeating: 0.5)
    var x = 0
    while x &+ 8 <= n {
        let p = s + x &* 3
        var ur = SIMD8<UInt32>(), ug = SIMD8<UInt32>(), ub = SIMD8<UInt32>()
        var k = 0
        while k < 8 {
            ur[k] = UInt32(truncatingIfNeeded: p[k &* 3])
            ug[k] = UInt32(truncatingIfNeeded: p[k &* 3 &+ 1])
            ub[k] = UInt32(truncatingIfNeeded: p[k &* 3 &+ 2])
            k &+= 1
        }
        let r = (unsafeBitCast(ur | fm, to: F.self) - fmv) / f255
        let g = (unsafeBitCast(ug | fm, to: F.self) - fmv) / f255
        let bl = (unsafeBitCast(ub | fm, to: F.self) - fmv) / f255
        let gray = r * kr + g * kg + bl * kb
        let lift = gray * k15 + k05
        var xr = F()
        k = 0
        while k < 8 { xr[k] = lift[k] >= r[k] ? lift[k] : r[k]; k &+= 1 }
        let mr = va * r + vb * xr
        var xg = F()
        k = 0
        while k < 8 { xg[k] = lift[k] >= g[k] ? lift[k] : g[k]; k &+= 1 }
        let mg = va * g + vb * xg
        var xbl = F()
        k = 0
        while k < 8 { xbl[k] = lift[k] >= bl[k] ? lift[k] : bl[k]; k &+= 1 }
        let mb = va * bl + vb * xbl
        let ad = UnsafeRawPointer(add + x).loadUnaligned(as: V.self)
        let rr = UnsafeRawPointer(rot + (n &- 8 &- x)).loadUnaligned(as: V.self)
        var dr = V(), dg = V(), db = V(), rv = V()
        k = 0
        while k < 8 {
            dr[k] = Double(mr[k]); dg[k] = Double(mg[k]); db[k] = Double(mb[k]); rv[k] = rr[7 &- k]
            k &+= 1
        }
        let br = {p}WeatherUnitBytes(dr + ad + rv), bg = {p}WeatherUnitBytes(dg + ad + rv), bb = {p}WeatherUnitBytes(db + ad + rv)
        let q = o + x &* 3
        k = 0
        while k < 8 {
            q[k &* 3] = br[k]; q[k &* 3 &+ 1] = bg[k]; q[k &* 3 &+ 2] = bb[k]
            k &+= 1
        }
        x &+= 8
    }
    while x < n {
        let i = x &* 3
        let r = Float(s[i]) / 255, g = Float(s[i &+ 1]) / 255, bl = Float(s[i &+ 2]) / 255
        let gray = r * 0.299 + g * 0.587 + bl * 0.114
        let lift = gray * 1.5 + 0.5
        let ad = add[x], rv = rot[n &- 1 &- x]
        let mr = a * r + b * (lift >= r ? lift : r), mg = a * g + b * (lift >= g ? lift : g)
        let mb = a * bl + b * (lift >= bl ? lift : bl)
        o[i] = {p}WeatherUnit(Double(mr) + ad + rv)
        o[i &+ 1] = {p}WeatherUnit(Double(mg) + ad + rv)
        o[i &+ 2] = {p}WeatherUnit(Double(mb) + ad + rv)
        x &+= 1
    }
}

/// `o[i] = o[i] + k·s[i]` for i in 0..<n (motion-blur taps, one shift at a time).
public func {p}WeatherAxpyRow(_ o: UnsafeMutablePointer<Double>, _ s: UnsafePointer<Double>, k: Double, n: Int) {
    typealias V = SIMD8<Double>
    let vk = V(repeating: k)
    var i = 0
    while i &+ 16 <= n {
        let q = UnsafeMutableRawPointer(o + i), p = UnsafeRawPointer(s + i)
        let a0 = q.loadUnaligned(as: V.self) + vk * p.loadUnaligned(as: V.self)
        let a1 = q.loadUnaligned(fromByteOffset: 64, as: V.self) + vk * p.loadUnaligned(fromByteOffset: 64, as: V.self)
        q.storeBytes(of: a0, as: V.self)
        q.storeBytes(of: a1, toByteOffset: 64, as: V.self)
        i &+= 16
    }
    while i < n {
        o[i] = o[i] + k * s[i]
        i &+= 1
    }
}

/// (min, max) of p[0..<n] (finite values; lane-wise, so ±0 ties may resolve either way).
public func {p}WeatherMinMax(_ p: UnsafePointer<Double>, n: Int) -> (Double, Double) {
    var l0 = Double.infinity, l1 = l0, l2 = l0, l3 = l0, l4 = l0, l5 = l0, l6 = l0, l7 = l0
    var h0 = -Double.infinity, h1 = h0, h2 = h0, h3 = h0, h4 = h0, h5 = h0, h6 = h0, h7 = h0
    var i = 0
    while i &+ 8 <= n {
        let q = p + i
        l0 = q[0] < l0 ? q[0] : l0; l1 = q[1] < l1 ? q[1] : l1; l2 = q[2] < l2 ? q[2] : l2; l3 = q[3] < l3 ? q[3] : l3
        l4 = q[4] < l4 ? q[4] : l4; l5 = q[5] < l5 ? q[5] : l5; l6 = q[6] < l6 ? q[6] : l6; l7 = q[7] < l7 ? q[7] : l7
        h0 = q[0] > h0 ? q[0] : h0; h1 = q[1] > h1 ? q[1] : h1; h2 = q[2] > h2 ? q[2] : h2; h3 = q[3] > h3 ? q[3] : h3
        h4 = q[4] > h4 ? q[4] : h4; h5 = q[5] > h5 ? q[5] : h5; h6 = q[6] > h6 ? q[6] : h6; h7 = q[7] > h7 ? q[7] : h7
        i &+= 8
    }
    let lo = SIMD8<Double>(l0, l1, l2, l3, l4, l5, l6, l7), hi = SIMD8<Double>(h0, h1, h2, h3, h4, h5, h6, h7)
    var l = Double.infinity, h = -Double.infinity
    var k = 0
    while k < 8 {
        if lo[k] < l { l = lo[k] }
        if hi[k] > h { h = hi[k] }
        k &+= 1
    }
    while i < n {
        if p[i] < l { l = p[i] }
        if p[i] > h { h = p[i] }
        i &+= 1
    }
    return (l, h)
}
