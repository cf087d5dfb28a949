import XCTest
import StalwartTensor
@testable import StalwartTransfer

/// Deterministic pseudo-random data for the tests.
private struct TestRNG {
    var g: SplitMix64
    init(_ seed: UInt64) { g = SplitMix64(state: seed) }
    mutating func uniform() -> Double { Double(g.next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

/// Class-dependent Gaussian blobs: n rows, d columns, c classes.
private func blobs(n: Int, d: Int, c: Int, seed: UInt64, spread: Double = 1.0) throws -> (FeatureMatrix, [Int32]) {
    var r = TestRNG(seed)
    var centers = [[Double]]()
    for _ in 0..<c { centers.append((0..<d).map { _ in 2 * r.normal() }) }
    var v = [Float](), y = [Int32]()
    for i in 0..<n {
        let k = i % c
        y.append(Int32(k))
        for j in 0..<d { v.append(Float(centers[k][j] + spread * r.normal() + 3)) }
    }
    return (try FeatureMatrix(rows: n, cols: d, values: v), y)
}

/// Independent oracle: (XᵀX + λI) W = XᵀY by Gauss–Jordan elimination in float64.
private func ridgeNormalEquations(train: FeatureMatrix, labels: [Int32], c: Int, l2: Double) -> [Double] {
    let n = train.rows, d = train.cols, dp = d + 1
    var mean = [Double](repeating: 0, count: d), sd = [Double](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { mean[j] += Double(train.values[i * d + j]) } }
    for j in 0..<d { mean[j] /= Double(n) }
    for i in 0..<n { for j in 0..<d { let z = Double(train.values[i * d + j]) - mean[j]; sd[j] += z * z } }
    for j in 0..<d { sd[j] = (sd[j] / Double(n)).squareRoot() + 1e-5 }
    var x = [[Double]](repeating: [Double](repeating: 100, count: dp), count: n)
    for i in 0..<n { for j in 0..<d { x[i][j] = (Double(train.values[i * d + j]) - mean[j]) / sd[j] } }
    // Augmented system [A | B].
    var a = [[Double]](repeating: [Double](repeating: 0, count: dp + c), count: dp)
    for p in 0..<dp {
        for q in 0..<dp { var s = 0.0; for i in 0..<n { s += x[i][p] * x[i][q] }; a[p][q] = s + (p == q ? l2 : 0) }
        for k in 0..<c { var s = 0.0; for i in 0..<n { s += x[i][p] * (Int(labels[i]) == k ? 1 : -1) }; a[p][dp + k] = s }
    }
    for col in 0..<dp {
        var piv = col
        for r in col..<dp where abs(a[r][col]) > abs(a[piv][col]) { piv = r }
        a.swapAt(col, piv)
        let inv = 1 / a[col][col]
        for q in 0..<(dp + c) { a[col][q] *= inv }
        for r in 0..<dp where r != col {
            let f = a[r][col]
            if f != 0 { for q in 0..<(dp + c) { a[r][q] -= f * a[col][q] } }
        }
    }
    var w = [Double]()
    for p in 0..<dp { for k in 0..<c { w.append(a[p][dp + k]) } }
    return w
}

private func maxRelError(_ a: [Double], _ b: [Double]) -> Double {
    let scale = b.reduce(0) { max($0, abs($1)) }
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } / max(scale, 1e-300)
}

final class RandomStreamTests: XCTestCase {
    func testSplitMix64ReferenceValues() {
        // Reference outputs of SplitMix64 from state 0 (Vigna's splitmix64.c).
        var g = SplitMix64(state: 0)
        XCTAssertEqual(g.next(), 0xE220A8397B1DCDAF)
        XCTAssertEqual(g.next(), 0x6E789E6AA1B965F4)
        XCTAssertEqual(g.next(), 0x06C45D188009454F)
    }

    func testShuffleIsAPermutationAndUniformish() {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
        for s in 0..<4000 {
            var a = [0, 1, 2, 3]
            var g = SplitMix64(seed: UInt64(s), tag: SplitMix64.shotsTag, index: 0)
            g.shuffle(&a)
            XCTAssertEqual(a.sorted(), [0, 1, 2, 3])
            for (pos, v) in a.enumerated() { counts[pos][v] += 1 }
        }
        // Each value lands in each position with probability 1/4: 1000 ± 5σ (σ ≈ 27).
        for row in counts { for c in row { XCTAssertEqual(Double(c), 1000, accuracy: 140) } }
    }
}

final class FewShotTests: XCTestCase {
    func testFloat64MatchesNormalEquationsPrimalAndDual() throws {
        // Primal (N ≥ D + 1) and dual (N < D + 1) cases against Gauss–Jordan on the normal equations.
        for (n, d) in [(60, 5), (12, 20)] {
            let (x, y) = try blobs(n: n, d: d, c: 3, seed: UInt64(n * 31 + d))
            for l2 in [0.5, 1024.0] {
                let fit = try FewShot.fit(train: x, trainLabels: y, test: x, l2: l2, precision: .float64)
                let ref = ridgeNormalEquations(train: x, labels: y, c: 3, l2: l2)
                XCTAssertLessThan(maxRelError(fit.weights, ref), 1e-9, "n=\(n) d=\(d) λ=\(l2)")
                let f32 = try FewShot.fit(train: x, trainLabels: y, test: x, l2: l2, precision: .float32)
                // float32 (big_vision's precision): relative error bounded by ε₃₂ · cond.
                XCTAssertLessThan(maxRelError(f32.weights, ref), 2e-3, "float32 n=\(n) d=\(d) λ=\(l2)")
            }
        }
    }

    func testSweepEqualsSeparateFits() throws {
        let (x, y) = try blobs(n: 40, d: 30, c: 4, seed: 7, spread: 3)
        let (t, ty) = try blobs(n: 200, d: 30, c: 4, seed: 7, spread: 3)
        let lams = [0.01, 1, 64, 1024, 65536]
        let accs = try FewShot.lsr(train: x, trainLabels: y, test: t, testLabels: ty, l2Regs: lams, numClasses: nil, precision: .float64)
        for (l, a) in zip(lams, accs) {
            let f = try FewShot.fit(train: x, trainLabels: y, test: t, l2: l, precision: .float64)
            XCTAssertEqual(FewShot.accuracy(f.predictions, ty), a)
        }
    }

    func testEvaluateSplitsAndOrder() throws {
        let (x, y) = try blobs(n: 200, d: 8, c: 4, seed: 3)
        var cfg = FewShotConfig()
        cfg.shots = [1, 5, 10]
        cfg.seeds = 2
        cfg.l2Regs = [1, 1024]
        let r = try FewShot.evaluate(features: x, labels: y, test: nil, testLabels: nil, config: cfg)
        XCTAssertEqual(r.count, 3 * 2 * 2)
        XCTAssertEqual(r.map(\.shots), [1, 1, 1, 1, 5, 5, 5, 5, 10, 10, 10, 10])
        XCTAssertEqual(r.map(\.seed), [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1])
        XCTAssertEqual(r.map(\.l2), [1, 1024, 1, 1024, 1, 1024, 1, 1024, 1, 1024, 1, 1024])
        // Hold-out split: disjoint, per class ⌊50 · 0.5⌋ = 25 test rows.
        let s = try FewShot.holdoutSplit(labels: y, testFraction: 0.5, splitSeed: 0)
        XCTAssertEqual(s.test.count, 100)
        XCTAssertEqual(Set(s.test).intersection(s.trainPool.flatMap { $0 }).count, 0)
        XCTAssertEqual(Set(s.test).union(s.trainPool.flatMap { $0 }).count, 200)
        // Reproduce one entry by hand: seed 1, 5 shots, λ = 1024.
        var rows = [Int]()
        for c in 0..<4 {
            var p = s.trainPool[c]
            var g = SplitMix64(seed: 1, tag: SplitMix64.shotsTag, index: UInt64(c))
            g.shuffle(&p)
            rows += p.prefix(5)
        }
        let acc = try FewShot.lsr(train: try x.gather(rows), trainLabels: rows.map { y[$0] }, test: try x.gather(s.test),
                                  testLabels: s.test.map { y[$0] }, l2Regs: [1024])
        XCTAssertEqual(acc[0], r[7].accuracy)
        // Deterministic.
        XCTAssertEqual(try FewShot.evaluate(features: x, labels: y, test: nil, testLabels: nil, config: cfg), r)
    }

    func testBadInputs() throws {
        let (x, y) = try blobs(n: 20, d: 4, c: 2, seed: 1)
        XCTAssertThrowsError(try FeatureMatrix(rows: 2, cols: 2, values: [1, 2, .nan, 4])) { e in
            XCTAssertTrue("\(e)".contains("row 1, column 0"), "\(e)")
        }
        XCTAssertThrowsError(try FeatureMatrix(rows: 2, cols: 2, values: [1, 2, 3]))
        XCTAssertThrowsError(try FeatureMatrix(rows: 0, cols: 2, values: []))
        var cfg = FewShotConfig()
        cfg.shots = [25]
        XCTAssertThrowsError(try FewShot.evaluate(features: x, labels: y, test: nil, testLabels: nil, config: cfg)) { e in
            XCTAssertTrue("\(e)".contains("class 0 has 5 training examples"), "\(e)")
        }
        XCTAssertThrowsError(try FewShot.lsr(train: x, trainLabels: [Int32](repeating: 1, count: 20), test: x,
                                             testLabels: y, l2Regs: [1])) { e in
            XCTAssertTrue("\(e)".contains("single class"), "\(e)")
        }
        XCTAssertThrowsError(try FewShot.lsr(train: x, trainLabels: y, test: x, testLabels: y, l2Regs: [0]))
        XCTAssertThrowsError(try FewShot.lsr(train: x, trainLabels: y, test: x, testLabels: y, l2Regs: []))
        XCTAssertThrowsError(try FewShot.lsr(train: x, trainLabels: Array(y.dropLast()), test: x, testLabels: y, l2Regs: [1]))
        XCTAssertThrowsError(try FewShot.lsr(train: x, trainLabels: y.map { $0 - 1 }, test: x, testLabels: y, l2Regs: [1]))
        var poisoned = x
        poisoned.values[5] = .infinity
        XCTAssertThrowsError(try FewShot.lsr(train: poisoned, trainLabels: y, test: x, testLabels: y, l2Regs: [1]))
        let narrow = try FeatureMatrix(rows: 20, cols: 3, values: [Float](repeating: 1, count: 60))
        XCTAssertThrowsError(try FewShot.lsr(train: x, trainLabels: y, test: narrow, testLabels: y, l2Regs: [1]))
        cfg.shots = [1]
        cfg.seeds = 0
        XCTAssertThrowsError(try FewShot.evaluate(features: x, labels: y, test: nil, testLabels: nil, config: cfg))
    }
}

final class LinearProbeTests: XCTestCase {
    func testStationaryPointAndPredictions() throws {
        let (x, y) = try blobs(n: 300, d: 6, c: 3, seed: 11, spread: 2)
        let l2 = 0.7
        let m = try LinearProbe.fit(train: x, labels: y, l2: l2, maxIterations: 1000)
        XCTAssertTrue(m.converged)
        // Independent check: the gradient of the objective, computed here by central finite
        // differences of the objective written out directly, vanishes at the solution.
        func objective(_ w: [Double], _ b: [Double]) -> Double {
            var f = 0.0
            for i in 0..<x.rows {
                var z = [Double](repeating: 0, count: 3)
                for k in 0..<3 { z[k] = b[k]; for j in 0..<6 { z[k] += Double(x.values[i * 6 + j]) * w[j * 3 + k] } }
                let mx = z.max() ?? 0
                f += mx + log(z.reduce(0) { $0 + exp($1 - mx) }) - z[Int(y[i])]
            }
            return f + 0.5 * l2 * w.reduce(0) { $0 + $1 * $1 }
        }
        XCTAssertEqual(objective(m.weights, m.bias), m.objective, accuracy: 1e-9 * abs(m.objective))
        for p in 0..<(m.weights.count + 3) {
            let h = 1e-5
            var wp = m.weights, bp = m.bias, wm = m.weights, bm = m.bias
            if p < wp.count { wp[p] += h; wm[p] -= h } else { bp[p - wp.count] += h; bm[p - wm.count] -= h }
            let g = (objective(wp, bp) - objective(wm, bm)) / (2 * h)
            XCTAssertEqual(g, 0, accuracy: 1e-3, "parameter \(p)")   // ‖∇(f/n)‖∞ ≤ 1e-6 ⇒ |∂f| ≤ 3e-4
        }
        XCTAssertGreaterThan(try m.accuracy(x, labels: y), 0.8)
        XCTAssertThrowsError(try LinearProbe.fit(train: x, labels: [Int32](repeating: 2, count: 300), l2: 1, maxIterations: 10))
        XCTAssertThrowsError(try LinearProbe.fit(train: x, labels: y, l2: -1, maxIterations: 10))
    }

    func testLabelsWithGapsKeepTheirValues() throws {
        let (x, y) = try blobs(n: 90, d: 4, c: 3, seed: 5)
        let mapped = y.map { [Int32(2), 7, 9][Int($0)] }
        let m = try LinearProbe.fit(train: x, labels: mapped, l2: 1, maxIterations: 500)
        XCTAssertEqual(m.classes, [2, 7, 9])
        XCTAssertTrue(Set(try m.predict(x)).isSubset(of: [2, 7, 9]))
    }
}

final class CorrelationTests: XCTestCase {
    /// O(n²) τ-b straight from the definition.
    private func bruteKendall(_ x: [Double], _ y: [Double]) -> Double {
        var c = 0.0, d = 0.0, tx = 0.0, ty = 0.0
        for i in 0..<x.count {
            for j in (i + 1)..<x.count {
                let a = (x[i] - x[j]).sign == .minus ? -1.0 : (x[i] == x[j] ? 0 : 1)
                let b = (y[i] - y[j]).sign == .minus ? -1.0 : (y[i] == y[j] ? 0 : 1)
                if a == 0 && b == 0 { continue }
                if a == 0 { tx += 1 } else if b == 0 { ty += 1 } else if a == b { c += 1 } else { d += 1 }
            }
        }
        return (c - d) / ((c + d + tx) * (c + d + ty)).squareRoot()
    }

    func testKendallAgainstBruteForceWithTies() throws {
        var r = TestRNG(9)
        for n in [2, 3, 10, 57, 200] {
            let x = (0..<n).map { _ in (r.uniform() * 6).rounded(.down) }
            let y = (0..<n).map { i in (x[i] + r.uniform() * 4).rounded(.down) }
            guard Set(x).count > 1, Set(y).count > 1 else { continue }
            XCTAssertEqual(try Correlation.coefficient(.kendall, x, y), bruteKendall(x, y), accuracy: 1e-12)
        }
    }

    func testSpearmanIsPearsonOfRanksAndErrors() throws {
        let x = [3.0, 1, 4, 1, 5, 9, 2, 6]
        let y = [2.0, 7, 1, 8, 2, 8, 1, 8]
        XCTAssertEqual(Correlation.averageRanks(x), [4, 1.5, 5, 1.5, 6, 8, 3, 7])
        XCTAssertEqual(try Correlation.coefficient(.pearson, x, x.map { 2 * $0 + 1 }), 1, accuracy: 1e-15)
        XCTAssertThrowsError(try Correlation.coefficient(.pearson, x, [Double](repeating: 1, count: 8)))
        XCTAssertThrowsError(try Correlation.coefficient(.kendall, [1], [2]))
        XCTAssertThrowsError(try Correlation.coefficient(.spearman, x, Array(y.dropLast())))
        XCTAssertThrowsError(try Correlation.coefficient(.spearman, x, y.map { $0 == 8 ? .nan : $0 }))
        let ci = try Correlation.bootstrapInterval(.spearman, x, y, resamples: 500, confidence: 0.9, seed: 1)
        XCTAssertLessThanOrEqual(ci.low, ci.high)
        let again = try Correlation.bootstrapInterval(.spearman, x, y, resamples: 500, confidence: 0.9, seed: 1)
        XCTAssertEqual(ci.low, again.low)
        XCTAssertEqual(ci.high, again.high)
    }
}
