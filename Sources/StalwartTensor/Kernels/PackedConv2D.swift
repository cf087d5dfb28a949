#if canImport(Glibc)
import Glibc
#endif

/// A convolution with its weights prepared once at load (packing, folded bias).
///
/// Paths, chosen in `init`:
/// - pointwise (1×1, stride 1, no padding, one group): per image, C[Cout × HW] = W[Cout × Cin] ·
///   X[Cin × HW], a GEMM straight on the input (no im2col).
/// - depthwise (groups == Cin == Cout): a direct vectorized kernel per channel plane over a
///   padded, stride-phase-split copy of the plane (any kernel, stride, dilation and padding).
/// - general (any other, including grouped): per image and group, im2col written straight into
///   packed B panels, then the GEMM.
/// - pixel-rows (one group, small images, see `PixelRowsConv.swift`): the transposed GEMM over
///   the pixels of the whole batch, taken by the two paths above when `prefersPixelRows`.
/// - direct (general, one group, see `DirectConv.swift`): the GEMM reads B in place from phase
///   planes of the padded input through a per-row offset table (no im2col), taken instead of
///   the general path's im2col when `prefersDirect`.
/// Bias, residual and the activation are applied in the kernels' store (the epilogue).
///
/// Thread-safety: immutable after init; `run` may be called from many threads at once as
/// long as each call has its own scratch and output.
public final class PackedConv2D: @unchecked Sendable {
    public let geometry: Conv2DGeometry
    public let activation: FusedActivation

    enum Path { case pointwise, depthwise, general }
    let path: Path
    let kernels: KernelSet
    /// GEMM paths: per group, A = W_g [coutG × K] packed in MR-row panels (`groupStride` floats
    /// per group). Depthwise: [C][kH·kW] as given.
    let weights: UnsafeMutablePointer<Float>
    let weightFloats: Int
    let groupStride: Int
    /// GEMM depth per group: Cin/groups · kH · kW.
    let depth: Int
    let bias: UnsafeMutablePointer<Float>
    let epilogue: KernelEpilogue
    /// Depthwise only: weights and bias for the channel-blocked path (`DepthwiseBlocked`).
    let blockedWeights: UnsafeMutablePointer<Float>?
    /// Channel-blocked depthwise: 0 never, 1 when `prefersDepthwiseBlocked`, 2 always. Tests
    /// and benchmarks change it.
    var depthwiseBlockedMode = 1
    /// Wᵀ for the pixel-rows path (`PixelRowsConv.swift`), packed on first use.
    let pixelRowsWeights = PixelRowsWeights()
    /// Batches of at most this many output pixels (batch · HW) may take the pixel-rows path:
    /// it packs im2col(X)ᵀ of the whole batch at once, which stops paying once that leaves the
    /// caches (measured on ResNet-50: a win at 8 × 7×7, a loss at 8 × 14×14). Tests change it.
    var pixelRowsMaxPixels = 392
    /// Direct path (`DirectConv.swift`) for general convolutions: 0 never, 1 when
    /// `prefersDirect` says so, 2 always (when its layout applies). Tests and benchmarks change it.
    var directMode = 1

    /// Whether a general convolution (one group) takes the direct path for this input: always
    /// instead of the columns path, and instead of pixel rows for stride-1 outputs above 8×8.
    /// Measured per layer inside ResNet-50 (batch 1, one thread, ms, the other path → direct):
    /// stem 7×7/2 2.05 → 1.57, 3×3 at 56×56 1.53 → 1.22, at 28×28 1.53 → 1.31; 3×3 at 14×14
    /// (pixel rows) 1.40 → 1.32; but 3×3 at 7×7 1.59 → 1.91 and 1×1/2 to 14×14 1.23 → 1.32,
    /// where pixel rows' full 14-row panels win.
    func prefersDirect(batch: Int, oh: Int, ow: Int) -> Bool {
        guard path == .general, geometry.groups == 1, directMode > 0 else { return false }
        if directMode == 2 || !prefersPixelRows(batch: batch, pixels: oh * ow) { return true }
        return geometry.strideH == 1 && geometry.strideW == 1 && oh * ow > 64
    }

    /// Whether the pixel-rows path runs for this batch and output size. Measured per layer in
    /// ResNet-50 (batch 1, one thread, ms, columns → pixel rows): 3×3 at 14×14 10.2 → 8.3 and
    /// at 7×7 7.2 → 5.1 (no im2col of B panels, better-filled panels); 1×1 at 7×7 2.1 → 1.4
    /// (2048→512) and 4.2 → 3.2 (512→2048); but 1×1 at 14×14 4.2 → 5.3 (256→1024): there the
    /// columns path reads the input in place and fills 32-wide panels to 88% already, so the
    /// packing and the transposition back cost more than they save. Hence: im2col convolutions
    /// up to 14×14, pointwise ones up to 8×8.
    func prefersPixelRows(batch: Int, pixels hw: Int) -> Bool {
        guard geometry.groups == 1, hw > 0, batch <= pixelRowsMaxPixels / hw else { return false }
        if pixelRowsMaxPixels == Int.max { return true }  // forced (tests)
        return hw <= (path == .general ? 196 : 64)
    }

    /// `weights`: OIHW [Cout, Cin/groups, kH, kW] float32, copied/packed (not retained).
    /// `bias`: [Cout] or nil (zeros). Throws on invalid geometry or allocation failure.
    public convenience init(geometry g: Conv2DGeometry, weights w: UnsafePointer<Float>,
                            bias b: UnsafePointer<Float>?, activation: FusedActivation) throws(TensorError) {
        try self.init(geometry: g, weights: w, bias: b, activation: activation, kernels: .current)
    }

    /// Same, packing for an explicit kernel set (tests run every ISA the CPU supports).
    init(geometry g: Conv2DGeometry, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
         activation: FusedActivation, kernels ks: KernelSet) throws(TensorError) {
        let dims = [g.inChannels, g.outChannels, g.groups, g.kernelH, g.kernelW, g.strideH, g.strideW,
                    g.dilationH, g.dilationW]
        let pads = [g.padTop, g.padLeft, g.padBottom, g.padRight]
        guard dims.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }) else {
            throw .shape(.negative(dims + pads))
        }
        guard g.inChannels % g.groups == 0, g.outChannels % g.groups == 0 else {
            throw .countMismatch(expected: g.groups * (g.inChannels / g.groups), got: g.inChannels)
        }
        let cinG = g.groupInChannels, coutG = g.groupOutChannels
        let (khw, o1) = g.kernelH.multipliedReportingOverflow(by: g.kernelW)
        let (depth, o2) = cinG.multipliedReportingOverflow(by: khw)
        let (wc, o3) = g.outChannels.multipliedReportingOverflow(by: depth)
        guard !o1, !o2, !o3, wc < Int.max / 16 else { throw .shape(.overflow(dims)) }

        let path: Path
        if g.groups == g.inChannels && g.groups == g.outChannels {
            path = .depthwise
        } else if g.groups == 1 && g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1
                    && pads.allSatisfy({ $0 == 0 }) {
            path = .pointwise
        } else {
            path = .general
        }

        let groupStride: Int, total: Int
        if path == .depthwise {
            groupStride = 0; total = wc
        } else {
            let (gs, o4) = roundUp(coutG, ks.mr).multipliedReportingOverflow(by: depth)
            let (t, o5) = gs.multipliedReportingOverflow(by: g.groups)
            guard !o4, !o5, t < Int.max / 16 else { throw .shape(.overflow(dims)) }
            groupStride = gs; total = t
        }
        guard let wRaw = alignedAllocate(total * 4) else { throw .outOfMemory(bytes: total * 4) }
        guard let bRaw = alignedAllocate(g.outChannels * 4) else {
            free(wRaw)
            throw .outOfMemory(bytes: g.outChannels * 4)
        }
        let wp = wRaw.bindMemory(to: Float.self, capacity: total)
        if path == .depthwise {
            wp.update(from: w, count: wc)
        } else {
            for grp in 0..<g.groups {
                GemmDriver.packA(mr: ks.mr, trans: false, m: coutG, k: depth, a: w + grp * coutG * depth,
                                 lda: depth, dst: wp + grp * groupStride, panels: 0..<ceilDiv(coutG, ks.mr))
            }
        }
        let bp = bRaw.bindMemory(to: Float.self, capacity: g.outChannels)
        if let b { bp.update(from: b, count: g.outChannels) } else { bp.update(repeating: 0, count: g.outChannels) }
        var blocked: UnsafeMutablePointer<Float>? = nil
        if path == .depthwise {
            let n = DepthwiseBlocked.floats(channels: g.outChannels, taps: khw)
            guard let raw = alignedAllocate(n * 4) else {
                free(wRaw); free(bRaw)
                throw .outOfMemory(bytes: n * 4)
            }
            let dst = raw.bindMemory(to: Float.self, capacity: n)
            DepthwiseBlocked.packWeights(channels: g.outChannels, taps: khw, weights: w, bias: bp, into: dst)
            blocked = dst
        }
        self.blockedWeights = blocked

        self.geometry = g
        self.activation = activation
        self.path = path
        self.kernels = ks
        self.weights = wp
        self.weightFloats = total
        self.groupStride = groupStride
        self.depth = depth
        self.bias = bp
        self.epilogue = KernelEpilogue(activation: activation)
    }

    deinit { free(weights); free(bias); free(blockedWeights) }

    // MARK: Planning

    /// Depthwise source layout for one plane: `rows` padded rows, each split into `sw` phase
    /// rows of `phaseStride` floats (phase r holds padded columns r, r+sw, r+2sw, …).
    struct DepthwiseLayout {
        var rows: Int, phaseStride: Int
        var planeFloats: Int
    }

    func depthwiseLayout(oh: Int, ow: Int) -> DepthwiseLayout {
        let g = geometry
        let rows = (oh - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1
        let maxShift = ((g.kernelW - 1) * g.dilationW) / g.strideW
        let phaseStride = roundUp(maxShift + roundUp(ow, kernels.vectorWidth), 16)
        return DepthwiseLayout(rows: rows, phaseStride: phaseStride,
                               planeFloats: rows * g.strideW * phaseStride)
    }

    /// Floats of scratch per thread slot (independent of the thread count), and floats of
    /// shared scratch (tap offsets), for an input of h×w; nil if the output would be empty.
    func scratchLayout(h: Int, w: Int) -> (slot: Int, shared: Int)? {
        guard h > 0, w > 0, let (oh, ow) = geometry.outputSize(h: h, w: w) else { return nil }
        switch path {
        case .depthwise:
            let l = depthwiseLayout(oh: oh, ow: ow)
            // Plane, then (stride > 1) the unsplit padded plane.
            return (roundUp(l.planeFloats, 16) * (geometry.strideW > 1 ? 2 : 1),
                    roundUp((geometry.kernelH + geometry.kernelW) * 2, 16))
        case .pointwise:
            // B is the input itself; only a ragged last panel is packed.
            return (roundUp(Swift.min(GemmBlocking.kc, depth) * kernels.nr, 16), 0)
        case .general:
            return (roundUp(GemmTiling.scratchFloats(n: oh * ow, k: depth, nr: kernels.nr), 16), 0)
        }
    }

    /// Bytes of scratch one `run` call needs for this input size and batch.
    /// `threads` must be at least the `threadCount` of the pool later passed to `run`
    /// (scratch is one slice per pool thread).
    public func scratchByteCount(batch: Int, h: Int, w: Int, threads: Int) -> Int {
        guard let l = scratchLayout(h: h, w: w) else { return 0 }
        let (s, o1) = l.slot.multipliedReportingOverflow(by: Swift.max(threads, 1))
        let (t, o2) = s.addingReportingOverflow(l.shared)
        let (bytes, o3) = t.multipliedReportingOverflow(by: 4)
        return (o1 || o2 || o3) ? Int.max : bytes
    }

    // MARK: Running

    /// input NCHW [batch, Cin, h, w]; output NCHW [batch, Cout, oh, ow] (see
    /// `geometry.outputSize`); residual nil or output-shaped, added before the activation.
    /// Neither input nor residual may overlap output. `scratch` holds `scratchByteCount(...)`
    /// bytes, 64-byte aligned (if nil, `run` allocates). Work is spread over `pool` (batch ×
    /// output-channel blocks × column blocks, or batch × channel groups for depthwise).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int,
                    scratch: UnsafeMutableRawPointer?, pool: ThreadPool) {
        guard batch > 0, let layout = scratchLayout(h: h, w: w),
              let (oh, ow) = geometry.outputSize(h: h, w: w) else { return }
        let slots = pool.threadCount
        var owned: UnsafeMutableRawPointer? = nil
        var base = scratch
        if base == nil {
            let (s, o1) = layout.slot.multipliedReportingOverflow(by: slots)
            let (t, o2) = s.addingReportingOverflow(layout.shared)
            if !o1, !o2, t < Int.max / 8 { owned = alignedAllocate(t * 4) }
            base = owned
        }
        defer { if let owned { free(owned) } }
        guard let sbase = base else {
            // No memory for scratch: the reference loop needs none.
            return referenceRun(input: input, output: output, residual: residual, batch: batch, h: h, w: w)
        }
        let shared = sbase.bindMemory(to: Float.self, capacity: layout.shared + layout.slot * slots)
        let slotBase = shared + layout.shared
        switch path {
        case .depthwise:
            if prefersDepthwiseBlocked(oh: oh, ow: ow),
               runDepthwiseBlocked(input: input, output: output, residual: residual, batch: batch, h: h, w: w,
                                   oh: oh, ow: ow, pool: pool) {
                return
            }
            runDepthwise(input: input, output: output, residual: residual, batch: batch, h: h, w: w,
                         oh: oh, ow: ow, offsets: UnsafeMutableRawPointer(shared).bindMemory(
                            to: Int.self, capacity: layout.shared / 2),
                         slots: slotBase, slotFloats: layout.slot, pool: pool)
        case .pointwise, .general:
            if prefersDirect(batch: batch, oh: oh, ow: ow),
               runDirect(input: input, output: output, residual: residual, batch: batch, h: h, w: w,
                         oh: oh, ow: ow, pool: pool) {
                return
            }
            if prefersPixelRows(batch: batch, pixels: oh * ow),
               runPixelRows(input: input, output: output, residual: residual, batch: batch, h: h, w: w,
                            oh: oh, ow: ow, pool: pool) {
                return
            }
            runGemm(input: input, output: output, residual: residual, batch: batch, h: h, w: w,
                    oh: oh, ow: ow, slots: slotBase, slotFloats: layout.slot, pool: pool)
        }
    }

    func referenceRun(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                      residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int) {
        let g = geometry
        let wc = g.outChannels * depth
        guard let raw = alignedAllocate(wc * 4) else { return }
        defer { free(raw) }
        let wt = raw.bindMemory(to: Float.self, capacity: wc)
        if path == .depthwise {
            wt.update(from: weights, count: wc)
        } else {
            // Unpack the MR-row panels back to OIHW.
            let mr = kernels.mr, coutG = g.groupOutChannels
            for co in 0..<g.outChannels {
                let grp = co / coutG, i = co % coutG
                let panel = weights + grp * groupStride + (i / mr) * depth * mr
                for p in 0..<depth { wt[co * depth + p] = panel[p * mr + i % mr] }
            }
        }
        Reference.conv2d(g, batch: batch, h: h, w: w, input: input, weights: wt, bias: bias,
                         residual: residual, activation: activation, output: output)
    }

    private func runGemm(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                         residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int, oh: Int, ow: Int,
                         slots: UnsafeMutablePointer<Float>, slotFloats: Int, pool: ThreadPool) {
        let g = geometry
        let ks = kernels
        let cinG = g.groupInChannels, coutG = g.groupOutChannels
        let n = oh * ow
        let units = batch * g.groups
        let (work, o1) = (coutG * depth).multipliedReportingOverflow(by: n * units)
        let threads = (!o1 && work < 32 * 32 * 32) ? 1 : pool.threadCount
        let tiling = GemmTiling(m: coutG, n: n, mr: ks.mr, nr: ks.nr, units: units, threads: threads)
        let pointwise = path == .pointwise
        let depth = self.depth
        func source(_ unit: Int) -> GemmBSource {
            let img = unit / g.groups, grp = unit % g.groups
            let inPlane = input + (img * g.inChannels + grp * cinG) * h * w
            return pointwise
                ? .matrix(inPlane, ld: n, trans: false)
                : .im2col(Im2ColView(input: inPlane, h: h, w: w, kh: g.kernelH, kw: g.kernelW,
                                     sh: g.strideH, sw: g.strideW, dh: g.dilationH, dw: g.dilationW,
                                     pt: g.padTop, pl: g.padLeft, ow: ow))
        }
        // When output-channel blocks split a column block (small images on several threads),
        // each task would im2col the same columns again: pack every (unit, column block) once,
        // in parallel, into a shared buffer first.
        let tileFloats = depth * roundUp(tiling.nBlock, ks.nr)
        let sharedTiles = units * tiling.nTasks
        let (sharedFloats, sOverflow) = tileFloats.multipliedReportingOverflow(by: sharedTiles)
        let prepack = !pointwise && tiling.mTasks > 1 && !sOverflow && sharedFloats <= 16 << 20
        let run: (UnsafeMutablePointer<Float>?) -> Void = { packed in
            if let packed {
                let kBlocks = ceilDiv(depth, GemmBlocking.kc)
                let pack: (Int, Int) -> Void = { t, _ in
                    let tile = t / kBlocks, kb = t % kBlocks
                    let unit = tile / tiling.nTasks, ni = tile % tiling.nTasks
                    let n0 = ni * tiling.nBlock, nCount = Swift.min(tiling.nBlock, n - n0)
                    let pc = kb * GemmBlocking.kc, kc = Swift.min(GemmBlocking.kc, depth - pc)
                    GemmDriver.packB(source(unit), p0: pc, kc: kc, j0: n0, nc: nCount, nr: ks.nr,
                                     dst: packed + tile * tileFloats + pc * roundUp(nCount, ks.nr))
                }
                let packTasks = sharedTiles * kBlocks
                if threads > 1 { pool.parallelForSlotted(packTasks, pack) } else { for t in 0..<packTasks { pack(t, 0) } }
            }
            let body: (Int, Int) -> Void = { t, slot in
                let unit = t / tiling.tasks, rest = t % tiling.tasks
                let img = unit / g.groups, grp = unit % g.groups
                let mi = rest / tiling.nTasks, ni = rest % tiling.nTasks
                let outOffset = (img * g.outChannels + grp * coutG) * n
                let problem = GemmProblem(
                    m: coutG, n: n, k: depth, a: UnsafePointer(self.weights + grp * self.groupStride),
                    b: source(unit), c: output + outOffset, ldc: n, bias: UnsafePointer(self.bias + grp * coutG),
                    residual: residual.map { $0 + outOffset }, epilogue: self.epilogue)
                let m0 = mi * tiling.mBlock, n0 = ni * tiling.nBlock
                GemmDriver.runTile(ks, problem, m0: m0, mCount: Swift.min(tiling.mBlock, coutG - m0),
                                   n0: n0, nCount: Swift.min(tiling.nBlock, n - n0),
                                   scratch: slots + slot * slotFloats,
                                   prepacked: packed.map { UnsafePointer($0 + (unit * tiling.nTasks + ni) * tileFloats) })
            }
            let tasks = units * tiling.tasks
            if threads > 1 {
                pool.parallelForSlotted(tasks, body)
            } else {
                for t in 0..<tasks { body(t, 0) }
            }
        }
        if prepack {
            let done = ScratchCache.with(bytes: sharedFloats * 4) { raw in
                run(raw.bindMemory(to: Float.self, capacity: sharedFloats))
            }
            if done { return }
        }
        run(nil)
    }

    private func runDepthwise(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                              residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int, oh: Int, ow: Int,
                              offsets: UnsafeMutablePointer<Int>,
                              slots: UnsafeMutablePointer<Float>, slotFloats: Int, pool: ThreadPool) {
        let g = geometry
        let ks = kernels
        let l = depthwiseLayout(oh: oh, ow: ow)
        let sw = g.strideW
        let rowStride = sw * l.phaseStride
        let taps = g.kernelH * g.kernelW
        // offsets = [rowOffsets (kH) | colOffsets (kW)].
        for ky in 0..<g.kernelH { offsets[ky] = ky * g.dilationH * rowStride }
        for kx in 0..<g.kernelW {
            let s = kx * g.dilationW
            offsets[g.kernelH + kx] = (s % sw) * l.phaseStride + s / sw
        }
        let offs = UnsafePointer(offsets)
        let channels = g.outChannels
        let plane = oh * ow
        // Enough tasks to balance ~4 per thread, but no task smaller than ~16K outputs' worth of
        // planes (the per-task cost is a few hundred ns).
        let threads = pool.threadCount
        let maxPerTask = Swift.max(1, 16_384 / Swift.max(plane, 1))
        let perTask = Swift.max(1, Swift.min(maxPerTask, ceilDiv(channels * batch, 4 * threads), channels))
        let chunks = ceilDiv(channels, perTask)
        let tasks = batch * chunks
        let body: (Int, Int) -> Void = { t, slot in
            let img = t / chunks, c0 = (t % chunks) * perTask
            let src = slots + slot * slotFloats
            for c in c0..<Swift.min(channels, c0 + perTask) {
                let chan = img * channels + c
                ks.depthwisePrepare(input + chan * h * w, h, w, g.padTop, g.padLeft, l.rows, sw, l.phaseStride,
                                    src, src + roundUp(l.planeFloats, 16))
                ks.depthwise(UnsafePointer(src), g.strideH * rowStride, g.kernelH, g.kernelW, offs,
                             offs + g.kernelH, UnsafePointer(self.weights + c * taps), oh, ow, output + chan * plane,
                             residual.map { $0 + chan * plane }, self.bias[c], self.epilogue)
            }
        }
        let (work, o1) = (plane * taps).multipliedReportingOverflow(by: channels * batch)
        if threads > 1 && tasks > 1 && (o1 || work >= 32_768) {
            pool.parallelForSlotted(tasks, body)
        } else {
            for t in 0..<tasks { body(t, 0) }
        }
    }
}
