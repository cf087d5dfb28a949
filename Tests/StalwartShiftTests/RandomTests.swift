// The counter-based generator's distributions, against closed-form values (erf for the normal
// CDF). Tolerances are ~5 standard errors for the sample sizes used, so a correct sampler fails
// with negligible probability and a wrong one (bad tables, missing tail, sign bias) fails.
import Glibc
import XCTest
@testable import StalwartShift

final class RandomTests: XCTestCase {
    func testZigguratNormalMatchesTheGaussian() throws {
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
            if abs(v) > 3.442619855899 { tail += 1 }
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
        let expectedTail = Double(n) * 2 * (1 - phi(3.442619855899))   // the ziggurat's tail branch
        XCTAssertEqual(Double(tail), expectedTail, accuracy: 5 * expectedTail.squareRoot())
    }

    func testStreamsArePureFunctionsOfTheirKey() throws {
        let a = try CounterRandom(seed: 7, key: 9, corruption: .snow, severity: 2).normal(1000, mean: 0, std: 1)
        let b = try CounterRandom(seed: 7, key: 9, corruption: .snow, severity: 2).normal(1000, mean: 0, std: 1)
        let c = try CounterRandom(seed: 7, key: 10, corruption: .snow, severity: 2).normal(1000, mean: 0, std: 1)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
