import Foundation
import XCTest
@testable import StalwartTensor

/// STALWART_ISA end to end: the test bundle re-runs itself with the variable set and checks,
/// through the public entry points only, that the forced kernel set is used and correct.
final class ISAEnvironmentTests: XCTestCase {
    typealias S = KernelTestSupport

    func testForcedISAInSubprocess() throws {
        if let expected = ProcessInfo.processInfo.environment["STALWART_ISA_EXPECT"] {
            return try checkChild(expected: expected)
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0])
        guard FileManager.default.isExecutableFile(atPath: exe.path), exe.path.hasSuffix(".xctest") else {
            throw XCTSkip("not running from an .xctest bundle executable")
        }
        for ks in S.kernelSets {
            let p = Process()
            p.executableURL = exe
            p.arguments = ["StalwartTensorTests.ISAEnvironmentTests/testForcedISAInSubprocess"]
            var env = ProcessInfo.processInfo.environment
            env["STALWART_ISA"] = ks.isa.rawValue
            env["STALWART_ISA_EXPECT"] = ks.isa.rawValue
            p.environment = env
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0,
                           "STALWART_ISA=\(ks.isa.rawValue):\n\(String(decoding: output, as: UTF8.self).suffix(3000))")
        }
    }

    private func checkChild(expected: String) throws {
        XCTAssertEqual(KernelInfo.isa, expected)
        let pool = ThreadPool(threads: 2)
        var rng = S.Rng(11)
        // Sgemm through the public entry point.
        let (m, n, k) = (37, 75, 41)
        let a = rng.floats(m * k), b = rng.floats(k * n)
        var c = [Float](repeating: 0, count: m * n), ref = c
        c.withUnsafeMutableBufferPointer { cp in
            Sgemm.run(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                      beta: 0, c: cp.baseAddress!, ldc: n, pool: pool)
        }
        ref.withUnsafeMutableBufferPointer { rp in
            Reference.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                            beta: 0, c: rp.baseAddress!, ldc: n)
        }
        for i in 0..<c.count { XCTAssertEqual(c[i], ref[i], accuracy: 1e-4 * (1 + Float(k))) }
        // A depthwise and a general convolution through the public initializer.
        for g in [Conv2DGeometry(inChannels: 6, outChannels: 6, groups: 6, kernelH: 3, kernelW: 3, strideH: 2,
                                 strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
                  Conv2DGeometry(inChannels: 5, outChannels: 9, kernelH: 3, kernelW: 3,
                                 padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)] {
            let (h, w) = (13, 17)
            guard let (oh, ow) = g.outputSize(h: h, w: w) else { return XCTFail("geometry") }
            let input = rng.floats(g.inChannels * h * w)
            let weights = rng.floats(g.outChannels * g.groupInChannels * 9)
            let conv = try PackedConv2D(geometry: g, weights: weights, bias: nil, activation: .hardSwish)
            XCTAssertEqual(conv.kernels.isa.rawValue, expected)
            var out = [Float](repeating: 0, count: g.outChannels * oh * ow), want = out
            out.withUnsafeMutableBufferPointer { op in
                conv.run(input: input, output: op.baseAddress!, residual: nil, batch: 1, h: h, w: w, scratch: nil,
                         pool: pool)
            }
            want.withUnsafeMutableBufferPointer { op in
                Reference.conv2d(g, batch: 1, h: h, w: w, input: input, weights: weights, bias: nil, residual: nil,
                                 activation: .hardSwish, output: op.baseAddress!)
            }
            for i in 0..<out.count { XCTAssertEqual(out[i], want[i], accuracy: 1e-3) }
        }
    }
}
