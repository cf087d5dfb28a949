#if canImport(Glibc)
import Glibc
#endif

/// A 3×3, stride-1, undilated, one-group convolution over channel-blocked tensors by Winograd's
/// minimal filtering F(2×2, 3×3) (Lavin & Gray 2016): 16 multiplications per 2×2 outputs and
/// channel pair instead of 36.
///
/// Per image, with T = ⌈oh/2⌉·⌈ow/2⌉ output tiles of 2×2 pixels:
/// 1. input transform: the 4×4 input patch of every tile (stride 2, zero outside: the padding),
///    V = Bᵀ d B, into V [16][inBlocks][T][16] — position p of the 4×4 transform, then a
///    blocked tensor of T "pixels";
/// 2. 16 GEMMs M[p] = V[p]·U[p] on the NCHWc kernels, each a 1×1 convolution over those T
///    pixels with U[p] = (G g Gᵀ)[p] packed once at load like a 1×1 convolution's weights;
/// 3. output transform Y = Aᵀ M A, plus bias, residual and activation, into the blocked output.
/// The transforms' coefficients are 0, ±1 (input and output) and ½ (weights, in Float64 at
/// load), so results stay within a few float32 roundings of the direct convolution's.
///
/// Memory: U is 16/9 of the direct weights (which are then not kept); the scratch holds V and
/// M of up to `chunkBytes` of tile rows at a time, reused chunk after chunk and image after image.
/// Thread-safety: immutable after init (tests lower the chunk sizes before the first run);
/// `run` may be called from many threads at once.
public final class WinogradConv: @unchecked Sendable {
    let geometry: Conv2DGeometry
    let kernels: KernelSet
    let activation: FusedActivation
    let epilogue: KernelEpilogue
    let inBlocks: Int, outBlocks: Int
    /// 16 packed 1×1 weight sets, position p at `weights + p·positionFloats` (the layout of
    /// `BlockedConv.packDense` for Cin → Cout, depth inBlocks·16).
    let weights: UnsafeMutablePointer<Float>
    let positionFloats: Int
    /// [outBlocks·16] biases (zero past Cout), then as many zeros (the GEMMs' bias).
    let biases: UnsafeMutablePointer<Float>

    /// Whether `g` is a convolution this class computes.
    static func supports(_ g: Conv2DGeometry) -> Bool {
        g.groups == 1 && g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1
            && g.dilationH == 1 && g.dilationW == 1 && (1...maxChannels).contains(g.inChannels)
            && (1...maxChannels).contains(g.outChannels)
    }

    /// Channel counts above this are left to the direct convolution (so block counts and the
    /// transformed weights' size cannot overflow).
    static let maxChannels = 1 << 24

    /// `weights`: OIHW [Cout][Cin][3][3] (read, not kept); `bias`: [Cout] or nil. Throws for a
    /// geometry `supports` rejects, sizes that overflow, or allocation failure.
    init(geometry g: Conv2DGeometry, weights w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?,
         activation: FusedActivation, kernels ks: KernelSet) throws(TensorError) {
        guard WinogradConv.supports(g), g.padTop >= 0, g.padLeft >= 0, g.padBottom >= 0, g.padRight >= 0 else {
            throw .shape(.negative([g.kernelH, g.kernelW, g.strideH, g.strideW, g.padTop, g.padLeft]))
        }
        let inB = ChannelBlocks.count(g.inChannels), outB = ChannelBlocks.count(g.outChannels)
        let (pos, o1) = (inB * 16).multipliedReportingOverflow(by: outB * 16)
        let (total, o2) = pos.multipliedReportingOverflow(by: 16)
        guard !o1, !o2, total < Int.max / 8 else { throw .shape(.overflow([g.inChannels, g.outChannels])) }
        guard let raw = alignedAllocate(total * 4) else { throw .outOfMemory(bytes: total * 4) }
        guard let braw = alignedAllocate(outB * 32 * 4) else {
            free(raw)
            throw .outOfMemory(bytes: outB * 128)
        }
        weights = raw.bindMemory(to: Float.self, capacity: total)
        biases = braw.bindMemory(to: Float.self, capacity: outB * 32)
        for c in 0..<(outB * 32) { biases[c] = c < g.outChannels ? b.map { $0[c] } ?? 0 : 0 }
        positionFloats = pos
        geometry = g
        kernels = ks
        self.activation = activation
        epilogue = KernelEpilogue(activation: activation)
        inBlocks = inB
        outBlocks = outB
        WinogradConv.packWeights(g, groupBlocks: ks.nchwc.groupBlocks, weights: w, into: weights, positionFloats: pos)
    }

    deinit { free(weights); free(biases) }

    /// U[p][oc][ci] = (G g Gᵀ)[p] of filter g = W[oc][ci] (3×3), G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
    /// each position packed as a 1×1 convolution's weights.
    static func packWeights(_ g: Conv2DGeometry, groupBlocks: Int, weights w: UnsafePointer<Float>,
                            into dst: UnsafeMutablePointer<Float>, positionFloats: Int) {
        let cin = g.inChannels, cout = g.outChannels
        var u = [Float](repeating: 0, count: 16 * cout * cin)  // [p][oc][ci]
        let plane = cout * cin
        /// G·(a, b, d)ᵀ, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
        func g3(_ a: Double, _ b: Double, _ d: Double) -> (Double, Double, Double, Double) {
            (a, 0.5 * (a + b + d), 0.5 * (a - b + d), d)
        }
        for oc in 0..<cout {
            for ci in 0..<cin {
                let f = w + (oc * cin + ci) * 9
                // Columns of G g (4×3), in Float64; row r of (G g) Gᵀ is G applied to row r of G g.
                let c0 = g3(Double(f[0]), Double(f[3]), Double(f[6]))
                let c1 = g3(Double(f[1]), Double(f[4]), Double(f[7]))
                let c2 = g3(Double(f[2]), Double(f[5]), Double(f[8]))
                let at = oc * cin + ci
                func store(_ r: Int, _ v: (Double, Double, Double, Double)) {
                    u[(r * 4) * plane + at] = Float(v.0)
                    u[(r * 4 + 1) * plane + at] = Float(v.1)
                    u[(r * 4 + 2) * plane + at] = Float(v.2)
                    u[(r * 4 + 3) * plane + at] = Float(v.3)
                }
                store(0, g3(c0.0, c1.0, c2.0))
                store(1, g3(c0.1, c1.1, c2.1))
                store(2, g3(c0.2, c1.2, c2.2))
                store(3, g3(c0.3, c1.3, c2.3))
            }
        }
        let one = Conv2DGeometry(inChannels: cin, outChannels: cout, kernelH: 1, kernelW: 1)
        u.withUnsafeBufferPointer { ub in
            guard let base = ub.baseAddress else { return }
            for p in 0..<16 {
                BlockedConv.packDense(one, planar: false, groupBlocks: groupBlocks, depth: ChannelBlocks.count(cin) * 16,
                                      weights: base + p * plane, into: dst + p * positionFloats)
            }
        }
    }

    /// Whether the Winograd form should run `g` on `batch` maps of oh×ow outputs: it supports
    /// `g`, and a map has at least 32 tiles or the batch at least 128. ResNet-50's 3×3 layers
    /// (per-layer profiles, one thread, ms per image): 0.90 → 0.50–0.59 at 56×56 (64 channels),
    /// 0.90 → 0.48–0.51 at 28×28, 0.91 → 0.54–0.56 at 14×14; at 7×7 (16 tiles for 49 outputs,
    /// and 16 MB of transformed weights per GEMM pass) 1.07 → 1.28 for one image but 0.92 →
    /// 0.66 per image at batch 8. `STALWART_WINOGRAD=0` turns it off.
    public static func preferred(_ g: Conv2DGeometry, oh: Int, ow: Int, batch: Int) -> Bool {
        guard supports(g), enabled, oh > 0, ow > 0, batch > 0, oh < Int(Int32.max), ow < Int(Int32.max) else { return false }
        let tiles = ((oh + 1) / 2) * ((ow + 1) / 2)
        let (all, overflow) = tiles.multipliedReportingOverflow(by: batch)
        return tiles >= 32 || overflow || all >= 128
    }

    /// False when the environment variable `STALWART_WINOGRAD` is `0`.
    static let enabled: Bool = getenv("STALWART_WINOGRAD").map { String(cString: $0) != "0" } ?? true

    /// Bytes of transformed tiles (V and M) a chunk of tile rows takes at most, unless that
    /// leaves it fewer than `minChunkTiles` tiles: at 56×56 (64 channels) 2 MB chunks ran
    /// 0.57–0.64 → 0.50–0.59 ms against 8 MB (V and M stay in L2 between the three passes),
    /// 1 MB cost 14×14 layers 0.06–0.1 ms (their transformed weights are read once per chunk).
    static let defaultChunkBytes = 2 << 20
    /// Tiles a chunk holds at least: the GEMMs read all transformed weights
    /// once per chunk, 16 MB at 512 channels; 7×7 maps at batch 8 ran 0.76 ms per image in
    /// chunks of 2 images and 0.66 in one chunk of 8.
    static let defaultMinChunkTiles = 128
    /// `defaultChunkBytes` and `defaultMinChunkTiles`; tests lower them (before any `run`) to
    /// cover several chunks per image.
    var chunkBytes = WinogradConv.defaultChunkBytes
    var minChunkTiles = WinogradConv.defaultMinChunkTiles

    /// input: blocked [batch][inBlocks][h][w][16]; output: blocked [batch][outBlocks][oh][ow][16];
    /// residual: nil or output-shaped, and may be the output itself (each element is read before
    /// the same element is written). `reverse`: images last to first. Returns false (output
    /// unspecified) when the output size is invalid or scratch memory is lacking.
    ///
    /// The tile rows of all images form one sequence (image by image) cut into chunks of at
    /// most `chunkBytes` of V and M, so small maps of several images share one set of GEMMs.
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?,
             batch: Int, h: Int, w: Int, pool: ThreadPool, reverse: Bool) -> Bool {
        let g = geometry, ks = kernels, nk = ks.nchwc
        guard batch > 0, h > 0, w > 0, h < Int.max / 64 / w, let (oh, ow) = g.outputSize(h: h, w: w) else { return false }
        let th = (oh + 1) / 2, tw = (ow + 1) / 2
        // Tile rows per chunk: V and M of one tile row take 16·(inBlocks + outBlocks)·tw·64 bytes.
        let (rowBytes, o1) = (16 * 64 * (inBlocks + outBlocks)).multipliedReportingOverflow(by: tw)
        let (totalRows, o2) = batch.multipliedReportingOverflow(by: th)
        guard !o1, !o2, rowBytes < Int.max / 4 else { return false }
        let chunkRows = Swift.max(1, Swift.min(totalRows, Swift.max(chunkBytes / rowBytes, ceilDiv(minChunkTiles, tw))))
        let maxTiles = chunkRows * tw
        let inPos = inBlocks * maxTiles * 16, outPos = outBlocks * maxTiles * 16
        let offsetFloats = roundUp(2 * inBlocks, 16)
        let floats = 16 * (inPos + outPos)
        let inPlane = h * w * 16, outPlane = oh * ow * 16
        let inImage = inBlocks * inPlane, outImage = outBlocks * outPlane
        let threads = pool.threadCount
        let (act, after) = epilogue.storeActivation
        let e = epilogue, pt = g.padTop, pl = g.padLeft
        let groups = ceilDiv(outBlocks, nk.groupBlocks)
        let wts = UnsafePointer(weights), bs = UnsafePointer(biases), zeros = UnsafePointer(biases + outBlocks * 16)
        /// Image and tile row of row `r` of the sequence.
        @inline(__always) func locate(_ r: Int) -> (img: Int, ty: Int) {
            let i = r / th
            return (reverse ? batch - 1 - i : i, r % th)
        }
        return ScratchCache.with(bytes: (offsetFloats + floats) * 4) { raw in
            let offsets = raw.bindMemory(to: Int.self, capacity: inBlocks)
            let v = (raw + offsetFloats * 4).bindMemory(to: Float.self, capacity: floats)
            let m = v + 16 * inPos
            var r0 = 0
            while r0 < totalRows {
                let rows = Swift.min(chunkRows, totalRows - r0), tiles = rows * tw
                // V[p]: [inBlocks][tiles][16] at v + p·inPos; M[p]: [outBlocks][tiles][16] at m + p·outPos.
                for t in 0..<inBlocks { offsets[t] = t * tiles * 16 }
                let offs = UnsafePointer(offsets)
                // GEMM tasks: (position, weight group, run of tiles). The pool gives each thread
                // a contiguous range of tasks. Split by tiles (one run per thread, run-major),
                // each thread's V and M stay on its core: the transforms go row by row, so a
                // thread transforms the rows of its own runs and the pixels the previous layer
                // wrote there, but reads all the transformed weights. Split by position (runs
                // only to give every thread several tasks), each thread reads half the weights,
                // and half its V and M from the other core. By tiles when the chunk's V and M
                // outweigh the weights: ResNet-50's 56×56 and 28×28 layers (2 MB against 256 KB
                // and 1 MB), not its 14×14 and 7×7 ones (4 and 16 MB of weights). Two threads on
                // distant cores: the 56×56 layers 0.53 → 0.49 ms and the 1×1 layers around them
                // 0.27–0.30 → 0.21–0.24 (the 28×28 ones 0.37 → 0.41, but ResNet-50 as a whole
                // 19.71 → 19.39 ms, against 19.55 by tiles at 56×56 only).
                let vmBytes = 16 * 64 * (self.inBlocks + self.outBlocks) * tiles
                let byTiles = threads > 1 && vmBytes > 16 * 4 * self.positionFloats
                let want = threads <= 1 ? 1 : byTiles ? threads : ceilDiv(BlockedConv.tasksPerThread * threads, 16 * groups)
                let chunk = Swift.max(nk.tilePixels, roundUp(ceilDiv(tiles, want), nk.tilePixels))
                let chunks = ceilDiv(tiles, chunk)
                let transformIn: (Int) -> Void = { t in
                    let r = t / self.inBlocks, cb = t % self.inBlocks
                    let (img, ty) = locate(r0 + r)
                    ks.winograd.inputRow(input + img * inImage + cb * inPlane, h, w, 2 * ty - pt, -pl, tw,
                                         v + (cb * tiles + r * tw) * 16, inPos)
                }
                let gemm: (Int) -> Void = { t in
                    let p: Int, gi: Int, ci: Int
                    if byTiles {
                        (ci, p, gi) = (t / (16 * groups), (t / groups) % 16, t % groups)
                    } else {
                        (p, gi, ci) = (t / (groups * chunks), (t / chunks) % groups, t % chunks)
                    }
                    let b0 = gi * nk.groupBlocks, x0 = ci * chunk
                    let nb = Swift.min(nk.groupBlocks, self.outBlocks - b0), xn = Swift.min(chunk, tiles - x0)
                    nk.run(xn, nb, self.inBlocks, false, offs, UnsafePointer(v + p * inPos + x0 * 16),
                           wts + p * self.positionFloats + b0 * 16 * self.inBlocks * 16,
                           m + p * outPos + (b0 * tiles + x0) * 16, tiles * 16, zeros + b0 * 16, nil, 0, 0, 0)
                }
                let transformOut: (Int) -> Void = { t in
                    let r = t / self.outBlocks, ob = t % self.outBlocks
                    let (img, ty) = locate(r0 + r)
                    let plane = img * outImage + ob * outPlane, y0 = 2 * ty
                    let dst = output + plane
                    ks.winograd.outputRow(UnsafePointer(m + (ob * tiles + r * tw) * 16), outPos, tw, bs + ob * 16,
                                          residual.map { $0 + plane }, dst, oh, ow, y0, act, e.p0, e.p1)
                    if after { self.activation.apply(to: dst + y0 * ow * 16, count: Swift.min(2, oh - y0) * ow * 16) }
                }
                if threads > 1 {
                    pool.parallelFor(inBlocks * rows, transformIn)
                    pool.parallelFor(16 * groups * chunks, gemm)
                    pool.parallelFor(outBlocks * rows, transformOut)
                } else {
                    for t in 0..<(inBlocks * rows) { transformIn(t) }
                    for t in 0..<(16 * groups * chunks) { gemm(t) }
                    for t in 0..<(outBlocks * rows) { transformOut(t) }
                }
                r0 += rows
            }
        }
    }
}
