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
