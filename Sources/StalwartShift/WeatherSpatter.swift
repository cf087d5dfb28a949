// The OpenCV pipeline of imagecorruptions' spatter (severities 1–3): Canny → distance transform
// → truncation → box blur → histogram equalisation → emboss filter → box blur, reimplemented
// with OpenCV's integer/float conventions (see each step).
//
// Every stage works on raw buffers; planes that a 3×3 stencil reads next are written straight
// into the interior of a one-pixel-bordered buffer whose border is then filled (reflect-101), so
// no stage builds a padded copy. Row-independent stages run on `BlurKernels.parallelRows`; the
// hysteresis flood and the chamfer passes stay serial. Values are bit-identical to the scalar
// formulation kept in Tests/StalwartShiftTests/SpatterMaskTests.swift.
enum WeatherSpatter {
    /// `m` of the reference, one float32 per pixel: `L·dist / max(L·dist) · scale` with
    /// L = uint8(liquid·255).
    static func liquidMask(_ liquid: [Double], h: Int, w: Int, scale: Float) -> [Float] {
        let n = h * w
        guard n > 0 else { return [] }
        let W2 = w + 2, pn = (h + 2) * W2
        let L = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
        let map = UnsafeMutablePointer<UInt8>.allocate(capacity: pn)
        let pf = UnsafeMutablePointer<Float>.allocate(capacity: pn)
        let u1 = UnsafeMutablePointer<UInt8>.allocate(capacity: pn)
        let u2 = UnsafeMutablePointer<UInt8>.allocate(capacity: pn)
        let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: h)
        defer {
            L.deallocate(); map.deallocate(); pf.deallocate(); u1.deallocate(); u2.deallocate(); rowMax.deallocate()
        }
        liquid.withUnsafeBufferPointer { lb in
            let lp = lb.baseAddress!
            BlurKernels.parallelRows(h) { ys in
                for i in (ys.lowerBound * w)..<(ys.upperBound * w) { L[i] = UInt8(truncatingIfNeeded: Int(lp[i] * 255)) }
            }
        }
        cannyMap(L, map, h: h, w: w, low: 50, high: 150)
        // distanceTransform(255 − edges, DIST_L2, 5) then threshold TRUNC at 20, into pf's interior.
        distanceCore(map + W2 + 1, zStride: W2, pf + W2 + 1, oStride: W2, h: h, w: w, cap: 20)
        fillBorder101(pf, h: h, w: w)
        // cv2.blur(float32, (3, 3)) then astype(uint8), into u1's interior, with the histogram.
        let nb = min(h, 8)
        let hists = UnsafeMutablePointer<Int>.allocate(capacity: nb * 1024)
        hists.initialize(repeating: 0, count: nb * 1024)
        defer { hists.deallocate() }
        BlurKernels.parallelRows(nb, minRows: 1) { bs in
            // Horizontal double sums of a padded row are shared by three output rows (same order).
            let rs = UnsafeMutablePointer<Double>.allocate(capacity: 3 * w)
            defer { rs.deallocate() }
            @inline(__always) func rowSum(_ py: Int) {
                let r = pf + py * W2, o = rs + (py % 3) * w
                for x in 0..<w { o[x] = Double(r[x]) + Double(r[x + 1]) + Double(r[x + 2]) }
            }
            for b in bs {
                let hist = hists + b * 1024
                let y0 = b * h / nb, y1 = (b + 1) * h / nb
                guard y0 < y1 else { continue }
                rowSum(y0); rowSum(y0 + 1)
                for y in y0..<y1 {
                    rowSum(y + 2)
                    let a = rs + (y % 3) * w, bb = rs + ((y + 1) % 3) * w, c = rs + ((y + 2) % 3) * w
                    let o = u1 + (y + 1) * W2 + 1
                    for x in 0..<w { o[x] = UInt8(truncatingIfNeeded: Int(Float((a[x] + bb[x] + c[x]) * (1.0 / 9)))) }
                    var x = 0
                    while x + 4 <= w {
                        hist[Int(o[x])] += 1; hist[256 + Int(o[x + 1])] += 1
                        hist[512 + Int(o[x + 2])] += 1; hist[768 + Int(o[x + 3])] += 1
                        x += 4
                    }
                    while x < w { hist[Int(o[x])] += 1; x += 1 }
                }
            }
        }
        for b in 1..<(nb * 4) { for k in 0..<256 { hists[k] += hists[b * 256 + k] } }
        fillBorder101(u1, h: h, w: w)
        // cv2.equalizeHist, applied to the whole bordered plane (the border copies the interior).
        var lut = [UInt8](repeating: 0, count: 256)
        equalizeLUT(hists, total: n, &lut)
        lut.withUnsafeBufferPointer { lb in
            let lt = lb.baseAddress!
            BlurKernels.parallelRows(h + 2) { ys in
                for i in (ys.lowerBound * W2)..<(ys.upperBound * W2) { u1[i] = lt[Int(u1[i])] }
            }
        }
        // cv2.filter2D(src, CV_8U, [[-2,-1,0],[-1,1,1],[0,1,2]]) into u2's interior.
        BlurKernels.parallelRows(h) { ys in
            for y in ys {
                let r0 = u1 + y * W2, r1 = r0 + W2, r2 = r1 + W2
                let o = u2 + (y + 1) * W2 + 1
                for x in 0..<w {
                    var sum = -2 &* Int32(r0[x]) &- Int32(r0[x + 1])
                    sum = sum &- Int32(r1[x]) &+ Int32(r1[x + 1]) &+ Int32(r1[x + 2])
                    sum = sum &+ Int32(r2[x + 1]) &+ 2 &* Int32(r2[x + 2])
                    o[x] = UInt8(truncatingIfNeeded: sum < 0 ? 0 : (sum > 255 ? 255 : sum))
                }
            }
        }
        fillBorder101(u2, h: h, w: w)
        // cv2.blur(uint8, (3, 3)) (rounded division by 9), times L, with per-row maxima.
        var m = [Float](repeating: 0, count: n)
        m.withUnsafeMutableBufferPointer { mb in
            let mp = mb.baseAddress!
            BlurKernels.parallelRows(h) { ys in
                // Integer sums: column sums first, then three of them (exact in any order).
                let cs = UnsafeMutablePointer<UInt32>.allocate(capacity: W2)
                defer { cs.deallocate() }
                for y in ys {
                    let r0 = u2 + y * W2, r1 = r0 + W2, r2 = r1 + W2
                    let lr = L + y * w, o = mp + y * w
                    for x in 0..<W2 { cs[x] = UInt32(r0[x]) &+ UInt32(r1[x]) &+ UInt32(r2[x]) }
                    var mx: Float = 0
                    for x in 0..<w {
                        let sum = cs[x] &+ cs[x + 1] &+ cs[x + 2]
                        let u = (sum &+ 4) / 9  // = round(sum / 9): sum / 9 is never within 1/18 of a tie
                        let v = Float(lr[x]) * Float(u)
                        o[x] = v
                        mx = max(mx, v)
                    }
                    rowMax[y] = mx
                }
            }
            var mx: Float = 0
            for y in 0..<h { mx = max(mx, rowMax[y]) }
            BlurKernels.parallelRows(h) { ys in
                for i in (ys.lowerBound * w)..<(ys.upperBound * w) { mp[i] = mp[i] / mx * scale }
            }
        }
        return m
    }

    @inline(__always) static func clamp(_ i: Int, _ n: Int) -> Int { i < 0 ? 0 : (i >= n ? n - 1 : i) }
    /// OpenCV BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba).
    @inline(__always) static func reflect101(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
        return i
    }

    /// Fills the one-pixel border of a (h+2)×(w+2) plane from its interior, BORDER_REFLECT_101.
    static func fillBorder101<T>(_ p: UnsafeMutablePointer<T>, h: Int, w: Int) {
        let W2 = w + 2
        let lx = 1 + reflect101(-1, w), rx = 1 + reflect101(w, w)
        for y in 1...h {
            let r = p + y * W2
            r[0] = r[lx]; r[w + 1] = r[rx]
        }
        (p).update(from: p + (1 + reflect101(-1, h)) * W2, count: W2)
        (p + (h + 1) * W2).update(from: p + (1 + reflect101(h, h)) * W2, count: W2)
    }

    /// cv2.Canny(src, low, high) (aperture 3, L1 magnitude): Sobel with replicated borders,
    /// OpenCV's tan(22.5°) fixed-point non-maximum suppression, 8-connected hysteresis.
    /// Returns true where the output is an edge (255).
    static func canny(_ s: [UInt8], h: Int, w: Int, low: Int, high: Int) -> [Bool] {
        let n = h * w
        guard n > 0 else { return [] }
        let W2 = w + 2
        let map = UnsafeMutablePointer<UInt8>.allocate(capacity: (h + 2) * W2)
        defer { map.deallocate() }
        s.withUnsafeBufferPointer { cannyMap($0.baseAddress!, map, h: h, w: w, low: low, high: high) }
        var out = [Bool](repeating: false, count: n)
        for y in 0..<h { for x in 0..<w { out[y * w + x] = map[(y + 1) * W2 + x + 1] >= 2 } }
        return out
    }

    /// Canny into a (h+2)×(w+2) map (border 1): ≥ 2 = edge, 1 = not, 0 = unconnected weak.
    static func cannyMap(_ s: UnsafePointer<UInt8>, _ map: UnsafeMutablePointer<UInt8>, h: Int, w: Int, low: Int, high: Int) {
        let W2 = w + 2, pn = (h + 2) * W2
        // Source padded by one replicated pixel; magnitudes with a zero border; gradients.
        let p = UnsafeMutablePointer<Int16>.allocate(capacity: pn)
        let mag = UnsafeMutablePointer<Int16>.allocate(capacity: pn)
        let gxs = UnsafeMutablePointer<Int16>.allocate(capacity: h * w)
        let gys = UnsafeMutablePointer<Int16>.allocate(capacity: h * w)
        defer { p.deallocate(); mag.deallocate(); gxs.deallocate(); gys.deallocate() }
        BlurKernels.parallelRows(h + 2) { ys in
            for py in ys {
                let sr = s + clamp(py - 1, h) * w, dr = p + py * W2
                dr[0] = Int16(sr[0]); dr[w + 1] = Int16(sr[w - 1])
                for x in 0..<w { dr[x + 1] = Int16(sr[x]) }
            }
        }
        mag.update(repeating: 0, count: W2)
        (mag + (h + 1) * W2).update(repeating: 0, count: W2)
        BlurKernels.parallelRows(h) { ys in
            for y in ys {
                let u = p + y * W2 + 1, c = u + W2, d = c + W2
                let ox = gxs + y * w, oy = gys + y * w, om = mag + (y + 1) * W2
                om[0] = 0; om[w + 1] = 0
                for x in 0..<w {
                    let gx = (u[x + 1] &- u[x - 1]) &+ 2 &* (c[x + 1] &- c[x - 1]) &+ (d[x + 1] &- d[x - 1])
                    let gy = (d[x - 1] &- u[x - 1]) &+ 2 &* (d[x] &- u[x]) &+ (d[x + 1] &- u[x + 1])
                    ox[x] = gx; oy[x] = gy
                    om[x + 1] = (gx < 0 ? 0 &- gx : gx) &+ (gy < 0 ? 0 &- gy : gy)
                }
            }
        }
        let tg22 = Int(0.4142135623730950488016887242097 * Double(1 << 15) + 0.5)
        // 0 = weak candidate, 1 = not an edge, 2 = edge, 3 = strong seed not yet flooded.
        map.update(repeating: 1, count: W2)
        (map + (h + 1) * W2).update(repeating: 1, count: W2)
        let lo = Int16(clamping: low), hi = Int16(clamping: high)
        BlurKernels.parallelRows(h) { ys in
            for y in ys {
                let mr = map + (y + 1) * W2
                mr[0] = 1; mr[w + 1] = 1
                let gr = mag + (y + 1) * W2 + 1, gxr = gxs + y * w, gyr = gys + y * w
                for x in 0..<w {
                    let m = gr[x]
                    var cls: UInt8 = 1
                    if m > lo {
                        let gx = Int(gxr[x]), gy = Int(gyr[x])
                        let xs = gx < 0 ? -gx : gx, yv = gy < 0 ? -gy : gy
                        let tg22x = xs &* tg22, yy = yv << 15
                        let g = gr + x
                        var keep: Bool
                        if yy < tg22x {
                            keep = m > g[-1] && m >= g[1]
                        } else {
                            let tg67x = tg22x &+ (xs << 16)
                            if yy > tg67x {
                                keep = m > g[-W2] && m >= g[W2]
                            } else {
                                let sgn = (gx ^ gy) < 0 ? -1 : 1
                                keep = m > g[-W2 - sgn] && m > g[W2 + sgn]
                            }
                        }
                        if keep { cls = m > hi ? 3 : 0 }
                    }
                    mr[x + 1] = cls
                }
            }
        }
        // 8-connected hysteresis from every strong seed (the reached set does not depend on order).
        let stack = UnsafeMutablePointer<Int32>.allocate(capacity: pn)
        defer { stack.deallocate() }
        let offs = [-W2 - 1, -W2, -W2 + 1, -1, 1, W2 - 1, W2, W2 + 1]
        offs.withUnsafeBufferPointer { ob in
            let o = ob.baseAddress!
            for j in W2..<((h + 1) * W2) where map[j] == 3 {
                map[j] = 2
                var top = 0
                stack[0] = Int32(j); top = 1
                while top > 0 {
                    top -= 1
                    let q = Int(stack[top])
                    for k in 0..<8 {
                        let r = q + o[k]
                        if map[r] == 0 { map[r] = 2; stack[top] = Int32(r); top += 1 }
                    }
                }
            }
        }
    }

    /// cv2.distanceTransform(src, DIST_L2, 5) where src is 0 exactly at `zero`: the 5×5 chamfer
    /// (weights 1, 1.4, 2.1969 in 16-bit fixed point), two passes, float32 output.
    static func distance5x5(_ zero: [Bool], h: Int, w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: h * w)
        guard h * w > 0 else { return out }
        let z = zero.map { $0 ? UInt8(2) : 0 }
        z.withUnsafeBufferPointer { zb in
            out.withUnsafeMutableBufferPointer { ob in
                distanceCore(zb.baseAddress!, zStride: w, ob.baseAddress!, oStride: w, h: h, w: w, cap: .infinity)
            }
        }
        return out
    }

    /// The chamfer transform where `z[y·zStride + x] ≥ 2` marks the zeros; writes min(dist, cap).
    /// Each pass first takes, for a whole row, the minimum over the neighbours in the rows
    /// already done (independent per pixel: vectorisable), then runs the one serial dependency
    /// (the previous pixel of the same row). Unsigned 32-bit: ∞ = 2³¹ − 1 plus any weight fits.
    static func distanceCore(_ z: UnsafePointer<UInt8>, zStride: Int, _ o: UnsafeMutablePointer<Float>, oStride: Int,
                             h: Int, w: Int, cap: Float) {
        let hv = UInt32((Float(1) * 65536).rounded(.toNearestOrEven))
        let dg = UInt32((Float(1.4) * 65536).rounded(.toNearestOrEven))
        let lg = UInt32((Float(2.1969) * 65536).rounded(.toNearestOrEven))
        let inf = UInt32(Int32.max)
        let W = w + 4
        let tp = UnsafeMutablePointer<UInt32>.allocate(capacity: (h + 4) * W)
        tp.initialize(repeating: inf, count: (h + 4) * W)
        let c = UnsafeMutablePointer<UInt32>.allocate(capacity: w)
        defer { tp.deallocate(); c.deallocate() }
        let scale = Double(Float(1) / Float(1 << 16))
        for y in 0..<h {
            let r = tp + (y + 2) * W + 2, u1 = r - W, u2 = r - 2 * W
            for x in 0..<w {
                var v = min(u2[x - 1] &+ lg, u2[x + 1] &+ lg)
                v = min(v, u1[x - 2] &+ lg); v = min(v, u1[x - 1] &+ dg)
                v = min(v, u1[x] &+ hv); v = min(v, u1[x + 1] &+ dg); v = min(v, u1[x + 2] &+ lg)
                c[x] = min(v, inf)
            }
            let zr = z + y * zStride
            for x in 0..<w where zr[x] >= 2 { c[x] = 0 }
            // c ≤ ∞ and min(0, ·) = 0 at the zeros, so this is min(c, prev + step, ∞) / 0.
            var prev = r[-1]
            for x in 0..<w {
                let v = min(c[x], prev &+ hv)
                r[x] = v; prev = v
            }
        }
        var y = h - 1
        while y >= 0 {
            let r = tp + (y + 2) * W + 2, d1 = r + W, d2 = r + 2 * W
            for x in 0..<w {
                var v = min(d2[x + 1] &+ lg, d2[x - 1] &+ lg)
                v = min(v, d1[x + 2] &+ lg); v = min(v, d1[x + 1] &+ dg)
                v = min(v, d1[x] &+ hv); v = min(v, d1[x - 1] &+ dg); v = min(v, d1[x - 2] &+ lg)
                c[x] = min(r[x], v)
            }
            // OpenCV updates only values > 1 pixel step; for the others every
            // candidate (≥ one step) is no smaller, so the unconditional min agrees.
            var x = w - 1
            // c ≤ r ≤ ∞ already, so clamping the previous-plus-step at ∞ changes nothing.
            var next = r[w] &+ hv
            while x >= 0 {
                let v = min(c[x], next)
                r[x] = v
                next = v &+ hv
                x -= 1
            }
            y -= 1
        }
        BlurKernels.parallelRows(h) { ys in
            for y in ys {
                let r = tp + (y + 2) * W + 2, orow = o + y * oStride
                for x in 0..<w {
                    // r ≤ ∞ = 2³¹ − 1, so the signed conversion gives the same double.
                    let f = Float(Double(Int32(bitPattern: r[x])) * scale)
                    orow[x] = f > cap ? cap : f
                }
            }
        }
    }

    /// cv2.equalizeHist's table: lut[i] = round(cumsum_above_first · 255 / (total − hist[first]));
    /// a constant plane maps to itself.
    static func equalizeLUT(_ hist: UnsafePointer<Int>, total: Int, _ lut: inout [UInt8]) {
        var i = 0
        while i < 256 && hist[i] == 0 { i += 1 }
        if i == 256 { for k in 0..<256 { lut[k] = UInt8(k) }; return }
        if hist[i] == total { lut[i] = UInt8(i); return }
        let scale = Float(255) / Float(total - hist[i])
        var sum = 0
        i += 1
        while i < 256 {
            sum += hist[i]
            lut[i] = UInt8(clamping: Int((Float(sum) * scale).rounded(.toNearestOrEven)))
            i += 1
        }
    }
}
