import XCTest
@testable import StalwartTensor

/// PackedConv2D vs `Reference.conv2d` for every ISA this CPU supports.
/// Tolerance: |x − ref| ≤ 1e-4 · (1 + Σ|w·x| + |bias| + |residual|) — float sums in another
/// order, and the vectorized sigmoid's exp (≈ 2 ulp).
final class PackedConv2DTests: XCTestCase {
    typealias S = KernelTestSupport

    struct Case {
        var batch: Int, cin: Int, cout: Int, groups: Int
        var kh: Int, kw: Int, sh: Int = 1, sw: Int = 1, dh: Int = 1, dw: Int = 1
        var pads: (Int, Int, Int, Int) = (0, 0, 0, 0)  // top, left, bottom, right
        var h: Int, w: Int
        var geometry: Conv2DGeometry {
            Conv2DGeometry(inChannels: cin, outChannels: cout, groups: groups, kernelH: kh, kernelW: kw,
                           strideH: sh, strideW: sw, dilationH: dh, dilationW: dw,
                           padTop: pads.0, padLeft: pads.1, padBottom: pads.2, padRight: pads.3)
        }
    }

    static let activations: [FusedActivation] = [
        .none, .relu, .clip(min: 0, max: 6), .leakyRelu(alpha: 0.1),
        .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSwish, .sigmoid,
    ]

    static let cases: [Case] = [
        // Pointwise (GEMM on the input), channels not multiples of 16, K > 256, N > 512.
        Case(batch: 1, cin: 3, cout: 5, groups: 1, kh: 1, kw: 1, h: 7, w: 9),
        Case(batch: 3, cin: 17, cout: 33, groups: 1, kh: 1, kw: 1, h: 13, w: 11),
        Case(batch: 1, cin: 300, cout: 40, groups: 1, kh: 1, kw: 1, h: 30, w: 25),
        Case(batch: 2, cin: 24, cout: 144, groups: 1, kh: 1, kw: 1, h: 1, w: 1),
        // 1×1 with stride / padding (im2col path).
        Case(batch: 1, cin: 8, cout: 12, groups: 1, kh: 1, kw: 1, sh: 2, sw: 2, h: 9, w: 7),
        Case(batch: 2, cin: 5, cout: 7, groups: 1, kh: 1, kw: 1, pads: (1, 0, 2, 1), h: 6, w: 5),
        // General.
        Case(batch: 3, cin: 5, cout: 7, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 10, w: 12),
        Case(batch: 1, cin: 6, cout: 10, groups: 1, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 15, w: 13),
        Case(batch: 1, cin: 3, cout: 32, groups: 1, kh: 3, kw: 3, sh: 2, sw: 2, pads: (0, 0, 1, 1), h: 33, w: 31),
        Case(batch: 1, cin: 4, cout: 6, groups: 1, kh: 3, kw: 3, dh: 2, dw: 2, pads: (2, 2, 2, 2), h: 11, w: 9),
        Case(batch: 1, cin: 3, cout: 4, groups: 1, kh: 3, kw: 2, sh: 1, sw: 2, pads: (0, 1, 2, 0), h: 8, w: 10),
        Case(batch: 1, cin: 3, cout: 16, groups: 1, kh: 7, kw: 7, sh: 2, sw: 2, pads: (3, 3, 3, 3), h: 23, w: 21),
        Case(batch: 1, cin: 40, cout: 20, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 9, w: 9),
        // Small images split over output channels on 2 threads: columns packed once, shared (2 k blocks, 4 units).
        Case(batch: 2, cin: 64, cout: 64, groups: 2, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 6, w: 5),
        Case(batch: 1, cin: 2, cout: 3, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 1, w: 1),
        Case(batch: 1, cin: 2, cout: 3, groups: 1, kh: 5, kw: 5, h: 5, w: 5),
        // Grouped.
        Case(batch: 2, cin: 6, cout: 10, groups: 2, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 9, w: 8),
        Case(batch: 1, cin: 8, cout: 8, groups: 4, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 11, w: 10),
        Case(batch: 1, cin: 8, cout: 16, groups: 8, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 7, w: 7),  // multiplier 2
        // Depthwise.
        Case(batch: 1, cin: 19, cout: 19, groups: 19, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 17, w: 23),
        Case(batch: 2, cin: 21, cout: 21, groups: 21, kh: 3, kw: 3, sh: 2, sw: 2, pads: (0, 0, 1, 1), h: 18, w: 18),
        Case(batch: 1, cin: 10, cout: 10, groups: 10, kh: 5, kw: 5, pads: (2, 2, 2, 2), h: 14, w: 14),
        Case(batch: 3, cin: 9, cout: 9, groups: 9, kh: 5, kw: 5, sh: 2, sw: 2, pads: (1, 1, 2, 2), h: 15, w: 15),
        Case(batch: 1, cin: 5, cout: 5, groups: 5, kh: 7, kw: 7, dh: 2, dw: 2, pads: (6, 6, 6, 6), h: 9, w: 35),
        Case(batch: 1, cin: 4, cout: 4, groups: 4, kh: 3, kw: 3, sh: 3, sw: 3, pads: (0, 2, 1, 0), h: 13, w: 40),
        Case(batch: 1, cin: 7, cout: 7, groups: 7, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 1, w: 1),
        Case(batch: 1, cin: 3, cout: 3, groups: 3, kh: 1, kw: 1, h: 4, w: 33),
        Case(batch: 2, cin: 32, cout: 32, groups: 32, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 56, w: 56),
    ]

    func check(_ ks: KernelSet, _ c: Case, activation: FusedActivation, withBias: Bool, withResidual: Bool,
               pool: ThreadPool, rng: inout S.Rng, pixelRows: Int? = nil, direct: Int? = nil,
               blocked: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let g = c.geometry
        guard let (oh, ow) = g.outputSize(h: c.h, w: c.w) else { return XCTFail("bad case \(c)") }
        let input = rng.floats(c.batch * c.cin * c.h * c.w)
        let weights = rng.floats(c.cout * (c.cin / c.groups) * c.kh * c.kw)
        let bias = rng.floats(c.cout)
        let outCount = c.batch * c.cout * oh * ow
        let residual = rng.floats(outCount)
        var out = [Float](repeating: .nan, count: outCount)
        var ref = out, scale = out

        let conv = try PackedConv2D(geometry: g, weights: weights, bias: withBias ? bias : nil,
                                    activation: activation, kernels: ks)
        if let pixelRows { conv.pixelRowsMaxPixels = pixelRows }
        if let direct { conv.directMode = direct }
        if let blocked { conv.depthwiseBlockedMode = blocked }
        let bytes = conv.scratchByteCount(batch: c.batch, h: c.h, w: c.w, threads: pool.threadCount)
        let scratch = alignedAllocate(bytes)
        defer { free(scratch) }
        residual.withUnsafeBufferPointer { rp in
            let res = withResidual ? rp.baseAddress : nil
            out.withUnsafeMutableBufferPointer { op in
                conv.run(input: input, output: op.baseAddress!, residual: res, batch: c.batch, h: c.h, w: c.w,
                         scratch: scratch, pool: pool)
            }
            ref.withUnsafeMutableBufferPointer { op in
                Reference.conv2d(g, batch: c.batch, h: c.h, w: c.w, input: input, weights: weights,
                                 bias: withBias ? bias : nil, residual: res, activation: activation,
                                 output: op.baseAddress!)
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
        let (w, wi) = S.worst(out, ref, scale: scale, tol: 1e-4)
        if w > 1 || out.contains(where: { $0.isNaN }) {
            XCTFail("\(ks.isa) \(conv.path) pixel rows ≤ \(conv.pixelRowsMaxPixels) direct \(conv.directMode) blocked \(conv.depthwiseBlockedMode) \(c) act \(activation) bias \(withBias) res \(withResidual): "
                    + "worst \(w) at \(wi) got \(wi >= 0 ? out[wi] : .nan) want \(wi >= 0 ? ref[wi] : .nan)",
                    file: file, line: line)
        }
    }

    /// Every case on the default paths, then on each formulation forced: columns (pixel rows,
    /// direct and channel-blocked depthwise off), pixel rows with channel-blocked depthwise,
    /// direct.
    func testAllCasesAllISAs() throws {
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            for ks in S.kernelSets {
                for (pixelRows, direct, blocked) in [(nil, nil, nil), (0, 0, 0), (Int.max, 0, 2), (0, 2, 0)]
                        as [(Int?, Int?, Int?)] {
                    var rng = S.Rng(1234)
                    for (i, c) in Self.cases.enumerated() {
                        let act = Self.activations[i % Self.activations.count]
                        try check(ks, c, activation: act, withBias: i % 2 == 0, withResidual: i % 3 != 1,
                                  pool: pool, rng: &rng, pixelRows: pixelRows, direct: direct, blocked: blocked)
                    }
                }
            }
        }
    }

    /// The pixel-rows path's own edges: pixels of several images in one 14-row panel, K over
    /// several 256-blocks, Cout not a multiple of 32, 1×1 outputs, every activation.
    func testPixelRowsPath() throws {
        let pool = ThreadPool(threads: 2)
        let shapes = [
            Case(batch: 3, cin: 300, cout: 45, groups: 1, kh: 1, kw: 1, h: 5, w: 3),
            Case(batch: 5, cin: 64, cout: 33, groups: 1, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 7, w: 7),
            Case(batch: 2, cin: 17, cout: 70, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 1, w: 1),
            Case(batch: 1, cin: 40, cout: 2, groups: 1, kh: 2, kw: 3, dh: 2, dw: 1, pads: (0, 1, 2, 0), h: 6, w: 5),
        ]
        for ks in S.kernelSets {
            var rng = S.Rng(7)
            for c in shapes {
                for act in Self.activations {
                    try check(ks, c, activation: act, withBias: true, withResidual: true, pool: pool, rng: &rng,
                              pixelRows: Int.max)
                }
            }
        }
    }

    /// The direct path's own edges: strides 2 and 3 (phase planes, some unused), dilation with
    /// stride, asymmetric and oversized padding, kernels wider than the input, outputs of one
    /// row or column, K over several 256-blocks, Cout not a multiple of 14, batches, one and two
    /// threads (tiles split over output channels and columns), every activation over the shapes.
    func testDirectPath() throws {
        let shapes = [
            Case(batch: 3, cin: 7, cout: 45, groups: 1, kh: 3, kw: 3, sh: 3, sw: 2, pads: (2, 0, 1, 2), h: 17, w: 23),
            Case(batch: 1, cin: 5, cout: 9, groups: 1, kh: 3, kw: 2, sh: 2, sw: 2, dh: 2, dw: 3, pads: (1, 2, 0, 1), h: 13, w: 12),
            Case(batch: 2, cin: 40, cout: 30, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 3, w: 41),
            Case(batch: 1, cin: 3, cout: 17, groups: 1, kh: 5, kw: 5, pads: (4, 4, 4, 4), h: 2, w: 3),
            Case(batch: 2, cin: 300, cout: 33, groups: 1, kh: 1, kw: 1, sh: 2, sw: 2, h: 9, w: 8),
            Case(batch: 1, cin: 31, cout: 70, groups: 1, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 30, w: 1),
            Case(batch: 1, cin: 2, cout: 64, groups: 1, kh: 7, kw: 7, sh: 2, sw: 2, pads: (3, 3, 3, 3), h: 25, w: 27),
            Case(batch: 1, cin: 64, cout: 20, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 40, w: 37),
        ]
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            for ks in S.kernelSets {
                var rng = S.Rng(11)
                for (n, c) in shapes.enumerated() {
                    for i in [n, n + 3] {  // two activations per shape, all seven over the shapes
                        let act = Self.activations[i % Self.activations.count]
                        try check(ks, c, activation: act, withBias: i % 2 == 0, withResidual: i % 3 != 2, pool: pool,
                                  rng: &rng, direct: 2)
                    }
                }
            }
        }
    }

    /// A NaN input stays NaN through ReLU and ReLU6 on every path and ISA (ONNX Runtime
    /// propagates it; a `x > 0 ? x : 0` ReLU silently turned it into 0), and does not leak
    /// into outputs that do not read it.
    func testNaNPropagatesThroughFusedActivations() throws {
        let pool = ThreadPool(threads: 2)
        let shapes = [
            Case(batch: 2, cin: 20, cout: 37, groups: 1, kh: 1, kw: 1, h: 6, w: 7),           // pointwise
            Case(batch: 2, cin: 6, cout: 9, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 9, w: 9),  // general
            Case(batch: 2, cin: 12, cout: 12, groups: 12, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 8, w: 8),  // depthwise
        ]
        for ks in S.kernelSets {
            for c in shapes {
                for (pixelRows, direct) in [(0, 0), (Int.max, 0), (0, 2)] {
                  for blocked in [0, 2] {
                    for act in [FusedActivation.relu, .clip(min: 0, max: 6)] {
                        let g = c.geometry
                        guard let (oh, ow) = g.outputSize(h: c.h, w: c.w) else { return XCTFail("bad case") }
                        var rng = S.Rng(5)
                        var input = rng.floats(c.batch * c.cin * c.h * c.w)
                        input[0] = .nan  // image 0, channel 0, pixel (0, 0)
                        let weights = rng.floats(c.cout * (c.cin / c.groups) * c.kh * c.kw)
                        let conv = try PackedConv2D(geometry: g, weights: weights, bias: nil, activation: act, kernels: ks)
                        conv.pixelRowsMaxPixels = pixelRows
                        conv.directMode = direct
                        conv.depthwiseBlockedMode = blocked
                        var out = [Float](repeating: 0, count: c.batch * c.cout * oh * ow)
                        out.withUnsafeMutableBufferPointer { op in
                            conv.run(input: input, output: op.baseAddress!, residual: nil, batch: c.batch, h: c.h, w: c.w,
                                     scratch: nil, pool: pool)
                        }
                        // Output (image 0, channel co, pixel (0, 0)) reads the NaN for every co
                        // the first input channel feeds (all of them, or channel 0 when depthwise).
                        let fed = g.groups == 1 ? c.cout : 1
                        for co in 0..<fed {
                            XCTAssertTrue(out[co * oh * ow].isNaN, "\(ks.isa) \(conv.path) \(act) pixel rows \(pixelRows) direct \(direct) blocked \(blocked) channel \(co)")
                        }
                        let imageFloats = c.cout * oh * ow
                        XCTAssertFalse(out[imageFloats...].contains { $0.isNaN }, "\(ks.isa) \(conv.path): NaN leaked into image 1")
                    }
                  }
                }
            }
        }
    }

    func testEveryActivationOnEachPath() throws {
        let pool = ThreadPool(threads: 2)
        let shapes = [
            Case(batch: 1, cin: 20, cout: 23, groups: 1, kh: 1, kw: 1, h: 6, w: 7),
            Case(batch: 1, cin: 20, cout: 20, groups: 20, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 6, w: 19),
            Case(batch: 2, cin: 6, cout: 9, groups: 3, kh: 3, kw: 3, sh: 2, sw: 2, pads: (1, 1, 1, 1), h: 7, w: 9),
        ]
        for ks in S.kernelSets {
            var rng = S.Rng(99)
            for c in shapes {
                for act in Self.activations {
                    for (b, r) in [(true, true), (false, false), (true, false)] {
                        try check(ks, c, activation: act, withBias: b, withResidual: r, pool: pool, rng: &rng)
                    }
                }
            }
        }
    }

    /// Several threads share one PackedConv2D and pool, each with its own scratch and output.
    func testConcurrentRuns() throws {
        let pool = ThreadPool(threads: 2)
        let c = Case(batch: 2, cin: 16, cout: 24, groups: 1, kh: 3, kw: 3, pads: (1, 1, 1, 1), h: 20, w: 20)
        var rng = S.Rng(5)
        let input = rng.floats(c.batch * c.cin * c.h * c.w)
        let weights = rng.floats(c.cout * c.cin * 9)
        let conv = try PackedConv2D(geometry: c.geometry, weights: weights, bias: nil, activation: .relu)
        let n = c.batch * c.cout * c.h * c.w
        var ref = [Float](repeating: 0, count: n)
        ref.withUnsafeMutableBufferPointer { op in
            Reference.conv2d(c.geometry, batch: c.batch, h: c.h, w: c.w, input: input, weights: weights,
                             bias: nil, residual: nil, activation: .relu, output: op.baseAddress!)
        }
        let bytes = conv.scratchByteCount(batch: c.batch, h: c.h, w: c.w, threads: pool.threadCount)
        let bad = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        bad.initialize(repeating: 0, count: 4)
        defer { bad.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            let out = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { out.deallocate() }
            let scratch = alignedAllocate(bytes)
            defer { free(scratch) }
            for _ in 0..<20 {
                conv.run(input: input, output: out, residual: nil, batch: c.batch, h: c.h, w: c.w,
                         scratch: scratch, pool: pool)
                for i in 0..<n where abs(out[i] - ref[i]) > 1e-4 * (1 + abs(ref[i])) * 10 {
                    bad[t] += 1
                    break
                }
            }
        }
        XCTAssertEqual((0..<4).map { bad[$0] }, [0, 0, 0, 0])
    }

    func testInvalidGeometryThrows() {
        let w = [Float](repeating: 1, count: 64)
        XCTAssertThrowsError(try PackedConv2D(
            geometry: Conv2DGeometry(inChannels: 3, outChannels: 4, groups: 2, kernelH: 1, kernelW: 1),
            weights: w, bias: nil, activation: .none))
        XCTAssertThrowsError(try PackedConv2D(
            geometry: Conv2DGeometry(inChannels: 2, outChannels: 2, kernelH: 0, kernelW: 1),
            weights: w, bias: nil, activation: .none))
        XCTAssertThrowsError(try PackedConv2D(
            geometry: Conv2DGeometry(inChannels: 2, outChannels: 2, kernelH: 1, kernelW: 1, strideH: 0),
            weights: w, bias: nil, activation: .none))
    }

    /// A window larger than the padded input yields no output and must not touch memory.
    func testEmptyOutput() throws {
        let g = Conv2DGeometry(inChannels: 1, outChannels: 1, kernelH: 5, kernelW: 5)
        let conv = try PackedConv2D(geometry: g, weights: [Float](repeating: 1, count: 25), bias: nil,
                                    activation: .none)
        XCTAssertEqual(conv.scratchByteCount(batch: 1, h: 3, w: 3, threads: 2), 0)
        let input = [Float](repeating: 1, count: 9)
        var out: [Float] = [42]
        out.withUnsafeMutableBufferPointer { op in
            conv.run(input: input, output: op.baseAddress!, residual: nil, batch: 1, h: 3, w: 3, scratch: nil,
                     pool: ThreadPool(threads: 1))
        }
        XCTAssertEqual(out, [42])
    }
}
