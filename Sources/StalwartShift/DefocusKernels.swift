import Glibc
import StalwartTensor

/// `defocus_blur`'s correlation with the reference's anti-aliased disk kernel K, computed through
/// an exact decomposition instead of the (2r+1)² direct sum.
///
/// K is `cv2.GaussianBlur(D, ks, σ)` of the flat float32 disk D (value fl32(1/N) on the N
/// points X² + Y² ≤ r² of its 17×17 or (2r+1)² array), BORDER_REFLECT_101 on that array, in
/// float32. In real arithmetic
///
///     K = (g gᵀ) ⊛ (c·1_disk) + E
///
/// with g OpenCV's 1-D Gaussian (its float32 values), ⊛ the full zero-padded convolution and E
/// the remainder on the window |y|, |x| ≤ r + ks/2 (K is exactly 0 beyond it). E holds
/// - what the reflection at the kernel border adds and the crop removes, where the blurred disk
///   reaches the array's border: radius 8 (48 taps, 6e-5…5e-4) and radius 10 (192 taps,
///   2e-10…3e-4); none at radius 3, 4, 6;
/// - the float32 rounding of the Gaussian pass: ≤ 1.7e-9 per tap, Σ|·| ≤ 4.4e-8.
/// Taps with |E| ≤ 1e-9 (`residualThreshold`) are dropped: keeping the rounding residue would
/// cost the full (2r+1)² sum again, and a dropped tap moves an output by at most its size in
/// units of x/255 (so all of them together by ≤ 5e-8, ≤ 1.3e-5 levels after ×255, when the
/// whole neighbourhood is at full contrast; ~1e-7 levels on natural images). Their sum (up to
/// −3.3e-8) would however shift the kernel's mass, and a flat value v comes out as v·ΣK, with
/// ΣK − 1 as small as −3.7e-9 (255 → 254 in the reference): so c is fl32(1/N) rescaled by
/// ≤ 5e-8 relative (≤ 4e-10 per tap) so that the model's mass equals ΣK (up to float64
/// rounding). A truncated output can then differ from the direct sum only when its exact value
/// lies within ~1e-5 levels of an integer (none in DefocusTests' 1.8 million values).
///
/// Evaluation per output value (HWC, 3 interleaved channels, BORDER_REFLECT_101 padding by
/// P = r + ks/2: the disk plus the Gaussian, and E lies inside that window):
///
///     out = g-separable( T ) + Σ_E E(t)·x(p + t),    T(q) = c · S(q),
///     S(q) = Σ_{dx=−r…r} [Q_{y+h(dx)+1}(x+dx) − Q_{y−h(dx)}(x+dx)]
///
/// with Q the running column sums of the padded 8-bit image (Q_{k+1} = Q_k + row k, wrapping
/// UInt16: a difference is an exact column box sum ≤ 21·255) and h(dx) the disk's half-height
/// in column dx, read off the disk mask. S, the exact integer disk sum (≤ N·255), is summed in
/// wrapping UInt16 in one group of columns, or two when N·255 ≥ 2¹⁶ (radius 10), and converted
/// exactly. T is evaluated from the padded image on the output rows and columns enlarged by the
/// Gaussian radius (never re-padded), which makes the decomposition exact in real arithmetic.
/// Work per output ≈ 2(2r+1) integer subtract/adds (32 lanes) + 2·ks + |E| float64
/// multiply-adds, against (2r+1)² for the direct sum. The float64 part is in the reference's
/// units (x / 255: c/255, E/255), each output carrying a few float64 roundings (relative ~1e-16,
/// like the direct sum or the reference's DFT); then clip to [0, 1], ×255, truncate, as the
/// reference. Rows run in parallel blocks (each recomputes its few halo rows of Q and T), wide
/// images in column strips.
enum DefocusKernels {
    /// Taps of E at or below this magnitude are dropped (float32 rounding residue; see above).
    static let residualThreshold = 1e-9

    /// The decomposition of `disk(radius, aliasBlur)`.
    struct Plan {
        let radius: Int
        let aliasBlur: Double
        /// OpenCV's 1-D Gaussian (ks = 3 or 5 float32 values, widened).
        let gaussian: [Double]
        /// h(dx) for dx = −r…r: the largest |dy| with (dy, dx) in the disk mask.
        let halfHeights: [Int]
        /// N, the number of disk points.
        let count: Int
        /// fl32(1/N), the flat disk's value.
        let diskValue: Double
        /// c: `diskValue` rescaled so that the model's mass equals ΣK.
        let diskScale: Double
        /// The kept taps of E (|E| > `residualThreshold`), orbit by orbit under x → −x, y → −y
        /// (each orbit's taps carry its mean).
        let residual: [(dy: Int, dx: Int, weight: Double)]
        /// The sizes (1, 2 or 4) of those orbits, in order.
        let residualGroups: [Int]
        /// ΣK (float64 sum of the float32 kernel).
        let kernelMass: Double

        var gaussianRadius: Int { gaussian.count / 2 }
        /// Padding of the image: disk radius plus Gaussian radius (E lies inside).
        var pad: Int { radius + gaussianRadius }
    }

    /// `(g gᵀ) ⊛ (value·1_disk)` on the window |y|, |x| ≤ `half` (row-major, side 2·half + 1).
    static func smoothDisk(radius r: Int, gaussian g: [Double], value: Double, half: Int) -> [Double] {
        let kg = g.count / 2, n = 2 * half + 1
        // Separable: each row of the mask convolved with g (along x), then each column (along y).
        var rows = [Double](repeating: 0, count: n * n)
        for y in -half...half { for x in -half...half {
            var s = 0.0
            for j in -kg...kg {
                let u = x - j
                if y * y + u * u <= r * r { s += g[kg + j] }
            }
            rows[(y + half) * n + x + half] = s
        } }
        var out = [Double](repeating: 0, count: n * n)
        for y in -half...half { for x in -half...half {
            var s = 0.0
            for i in -kg...kg {
                let v = y - i
                if v >= -half && v <= half { s += g[kg + i] * rows[(v + half) * n + x + half] }
            }
            out[(y + half) * n + x + half] = s * value
        } }
        return out
    }

    static func plan(radius r: Int, aliasBlur: Double) -> Plan {
        let half = r <= 8 ? 8 : r
        let ks = r <= 8 ? 3 : 5, kg = ks / 2
        let kernel = BlurKernels.disk(radius: r, aliasBlur: aliasBlur)
        let g = BlurKernels.cvGaussian(ks, sigma: aliasBlur).map { Double($0) }
        var count = 0
        var heights = [Int](repeating: -1, count: 2 * r + 1)
        for dy in -half...half { for dx in -half...half where dy * dy + dx * dx <= r * r {
            count += 1
            heights[dx + r] = max(heights[dx + r], abs(dy))
        } }
        let value = Double(Float(1) / Float(count))
        // E over the window W = max(half, r + kg) (K is exactly 0 beyond r + kg: zeros stay zero).
        let win = max(half, r + kg), n = 2 * win + 1
        let model = smoothDisk(radius: r, gaussian: g, value: value, half: win)
        var e = [Double](repeating: 0, count: n * n)
        var mass = 0.0
        for dy in -win...win { for dx in -win...win {
            let inGrid = abs(dy) <= half && abs(dx) <= half
            let k = inGrid ? kernel.weights[(dy + half) * kernel.side + dx + half] : 0
            mass += k
            e[(dy + win) * n + dx + win] = k - model[(dy + win) * n + dx + win]
        } }
        // K and the model are symmetric under x → −x and y → −y (up to float64 rounding of the
        // model, ~1e-18): each orbit {(±dy, ±dx)} gets its mean, so the kernels can add an
        // orbit's pixels before one multiplication.
        var residual: [(dy: Int, dx: Int, weight: Double)] = []
        var groups: [Int] = []
        var keptMass = 0.0
        for ay in 0...win { for ax in 0...win {
            var members: [(Int, Int)] = []
            for (sy, sx) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] where !members.contains(where: { $0 == (sy * ay, sx * ax) }) {
                members.append((sy * ay, sx * ax))
            }
            let w = members.reduce(0.0) { $0 + e[($1.0 + win) * n + $1.1 + win] } / Double(members.count)
            guard abs(w) > residualThreshold else { continue }
            for m in members { residual.append((m.0, m.1, w)); keptMass += w }
            groups.append(members.count)
        } }
        let gs = g.reduce(0, +)
        let scale = (mass - keptMass) / (Double(count) * gs * gs)
        return Plan(radius: r, aliasBlur: aliasBlur, gaussian: g, halfHeights: heights, count: count, diskValue: value,
                    diskScale: scale, residual: residual, residualGroups: groups, kernelMass: mass)
    }

    /// The reference's `disk(radius, aliasBlur)` correlated with each channel of `x / 255`
    /// (BORDER_REFLECT_101), clipped to [0, 1], ×255 and truncated to uint8.
    static func defocus(_ x: Image, radius: Int, aliasBlur: Double) -> [UInt8] {
        let cached = severityPlans.first { $0.radius == radius && $0.aliasBlur == aliasBlur }
        return apply(x, cached ?? plan(radius: radius, aliasBlur: aliasBlur))
    }

    /// The plans of defocus_blur's five severities (built once).
    static let severityPlans: [Plan] = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)].map { plan(radius: $0.0, aliasBlur: $0.1) }

    /// Widest column strip (pixels). Strips bound the rings (UInt16 column sums, the T row, the
    /// H rows, the float64 rows for E) on very wide images; up to 1024 pixels one strip is
    /// faster (narrower strips measured slower at 640 pixels: the rings are not the bottleneck).
    static let defaultStripWidth = 1024

    static func apply(_ x: Image, _ p: Plan, kernels k: DefocusRowKernels = .current,
                      stripWidth: Int = defaultStripWidth) -> [UInt8] {
        let w = x.width, h = x.height, rowLen = w * 3, total = w * h * 3
        let r = p.radius, ks = p.gaussian.count, kg = ks / 2, pad = p.pad
        let taps = 2 * r + 1
        let eTaps = p.residual.count
        let ringQ = 2 * r + 2               // Q rows ty − r … ty + r + 1
        let ringV = 2 * pad + 1             // float64 image rows y − P … y + P (only with E taps)
        let scale = p.diskScale / 255
        // The output's weighted rows: the vertical Gaussian over H rows (one row per weight),
        // then the E orbits (÷255; the orbit's rows are added first).
        var weights = p.gaussian, counts = [Int](repeating: 1, count: ks)
        var at = 0
        for size in p.residualGroups where at < eTaps {
            weights.append(p.residual[at].weight / 255); counts.append(size); at += size
        }
        // Symmetric Gaussian weights for the horizontal pass: k[0] centre, k[d] at distance d.
        let gk = (0...kg).map { p.gaussian[kg + $0] }
        // Columns 0..<split and split..<taps each sum to < 2¹⁶ (UInt16 accumulators).
        var split = 0, first = 0
        while split < p.halfHeights.count && first + (2 * p.halfHeights[split] + 1) * 255 < 65536 {
            first += (2 * p.halfHeights[split] + 1) * 255; split += 1
        }
        guard w > 0, h > 0 else { return [] }
        guard p.halfHeights.count == taps, at == eTaps, p.count * 255 - first < 65536 else {
            // Not reached for the radii of defocus_blur (≤ 10): the direct sum.
            return BlurKernels.correlate2DReflect101ToBytes(x, kernel: BlurKernels.disk(radius: r, aliasBlur: p.aliasBlur)) {
                min(max($0, 0), 1) * 255
            }
        }
        // Column strips of ≤ stripWidth pixels, equal widths.
        let strips = (w + max(1, stripWidth) - 1) / max(1, stripWidth)
        let maxW = (w + strips - 1) / strips
        let pwMax = (maxW + 2 * pad) * 3, tnMax = (maxW + 2 * kg) * 3, rlMax = maxW * 3
        return [UInt8](unsafeUninitializedCapacity: total) { dstBuf, count in
            count = total
            guard let dst = dstBuf.baseAddress else { return }
            let ok = x.pixels.withUnsafeBufferPointer { srcBuf in
            gk.withUnsafeBufferPointer { gkBuf in
            weights.withUnsafeBufferPointer { wBuf in
            counts.withUnsafeBufferPointer { cBuf -> Bool in
                guard let src = srcBuf.baseAddress, let gkp = gkBuf.baseAddress, let wp = wBuf.baseAddress,
                      let cp = cBuf.baseAddress, srcBuf.count >= total else { return false }
                BlurKernels.parallelRows(h, minRows: max(16, h / (2 * BlurKernels.pool.threadCount))) { ys in
                    let y0 = ys.lowerBound, y1 = ys.upperBound
                    // The big buffers come from one cached scratch block (see `ScratchCache`).
                    var layout = ScratchLayout()
                    let oQ = layout.add(UInt16.self, ringQ * pwMax), oRow = layout.add(UInt16.self, pwMax)
                    let oSa = layout.add(UInt16.self, 2 * tnMax), oT = layout.add(Double.self, tnMax)
                    let oH = layout.add(Double.self, ks * rlMax), oV = layout.add(Double.self, eTaps > 0 ? ringV * pwMax : 0)
                    let scratch = scratchCache.take(layout.bytes)
                    let base = scratch.pointer
                    let q = (base + oQ).bindMemory(to: UInt16.self, capacity: ringQ * pwMax)
                    let row = (base + oRow).bindMemory(to: UInt16.self, capacity: pwMax)
                    let sa = (base + oSa).bindMemory(to: UInt16.self, capacity: 2 * tnMax)
                    let t = (base + oT).bindMemory(to: Double.self, capacity: tnMax)
                    let hr = (base + oH).bindMemory(to: Double.self, capacity: ks * rlMax)
                    let vd = (base + oV).bindMemory(to: Double.self, capacity: eTaps > 0 ? ringV * pwMax : 0)
                    let lo = UnsafeMutablePointer<UnsafePointer<UInt16>>.allocate(capacity: taps)
                    let hi = UnsafeMutablePointer<UnsafePointer<UInt16>>.allocate(capacity: taps)
                    let sp = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: 2 * (kg + 1))
                    let op = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: ks + eTaps)
                    defer {
                        scratchCache.give(scratch)
                        lo.deallocate(); hi.deallocate(); sp.deallocate(); op.deallocate()
                    }
                    let qBase = y0 - kg - r         // Q(qBase) = 0; every index used is ≥ qBase
                    for strip in 0..<strips {
                        // Output columns [cx0, cx1); padded columns [cx0 − P, cx1 + P).
                        let cx0 = strip * w / strips, cx1 = (strip + 1) * w / strips, cw = cx1 - cx0
                        let pw = (cw + 2 * pad) * 3, tn = (cw + 2 * kg) * 3, rl = cw * 3
                        let inLo = max(cx0 - pad, 0), inHi = min(cx1 + pad, w)   // columns read without reflection
                        func qRow(_ i: Int) -> UnsafeMutablePointer<UInt16> { q + ((i - qBase) % ringQ) * pw }
                        func vRow(_ i: Int) -> UnsafeMutablePointer<Double> { vd + ((i - qBase) % ringV) * pw }
                        func hRow(_ ty: Int) -> UnsafeMutablePointer<Double> { hr + ((ty - (y0 - kg)) % ks) * rl }
                        qRow(qBase).initialize(repeating: 0, count: pw)
                        var qTop = qBase
                        for ty in (y0 - kg)..<(y1 + kg) {
                            // Column sums up to Q(ty + r + 1): Q(i + 1) = Q(i) + padded row i.
                            while qTop < ty + r + 1 {
                                let s = src + BlurKernels.reflect101(qTop, h) * rowLen
                                let mid = row + (inLo - (cx0 - pad)) * 3, ms = s + inLo * 3
                                for j in 0..<((inHi - inLo) * 3) { mid[j] = UInt16(ms[j]) }
                                for c in (cx0 - pad)..<inLo {
                                    let sc = BlurKernels.reflect101(c, w) * 3, d = (c - (cx0 - pad)) * 3
                                    row[d] = UInt16(s[sc]); row[d + 1] = UInt16(s[sc + 1]); row[d + 2] = UInt16(s[sc + 2])
                                }
                                for c in inHi..<(cx1 + pad) {
                                    let sc = BlurKernels.reflect101(c, w) * 3, d = (c - (cx0 - pad)) * 3
                                    row[d] = UInt16(s[sc]); row[d + 1] = UInt16(s[sc + 1]); row[d + 2] = UInt16(s[sc + 2])
                                }
                                k.addRow(qRow(qTop + 1), qRow(qTop), row, pw)
                                if eTaps > 0 { k.toDoubles(vRow(qTop), row, pw) }
                                qTop += 1
                            }
                            // T row ty: the exact disk sums (column dx: rows ty − h(dx) … ty + h(dx)).
                            for d in 0..<taps {
                                let hh = p.halfHeights[d]
                                lo[d] = UnsafePointer(qRow(ty - hh) + d * 3)
                                hi[d] = UnsafePointer(qRow(ty + hh + 1) + d * 3)
                            }
                            k.diskRow(sa, lo, hi, split, tn)
                            if split < taps { k.diskRow(sa + tnMax, lo + split, hi + split, taps - split, tn) }
                            k.scaleRow(t, sa, sa + tnMax, split < taps, scale, tn)
                            // Horizontal Gaussian of T into the ring of H rows.
                            for d in 0...kg {
                                sp[d] = UnsafePointer(t + (kg - d) * 3); sp[kg + 1 + d] = UnsafePointer(t + (kg + d) * 3)
                            }
                            BlurKernels.symmetricRow(hRow(ty), sp[0], UnsafePointer(sp), UnsafePointer(sp + kg + 1), gkp,
                                                     r: kg, n: rl)
                            guard ty >= y0 + kg else { continue }
                            // Output row y: vertical Gaussian over H(y − kg … y + kg), then E, to bytes.
                            let y = ty - kg
                            for i in 0..<ks { op[i] = UnsafePointer(hRow(y - kg + i)) }
                            for (i, e) in p.residual.enumerated() {
                                op[ks + i] = UnsafePointer(vRow(y + e.dy) + (pad + e.dx) * 3)
                            }
                            k.weightedBytes(dst + y * rowLen + cx0 * 3, op, wp, cp, weights.count, rl)
                        }
                    }
                }
                return true
            } } } }
            if !ok { dst.initialize(repeating: 0, count: total) }
        }
    }

    /// Byte offsets of typed sub-buffers in one scratch block (each 64-byte aligned).
    struct ScratchLayout {
        private(set) var bytes = 0
        mutating func add<T>(_: T.Type, _ count: Int) -> Int {
            let at = bytes
            bytes += (max(0, count) * MemoryLayout<T>.stride + 63) / 64 * 64
            return at
        }
    }

    static let scratchCache = ScratchCache()

    /// Scratch blocks kept between calls (at most `maxKept`, each ≤ `maxBytes`), so that
    /// repeated calls reuse memory that is already mapped instead of faulting in fresh pages
    /// (glibc returns freed large blocks to the system). Thread-safe.
    final class ScratchCache: @unchecked Sendable {
        typealias Block = (pointer: UnsafeMutableRawPointer, bytes: Int)
        static let maxKept = 8, maxBytes = 16 << 20
        private let lock = Lock()
        private var kept: [Block] = []

        /// A block of at least `bytes` bytes (64-byte aligned, uninitialised).
        func take(_ bytes: Int) -> Block {
            let need = max(bytes, 64)
            var spare: Block? = nil
            let found: Block? = lock.withLock {
                if let i = kept.firstIndex(where: { $0.bytes >= need }) { return kept.remove(at: i) }
                if !kept.isEmpty { spare = kept.removeLast() }
                return nil
            }
            if let found { return found }
            spare?.pointer.deallocate()
            return (UnsafeMutableRawPointer.allocate(byteCount: need, alignment: 64), need)
        }

        func give(_ block: Block) {
            let keep = block.bytes <= Self.maxBytes && lock.withLock {
                guard kept.count < Self.maxKept else { return false }
                kept.append(block)
                return true
            }
            if !keep { block.pointer.deallocate() }
        }
    }

}
