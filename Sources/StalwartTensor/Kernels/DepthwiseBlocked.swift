#if canImport(Glibc)
import Glibc
#endif

/// The channel-blocked depthwise path of `PackedConv2D`: 16 channels at a time, interleaved
/// (pixel-major, 16 floats per pixel) so that each vector lane is one channel. The planar
/// depthwise kernel vectorizes along a row instead, which leaves most lanes idle on the small
/// images of a network's late stages (7 of 16 lanes at 7×7) and pays a per-plane setup for
/// every channel; here a block's padded input window is gathered once, the kernel
/// (`depthwiseC16`) runs eight (then four, then one) output pixels per step with full
/// vectors, and the outputs are scattered back to NCHW planes (adding the residual and any
/// activation the kernel does not apply). Thread-safety: as `PackedConv2D.run`.
enum DepthwiseBlocked {
    /// Weights [blocks][kh·kw][16] then biases [blocks][16], zero for channels past the end.
    static func packWeights(channels: Int, taps: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                            into dst: UnsafeMutablePointer<Float>) {
        let blocks = ceilDiv(channels, 16)
        let biasBase = dst + blocks * taps * 16
        for blk in 0..<blocks {
            for lane in 0..<16 {
                let c = blk * 16 + lane
                for t in 0..<taps { dst[(blk * taps + t) * 16 + lane] = c < channels ? weights[c * taps + t] : 0 }
                biasBase[blk * 16 + lane] = c < channels ? bias[c] : 0
            }
        }
    }

    static func floats(channels: Int, taps: Int) -> Int { ceilDiv(channels, 16) * (taps + 1) * 16 }

    /// Fills `rows` × `cols` pixels (16 floats each) of a zero-padded window from a plane
    /// `src` [h][w][16]: window pixel (py, px) = src[firstRow + py][px − padLeft], or zeros
    /// outside the plane.
    static func fillWindow(_ src: UnsafePointer<Float>, h: Int, w: Int, firstRow: Int, rows: Int, cols: Int,
                           padLeft pl: Int, into win: UnsafeMutablePointer<Float>) {
        let xlo = Swift.min(Swift.max(pl, 0), cols), xhi = Swift.max(Swift.min(pl + w, cols), xlo)
        for py in 0..<rows {
            let iy = firstRow + py
            let row = win + py * cols * 16
            guard iy >= 0 && iy < h else {
                row.update(repeating: 0, count: cols * 16)
                continue
            }
            if xlo > 0 { row.update(repeating: 0, count: xlo * 16) }
            if xhi < cols { (row + xhi * 16).update(repeating: 0, count: (cols - xhi) * 16) }
            if xhi > xlo { (row + xlo * 16).update(from: src + (iy * w + xlo - pl) * 16, count: (xhi - xlo) * 16) }
        }
    }
}

extension PackedConv2D {
    /// Writes `count` pixel-major rows of `nc` ≤ 16 channels (`src[p·srcStride + c]`, read 16
    /// floats wide) back to NCHW planes `dst[c·dstStride + p]`, adding `bias[c]` and the
    /// residual and applying this convolution's activation, unless `activated` (the rows hold
    /// it already, and there is no residual). Shared by the channel-blocked depthwise and the
    /// pixel-rows paths.
    func transposeToPlanes(_ src: UnsafePointer<Float>, srcStride: Int, nc: Int, count: Int,
                           dst: UnsafeMutablePointer<Float>, dstStride: Int, bias: UnsafePointer<Float>?,
                           residual: UnsafePointer<Float>?, activated: Bool) {
        let e = epilogue
        let simple = e.act == 1 || e.act == 2  // applied by the transposition itself
        kernels.depthwiseC16.transposeOut(src, srcStride, nc, count, dst, dstStride, bias, residual,
                                          !activated && simple ? e.act : 0, e.p0, e.p1)
        if !activated && !simple && e.act != 0 {
            for c in 0..<nc {
                let d = dst + c * dstStride
                for p in 0..<count { d[p] = activation.apply(d[p]) }
            }
        }
    }

    /// Whether the depthwise convolution takes the channel-blocked path for this output size
    /// (`depthwiseBlockedMode`: 0 never, 2 always, 1 by the rule below). Measured on
    /// EfficientNet-Lite0's layers (`benchmarks/kernels/run.sh Depthwise`, AVX-512, one thread,
    /// µs, planar → blocked): 5×5 at 7×7 143 → 67, 5×5/2 to 7×7 120 → 53, 3×3 at 14×14 68 → 55,
    /// 5×5 at 14×14 106 → 83, 5×5 at 28×28 152 → 142; but 5×5/2 to 28×28 132 → 140 and 3×3 at
    /// 56×56 154 → 235: longer rows fill the planar kernel's vectors. Not for the generic set
    /// (its 16-lane vectors have no FMA).
    func prefersDepthwiseBlocked(oh: Int, ow: Int) -> Bool {
        guard blockedWeights != nil, depthwiseBlockedMode > 0 else { return false }
        if depthwiseBlockedMode == 2 { return true }
        return kernels.vectorWidth > 1 && (ow <= 16 || (ow <= 28 && geometry.strideW == 1))
    }

    /// Runs the channel-blocked path; false (nothing written) without memory for its buffers.
    func runDepthwiseBlocked(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                             residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int, oh: Int, ow: Int,
                             pool: ThreadPool) -> Bool {
        guard let packed = blockedWeights else { return false }
        let g = geometry, ks = kernels
        let channels = g.outChannels, taps = g.kernelH * g.kernelW
        let blocks = ceilDiv(channels, 16)
        // The padded window the outputs read: rows × cols pixels.
        let rows = (oh - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1
        let cols = (ow - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1
        let (window, o1) = (rows * cols).multipliedReportingOverflow(by: 16)
        let (outs, o2) = (oh * ow).multipliedReportingOverflow(by: 16)
        guard !o1, !o2, window < Int.max / 64, outs < Int.max / 64 else { return false }
        let (plane16, o5) = (h * w).multipliedReportingOverflow(by: 16)
        guard !o5, plane16 < Int.max / 64 else { return false }
        // Per slot: the padded window, the interleaved outputs, the interleaved input plane.
        // (The kernel may read 64 floats past the window: they fall in the outputs.)
        let slotFloats = roundUp(window, 16) + roundUp(outs, 16) + roundUp(plane16, 16)
        let threads = pool.threadCount
        let (bytes, o3) = (slotFloats * threads).multipliedReportingOverflow(by: 4)
        guard !o3 else { return false }
        // The kernel applies ReLU and clip itself when there is no residual to add first;
        // otherwise the way back to NCHW does.
        let e = epilogue
        let kernelAct = residual == nil ? e.storeActivation.code : 0
        let biasBase = UnsafePointer(packed + blocks * taps * 16)
        let pt = g.padTop, pl = g.padLeft
        return ScratchCache.with(bytes: bytes) { raw in
            let slots = raw.bindMemory(to: Float.self, capacity: slotFloats * threads)
            let body: (Int, Int) -> Void = { t, slot in
                let img = t / blocks, blk = t % blocks
                let c0 = blk * 16, nc = Swift.min(16, channels - c0)
                let win = slots + slot * slotFloats
                let res = win + roundUp(window, 16)
                // Gather: window pixel (py, px) = input (py − pt, px − pl) or 0, lanes ≥ nc zero.
                // The block's planes interleaved whole (full 16-pixel transposes even when rows
                // are short), then copied row by row into the padded window.
                let flat = res + roundUp(outs, 16)
                ks.depthwiseC16.interleave(input + (img * channels + c0) * h * w, h * w, nc, h * w, flat)
                DepthwiseBlocked.fillWindow(UnsafePointer(flat), h: h, w: w, firstRow: -pt, rows: rows, cols: cols,
                                            padLeft: pl, into: win)
                ks.depthwiseC16.conv(UnsafePointer(win), cols, g.strideH, g.strideW, g.kernelH, g.kernelW,
                                     g.dilationH, g.dilationW, UnsafePointer(packed + blk * taps * 16),
                                     biasBase + blk * 16, oh, ow, res, kernelAct, e.p0, e.p1)
                // Back to NCHW planes (+ residual, then the activation the kernel left out).
                let plane = oh * ow
                let off = (img * channels + c0) * plane
                self.transposeToPlanes(UnsafePointer(res), srcStride: 16, nc: nc, count: plane, dst: output + off,
                                       dstStride: plane, bias: nil, residual: residual.map { $0 + off },
                                       activated: kernelAct != 0)
            }
            let tasks = batch * blocks
            let (work, o4) = (outs * taps).multipliedReportingOverflow(by: tasks)
            if threads > 1 && tasks > 1 && (o4 || work >= 32_768) {
                pool.parallelForSlotted(tasks, body)
            } else {
                for t in 0..<tasks { body(t, 0) }
            }
        }
    }
}
