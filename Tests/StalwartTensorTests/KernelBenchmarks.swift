import Foundation
import XCTest
@testable import StalwartTensor

/// Timing of the compute kernels; prints GFLOP/s, asserts nothing. Skipped unless
/// STALWART_BENCH=1 (run it with benchmarks/kernels/run.sh, a release build).
final class KernelBenchmarks: XCTestCase {
    typealias S = KernelTestSupport

    override func setUpWithError() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["STALWART_BENCH"] == "1",
                          "set STALWART_BENCH=1 to run the kernel benchmarks")
    }

    /// The kernel sets to time: every supported one, or only `STALWART_BENCH_ISA` when set.
    var benchKernelSets: [KernelSet] {
        let only = ProcessInfo.processInfo.environment["STALWART_BENCH_ISA"]
        return S.kernelSets.filter { only == nil || $0.isa.rawValue == only }
    }

    /// Best-of time in seconds of `body` (one warm-up call).
    func time(_ reps: Int = 7, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        return best
    }

    func report(_ what: String, flops: Double, bytes: Double, seconds: Double) {
        print(String(format: "BENCH %-52@ %8.1f GFLOP/s %7.1f GB/s %9.1f us", what as NSString,
                     flops / seconds * 1e-9, bytes / seconds * 1e-9, seconds * 1e6))
    }

    func testSgemm() {
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            for ks in benchKernelSets {
                for (m, n, k, tA, tB) in [(256, 256, 256, false, false), (512, 512, 512, false, false),
                                          (1024, 1024, 1024, false, false), (256, 256, 256, true, true),
                                          (1, 1000, 1280, false, true), (64, 3136, 147, false, false)] {
                    var rng = S.Rng(1)
                    let a = rng.floats(m * k), b = rng.floats(k * n)
                    var c = [Float](repeating: 0, count: m * n)
                    let t = time {
                        c.withUnsafeMutableBufferPointer { cp in
                            Sgemm.run(transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1, a: a, lda: tA ? m : k,
                                      b: b, ldb: tB ? k : n, beta: 0, c: cp.baseAddress!, ldc: n, pool: pool,
                                      kernels: ks)
                        }
                    }
                    report("sgemm \(ks.isa) \(threads)T \(m)x\(n)x\(k) tA\(tA ? 1 : 0) tB\(tB ? 1 : 0)",
                           flops: 2.0 * Double(m * n * k), bytes: 4.0 * Double(m * k + k * n + m * n), seconds: t)
                }
            }
        }
    }

    /// `pixelRows`: nil = the path `PackedConv2D` chooses, 0 = columns, `Int.max` = pixel rows.
    func conv(_ name: String, _ g: Conv2DGeometry, h: Int, w: Int, batch: Int = 1,
              activation: FusedActivation = .relu, pixelRows: Int? = nil, direct: Int? = nil,
              blocked: Int? = nil) throws {
        guard let (oh, ow) = g.outputSize(h: h, w: w) else { return }
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            for ks in benchKernelSets {
                var rng = S.Rng(3)
                let input = rng.floats(batch * g.inChannels * h * w)
                let weights = rng.floats(g.outChannels * g.groupInChannels * g.kernelH * g.kernelW)
                let c = try PackedConv2D(geometry: g, weights: weights, bias: nil, activation: activation, kernels: ks)
                if let pixelRows { c.pixelRowsMaxPixels = pixelRows }
                if let direct { c.directMode = direct }
                if let blocked { c.depthwiseBlockedMode = blocked }
                let outCount = batch * g.outChannels * oh * ow
                let out = UnsafeMutablePointer<Float>.allocate(capacity: outCount)
                defer { out.deallocate() }
                let scratch = alignedAllocate(c.scratchByteCount(batch: batch, h: h, w: w, threads: threads))
                defer { free(scratch) }
                let t = time {
                    c.run(input: input, output: out, residual: nil, batch: batch, h: h, w: w, scratch: scratch, pool: pool)
                }
                let macs = Double(outCount) * Double(g.groupInChannels * g.kernelH * g.kernelW)
                var path = pixelRows.map { $0 == 0 ? " [columns]" : " [pixel rows]" } ?? ""
                if let direct { path = direct == 2 ? " [direct]" : path }
                if let blocked { path = blocked == 2 ? " [blocked]" : " [planar]" }
                report("\(name)\(path) \(ks.isa) \(threads)T", flops: 2 * macs,
                       bytes: 4.0 * Double(input.count + outCount), seconds: t)
            }
        }
    }

    /// ResNet-50's small-image layers on both GEMM formulations (isolated: weights stay in
    /// cache here, unlike inside the model — see `PackedConv2D.prefersPixelRows`).
    func testConvResNetSmall() throws {
        for (c, hw) in [(64, 56), (128, 28), (256, 14), (512, 7)] {
            for pr in [0, Int.max] {
                try conv("r50 3x3 \(c)@\(hw)", Conv2DGeometry(inChannels: c, outChannels: c, kernelH: 3, kernelW: 3,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), h: hw, w: hw, pixelRows: pr)
                try conv("r50 1x1 \(4 * c)->\(c) @\(hw)", Conv2DGeometry(inChannels: 4 * c, outChannels: c, kernelH: 1,
                         kernelW: 1), h: hw, w: hw, pixelRows: pr)
                try conv("r50 1x1 \(c)->\(4 * c) @\(hw)", Conv2DGeometry(inChannels: c, outChannels: 4 * c, kernelH: 1,
                         kernelW: 1), h: hw, w: hw, pixelRows: pr)
            }
        }
    }

    /// ResNet-50's and EfficientNet's convolutions that are neither 1×1/stride 1 nor depthwise,
    /// on the direct path, the columns path and (small images) pixel rows.
    func testConvDirect() throws {
        let layers: [(String, Conv2DGeometry, Int)] = [
            ("r50 conv1 7x7s2 3->64", Conv2DGeometry(inChannels: 3, outChannels: 64, kernelH: 7, kernelW: 7, strideH: 2,
                                                     strideW: 2, padTop: 3, padLeft: 3, padBottom: 3, padRight: 3), 224),
            ("r50 3x3 64@56", Conv2DGeometry(inChannels: 64, outChannels: 64, kernelH: 3, kernelW: 3,
                                             padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), 56),
            ("r50 3x3 128@28", Conv2DGeometry(inChannels: 128, outChannels: 128, kernelH: 3, kernelW: 3,
                                              padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), 28),
            ("r50 3x3 256@14", Conv2DGeometry(inChannels: 256, outChannels: 256, kernelH: 3, kernelW: 3,
                                              padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), 14),
            ("r50 3x3 512@7", Conv2DGeometry(inChannels: 512, outChannels: 512, kernelH: 3, kernelW: 3,
                                             padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), 7),
            ("r50 3x3s2 128@56", Conv2DGeometry(inChannels: 128, outChannels: 128, kernelH: 3, kernelW: 3, strideH: 2,
                                                strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), 56),
            ("r50 3x3s2 256@28", Conv2DGeometry(inChannels: 256, outChannels: 256, kernelH: 3, kernelW: 3, strideH: 2,
                                                strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), 28),
            ("r50 1x1s2 512->1024 @28", Conv2DGeometry(inChannels: 512, outChannels: 1024, kernelH: 1, kernelW: 1,
                                                       strideH: 2, strideW: 2), 28),
            ("r50 1x1s2 256->512 @56", Conv2DGeometry(inChannels: 256, outChannels: 512, kernelH: 1, kernelW: 1,
                                                      strideH: 2, strideW: 2), 56),
            ("lite stem 3x3s2 3->32", Conv2DGeometry(inChannels: 3, outChannels: 32, kernelH: 3, kernelW: 3, strideH: 2,
                                                     strideW: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1), 224),
        ]
        for (name, g, hw) in layers {
            try conv(name, g, h: hw, w: hw, direct: 2)
            try conv(name, g, h: hw, w: hw, pixelRows: 0, direct: 0)
            if hw <= 14 { try conv(name, g, h: hw, w: hw, pixelRows: Int.max, direct: 0) }
        }
    }

    func testConv() throws {
        try conv("conv1x1 64->256 56x56", Conv2DGeometry(inChannels: 64, outChannels: 256, kernelH: 1, kernelW: 1),
                 h: 56, w: 56)
        try conv("conv1x1 96->24 56x56", Conv2DGeometry(inChannels: 96, outChannels: 24, kernelH: 1, kernelW: 1),
                 h: 56, w: 56)
        try conv("conv1x1 16->96 112x112", Conv2DGeometry(inChannels: 16, outChannels: 96, kernelH: 1, kernelW: 1),
                 h: 112, w: 112)
        try conv("conv1x1 1152->192 7x7", Conv2DGeometry(inChannels: 1152, outChannels: 192, kernelH: 1, kernelW: 1),
                 h: 7, w: 7)
        try conv("conv3x3s2 3->32 224x224", Conv2DGeometry(inChannels: 3, outChannels: 32, kernelH: 3, kernelW: 3,
                 strideH: 2, strideW: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1), h: 224, w: 224)
        try conv("conv3x3 64->64 56x56", Conv2DGeometry(inChannels: 64, outChannels: 64, kernelH: 3, kernelW: 3,
                 padTop: 1, padLeft: 1, padBottom: 1, padRight: 1), h: 56, w: 56)
    }

    func testDepthwise() throws {
        // EfficientNet-Lite0 depthwise layers (TF "same" padding for stride 2).
        let layers: [(Int, Int, Int, Int)] = [  // channels, kernel, stride, input size
            (32, 3, 1, 112), (96, 3, 2, 112), (144, 3, 1, 56), (144, 5, 2, 56), (240, 5, 1, 28),
            (240, 3, 2, 28), (480, 3, 1, 14), (480, 5, 1, 14), (672, 5, 2, 14), (1152, 5, 1, 7),
        ]
        for (c, k, s, hw) in layers {
            let p = k / 2
            let g = s == 1
                ? Conv2DGeometry(inChannels: c, outChannels: c, groups: c, kernelH: k, kernelW: k,
                                 padTop: p, padLeft: p, padBottom: p, padRight: p)
                : Conv2DGeometry(inChannels: c, outChannels: c, groups: c, kernelH: k, kernelW: k,
                                 strideH: 2, strideW: 2, padTop: p - 1, padLeft: p - 1, padBottom: p, padRight: p)
            for blocked in [0, 2] {
                try conv("dw\(k)x\(k)s\(s) \(c)@\(hw)x\(hw)", g, h: hw, w: hw, activation: .clip(min: 0, max: 6),
                         blocked: blocked)
            }
        }
    }
}
