import XCTest
@testable import StalwartShift

/// The pointer/parallel liquid-mask pipeline of `WeatherSpatter` against a scalar restatement of
/// the original implementation (`SpatterMaskReference`, below), bit for bit.
final class SpatterMaskTests: XCTestCase {
    /// A liquid plane like spatter's: smooth-ish values around 0.6–1.1 with zeros under a threshold.
    func liquidPlane(h: Int, w: Int, seed: UInt64) -> [Double] {
        var g = SpatterSplitMix(seed)
        var raw = [Double](repeating: 0, count: h * w)
        for i in raw.indices { raw[i] = 0.65 + 0.3 * (g.unit() * 2 - 1) }
        // A cheap smoothing so edges and plateaus both occur.
        var out = raw
        for y in 0..<h { for x in 0..<w {
            var s = 0.0, c = 0.0
            for dy in -2...2 { for dx in -2...2 {
                let yy = y + dy, xx = x + dx
                if yy >= 0 && yy < h && xx >= 0 && xx < w { s += raw[yy * w + xx]; c += 1 }
            } }
            out[y * w + x] = s / c
        } }
        let t = 0.66
        for i in out.indices where out[i] < t { out[i] = 0 }
        // A few values above 1 (wrap through UInt8(truncatingIfNeeded:)).
        for _ in 0..<(h * w / 50) { out[Int(g.next() % UInt64(h * w))] = 1 + g.unit() * 0.5 }
        return out
    }

    func testLiquidMaskMatchesReference() {
        let sizes = [(32, 32), (33, 97), (224, 224), (130, 41), (1, 7), (6, 1), (2, 2), (480, 640)]
        for (k, (h, w)) in sizes.enumerated() {
            for rep in 0..<2 {
                let liquid = liquidPlane(h: h, w: w, seed: UInt64(k * 31 + rep + 1))
                let a = WeatherSpatter.liquidMask(liquid, h: h, w: w, scale: 0.5)
                let b = SpatterMaskReference.liquidMask(liquid, h: h, w: w, scale: 0.5)
                XCTAssertEqual(a.count, b.count)
                var bad = 0
                for i in 0..<min(a.count, b.count) where a[i].bitPattern != b[i].bitPattern { bad += 1 }
                XCTAssertEqual(bad, 0, "\(h)x\(w) rep \(rep): \(bad) mismatching pixels")
            }
        }
    }

    func testStagesMatchReference() {
        for (k, (h, w)) in [(32, 32), (33, 97), (224, 224), (130, 41)].enumerated() {
            let liquid = liquidPlane(h: h, w: w, seed: UInt64(1000 + k))
            var L = [UInt8](repeating: 0, count: h * w)
            for i in L.indices { L[i] = UInt8(truncatingIfNeeded: Int(liquid[i] * 255)) }
            let e1 = WeatherSpatter.canny(L, h: h, w: w, low: 50, high: 150)
            let e2 = SpatterMaskReference.canny(L, h: h, w: w, low: 50, high: 150)
            XCTAssertEqual(e1, e2, "canny \(h)x\(w)")
            XCTAssertTrue(e1.contains(true) || h < 8, "no edges in \(h)x\(w)")
            let d1 = WeatherSpatter.distance5x5(e2, h: h, w: w)
            let d2 = SpatterMaskReference.distance5x5(e2, h: h, w: w)
            XCTAssertEqual(d1.map(\.bitPattern), d2.map(\.bitPattern), "distance \(h)x\(w)")
        }
    }
}

struct SpatterSplitMix {
    var s: UInt64
    init(_ seed: UInt64) { s = seed }
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

// The original scalar implementation, kept verbatim as the reference.
// The OpenCV pipeline of imagecorruptions' spatter (severities 1–3): Canny → distance transform
// → truncation → box blur → histogram equalisation → emboss filter → box blur, reimplemented
// with OpenCV's integer/float conventions (see each step).
enum SpatterMaskReference {
    /// `m` of the reference, one float32 per pixel: `L·dist / max(L·dist) · scale` with
    /// L = uint8(liquid·255).
    static func liquidMask(_ liquid: [Double], h: Int, w: Int, scale: Float) -> [Float] {
        let n = h * w
        var L = [UInt8](repeating: 0, count: n)
        for i in 0..<n { L[i] = UInt8(truncatingIfNeeded: Int(liquid[i] * 255)) }
        let edges = canny(L, h: h, w: w, low: 50, high: 150)
        // distanceTransform(255 − edges, DIST_L2, 5) then threshold TRUNC at 20.
        var d = distance5x5(edges, h: h, w: w)
        for i in 0..<n where d[i] > 20 { d[i] = 20 }
        let b = boxBlurFloat(d, h: h, w: w)
        var u = [UInt8](repeating: 0, count: n)
        for i in 0..<n { u[i] = UInt8(truncatingIfNeeded: Int(b[i])) }
        u = equalizeHist(u)
        u = emboss(u, h: h, w: w)
        u = boxBlurU8(u, h: h, w: w)
        var m = [Float](repeating: 0, count: n)
        var mx: Float = 0
        for i in 0..<n { m[i] = Float(L[i]) * Float(u[i]); mx = max(mx, m[i]) }
        for i in 0..<n { m[i] = m[i] / mx * scale }
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

    /// cv2.Canny(src, low, high) (aperture 3, L1 magnitude): Sobel with replicated borders,
    /// OpenCV's tan(22.5°) fixed-point non-maximum suppression, 8-connected hysteresis.
    /// Returns true where the output is an edge (255).
    static func canny(_ s: [UInt8], h: Int, w: Int, low: Int, high: Int) -> [Bool] {
        let n = h * w
        var dxs = [Int32](repeating: 0, count: n), dys = [Int32](repeating: 0, count: n)
        var mag = [Int32](repeating: 0, count: (h + 2) * (w + 2))  // zero border
        let W2 = w + 2
        // Sobel on a copy padded by one replicated pixel (rows in parallel).
        let pw = w + 2
        var padded = [Int32](repeating: 0, count: (h + 2) * pw)
        for y in -1...h {
            let sr = clamp(y, h) * w, dr = (y + 1) * pw
            for x in -1...w { padded[dr + x + 1] = Int32(s[sr + clamp(x, w)]) }
        }
        padded.withUnsafeBufferPointer { pb in
            dxs.withUnsafeMutableBufferPointer { dxb in
                dys.withUnsafeMutableBufferPointer { dyb in
                    mag.withUnsafeMutableBufferPointer { mb in
                        guard let p = pb.baseAddress, let dx = dxb.baseAddress, let dy = dyb.baseAddress, let m = mb.baseAddress else { return }
                        do { let ys = 0..<h
                            for y in ys {
                                let u = p + y * pw + 1, c = u + pw, d = c + pw
                                let ox = dx + y * w, oy = dy + y * w, om = m + (y + 1) * W2 + 1
                                for x in 0..<w {
                                    let gx = (u[x + 1] - u[x - 1]) + 2 * (c[x + 1] - c[x - 1]) + (d[x + 1] - d[x - 1])
                                    let gy = (d[x - 1] - u[x - 1]) + 2 * (d[x] - u[x]) + (d[x + 1] - u[x + 1])
                                    ox[x] = gx; oy[x] = gy
                                    om[x] = abs(gx) + abs(gy)
                                }
                            }
                        }
                    }
                }
            }
        }
        let tg22 = Int64(0.4142135623730950488016887242097 * Double(1 << 15) + 0.5)
        // 0 = weak candidate, 1 = not an edge, 2 = edge.
        var map = [UInt8](repeating: 1, count: n)
        var stack = [Int]()
        for y in 0..<h {
            for x in 0..<w {
                let j = (y + 1) * W2 + x + 1
                let m = mag[j]
                guard m > low else { continue }
                let gx = Int64(dxs[y * w + x]), gy = Int64(dys[y * w + x])
                let xs = abs(gx), ys = abs(gy)
                let tg22x = xs * tg22, yy = ys << 15
                var keep = false
                if yy < tg22x {
                    keep = m > mag[j - 1] && m >= mag[j + 1]
                } else {
                    let tg67x = tg22x + (xs << 16)
                    if yy > tg67x {
                        keep = m > mag[j - W2] && m >= mag[j + W2]
                    } else {
                        let sgn = (gx ^ gy) < 0 ? -1 : 1
                        keep = m > mag[j - W2 - sgn] && m > mag[j + W2 + sgn]
                    }
                }
                if keep {
                    if m > high { map[y * w + x] = 2; stack.append(y * w + x) } else { map[y * w + x] = 0 }
                }
            }
        }
        while let p = stack.popLast() {
            let y = p / w, x = p % w
            for dy in -1...1 {
                for dx in -1...1 where dy != 0 || dx != 0 {
                    let yy = y + dy, xx = x + dx
                    if yy < 0 || yy >= h || xx < 0 || xx >= w { continue }
                    let q = yy * w + xx
                    if map[q] == 0 { map[q] = 2; stack.append(q) }
                }
            }
        }
        return map.map { $0 == 2 }
    }

    /// cv2.distanceTransform(src, DIST_L2, 5) where src is 0 exactly at `zero`: the 5×5 chamfer
    /// (weights 1, 1.4, 2.1969 in 16-bit fixed point), two passes, float32 output.
    /// Each pass first takes, for a whole row, the minimum over the neighbours in the rows
    /// already done (independent per pixel: vectorisable), then runs the one serial dependency
    /// (the previous pixel of the same row). Unsigned 32-bit: ∞ = 2³¹ − 1 plus any weight fits.
    static func distance5x5(_ zero: [Bool], h: Int, w: Int) -> [Float] {
        let hv = UInt32((Float(1) * 65536).rounded(.toNearestOrEven))
        let dg = UInt32((Float(1.4) * 65536).rounded(.toNearestOrEven))
        let lg = UInt32((Float(2.1969) * 65536).rounded(.toNearestOrEven))
        let inf = UInt32(Int32.max)
        let W = w + 4
        var t = [UInt32](repeating: inf, count: (h + 4) * W)
        var cand = [UInt32](repeating: inf, count: w)
        var out = [Float](repeating: 0, count: h * w)
        let scale = Double(Float(1) / Float(1 << 16))
        t.withUnsafeMutableBufferPointer { tb in
            cand.withUnsafeMutableBufferPointer { cb in
                zero.withUnsafeBufferPointer { zb in
                    out.withUnsafeMutableBufferPointer { ob in
                        guard let tp = tb.baseAddress, let c = cb.baseAddress, let z = zb.baseAddress, let o = ob.baseAddress else { return }
                        for y in 0..<h {
                            let r = tp + (y + 2) * W + 2, u1 = r - W, u2 = r - 2 * W
                            for x in 0..<w {
                                var v = min(u2[x - 1] &+ lg, u2[x + 1] &+ lg)
                                v = min(v, u1[x - 2] &+ lg); v = min(v, u1[x - 1] &+ dg)
                                v = min(v, u1[x] &+ hv); v = min(v, u1[x + 1] &+ dg); v = min(v, u1[x + 2] &+ lg)
                                c[x] = v
                            }
                            let zr = z + y * w
                            for x in 0..<w {
                                r[x] = zr[x] ? 0 : min(min(c[x], r[x - 1] &+ hv), inf)
                            }
                        }
                        var y = h - 1
                        while y >= 0 {
                            let r = tp + (y + 2) * W + 2, d1 = r + W, d2 = r + 2 * W
                            for x in 0..<w {
                                var v = min(d2[x + 1] &+ lg, d2[x - 1] &+ lg)
                                v = min(v, d1[x + 2] &+ lg); v = min(v, d1[x + 1] &+ dg)
                                v = min(v, d1[x] &+ hv); v = min(v, d1[x - 1] &+ dg); v = min(v, d1[x - 2] &+ lg)
                                c[x] = v
                            }
                            // OpenCV updates only values > 1 pixel step; for the others every
                            // candidate (≥ one step) is no smaller, so the unconditional min agrees.
                            var x = w - 1
                            let orow = o + y * w
                            while x >= 0 {
                                let v = min(min(r[x], c[x]), min(r[x + 1] &+ hv, inf))
                                r[x] = v
                                orow[x] = Float(Double(v) * scale)
                                x -= 1
                            }
                            y -= 1
                        }
                    }
                }
            }
        }
        return out
    }

    /// The plane padded by one pixel on each side with BORDER_REFLECT_101.
    static func pad101<T>(_ s: [T], h: Int, w: Int) -> [T] {
        var out = [T]()
        out.reserveCapacity((h + 2) * (w + 2))
        for y in -1...h {
            let r = reflect101(y, h) * w
            out.append(s[r + reflect101(-1, w)])
            out.append(contentsOf: s[r..<(r + w)])
            out.append(s[r + reflect101(w, w)])
        }
        return out
    }

    /// cv2.blur(float32, (3, 3)): double sums over the reflect-101 3×3 window × (1/9), to float.
    static func boxBlurFloat(_ s: [Float], h: Int, w: Int) -> [Float] {
        let p = pad101(s, h: h, w: w), W = w + 2
        var out = [Float](repeating: 0, count: h * w)
        p.withUnsafeBufferPointer { pp in
            out.withUnsafeMutableBufferPointer { op in
                for y in 0..<h {
                    let r0 = y * W, r1 = r0 + W, r2 = r1 + W
                    for x in 0..<w {
                        let a = Double(pp[r0 + x]) + Double(pp[r0 + x + 1]) + Double(pp[r0 + x + 2])
                        let b = Double(pp[r1 + x]) + Double(pp[r1 + x + 1]) + Double(pp[r1 + x + 2])
                        let c = Double(pp[r2 + x]) + Double(pp[r2 + x + 1]) + Double(pp[r2 + x + 2])
                        op[y * w + x] = Float((a + b + c) * (1.0 / 9))
                    }
                }
            }
        }
        return out
    }

    /// cv2.blur(uint8, (3, 3)): integer sums, rounded division by 9.
    static func boxBlurU8(_ s: [UInt8], h: Int, w: Int) -> [UInt8] {
        let p = pad101(s, h: h, w: w), W = w + 2
        var out = [UInt8](repeating: 0, count: h * w)
        p.withUnsafeBufferPointer { pp in
            out.withUnsafeMutableBufferPointer { op in
                for y in 0..<h {
                    let r0 = y * W, r1 = r0 + W, r2 = r1 + W
                    for x in 0..<w {
                        var sum = Int(pp[r0 + x]) + Int(pp[r0 + x + 1]) + Int(pp[r0 + x + 2])
                        sum += Int(pp[r1 + x]) + Int(pp[r1 + x + 1]) + Int(pp[r1 + x + 2])
                        sum += Int(pp[r2 + x]) + Int(pp[r2 + x + 1]) + Int(pp[r2 + x + 2])
                        op[y * w + x] = UInt8((sum + 4) / 9)  // = round(sum / 9): sum / 9 is never within 1/18 of a tie
                    }
                }
            }
        }
        return out
    }

    /// cv2.equalizeHist: lut[i] = round(cumsum_above_first · 255 / (total − hist[first])).
    static func equalizeHist(_ s: [UInt8]) -> [UInt8] {
        var hist = [Int](repeating: 0, count: 256)
        for v in s { hist[Int(v)] += 1 }
        var i = 0
        while i < 256 && hist[i] == 0 { i += 1 }
        let total = s.count
        if i == 256 { return s }
        if hist[i] == total { return [UInt8](repeating: UInt8(i), count: total) }
        let scale = Float(255) / Float(total - hist[i])
        var lut = [UInt8](repeating: 0, count: 256)
        var sum = 0
        i += 1
        while i < 256 {
            sum += hist[i]
            lut[i] = UInt8(clamping: Int((Float(sum) * scale).rounded(.toNearestOrEven)))
            i += 1
        }
        return s.map { lut[Int($0)] }
    }

    /// cv2.filter2D(src, CV_8U, [[-2,-1,0],[-1,1,1],[0,1,2]]) (correlation, reflect-101, saturate).
    static func emboss(_ s: [UInt8], h: Int, w: Int) -> [UInt8] {
        let p = pad101(s, h: h, w: w), W = w + 2
        var out = [UInt8](repeating: 0, count: h * w)
        p.withUnsafeBufferPointer { pp in
            out.withUnsafeMutableBufferPointer { op in
                for y in 0..<h {
                    let r0 = y * W, r1 = r0 + W, r2 = r1 + W
                    for x in 0..<w {
                        var sum = -2 * Int(pp[r0 + x]) - Int(pp[r0 + x + 1])
                        sum += -Int(pp[r1 + x]) + Int(pp[r1 + x + 1]) + Int(pp[r1 + x + 2])
                        sum += Int(pp[r2 + x + 1]) + 2 * Int(pp[r2 + x + 2])
                        op[y * w + x] = UInt8(clamping: sum)
                    }
                }
            }
        }
        return out
    }
}
