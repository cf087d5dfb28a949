// The counter-based generator's distributions, against closed-form values (erf for the normal
// CDF). Tolerances are ~5 standard errors for the sample sizes used, so a correct sampler fails
// with negligible probability and a wrong one (bad tables, missing tail, sign bias) fails.
import Glibc
import XCTest
@testable import StalwartShift
import StalwartTensor

final class RandomTests: XCTestCase {
    func testBulkNormalMatchesTheGaussian() throws {
        let n = 2_000_000
        let z = try CounterRandom(seed: 1, key: 2, corruption: .gaussianNoise, severity: 3).normal(n, mean: 0, std: 1)
        var m1 = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0
        for v in z { m1 += v; m2 += v * v; m3 += v * v * v; m4 += v * v * v * v }
        m1 /= Double(n); m2 /= Double(n); m3 /= Double(n); m4 /= Double(n)
        XCTAssertEqual(m1, 0, accuracy: 0.004)       // se 7e-4
        XCTAssertEqual(m2, 1, accuracy: 0.005)       // se 1e-3
        XCTAssertEqual(m3, 0, accuracy: 0.009)       // se 1.7e-3
        XCTAssertEqual(m4, 3, accuracy: 0.03)        // se 6.9e-3
        // Histogram over [-5, 5] in 0.25 bins against Φ differences (chi-square, 40 bins).
        func phi(_ x: Double) -> Double { 0.5 * (1 + erf(x / 2.0.squareRoot())) }
        var counts = [Int](repeating: 0, count: 40)
        var tail = 0
        for v in z {
            if abs(v) > 3.5 { tail += 1 }
            XCTAssertLessThanOrEqual(abs(v), 5.66)
            let b = Int(((v + 5) / 0.25).rounded(.down))
            if b >= 0 && b < 40 { counts[b] += 1 }
        }
        var chi2 = 0.0
        for b in 0..<40 {
            let lo = -5 + 0.25 * Double(b)
            let e = Double(n) * (phi(lo + 0.25) - phi(lo))
            if e > 5 { chi2 += (Double(counts[b]) - e) * (Double(counts[b]) - e) / e }
        }
        XCTAssertLessThan(chi2, 90, "chi-square over ~36 bins")   // p ≈ 1e-6 for a correct sampler
        let expectedTail = Double(n) * 2 * (1 - phi(3.5))
        XCTAssertEqual(Double(tail), expectedTail, accuracy: 5 * expectedTail.squareRoot())
    }

    /// Uniforms: mean, variance and a 64-bin chi-square; a 53-bit value never reaches 1.
    func testBulkUniformMatchesTheUniform() throws {
        let n = 1_000_000
        let u = try CounterRandom(seed: 3, key: 4, corruption: .fog, severity: 1).uniform(n, low: 0, high: 1)
        var m = 0.0, v = 0.0
        var counts = [Int](repeating: 0, count: 64)
        for x in u {
            XCTAssert(x >= 0 && x < 1)
            m += x; v += (x - 0.5) * (x - 0.5)
            counts[Int(x * 64)] += 1
        }
        XCTAssertEqual(m / Double(n), 0.5, accuracy: 0.0015)        // se 2.9e-4
        XCTAssertEqual(v / Double(n), 1.0 / 12, accuracy: 0.0005)   // se 7.5e-5
        let e = Double(n) / 64
        let chi2 = counts.reduce(0.0) { $0 + (Double($1) - e) * (Double($1) - e) / e }
        XCTAssertLessThan(chi2, 130, "chi-square over 64 bins")     // p ≈ 1e-6
    }

    /// Bulk sample i is a pure function of (stream, i): a sample deep in a later parallel
    /// chunk equals its direct computation from the stream kernels.
    func testBulkSamplesArePositional() throws {
        let random = CounterRandom(seed: 1, key: 2, corruption: .gaussianNoise, severity: 1)
        let z = try random.normal(100_000, mean: 0, std: 1)
        // Sample 70 000 is sample 16 of group 2187 (32 per group; 512 groups per chunk).
        let probe = CounterRandom(seed: 1, key: 2, corruption: .gaussianNoise, severity: 1)
        var group = [Float](repeating: 0, count: 32)
        RandomStreamKernels.current.normals(&group, 1, UInt64(2187 * 8), probe.high, probe.key.0, probe.key.1)
        var g0 = [Float](repeating: 0, count: 32)
        RandomStreamKernels.current.normals(&g0, 1, 0, probe.high, probe.key.0, probe.key.1)
        XCTAssertEqual(z[0..<4].map { Float($0) }, Array(g0[0..<4]))
        for g in [1, 100, 511, 512, 513, 1024, 2187] {
            var gg = [Float](repeating: 0, count: 32)
            RandomStreamKernels.current.normals(&gg, 1, UInt64(g * 8), probe.high, probe.key.0, probe.key.1)
            XCTAssertEqual(Float(z[32 * g + 16]), gg[16], "group \(g)")
        }
        XCTAssertEqual(z[70_000], Double(group[16]))
        XCTAssertEqual(z[70_015], Double(group[31]))
    }

    func testStreamsArePureFunctionsOfTheirKey() throws {
        let a = try CounterRandom(seed: 7, key: 9, corruption: .snow, severity: 2).normal(1000, mean: 0, std: 1)
        let b = try CounterRandom(seed: 7, key: 9, corruption: .snow, severity: 2).normal(1000, mean: 0, std: 1)
        let c = try CounterRandom(seed: 7, key: 10, corruption: .snow, severity: 2).normal(1000, mean: 0, std: 1)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
