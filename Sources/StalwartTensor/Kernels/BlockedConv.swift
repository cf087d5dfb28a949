#if canImport(Glibc)
import Glibc
#endif

/// Channel-blocked ("NCHWc") activations, the layout the engine keeps between convolutions:
/// [N][⌈C/16⌉][H][W][16] float32, channel c of pixel (y, x) in block c/16, lane c mod 16.
/// Lanes past C hold finite values (zeros or an activation of zero) that the next blocked
/// convolution multiplies by zero weights.
///
/// Why: a convolution over blocked input is a GEMM whose operands need no packing — each output
/// pixel broadcasts 16 consecutive input channels, the weights are packed once at load as
/// [K][16·blocks], and 16 output channels of a pixel are one vector store, so bias, residual
/// and activation go straight into the output without the NCHW copy-out (MLAS's recipe).
public enum ChannelBlocks {
    public static let width = 16
    /// Blocks for `channels` channels.
    public static func count(_ channels: Int) -> Int { (channels + 15) / 16 }
    /// The blocked shape [N, ⌈C/16⌉, H, W, 16] of an NCHW shape [N, C, H, W].
    public static func shape(_ nchw: [Int]) -> [Int] { [nchw[0], count(nchw[1]), nchw[2], nchw[3], width] }
}

/// A 2-D convolution over channel-blocked tensors with weights packed once at load.
///
/// - dense (groups == 1): the GEMM runs as `KernelSet.nchwc` tiles of up to `tilePixels`
///   output pixels × 32 (AVX-512) or 16 output channels, reading the input through a per-tap
///   offset table: from the input itself for 1×1/stride-1 without padding, otherwise from
///   zero-padded stride-phase planes (`DirectConvLayout`) built per image. With `planarInput`
///   the input is NCHW (few channels, e.g. an RGB stem) and each (channel, tap) is one GEMM row.
/// - depthwise (groups == Cin == Cout): the channel-blocked depthwise kernel
///   (`DepthwiseC16Kernels.conv`) per block over a zero-padded window copy.
/// Output is always blocked; a residual has the output's (blocked) layout.
///
/// Thread-safety: immutable after init; `run` may be called from many threads at once.
public final class BlockedConv: @unchecked Sendable {
    public let geometry: Conv2DGeometry
    public let activation: FusedActivation
    /// The input is NCHW planes instead of blocks (dense only).
    public let planarInput: Bool
    public let isDepthwise: Bool
    let kernels: KernelSet
    let epilogue: KernelEpilogue
    /// Dense: groups of `kernels.nchwc.groupBlocks` output blocks, group starting at block b0
    /// at `weights + b0·16·depth`, [depth][16·blocksInGroup]. Depthwise: `DepthwiseBlocked`'s
    /// layout (weights, then biases).
    let weights: UnsafeMutablePointer<Float>
    /// Dense: [outBlocks·16] (zero past Cout). Depthwise: points into `weights`.
    let bias: UnsafePointer<Float>
    private let biasStorage: UnsafeMutablePointer<Float>?
    let inBlocks: Int, outBlocks: Int
    /// GEMM depth: taps · 16 (blocked) or Cin · kH · kW (planar).
    let depth: Int
    /// The Winograd form of a 3×3 stride-1 convolution over blocked input, which `run` uses.
    let winograd: WinogradConv?

    /// Whether a convolution with this geometry can run blocked (one group, or depthwise).
    public static func supports(_ g: Conv2DGeometry) -> Bool {
        g.groups == 1 || (g.groups == g.inChannels && g.groups == g.outChannels)
    }

    /// `weights`: OIHW float32 [Cout, Cin/groups, kH, kW] (copied); `bias`: [Cout] or nil.
    /// `planarInput`: read NCHW input (dense only; ignored for depthwise). `winograd`: run it as
    /// a `WinogradConv` (ignored unless `WinogradConv.supports` it and the input is blocked; see
    /// `WinogradConv.preferred`). Throws for invalid geometry, a grouped convolution that is not
    /// depthwise, sizes that overflow, or allocation failure.
    public convenience init(geometry g: Conv2DGeometry, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
                            activation: FusedActivation, planarInput: Bool, winograd: Bool = false) throws(TensorError) {
        try self.init(geometry: g, weights: w, bias: b, activation: activation, planarInput: planarInput,
                      winograd: winograd, kernels: .current)
    }

    init(geometry g: Conv2DGeometry, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
         activation: FusedActivation, planarInput: Bool, winograd useWinograd: Bool = false, kernels ks: KernelSet) throws(TensorError) {
        let dims = [g.inChannels, g.outChannels, g.groups, g.kernelH, g.kernelW, g.strideH, g.strideW,
                    g.dilationH, g.dilationW]
        let pads = [g.padTop, g.padLeft, g.padBottom, g.padRight]
        guard dims.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }) else { throw .shape(.negative(dims + pads)) }
        guard BlockedConv.supports(g) else { throw .countMismatch(expected: 1, got: g.groups) }
        let depthwise = g.groups > 1
        let planar = planarInput && !depthwise  // depthwise always reads blocks
        let wino = useWinograd && !planar && WinogradConv.supports(g)
            ? try WinogradConv(geometry: g, weights: w, bias: b, activation: activation, kernels: ks) : nil
        let (taps, o1) = g.kernelH.multipliedReportingOverflow(by: g.kernelW)
        let inB = ChannelBlocks.count(g.inChannels), outB = ChannelBlocks.count(g.outChannels)
        let (k, o2) = (planar ? g.inChannels : inB * 16).multipliedReportingOverflow(by: taps)
        let (total, o3) = (outB * 16).multipliedReportingOverflow(by: k)
        guard !o1, !o2, !o3, total < Int.max / 16 else { throw .shape(.overflow(dims)) }
        // The Winograd form keeps its own weights: the direct ones are not packed.
        let floats = depthwise ? DepthwiseBlocked.floats(channels: g.outChannels, taps: taps) : wino != nil ? 16 : total
        guard let raw = alignedAllocate(floats * 4) else { throw .outOfMemory(bytes: floats * 4) }
        let wp = raw.bindMemory(to: Float.self, capacity: floats)
        if depthwise {
            let biases = (0..<g.outChannels).map { b?[$0] ?? 0 }
            biases.withUnsafeBufferPointer { z in
                if let base = z.baseAddress {
                    DepthwiseBlocked.packWeights(channels: g.outChannels, taps: taps, weights: w, bias: base, into: wp)
                }
            }
            bias = UnsafePointer(wp + outB * taps * 16)
            biasStorage = nil
        } else {
            guard let braw = alignedAllocate(outB * 16 * 4) else {
                free(raw)
                throw .outOfMemory(bytes: outB * 64)
            }
            let bp = braw.bindMemory(to: Float.self, capacity: outB * 16)
            for c in 0..<(outB * 16) { bp[c] = c < g.outChannels ? b.map { $0[c] } ?? 0 : 0 }
            if wino == nil {
                BlockedConv.packDense(g, planar: planar, groupBlocks: ks.nchwc.groupBlocks, depth: k, weights: w, into: wp)
            }
            bias = UnsafePointer(bp)
            biasStorage = bp
        }
        geometry = g
        self.activation = activation
        self.planarInput = planar
        isDepthwise = depthwise
        kernels = ks
        epilogue = KernelEpilogue(activation: activation)
        weights = wp
        inBlocks = inB
        outBlocks = outB
        depth = k
        winograd = wino
    }

    deinit { free(weights); free(biasStorage) }

    /// Element (k, j) of the group holding output block b0 (j < 16·blocks in the group):
    /// W[b0·16 + j][ci][ky][kx] with k = (ci·kH + ky)·kW + kx (planar) or
    /// k = ((ci/16)·kH·kW + ky·kW + kx)·16 + ci mod 16 (blocked); zero past Cin or Cout.
    static func packDense(_ g: Conv2DGeometry, planar: Bool, groupBlocks: Int, depth k: Int,
                          weights w: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let taps = g.kernelH * g.kernelW, cin = g.inChannels, cout = g.outChannels
        let outB = ChannelBlocks.count(cout)
        var b0 = 0
        while b0 < outB {
            let nb = Swift.min(groupBlocks, outB - b0)
            let width = 16 * nb
            let base = dst + b0 * 16 * k
            for p in 0..<k {
                let ci: Int, tap: Int
                if planar {
                    ci = p / taps; tap = p % taps
                } else {
                    let t = p / 16
                    ci = (t / taps) * 16 + p % 16; tap = t % taps
                }
                let row = base + p * width
                for j in 0..<width {
                    let oc = b0 * 16 + j
                    row[j] = ci < cin && oc < cout ? w[(oc * cin + ci) * taps + tap] : 0
                }
            }
            b0 += nb
        }
    }

    /// Whether `run` can take an input of h×w (false when the output would be empty or the
    /// padded copy of one image would exceed `DirectConvLayout.maxImageFloats`).
    public func supports(h: Int, w: Int) -> Bool {
        guard h > 0, w > 0, let (oh, ow) = geometry.outputSize(h: h, w: w) else { return false }
        if isDepthwise || reads1x1InPlace || winograd != nil { return h < Int.max / 64 / w }
        return layout(oh: oh, ow: ow) != nil
    }

    /// 1×1, stride 1, no padding, blocked input: the input is read in place.
    var reads1x1InPlace: Bool {
        let g = geometry
        return !planarInput && !isDepthwise && g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1
            && g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0
    }

    /// The geometry the padded phase planes are laid out for: planar, the convolution's own;
    /// blocked, one "channel" per block of 16 (`DirectConvLayout.pack`/`offsets` then scale
    /// every offset by 16 floats per pixel).
    var packGeometry: Conv2DGeometry {
        var g = geometry
        if !planarInput { g.inChannels = inBlocks }
        return g
    }

    /// Phase planes of the padded input (planar: per channel; blocked: per block, 16 floats per
    /// pixel), or nil when one image's copy would exceed `DirectConvLayout.maxImageFloats`.
    func layout(oh: Int, ow: Int) -> DirectConvLayout? {
        var g = geometry
        if !planarInput { g.inChannels = inBlocks * 16 }  // the size check counts floats
        return DirectConvLayout(g, oh: oh, ow: ow, nr: 1)
    }

    // MARK: Running

    /// input: blocked [batch][inBlocks][h][w][16] (or NCHW with `planarInput`); output: blocked
    /// [batch][outBlocks][oh][ow][16]; residual: nil or output-shaped. The input must not overlap
    /// the output; the residual may *be* the output (same pointer) for dense convolutions, whose
    /// tiles read each residual element before storing it, but not otherwise overlap it.
    /// Returns false (output unspecified) when `supports(h:w:)` is false or memory for the
    /// padded copy is lacking.
    /// `lastImageFirst`: images in reverse order (results are the same). Alternating it from one
    /// layer to the next starts each layer on the image the previous one wrote last, which is
    /// still cached when a batch's activations are not.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                    batch: Int, h: Int, w: Int, pool: ThreadPool, lastImageFirst: Bool = false) -> Bool {
        // `supports(h:w:)` without building the layout twice (runDense builds it).
        guard batch > 0, h > 0, w > 0, h < Int.max / 64 / w, let (oh, ow) = geometry.outputSize(h: h, w: w) else {
            return false
        }
        if let winograd {
            return winograd.run(input: input, output: output, residual: residual, batch: batch, h: h, w: w, pool: pool,
                                reverse: lastImageFirst)
        }
        if isDepthwise {
            return runDepthwise(input: input, output: output, residual: residual, batch: batch, h: h, w: w,
                                oh: oh, ow: ow, pool: pool, reverse: lastImageFirst)
        }
        return runDense(input: input, output: output, residual: residual, batch: batch, h: h, w: w,
                        oh: oh, ow: ow, pool: pool, reverse: lastImageFirst)
    }

    private func runDense(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                          batch: Int, h: Int, w: Int, oh: Int, ow: Int, pool: ThreadPool, reverse: Bool) -> Bool {
        let g = geometry, nk = kernels.nchwc
        let inPlace = reads1x1InPlace
        let l = inPlace ? nil : layout(oh: oh, ow: ow)
        if !inPlace && l == nil { return false }
        let ps = planarInput ? 1 : 16
        let taps = planarInput ? depth : depth / 16
        let inImage = planarInput ? g.inChannels * h * w : inBlocks * h * w * 16
        let outPlane = oh * ow * 16, outImage = outBlocks * outPlane
        let pg = packGeometry
        let imageFloats = l.map { roundUp(pg.inChannels * $0.channelStride * ps, 16) } ?? 0
        let offsetFloats = roundUp(2 * taps, 16)
        let (bytes, o) = (offsetFloats + imageFloats).multipliedReportingOverflow(by: 4)
        guard !o else { return false }
        // Runs of output pixels: one per output row, or (in place) the whole plane in chunks.
        let runLength = inPlace ? oh * ow : ow
        let runs = inPlace ? 1 : oh
        let groups = ceilDiv(outBlocks, nk.groupBlocks)
        let threads = pool.threadCount
        var chunkRuns = runs, chunkPixels = runLength
        if threads > 1 && groups < BlockedConv.tasksPerThread * threads {
            let want = ceilDiv(BlockedConv.tasksPerThread * threads, groups)
            if inPlace {
                chunkPixels = Swift.max(nk.tilePixels, roundUp(ceilDiv(runLength, want), nk.tilePixels))
            } else {
                chunkRuns = Swift.max(1, ceilDiv(runs, want))
            }
        }
        let runChunks = ceilDiv(runs, chunkRuns), pixelChunks = ceilDiv(runLength, chunkPixels)
        let spatialTasks = runChunks * pixelChunks, tasks = groups * spatialTasks
        // Task order. The pool gives each thread a contiguous range of tasks. Pixel-major (a
        // thread computes all channels of its share of the pixels) keeps the activations where
        // the previous layer wrote them; weights-major (a thread computes its share of the output
        // channels over all pixels) streams each weight group once instead of once per pixel
        // chunk, but reads the whole input, half of it written by the other thread. Weights-major
        // when the weights outweigh twice one image's input: EfficientNet-Lite0's 7×7 1×1
        // convolutions (885 KB against 225 KB); not ResNet-50's 14×14 1024 → 256 (1 MB against
        // 800 KB), 0.28 → 0.33 ms weights-major.
        let (weightBytes, o4) = (depth * outBlocks * 16).multipliedReportingOverflow(by: 4)
        let weightsMajor = threads > 1 && (o4 || weightBytes / 2 > inImage * 4)
        let (act, after) = epilogue.storeActivation
        let e = epilogue
        let wts = UnsafePointer(weights), bs = bias, k = depth
        return ScratchCache.with(bytes: bytes) { raw in
            let offsets = raw.bindMemory(to: Int.self, capacity: taps)
            let planes = (raw + offsetFloats * 4).bindMemory(to: Float.self, capacity: Swift.max(imageFloats, 1))
            if let l {
                l.offsets(pg, into: offsets, pixelFloats: ps)
            } else {
                for t in 0..<taps { offsets[t] = t * h * w * 16 }
            }
            let offs = UnsafePointer(offsets)
            let rowStride = (l?.wq ?? ow) * ps
            /// Task t of image img, whose input (or phase planes) is `src`.
            func task(_ img: Int, _ t: Int, _ src: UnsafePointer<Float>) {
                let out = output + img * outImage
                let res = residual.map { $0 + img * outImage }
                let gi = weightsMajor ? t / spatialTasks : t % groups
                let rest = weightsMajor ? t % spatialTasks : t / groups
                let rc = rest / pixelChunks, pc = rest % pixelChunks
                let b0 = gi * nk.groupBlocks, nb = Swift.min(nk.groupBlocks, self.outBlocks - b0)
                let wg = wts + b0 * 16 * k
                let x0 = pc * chunkPixels, xn = Swift.min(chunkPixels, runLength - x0)
                for run in (rc * chunkRuns)..<Swift.min(runs, (rc + 1) * chunkRuns) {
                    let o = b0 * outPlane + run * runLength * 16 + x0 * 16
                    nk.run(xn, nb, taps, self.planarInput, offs, src + (run * rowStride + x0 * ps), wg,
                           out + o, outPlane, bs + b0 * 16, res.map { $0 + o }, act, e.p0, e.p1)
                    if after {
                        for b in 0..<nb { self.activation.apply(to: out + (o + b * outPlane), count: xn * 16) }
                    }
                }
            }
            // Read in place, several images: one loop, image-major, so that each thread takes
            // whole images (its home range) and keeps them from layer to layer with the depthwise
            // layers, which split the same way (`BlockedConv.image`).
            if inPlace && batch > 1 && threads > 1 {
                pool.parallelFor(batch * tasks) { t in
                    let img = BlockedConv.image(t / tasks, batch: batch, threads: threads, reverse: reverse)
                    task(img, t % tasks, input + img * inImage)
                }
                return
            }
            for i in 0..<batch {
                let img = BlockedConv.image(i, batch: batch, threads: threads, reverse: reverse)
                let x = input + img * inImage
                let src: UnsafePointer<Float>
                if let l {
                    // One task per (band of rows, channel or block, stride phase): an RGB stem at
                    // stride 2 is 12 per band. One band per thread, band-major, so that a thread
                    // packs the rows its pixel-major tasks read.
                    let phases = g.strideH * g.strideW, perBand = pg.inChannels * phases
                    let bands = threads > 1 && inImage >= 1 << 15 ? Swift.min(threads, l.hq) : 1
                    let pack: (Int) -> Void = { u in
                        let band = u / perBand, c = (u % perBand) / phases
                        l.pack(pg, src: x, h: h, w: w, channels: c..<(c + 1), dst: planes, phase: u % phases,
                               rows: (band * l.hq / bands)..<((band + 1) * l.hq / bands), pixelFloats: ps)
                    }
                    let n = bands * perBand
                    if bands > 1 { pool.parallelFor(n, pack) } else { for u in 0..<n { pack(u) } }
                    src = UnsafePointer(planes)
                } else {
                    src = x
                }
                if threads > 1 && tasks > 1 {
                    pool.parallelFor(tasks) { t in task(img, t, src) }
                } else {
                    for t in 0..<tasks { task(img, t, src) }
                }
            }
        }
    }

    /// Image at position i of a pass over a batch: last to first when `reverse` — with several
    /// threads, within each thread's share of the batch (when the threads divide it), so that an
    /// image keeps its thread from one layer to the next when tasks are image-major.
    static func image(_ i: Int, batch: Int, threads: Int, reverse: Bool) -> Int {
        guard reverse else { return i }
        guard threads > 1, batch % threads == 0 else { return batch - 1 - i }
        let share = batch / threads, lo = i / share * share
        return 2 * lo + share - 1 - i
    }

    /// Below this many tasks per thread, the runs (or pixels) of each weight group are split.
    static let tasksPerThread = 8

    /// Depthwise inputs up to this size (all images) are read in place (see `runDepthwise`).
    static let depthwiseInPlaceBytes = 8 << 20

    private func runDepthwise(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
                              batch: Int, h: Int, w: Int, oh: Int, ow: Int, pool: ThreadPool, reverse: Bool) -> Bool {
        let g = geometry, ks = kernels
        let taps = g.kernelH * g.kernelW
        // Output rows per strip: the padded window of a strip (≤ 64 KB, with its halo rows) is
        // copied and then read by the kernel while it is still in L1/L2, instead of copying a
        // whole plane's window (≈ 830 KB at 112×112) first. EfficientNet-Lite0's 3×3 at
        // 112×112 and 56×56 went from 1.60 and 1.36 to 1.01 and 0.81 × ONNX Runtime's time
        // (per-node profiles).
        let cols = (ow - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1
        let stripRows = Swift.max(1, Swift.min(oh, (64 << 10) / Swift.max(1, g.strideH * cols * 64)))
        let rows = (stripRows - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1
        let (window, o1) = (rows * cols).multipliedReportingOverflow(by: 16)
        guard !o1, window < Int.max / 64 else { return false }
        // Outputs whose whole receptive field lies inside the input (rows `inner.rows`, columns
        // `inner.cols`, a multiple of 8 wide) read the input in place; only the border rows and
        // the columns either side go through a padded window. The copy was the larger part of
        // a depthwise layer's time (EfficientNet-Lite0's 3×3 stride 2 at 112×112 in one thread:
        // 0.125 → 0.091 ms, ORT 0.072) — while the input is cached: from DRAM, the copy's one
        // sequential stream reads faster than the kernel's row streams (Lite2 at batch 8, 52 MB
        // per depthwise input: 10.2 → 11.1 ms per image in place), so in place only up to
        // `depthwiseInPlaceBytes` of input.
        let (imageBytes, o0) = (h * w).multipliedReportingOverflow(by: inBlocks * 64)
        let (inBytes, o00) = imageBytes.multipliedReportingOverflow(by: batch)
        let inner = !o0 && !o00 && inBytes <= BlockedConv.depthwiseInPlaceBytes
            ? DepthwiseInterior(g, h: h, w: w, oh: oh, ow: ow) : nil
        let edgeW = inner.map { Swift.max($0.cols.lowerBound, ow - $0.cols.upperBound) } ?? 0
        // Per slot: the window, the kernel's read slack, the outputs of an edge strip.
        let windowFloats = roundUp(window, 16) + 64
        let slotFloats = windowFloats + roundUp(stripRows * edgeW * 16, 16)
        let threads = pool.threadCount
        let (bytes, o2) = (slotFloats * threads).multipliedReportingOverflow(by: 4)
        guard !o2 else { return false }
        // With a residual the kernel stores the bare sum and the activation follows the add.
        let act = residual == nil ? epilogue.storeActivation.code : 0
        let after = residual == nil ? epilogue.storeActivation.after : epilogue.act != 0
        let e = epilogue
        let pt = g.padTop, pl = g.padLeft
        let inPlane = h * w * 16, outPlane = oh * ow * 16
        let wts = UnsafePointer(weights), bs = bias
        return ScratchCache.with(bytes: bytes) { raw in
            let slots = raw.bindMemory(to: Float.self, capacity: slotFloats * threads)
            // Tasks: (image, block, range of strips); with few blocks per thread the strips of a
            // block are split too, so that the threads finish together.
            let strips = ceilDiv(oh, stripRows)
            let units = batch * self.outBlocks
            let parts = threads > 1 ? Swift.min(strips, ceilDiv(BlockedConv.tasksPerThread * threads, units)) : 1
            let stripsPerPart = ceilDiv(strips, parts)
            // Part-major: each thread's contiguous range of tasks covers whole rows of all
            // blocks (see `runDense`).
            let body: (Int, Int) -> Void = { t, slot in
                let u = t % units, part = t / units
                let i = u / self.outBlocks, blk = u % self.outBlocks
                let img = BlockedConv.image(i, batch: batch, threads: threads, reverse: reverse)
                let win = slots + slot * slotFloats
                let src = input + (img * self.inBlocks + blk) * inPlane
                let off = (img * self.outBlocks + blk) * outPlane
                let wb = wts + blk * taps * 16, bb = bs + blk * 16
                // Output rows [r0, r1), columns [x0, x1) through a padded window: a full-width
                // band stored in place, a narrower one via the slot's edge outputs.
                func windowed(_ r0: Int, _ r1: Int, _ x0: Int, _ x1: Int) {
                    let n = r1 - r0, nx = x1 - x0
                    guard n > 0, nx > 0 else { return }
                    let wrows = (n - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1
                    let wcols = (nx - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1
                    DepthwiseBlocked.fillWindow(src, h: h, w: w, firstRow: r0 * g.strideH - pt, rows: wrows,
                                                cols: wcols, padLeft: pl - x0 * g.strideW, into: win)
                    let dst = output + off + (r0 * ow + x0) * 16
                    let full = nx == ow
                    let out = full ? dst : win + windowFloats
                    ks.depthwiseC16.conv(UnsafePointer(win), wcols, g.strideH, g.strideW, g.kernelH, g.kernelW,
                                         g.dilationH, g.dilationW, wb, bb, n, nx, out, act, e.p0, e.p1)
                    if !full {
                        for r in 0..<n { (dst + r * ow * 16).update(from: out + r * nx * 16, count: nx * 16) }
                    }
                }
                var oy0 = part * stripsPerPart * stripRows
                let oyEnd = Swift.min(oh, (part + 1) * stripsPerPart * stripRows)
                while oy0 < oyEnd {
                    let n = Swift.min(stripRows, oyEnd - oy0)
                    if let inner {
                        let m0 = Swift.min(Swift.max(inner.rows.lowerBound, oy0), oy0 + n)
                        let m1 = Swift.min(Swift.max(inner.rows.upperBound, m0), oy0 + n)
                        windowed(oy0, m0, 0, ow)
                        let xa = inner.cols.lowerBound, nx = inner.cols.count
                        for oy in m0..<m1 {
                            let s = src + ((oy * g.strideH - pt) * w + xa * g.strideW - pl) * 16
                            ks.depthwiseC16.conv(s, w, g.strideH, g.strideW, g.kernelH, g.kernelW, g.dilationH,
                                                 g.dilationW, wb, bb, 1, nx, output + off + (oy * ow + xa) * 16,
                                                 act, e.p0, e.p1)
                        }
                        windowed(m0, m1, 0, xa)
                        windowed(m0, m1, inner.cols.upperBound, ow)
                        windowed(m1, oy0 + n, 0, ow)
                    } else {
                        windowed(oy0, oy0 + n, 0, ow)
                    }
                    let dst = output + off + oy0 * ow * 16
                    let count = n * ow * 16
                    if after {
                        if let r = residual.map({ $0 + off + oy0 * ow * 16 }) {
                            for i in 0..<count { dst[i] = self.activation.apply(dst[i] + r[i]) }
                        } else {
                            self.activation.apply(to: dst, count: count)
                        }
                    } else if let r = residual.map({ $0 + off + oy0 * ow * 16 }) {
                        for i in 0..<count { dst[i] += r[i] }
                    }
                    oy0 += n
                }
            }
            let tasks = units * parts
            let (work, o3) = (outPlane * taps).multipliedReportingOverflow(by: units)
            if threads > 1 && tasks > 1 && (o3 || work >= 32_768) {
                pool.parallelForSlotted(tasks, body)
            } else {
                for t in 0..<tasks { body(t, 0) }
            }
        }
    }
}

/// The outputs of a depthwise convolution whose receptive field lies wholly inside the input:
/// rows `rows` and columns `cols` (trimmed to a multiple of 8, the kernel's in-row group, so
/// that it never reads past its last column). Nil when fewer than 8 columns or no row qualify.
struct DepthwiseInterior {
    let rows: Range<Int>
    let cols: Range<Int>

    init?(_ g: Conv2DGeometry, h: Int, w: Int, oh: Int, ow: Int) {
        // Output o is inside along an axis when o·s − pad ≥ 0 and o·s − pad + (k − 1)·d ≤ n − 1.
        func inside(_ n: Int, _ out: Int, _ s: Int, _ pad: Int, _ k: Int, _ d: Int) -> Range<Int> {
            let lo = Swift.min(out, ceilDiv(Swift.max(pad, 0), s))
            let last = n - 1 + pad - (k - 1) * d
            let hi = last < 0 ? 0 : Swift.min(out, last / s + 1)
            return lo..<Swift.max(lo, hi)
        }
        let r = inside(h, oh, g.strideH, g.padTop, g.kernelH, g.dilationH)
        let c = inside(w, ow, g.strideW, g.padLeft, g.kernelW, g.dilationW)
        let width = c.count / 8 * 8
        guard !r.isEmpty, width >= 8 else { return nil }
        rows = r
        cols = c.lowerBound..<(c.lowerBound + width)
    }
}
