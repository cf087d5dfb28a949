import XCTest
@testable import StalwartTensor

/// `BlockedConv` (NCHWc) and the blocked pools/reorders against the plain references, for every
/// ISA this CPU supports. Convolution tolerance as `PackedConv2DTests`:
/// |x − ref| ≤ 1e-4 · (1 + Σ|w·x| + |bias| + |residual|).
final class BlockedConvTests: XCTestCase {
    typealias S = KernelTestSupport
    typealias Case = PackedConv2DTests.Case

    /// Shapes of the blocked path's own edges on top of `PackedConv2DTests.cases`: rows longer
    /// than a tile and not a multiple of it, an odd number of output blocks (a one-block weight
    /// group), Cin past one block with a ragged last block, 1×1 in place over several tiles,
    /// stride 2 and 3, dilation, 1×1 outputs, a 3-channel stem.
    static let extraCases: [Case] = [
        Case(batch: 2, cin: 40, cout: 48, groups: 1, kh: 1, kw: 1, h: 9, w: 11),
        Case(batch: 1, cin: 16, cout: 16, groups: 1, kh: 1, kw: 1, h: 1, w: 1),
        Case(batch: 1, cin: 33, cout: 70, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 7, w: 31),
        Case(batch: 2, cin: 20, cout: 17, groups: 1, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 15, w: 16),
        Case(batch: 1, cin: 18, cout: 40, groups: 1, kh: 1, kw: 1, sh: 2, sw: 2, h: 14, w: 13),
        Case(batch: 1, cin: 24, cout: 24, groups: 1, kh: 3, kw: 3, sh: 3, sw: 3, dh: 2, dw: 2, pads: (2, 0, 1, 3), h: 20, w: 19),
        Case(batch: 1, cin: 3, cout: 64, groups: 1, kh: 7, kw: 7, sh: 2, sw: 2, pads: (3, 3, 3, 3), h: 29, w: 30),
        Case(batch: 2, cin: 48, cout: 48, groups: 48, kh: 5, kw: 5, sh: 2, sw: 2, pads: (2, 2, 2, 2), h: 13, w: 14),
        Case(batch: 1, cin: 64, cout: 32, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 1, w: 1),
        // Depthwise at stride 1 with kw 3 or 5 (the unit-stride row kernel): rows of 8-output
        // groups plus a remainder, vertical dilation, kh ≠ kw, a ragged last block.
        Case(batch: 1, cin: 20, cout: 20, groups: 20, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 9, w: 19),
        Case(batch: 2, cin: 40, cout: 40, groups: 40, kh: 5, kw: 5, pads: (2, 2, 2, 2), h: 7, w: 17),
        Case(batch: 1, cin: 16, cout: 16, groups: 16, kh: 3, kw: 5, dh: 2, pads: (2, 2, 2, 2), h: 12, w: 16),
        Case(batch: 1, cin: 24, cout: 24, groups: 24, kh: 5, kw: 3, pads: (2, 1, 2, 1), h: 10, w: 9),
        // ... and at horizontal stride 2 (the stride-2 row kernel), with a vertical stride of 1 too.
        Case(batch: 1, cin: 20, cout: 20, groups: 20, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 19, w: 37),
        Case(batch: 2, cin: 24, cout: 24, groups: 24, kh: 5, kw: 5, sh: 2, sw: 2, pads: (2, 2, 2, 2), h: 9, w: 35),
        Case(batch: 1, cin: 16, cout: 16, groups: 16, kh: 3, kw: 5, sh: 1, sw: 2, pads: (1, 2, 1, 2), h: 6, w: 40),
        // Rows of 4–7 outputs through the row kernels (8 computed, `ow` stored).
        Case(batch: 2, cin: 36, cout: 36, groups: 36, kh: 5, kw: 5, pads: (2, 2, 2, 2), h: 7, w: 7),
        Case(batch: 1, cin: 16, cout: 16, groups: 16, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 5, w: 4),
        Case(batch: 1, cin: 17, cout: 17, groups: 17, kh: 5, kw: 5, h: 9, w: 9),
        Case(batch: 1, cin: 32, cout: 32, groups: 32, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 12, w: 12),
        // Interiors read in place over several strips (and thread parts), with padded-window
        // borders: TF's SAME at stride 2 (no top/left padding), a 5×5 over 40 rows, dilation.
        Case(batch: 1, cin: 32, cout: 32, groups: 32, kh: 3, kw: 3, sh: 2, sw: 2, pads: (0, 0, 1, 1), h: 24, w: 40),
        Case(batch: 2, cin: 18, cout: 18, groups: 18, kh: 5, kw: 5, pads: (2, 2, 2, 2), h: 40, w: 45),
        Case(batch: 1, cin: 16, cout: 16, groups: 16, kh: 3, kw: 3, dh: 2, dw: 3, pads: (2, 3, 2, 3), h: 11, w: 30),
        // An image large enough (≥ 32K floats) for the padded phase planes to be packed in bands
        // of rows over the threads, odd sizes at stride 2.
        Case(batch: 2, cin: 3, cout: 20, groups: 1, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 0, 1), h: 111, w: 113),
    ]

    func check(_ ks: KernelSet, _ c: Case, planar: Bool, activation: FusedActivation, withBias: Bool,
               withResidual: Bool, pool: ThreadPool, rng: inout S.Rng, inPlace: Bool = false, reverse: Bool = false,
               winograd: Bool = false, chunkTiles: Int? = nil) throws {
        let g = c.geometry
        guard let (oh, ow) = g.outputSize(h: c.h, w: c.w) else { return XCTFail("bad case \(c)") }
        let input = rng.floats(c.batch * c.cin * c.h * c.w)
        let weights = rng.floats(c.cout * (c.cin / c.groups) * c.kh * c.kw)
        let bias = rng.floats(c.cout)
        let outCount = c.batch * c.cout * oh * ow
        let residual = rng.floats(outCount)
        var ref = [Float](repeating: .nan, count: outCount), scale = ref
        let conv = try BlockedConv(geometry: g, weights: weights, bias: withBias ? bias : nil, activation: activation,
                                   planarInput: planar, winograd: winograd, kernels: ks)
        XCTAssertEqual(conv.winograd != nil, winograd, "\(c)")
        if let chunkTiles { conv.winograd?.chunkBytes = 1; conv.winograd?.minChunkTiles = chunkTiles }
        XCTAssertTrue(conv.supports(h: c.h, w: c.w))
        let outBlocks = ChannelBlocks.count(c.cout)
        let blockedIn = planar ? input : Self.blocked(input, batch: c.batch, channels: c.cin, pixels: c.h * c.w)
        let blockedRes = Self.blocked(residual, batch: c.batch, channels: c.cout, pixels: oh * ow)
        var out = [Float](repeating: .nan, count: c.batch * outBlocks * oh * ow * 16)
        let ok: Bool
        if inPlace && withResidual && !conv.isDepthwise {
            // The output written over the residual (as the planner arranges when nothing reads
            // the residual afterwards).
            out = blockedRes
            ok = out.withUnsafeMutableBufferPointer { op in
                conv.run(input: blockedIn, output: op.baseAddress!, residual: UnsafePointer(op.baseAddress!),
                         batch: c.batch, h: c.h, w: c.w, pool: pool, lastImageFirst: reverse)
            }
        } else {
            ok = blockedRes.withUnsafeBufferPointer { rp in
                out.withUnsafeMutableBufferPointer { op in
                    conv.run(input: blockedIn, output: op.baseAddress!, residual: withResidual ? rp.baseAddress : nil,
                             batch: c.batch, h: c.h, w: c.w, pool: pool, lastImageFirst: reverse)
                }
            }
        }
        XCTAssertTrue(ok)
        residual.withUnsafeBufferPointer { rp in
            ref.withUnsafeMutableBufferPointer { op in
                Reference.conv2d(g, batch: c.batch, h: c.h, w: c.w, input: input, weights: weights,
                                 bias: withBias ? bias : nil, residual: withResidual ? rp.baseAddress : nil,
                                 activation: activation, output: op.baseAddress!)
            }
        }
        let absRes = residual.map { abs($0) }
        absRes.withUnsafeBufferPointer { rp in
            scale.withUnsafeMutableBufferPointer { sp in
                Reference.conv2d(g, batch: c.batch, h: c.h, w: c.w, input: input.map { abs($0) },
                                 weights: weights.map { abs($0) }, bias: withBias ? bias.map { abs($0) } : nil,
                                 residual: withResidual ? rp.baseAddress : nil, activation: .none,
                                 output: sp.baseAddress!)
            }
        }
        // Lanes past Cout must be finite (the next blocked convolution multiplies them by 0).
        for img in 0..<c.batch {
            for p in 0..<(oh * ow) {
                for lane in (c.cout - (outBlocks - 1) * 16)..<16 {
                    let v = out[((img * outBlocks + outBlocks - 1) * oh * ow + p) * 16 + lane]
                    if !v.isFinite { return XCTFail("\(ks.isa) \(c): padding lane \(lane) holds \(v)") }
                }
            }
        }
        let got = Self.planes(out, batch: c.batch, channels: c.cout, pixels: oh * ow)
        let (w, wi) = S.worst(got, ref, scale: scale, tol: 1e-4)
        if w > 1 || got.contains(where: { $0.isNaN }) {
            XCTFail("\(ks.isa) planar \(planar) \(c) act \(activation) bias \(withBias) res \(withResidual) threads \(pool.threadCount): "
                    + "worst \(w) at \(wi) got \(wi >= 0 ? got[wi] : .nan) want \(wi >= 0 ? ref[wi] : .nan)")
        }
    }

    /// NCHW → blocked by the plain definition (lanes past `channels` zero).
    static func blocked(_ x: [Float], batch: Int, channels: Int, pixels: Int) -> [Float] {
        let blocks = ChannelBlocks.count(channels)
        var out = [Float](repeating: 0, count: batch * blocks * pixels * 16)
        for n in 0..<batch {
            for c in 0..<channels {
                for p in 0..<pixels { out[((n * blocks + c / 16) * pixels + p) * 16 + c % 16] = x[(n * channels + c) * pixels + p] }
            }
        }
        return out
    }

    /// Blocked → NCHW by the plain definition.
    static func planes(_ x: [Float], batch: Int, channels: Int, pixels: Int) -> [Float] {
        let blocks = ChannelBlocks.count(channels)
        var out = [Float](repeating: 0, count: batch * channels * pixels)
        for n in 0..<batch {
            for c in 0..<channels {
                for p in 0..<pixels { out[(n * channels + c) * pixels + p] = x[((n * blocks + c / 16) * pixels + p) * 16 + c % 16] }
            }
        }
        return out
    }

    /// Every ungrouped or depthwise case, blocked and (dense) planar input, every activation
    /// over the cases, with and without bias and residual, one and two threads.
    func testAllCasesAllISAs() throws {
        let cases = (PackedConv2DTests.cases + Self.extraCases).filter { BlockedConv.supports($0.geometry) }
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            for ks in S.kernelSets {
                var rng = S.Rng(99)
                for (i, c) in cases.enumerated() {
                    for planar in c.groups == 1 ? [false, true] : [false] {
                        let act = PackedConv2DTests.activations[(i + (planar ? 3 : 0)) % PackedConv2DTests.activations.count]
                        // Every fourth case writes its output over the residual; odd ones run images last to first.
                        try check(ks, c, planar: planar, activation: act, withBias: i % 2 == 0,
                                  withResidual: (i + (planar ? 1 : 0)) % 3 != 1, pool: pool, rng: &rng,
                                  inPlace: i % 4 == 0, reverse: i % 2 == 1)
                    }
                }
            }
        }
    }

    /// The Winograd F(2×2, 3×3) form against the plain convolution: odd and even sizes (ragged
    /// last tiles in both directions), no, symmetric and asymmetric padding (wider than the
    /// kernel's reach too), a 1×1 input, channels not a multiple of 16, every activation
    /// (codes above 2 applied after the transform), residual written in place, images in
    /// reverse, chunks of tile rows within and across images, GEMMs split by tiles and by position,
    /// one to three threads, every ISA.
    func testWinogradAgainstReference() throws {
        let cases: [Case] = [
            Case(batch: 2, cin: 33, cout: 70, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 7, w: 9),
            Case(batch: 1, cin: 16, cout: 16, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 16, w: 16),
            Case(batch: 1, cin: 40, cout: 17, groups: 1, kh: 3, kw: 3, h: 9, w: 12),
            Case(batch: 2, cin: 3, cout: 48, groups: 1, kh: 3, kw: 3, pads: (2, 1, 0, 2), h: 11, w: 8),
            Case(batch: 1, cin: 20, cout: 32, groups: 1, kh: 3, kw: 3, pads: (0, 3, 2, 0), h: 5, w: 6),
            Case(batch: 1, cin: 64, cout: 32, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 1, w: 1),
            Case(batch: 1, cin: 17, cout: 33, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 3, w: 2),
            // Weights outweigh the transformed tiles: the GEMMs split by position (and, on three
            // threads, into runs of tiles as well).
            Case(batch: 1, cin: 64, cout: 64, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 10, w: 10),
        ]
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threads: threads)
            for ks in S.kernelSets {
                var rng = S.Rng(7)
                for (i, c) in cases.enumerated() {
                    // Default chunks (all images' tile rows at once here), one tile row per chunk,
                    // and chunks of three tile rows that straddle images.
                    for (j, chunk) in [nil, 1, 13].enumerated() {
                        let k = i + j
                        let act = PackedConv2DTests.activations[k % PackedConv2DTests.activations.count]
                        try check(ks, c, planar: false, activation: act, withBias: k % 2 == 0, withResidual: k % 3 != 1,
                                  pool: pool, rng: &rng, inPlace: k % 4 == 0, reverse: k % 2 == 1, winograd: true,
                                  chunkTiles: chunk)
                    }
                }
            }
        }
    }

    /// The image order of a batch pass is a permutation; reversed, it stays within each thread's
    /// share of the batch when the threads divide it (so an image keeps its thread).
    func testImageOrder() {
        for batch in 1...9 {
            for threads in 1...4 {
                for reverse in [false, true] {
                    let order = (0..<batch).map { BlockedConv.image($0, batch: batch, threads: threads, reverse: reverse) }
                    XCTAssertEqual(order.sorted(), Array(0..<batch), "\(batch) \(threads) \(reverse)")
                    if !reverse { XCTAssertEqual(order, Array(0..<batch)) }
                    if reverse && threads > 1 && batch % threads == 0 {
                        let share = batch / threads
                        for i in 0..<batch { XCTAssertEqual(order[i] / share, i / share, "\(batch) \(threads) \(i)") }
                        XCTAssertEqual(order[0], share - 1)
                    }
                }
            }
        }
        XCTAssertEqual((0..<4).map { BlockedConv.image($0, batch: 4, threads: 1, reverse: true) }, [3, 2, 1, 0])
    }

    /// The Winograd form is chosen only where measured faster, and never for what it cannot run.
    func testWinogradPolicy() {
        let g = Conv2DGeometry(inChannels: 64, outChannels: 64, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        XCTAssertEqual(WinogradConv.preferred(g, oh: 56, ow: 56, batch: 1), WinogradConv.enabled)
        XCTAssertEqual(WinogradConv.preferred(g, oh: 14, ow: 14, batch: 1), WinogradConv.enabled)
        XCTAssertFalse(WinogradConv.preferred(g, oh: 7, ow: 7, batch: 1))
        XCTAssertEqual(WinogradConv.preferred(g, oh: 7, ow: 7, batch: 8), WinogradConv.enabled)
        XCTAssertFalse(WinogradConv.preferred(g, oh: 0, ow: 7, batch: 8))
        var s2 = g; s2.strideH = 2; s2.strideW = 2
        var d2 = g; d2.dilationH = 2
        var g2 = g; g2.groups = 2
        var k5 = g; k5.kernelH = 5; k5.kernelW = 5
        for other in [s2, d2, g2, k5] { XCTAssertFalse(WinogradConv.preferred(other, oh: 56, ow: 56, batch: 1), "\(other)") }
    }

    /// A NaN input stays NaN through fused ReLU/clip, and only where it is read; the Winograd
    /// form may also spread it to the other outputs of the 2×2 tiles that read it (never
    /// further than one pixel past the direct convolution's footprint).
    func testNaNPropagates() throws {
        let pool = ThreadPool(threads: 1)
        for ks in S.kernelSets {
            for (c, winograd) in [(Case(batch: 1, cin: 20, cout: 37, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 6, w: 7), false),
                                  (Case(batch: 1, cin: 20, cout: 37, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 6, w: 7), true),
                                  (Case(batch: 1, cin: 20, cout: 20, groups: 20, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 6, w: 7), false)] {
                for act in [FusedActivation.relu, .clip(min: 0, max: 6)] {
                    var input = [Float](repeating: 0.5, count: c.cin * c.h * c.w)
                    input[2 * c.h * c.w + 3 * c.w + 4] = .nan  // channel 2, (3, 4)
                    let conv = try BlockedConv(geometry: c.geometry, weights: [Float](repeating: 0.1, count: c.cout * (c.cin / c.groups) * 9),
                                               bias: nil, activation: act, planarInput: false, winograd: winograd, kernels: ks)
                    let bin = Self.blocked(input, batch: 1, channels: c.cin, pixels: c.h * c.w)
                    var out = [Float](repeating: 0, count: ChannelBlocks.count(c.cout) * c.h * c.w * 16)
                    _ = out.withUnsafeMutableBufferPointer { conv.run(input: bin, output: $0.baseAddress!, residual: nil, batch: 1, h: c.h, w: c.w, pool: pool) }
                    let got = Self.planes(out, batch: 1, channels: c.cout, pixels: c.h * c.w)
                    for co in 0..<c.cout {
                        for y in 0..<c.h {
                            for x in 0..<c.w {
                                let reads = (c.groups == 1 || co == 2) && abs(y - 3) <= 1 && abs(x - 4) <= 1
                                let isNaN = got[(co * c.h + y) * c.w + x].isNaN
                                let msg = "\(ks.isa) \(c.groups) winograd \(winograd) \(act) co \(co) (\(y), \(x))"
                                if winograd {
                                    if reads { XCTAssertTrue(isNaN, msg) }
                                    if abs(y - 3) > 2 || abs(x - 4) > 2 { XCTAssertFalse(isNaN, msg) }
                                } else {
                                    XCTAssertEqual(isNaN, reads, msg)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Window arithmetic that would overflow gives no output size (and no trap), and the
    /// blocked form refuses such a geometry; the same kernel at sane sizes still has one.
    func testHugeGeometryHasNoOutputSize() throws {
        let big = 1 << 62
        let w = [Float](repeating: 1, count: 4 * 3 * 9)
        for g in [Conv2DGeometry(inChannels: 3, outChannels: 4, kernelH: 3, kernelW: 3, dilationH: big),
                  Conv2DGeometry(inChannels: 3, outChannels: 4, kernelH: 3, kernelW: 3, strideW: big),
                  Conv2DGeometry(inChannels: 3, outChannels: 4, kernelH: 3, kernelW: 3, padBottom: big)] {
            XCTAssertNil(g.outputSize(h: 8, w: 8), "\(g)")
            let conv = try BlockedConv(geometry: g, weights: w, bias: nil, activation: .none, planarInput: true)
            XCTAssertFalse(conv.supports(h: 8, w: 8), "\(g)")
        }
        let sane = Conv2DGeometry(inChannels: 3, outChannels: 4, kernelH: 3, kernelW: 3)
        XCTAssertNil(sane.outputSize(h: big, w: 8))
        XCTAssertTrue(sane.outputSize(h: 8, w: 8).map { $0 == (6, 6) } ?? false)
    }

    /// Reorders are exact both ways, over ragged channel counts and 1 or 2 threads.
    func testReorderRoundTrip() {
        var rng = S.Rng(5)
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            for (n, c, p) in [(1, 3, 50), (2, 16, 49), (3, 37, 17), (1, 64, 3136)] {
                let x = rng.floats(n * c * p)
                var b = [Float](repeating: .nan, count: n * ChannelBlocks.count(c) * p * 16)
                var back = [Float](repeating: .nan, count: x.count)
                b.withUnsafeMutableBufferPointer { TensorOps.toBlocked(x, $0.baseAddress!, batch: n, channels: c, pixels: p, pool: pool) }
                XCTAssertEqual(b, Self.blocked(x, batch: n, channels: c, pixels: p))
                back.withUnsafeMutableBufferPointer { TensorOps.fromBlocked(b, $0.baseAddress!, batch: n, channels: c, pixels: p, pool: pool) }
                XCTAssertEqual(back, x)
            }
        }
    }

    /// The blocked max pool equals the NCHW pool bit for bit (NaN, ±0 ties, empty windows
    /// included); the blocked global average pool equals NumPy-style means within 1e-6 relative.
    func testBlockedPools() {
        var rng = S.Rng(8)
        let pool = ThreadPool(threads: 2)
        // (n, c, h, w, kernel, stride, dilation, padsBegin, padsEnd)
        let geos: [(Int, Int, Int, Int, [Int], [Int], [Int], [Int], [Int])] = [
            (1, 64, 112, 112, [3, 3], [2, 2], [1, 1], [1, 1], [1, 1]),
            (2, 20, 9, 11, [2, 3], [1, 2], [1, 1], [0, 1], [1, 2]),
            (1, 5, 7, 8, [3, 2], [2, 1], [2, 2], [2, 0], [2, 3]),
            (1, 17, 4, 4, [5, 5], [3, 3], [1, 1], [4, 4], [4, 4]),
        ]
        for (n, c, h, w, k, s, d, pb, pe) in geos {
            var x = rng.floats(n * c * h * w)
            for i in stride(from: 0, to: x.count, by: 37) { x[i] = .nan }
            for i in stride(from: 5, to: x.count, by: 29) { x[i] = i % 2 == 0 ? 0 : -0.0 }
            var out = [Int](repeating: 0, count: 2)
            for a in 0..<2 {
                let ek = d[a] * (k[a] - 1) + 1
                out[a] = ([h, w][a] + pb[a] + pe[a] - ek) / s[a] + 1
            }
            var ref = [Float](repeating: 0, count: n * c * out[0] * out[1])
            ref.withUnsafeMutableBufferPointer {
                TensorOps.pool(x, shape: [n, c, h, w], kind: .max, kernel: k, strides: s, dilations: d, padsBegin: pb,
                               padsEnd: pe, outSpatial: out, output: $0.baseAddress!, pool: pool, fastPaths: false)
            }
            let bx = Self.blocked(x, batch: n, channels: c, pixels: h * w)
            var bo = [Float](repeating: 0, count: n * ChannelBlocks.count(c) * out[0] * out[1] * 16)
            bo.withUnsafeMutableBufferPointer {
                TensorOps.maxPoolBlocked(bx, planes: n * ChannelBlocks.count(c), h: h, w: w, kernel: k, strides: s, dilations: d,
                                         padsBegin: pb, padsEnd: pe, outH: out[0], outW: out[1], output: $0.baseAddress!, pool: pool)
            }
            let got = Self.planes(bo, batch: n, channels: c, pixels: out[0] * out[1])
            XCTAssertEqual(got.map(\.bitPattern), ref.map(\.bitPattern), "max pool \(n) \(c) \(h)×\(w) k \(k) s \(s) d \(d)")

            let y = rng.floats(n * c * h * w)
            var means = [Float](repeating: 0, count: n * c)
            means.withUnsafeMutableBufferPointer {
                TensorOps.globalAveragePoolBlocked(Self.blocked(y, batch: n, channels: c, pixels: h * w), batch: n, channels: c,
                                                   pixels: h * w, output: $0.baseAddress!, pool: pool)
            }
            for p in 0..<(n * c) {
                var s = 0.0, a = 0.0
                for i in 0..<(h * w) { s += Double(y[p * h * w + i]); a += abs(Double(y[p * h * w + i])) }
                XCTAssertEqual(Double(means[p]), s / Double(h * w), accuracy: 1e-6 * (1 + a / Double(h * w)))
            }
        }
    }
}
