#if canImport(Glibc)
import Glibc
#endif

/// Baseline-ISA kernels (no target features): the fallback when the CPU has neither AVX-512
/// nor AVX2+FMA, and the layout twin of the ISA microkernels (same packing, smaller tiles).
/// Written with SIMD4 (SSE2 on x86-64) and plain `a * b + c`: without hardware FMA,
/// `.addingProduct` would become a libm call per lane.
enum PortableKernels {
    static let mr = 4
    static let nr = 8

    /// Scalar activation by code (see `KernelEpilogue`); sigmoid uses libm `exp`, exactly
    /// like `FusedActivation.apply`.
    @inline(__always)
    static func act(_ x: Float, _ e: KernelEpilogue) -> Float {
        switch e.act {
        case 1: return x < 0 ? 0 : x
        case 2: return Swift.min(Swift.max(x, e.p0), e.p1)
        case 3: return x >= 0 ? x : e.p0 * x
        case 4: return Swift.max(0, Swift.min(1, e.p0 * x + e.p1))
        case 5: return x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
        case 6: return 1 / (1 + Float(exp(Double(-x))))
        default: return x
        }
    }

    static func gemmBlock(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int,
                          _ b: UnsafePointer<Float>, _ bPanelStride: Int, _ bStride: Int,
                          _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                          _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?,
                          _ e: KernelEpilogue) {
        gemmBlock(m, n, k, a, aPanelStride, b, bPanelStride, bStride, nil, c, ldc, bias, residual, e)
    }

    /// `GemmBlockIndirectFunction`: row p of B panel j at `b + j·bPanelStride + offsets[p]`.
    static func gemmBlockIndirect(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int,
                                  _ b: UnsafePointer<Float>, _ bPanelStride: Int, _ offsets: UnsafePointer<Int>,
                                  _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                                  _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?,
                                  _ e: KernelEpilogue) {
        gemmBlock(m, n, k, a, aPanelStride, b, bPanelStride, 0, offsets, c, ldc, bias, residual, e)
    }

    private static func gemmBlock(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int,
                                  _ b: UnsafePointer<Float>, _ bPanelStride: Int, _ bStride: Int,
                                  _ offsets: UnsafePointer<Int>?, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                                  _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?,
                                  _ e: KernelEpilogue) {
        var i = 0
        var ap = a
        while i < m {
            let mr = Swift.min(4, m - i)
            var j = 0
            var bp = b
            while j < n {
                let nr = Swift.min(8, n - j)
                kernel4x8(k, ap, bp, bStride, offsets, c + (i * ldc + j), ldc, mr, nr,
                          bias.map { $0 + i }, residual.map { $0 + (i * ldc + j) }, e)
                j += 8
                bp += bPanelStride
            }
            i += 4
            ap += aPanelStride
        }
    }

    /// Row p of B at `b + offsets[p]` when `offsets` is given, else at `b + p·bStride`.
    @inline(never)
    static func kernel4x8(_ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bStride: Int,
                          _ offsets: UnsafePointer<Int>?, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ mr: Int, _ nr: Int,
                          _ bias: UnsafePointer<Float>?, _ res: UnsafePointer<Float>?, _ e: KernelEpilogue) {
        typealias V = SIMD4<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
        var pa = a
        var pb = UnsafeRawPointer(b)
        let step = bStride * 4
        for p in 0..<k {
            if let offsets { pb = UnsafeRawPointer(b + offsets[p]) }
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 16, as: V.self)
            let a0 = V(repeating: pa[0]), a1 = V(repeating: pa[1])
            let a2 = V(repeating: pa[2]), a3 = V(repeating: pa[3])
            c00 = c00 + a0 * b0; c01 = c01 + a0 * b1
            c10 = c10 + a1 * b0; c11 = c11 + a1 * b1
            c20 = c20 + a2 * b0; c21 = c21 + a2 * b1
            c30 = c30 + a3 * b0; c31 = c31 + a3 * b1
            pa += 4
            pb += step
        }
        for r in 0..<mr {
            let v0: V, v1: V
            switch r {
            case 0: v0 = c00; v1 = c01
            case 1: v0 = c10; v1 = c11
            case 2: v0 = c20; v1 = c21
            default: v0 = c30; v1 = c31
            }
            let cp = c + r * ldc
            let rp = res.map { $0 + r * ldc }
            let bv = bias?[r] ?? 0
            for j in 0..<nr {
                var x = (j < 4 ? v0[j] : v1[j - 4]) * e.alpha
                if e.beta != 0 { x += e.beta * cp[j] }
                x += bv
                if let rp { x += rp[j] }
                cp[j] = act(x, e)
            }
        }
    }

    static func depthwise(_ src: UnsafePointer<Float>, _ rowStep: Int, _ kh: Int, _ kw: Int,
                          _ rowOffsets: UnsafePointer<Int>, _ colOffsets: UnsafePointer<Int>,
                          _ weights: UnsafePointer<Float>, _ oh: Int, _ ow: Int, _ out: UnsafeMutablePointer<Float>,
                          _ residual: UnsafePointer<Float>?, _ bias: Float, _ e: KernelEpilogue) {
        for oy in 0..<oh {
            let row = src + oy * rowStep
            let orow = out + oy * ow
            let rrow = residual.map { $0 + oy * ow }
            for ox in 0..<ow {
                var acc = bias
                for ky in 0..<kh {
                    let q = row + rowOffsets[ky] + ox
                    for kx in 0..<kw { acc += weights[ky * kw + kx] * q[colOffsets[kx]] }
                }
                if let rrow { acc += rrow[ox] }
                orow[ox] = act(acc, e)
            }
        }
    }

    /// See `avx512DepthwisePrepare`.
    static func depthwisePrepare(_ src: UnsafePointer<Float>, _ h: Int, _ w: Int, _ padTop: Int, _ padLeft: Int,
                                 _ rows: Int, _ sw: Int, _ phaseStride: Int,
                                 _ dst: UnsafeMutablePointer<Float>, _ temp: UnsafeMutablePointer<Float>) {
        let rowLen = sw * phaseStride
        let lo = Swift.min(padLeft, rowLen), hi = Swift.min(padLeft + w, rowLen)
        for py in 0..<rows {
            let iy = py - padTop
            let rowDst = dst + py * rowLen
            if iy < 0 || iy >= h {
                rowDst.update(repeating: 0, count: rowLen)
                continue
            }
            let padded = sw == 1 ? rowDst : temp
            padded.update(repeating: 0, count: rowLen)
            if hi > lo { (padded + lo).update(from: src + (iy * w + lo - padLeft), count: hi - lo) }
            if sw > 1 {
                for r in 0..<sw {
                    let d = rowDst + r * phaseStride
                    for x in 0..<phaseStride { d[x] = temp[x * sw + r] }
                }
            }
            // (temp holds a whole plane; one row of it is enough here.)
        }
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD4<Float>(), s1 = SIMD4<Float>()
        let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= n {
            s0 += ar.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
                * br.loadUnaligned(fromByteOffset: i * 4, as: SIMD4<Float>.self)
            s1 += ar.loadUnaligned(fromByteOffset: i * 4 + 16, as: SIMD4<Float>.self)
                * br.loadUnaligned(fromByteOffset: i * 4 + 16, as: SIMD4<Float>.self)
            i += 8
        }
        let v = s0 + s1
        var total = (v[0] + v[1]) + (v[2] + v[3])
        while i < n { total += a[i] * b[i]; i += 1 }
        return total
    }

    static func dot4(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ n: Int,
                     _ out: UnsafeMutablePointer<Float>) {
        for r in 0..<4 { out[r] = dot(a, b + r * ldb, n) }
    }

    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }
}
