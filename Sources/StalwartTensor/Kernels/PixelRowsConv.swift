#if canImport(Glibc)
import Glibc
#endif

/// The pixel-rows path of `PackedConv2D`, for small images (ResNet's 14×14 and 7×7 stages).
///
/// The usual path computes, per image, C[Cout × HW] = W · im2col(X): output channels are the
/// 14-row side of the microkernel and pixels its 32-wide side, so an image of 49 pixels fills
/// two 32-column panels 77%, and every image streams all of W again. Here the roles swap:
/// Cᵀ[P × Cout] = im2col(X)ᵀ · Wᵀ with P = batch · HW pixels of *all* images as 14-row panels and
/// output channels as 32-wide panels — 49 pixels fill 4 × 14 rows 88%, 196 fill 14 × 14 exactly,
/// and W is streamed once per batch. Wᵀ is packed in 32-column panels on first use (kept; the
/// usual packing stays for larger inputs). Bias, residual and the activation are applied while
/// Cᵀ is transposed back to NCHW.
///
/// Used for one group (`groups == 1`, not depthwise) when HW ≤ `pixelRowsMaxPixels`.
final class PixelRowsWeights: @unchecked Sendable {
    private let lock = Lock()
    private var packed: UnsafeMutablePointer<Float>?

    deinit { free(packed) }

    /// Wᵀ as `packB` lays out a row-major K × Cout matrix, for all columns at once: k-block `pc`
    /// (kc = min(256, K − pc) rows) starts at `pc · roundUp(Cout, nr)`, its panel j (32 output
    /// channels) at `+ j · kc · nr`, row p of the panel at `+ p · nr`. Nil if out of memory.
    func get(_ conv: PackedConv2D) -> UnsafePointer<Float>? {
        lock.withLock {
            if let p = packed { return UnsafePointer(p) }
            let ks = conv.kernels, mr = ks.mr, nr = ks.nr
            let cout = conv.geometry.outChannels, k = conv.depth
            let coutPad = roundUp(cout, nr)
            let (floats, o) = coutPad.multipliedReportingOverflow(by: k)
            guard !o, floats < Int.max / 8, let raw = alignedAllocate(floats * 4) else { return nil }
            let dst = raw.bindMemory(to: Float.self, capacity: floats)
            let w = conv.weights  // MR-row panels: W[co][p] at (co / mr)·k·mr + p·mr + co % mr
            var pc = 0
            while pc < k {
                let kc = Swift.min(GemmBlocking.kc, k - pc)
                let block = dst + pc * coutPad
                for j in 0..<(coutPad / nr) {
                    let panel = block + j * kc * nr
                    for lane in 0..<nr {
                        let co = j * nr + lane
                        if co >= cout {
                            for p in 0..<kc { panel[p * nr + lane] = 0 }
                        } else {
                            let src = w + (co / mr) * k * mr + co % mr
                            for p in 0..<kc { panel[p * nr + lane] = src[(pc + p) * mr] }
                        }
                    }
                }
                pc += kc
            }
            packed = dst
            return UnsafePointer(dst)
        }
    }
}

extension PackedConv2D {
    /// Runs the pixel-rows path; false (nothing written) when memory for its buffers is lacking.
    func runPixelRows(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                      residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int, oh: Int, ow: Int,
                      pool: ThreadPool) -> Bool {
        let g = geometry, ks = kernels, mr = ks.mr, nr = ks.nr
        let k = depth, cout = g.outChannels, cin = g.inChannels
        let hw = oh * ow
        guard let wt = pixelRowsWeights.get(self) else { return false }
        let (p, o1) = batch.multipliedReportingOverflow(by: hw)
        guard !o1 else { return false }
        let panels = ceilDiv(p, mr)
        let (aFloats, o2) = (panels * mr).multipliedReportingOverflow(by: k)
        let (tFloats, o3) = p.multipliedReportingOverflow(by: cout)
        guard !o2, !o3, aFloats < Int.max / 16, tFloats < Int.max / 16 else { return false }
        let aFloatsPadded = roundUp(aFloats, 16)
        let threads = pool.threadCount
        let coutPad = roundUp(cout, nr)
        let biasPtr = UnsafePointer(bias)
        // + 16: the transposition reads rows of Cᵀ 16 floats wide.
        return ScratchCache.with(bytes: (aFloatsPadded + tFloats + 16) * 4) { raw in
            let a = raw.bindMemory(to: Float.self, capacity: aFloatsPadded + tFloats + 16)
            let t = a + aFloatsPadded
            // 1. Pack im2col(X)ᵀ in MR-row panels (packA's layout): row r of panel i is pixel
            //    q = 14i + r = (image, oy, ox); element p = (ci, ky, kx).
            // A panel's rows split into segments of consecutive pixels of one output row of one
            // image; for each p a segment reads one input row (a copy when stride 1, else a
            // strided gather), with zeros where the window leaves the image.
            let khw = g.kernelH * g.kernelW
            let sw = g.strideW
            // Per p = (ci, ky, kx): the channel plane's offset and the window's row/column shift.
            var taps = [Int](repeating: 0, count: 3 * k)
            for pp in 0..<k {
                let ci = pp / khw, rem = pp % khw
                taps[3 * pp] = ci * h * w
                taps[3 * pp + 1] = (rem / g.kernelW) * g.dilationH - g.padTop
                taps[3 * pp + 2] = (rem % g.kernelW) * g.dilationW - g.padLeft
            }
            let pack: (Int) -> Void = { panel in taps.withUnsafeBufferPointer { tap in
                let base = a + panel * k * mr
                let q0 = panel * mr, rows = Swift.min(mr, p - q0)
                // Segments: (first row, row count, image offset, oy, first ox). At most mr.
                withUnsafeTemporaryAllocation(of: (Int, Int, Int, Int, Int).self, capacity: mr) { segs in
                    var count = 0, r = 0
                    while r < rows {
                        let q = q0 + r, img = q / hw, pix = q % hw
                        let oy = pix / ow, ox = pix % ow
                        let len = Swift.min(rows - r, ow - ox)
                        segs[count] = (r, len, img * cin * h * w, oy, ox)
                        count += 1
                        r += len
                    }
                    for pp in 0..<k {
                        let plane = tap[3 * pp], dy = tap[3 * pp + 1], dx = tap[3 * pp + 2]
                        let d = base + pp * mr
                        for s in 0..<count {
                            let (r0, len, off, oy, ox0) = segs[s]
                            let iy = oy * g.strideH + dy
                            guard iy >= 0 && iy < h else {
                                (d + r0).update(repeating: 0, count: len)
                                continue
                            }
                            // ox in [ox0, ox0 + len) reads ix = ox·sw + dx; valid for ix in [0, w).
                            let lo = dx >= 0 ? 0 : ceilDiv(-dx, sw)
                            let hi = w - dx <= 0 ? 0 : ceilDiv(w - dx, sw)
                            let a0 = Swift.min(Swift.max(lo - ox0, 0), len)
                            let a1 = Swift.max(Swift.min(hi - ox0, len), a0)
                            if a0 > 0 { (d + r0).update(repeating: 0, count: a0) }
                            if a1 > a0 {
                                let src = input + (off + plane + iy * w + (ox0 + a0) * sw + dx)
                                let dst = d + r0 + a0
                                if sw == 1 {
                                    dst.update(from: src, count: a1 - a0)
                                } else {
                                    for t in 0..<(a1 - a0) { dst[t] = src[t * sw] }
                                }
                            }
                            if a1 < len { (d + r0 + a1).update(repeating: 0, count: len - a1) }
                        }
                        if rows < mr { (d + rows).update(repeating: 0, count: mr - rows) }
                    }
                }
            } }
            // 2. Cᵀ[P × Cout] (ldc = Cout) = Aᵀ-panels · Wᵀ-panels, tiled over pixels × channels.
            let tiling = GemmTiling(m: p, n: cout, mr: mr, nr: nr, units: 1, threads: threads)
            let gemm: (Int) -> Void = { task in
                let mi = task / tiling.nTasks, ni = task % tiling.nTasks
                let m0 = mi * tiling.mBlock, n0 = ni * tiling.nBlock
                let mCount = Swift.min(tiling.mBlock, p - m0), nCount = Swift.min(tiling.nBlock, cout - n0)
                var pc = 0
                while pc < k {
                    let kc = Swift.min(GemmBlocking.kc, k - pc)
                    var e = KernelEpilogue()
                    if pc > 0 { e.beta = 1 }
                    ks.gemmBlock(mCount, nCount, kc, UnsafePointer(a + (m0 / mr) * k * mr + pc * mr), k * mr,
                                 wt + pc * coutPad + (n0 / nr) * kc * nr, kc * nr, nr,
                                 t + m0 * cout + n0, cout, nil, nil, e)
                    pc += kc
                }
            }
            // 3. Transpose back: out[img][co][pix] = act(Cᵀ[img·HW + pix][co] + bias[co] + res),
            //    16 channels × 16 pixels per register transpose (`transposeToPlanes`).
            let cBlocks = ceilDiv(cout, 16)
            let finish: (Int) -> Void = { task in
                let img = task / cBlocks, c0 = (task % cBlocks) * 16
                let nc = Swift.min(cout, c0 + 16) - c0
                let off = (img * cout + c0) * hw
                self.transposeToPlanes(UnsafePointer(t + img * hw * cout + c0), srcStride: cout, nc: nc, count: hw,
                                       dst: output + off, dstStride: hw, bias: biasPtr + c0,
                                       residual: residual.map { $0 + off }, activated: false)
            }
            let (work, o4) = (p * cout).multipliedReportingOverflow(by: k)
            let parallel = threads > 1 && !o4 && work >= 32 * 32 * 32
            if parallel {
                pool.parallelFor(panels, pack)
                pool.parallelFor(tiling.tasks, gemm)
                pool.parallelFor(batch * cBlocks, finish)
            } else {
                for i in 0..<panels { pack(i) }
                for i in 0..<tiling.tasks { gemm(i) }
                for i in 0..<(batch * cBlocks) { finish(i) }
            }
        }
    }
}
