// Few-shot linear evaluation exactly as big_vision's `fewshot_lsr` evaluator defines it
// (google-research/big_vision, big_vision/evaluators/fewshot_lsr.py):
//
//   1. whiten with the few-shot TRAIN set's per-feature mean and population std (+ 1e-5); the same
//      statistics are applied to the test features;
//   2. append a constant feature 100 (the bias, large so it is almost unregularized);
//   3. targets 2·onehot(y, C) − 1 ∈ {−1, +1};
//   4. ridge regression in closed form through ONE symmetric eigendecomposition:
//      N ≥ D+1: XᵀX = Q diag(e) Qᵀ, W = Q diag(1/(e+λ)) Qᵀ Xᵀ Y;
//      N < D+1 (dual): XXᵀ = Q diag(e) Qᵀ, W = Xᵀ Q diag(1/(e+λ)) Qᵀ Y;
//      so a sweep over λ reuses the decomposition;
//   5. prediction argmax(x·W) (first maximum on ties), accuracy = mean(prediction == label).
//
// Precision. big_vision runs this in JAX's default float32 (eigh → LAPACK ssyevd on CPU). A
// float32 eigendecomposition of XᵀX (or XXᵀ) has absolute eigenvalue errors ≈ ε₃₂·‖XᵀX‖, and the
// bias column of 100 makes ‖XᵀX‖ ≈ N·10⁴, so the float32 weights carry relative errors of
// ≈ ε₃₂·N·10⁴/λ: measured on scikit-learn's digits (N = 257, D = 64) 2.6e-4 at λ = 1024 and 7e-2
// at λ = 1, flipping 2 and 11 of 1,540 test predictions. Stalwart therefore solves in float64 by
// default (`Precision.float64`: the same formulation, the exact values big_vision's float32
// arithmetic approximates; features stay float32 on input); `Precision.float32` runs big_vision's
// float32 arithmetic (ssyrk/ssyevd/sgemm; whitening statistics accumulated in float64 and rounded
// to float32) for faithful reproduction of float32 behaviour and speed.
import StalwartTensor

/// The arithmetic precision of the few-shot solver.
public enum Precision: String, CaseIterable, Sendable {
    /// big_vision's arithmetic (JAX float32): faster, weights accurate to ≈ ε₃₂·N·10⁴/λ.
    case float32
    /// The same algorithm in float64 (the default).
    case float64
}

/// The shots × seeds × λ protocol (`FewShot.evaluate`).
public struct FewShotConfig: Sendable {
    /// Training examples per class (each ≥ 1). big_vision's defaults.
    public var shots: [Int] = [1, 5, 10, 25]
    /// Seeds `0..<seeds`; each gives an independent per-class permutation of the training pool.
    public var seeds: Int = 3
    /// Ridge strengths λ (each > 0, finite); all share one eigendecomposition per (shots, seed).
    public var l2Regs: [Double] = [1024]
    /// Solver precision (see `Precision`; float64 by default).
    public var precision: Precision = .float64
    /// Without an explicit test set: the fraction of each class held out for testing (0 < f < 1;
    /// ⌊n_c · f⌋ examples, at least 1), the same for every shots and seed.
    public var testFraction: Double = 0.5
    /// Without an explicit test set: the seed of the hold-out split.
    public var splitSeed: UInt64 = 0
    public init() {}
}

/// One (shots, seed, λ) accuracy of `FewShot.evaluate`.
public struct FewShotResult: Sendable, Equatable {
    public var shots: Int
    public var seed: Int
    public var l2: Double
    /// Fraction of test examples classified correctly, in [0, 1].
    public var accuracy: Double
    public init(shots: Int, seed: Int, l2: Double, accuracy: Double) {
        self.shots = shots
        self.seed = seed
        self.l2 = l2
        self.accuracy = accuracy
    }
}

/// A fitted few-shot ridge classifier (`FewShot.fit`).
public struct RidgeFit: Sendable {
    /// C: the number of one-hot columns.
    public let numClasses: Int
    /// D: the feature dimension (before the bias column).
    public let dims: Int
    public let l2: Double
    /// Whitening statistics of the training features: `mean[j]`, `std[j]` (population std + 1e-5),
    /// both D values, in the solver's precision (converted to Double).
    public let mean: [Double]
    public let std: [Double]
    /// (D + 1) × C row-major weights on whitened features; row D multiplies the bias constant 100.
    public let weights: [Double]
    /// Predicted class per test row (empty when no test set was given).
    public let predictions: [Int32]
}

/// The hold-out split of one labelled pool (`FewShot.holdoutSplit`).
public struct HoldoutSplit: Sendable {
    /// Per class (index = label), the pool rows the few-shot draws take from, in drawing order.
    public var trainPool: [[Int]]
    /// The test rows (class ascending, then permutation order).
    public var test: [Int]
}

public enum FewShot {
    /// The bias feature appended to whitened features (big_vision's BIAS_CONSTANT).
    public static let biasConstant: Double = 100
    /// Added to the population std before dividing.
    public static let stdEpsilon: Double = 1e-5

    /// Accuracy on `test` of the ridge classifier fitted on `train`, one per λ in `l2Regs` (one
    /// eigendecomposition), solved in float64 (see `Precision`). The class count is max label + 1 over both
    /// label arrays. Throws `invalidArgument` on empty, non-finite or mismatched inputs, a
    /// training set with fewer than 2 classes, or λ ≤ 0.
    public static func lsr(train: FeatureMatrix, trainLabels: [Int32], test: FeatureMatrix, testLabels: [Int32],
                           l2Regs: [Double]) throws -> [Double] {
        try lsr(train: train, trainLabels: trainLabels, test: test, testLabels: testLabels, l2Regs: l2Regs,
                numClasses: nil, precision: .float64)
    }

    /// `lsr` with an explicit class count (≥ every label + 1; nil = max label + 1) and precision.
    public static func lsr(train: FeatureMatrix, trainLabels: [Int32], test: FeatureMatrix, testLabels: [Int32],
                           l2Regs: [Double], numClasses: Int?, precision: Precision) throws -> [Double] {
        let c = try checkProblem(train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
                                 l2Regs: l2Regs, numClasses: numClasses)
        let out = try solve(precision, train: train, labels: trainLabels, test: test, numClasses: c, l2Regs: l2Regs, wantWeights: false)
        return out.predictions.map { accuracy($0, testLabels) }
    }

    /// Fits one ridge classifier (weights, whitening statistics) and predicts `test` if given.
    public static func fit(train: FeatureMatrix, trainLabels: [Int32], test: FeatureMatrix?, l2: Double,
                           numClasses: Int? = nil, precision: Precision = .float64) throws -> RidgeFit {
        let c = try checkProblem(train: train, trainLabels: trainLabels, test: test, testLabels: nil,
                                 l2Regs: [l2], numClasses: numClasses)
        let out = try solve(precision, train: train, labels: trainLabels, test: test, numClasses: c, l2Regs: [l2], wantWeights: true)
        return RidgeFit(numClasses: c, dims: train.cols, l2: l2, mean: out.mean, std: out.std,
                        weights: out.weights.first ?? [], predictions: out.predictions.first ?? [])
    }

    /// The shots × seeds × λ protocol on one labelled pool, or on `features` as the training pool
    /// and an explicit `test` set. Results are ordered shots (as configured), then seed
    /// `0..<seeds`, then λ (as configured).
    ///
    /// Splits (reproducible in any language; see `SplitMix64`):
    /// - Without a test set, each class c's rows (ascending) are shuffled by Fisher–Yates with the
    ///   stream `SplitMix64(seed: splitSeed, tag: splitTag, index: c)`; the first
    ///   max(1, ⌊n_c · testFraction⌋) rows are the test set — fixed for all shots and seeds, so
    ///   accuracies are comparable — and the remaining rows, in shuffled order, the training pool.
    ///   With a test set, the pool of class c is all its rows, ascending.
    /// - For seed s, class c's pool is shuffled with `SplitMix64(seed: s, tag: shotsTag, index: c)`
    ///   and its first `shots` rows train (so smaller shots are subsets of larger ones, as in
    ///   big_vision); the training set is the classes' draws concatenated in label order.
    ///
    /// Throws `invalidArgument` when any class present in the pool has fewer pool rows than the
    /// largest shots (the message names the class), the pool has fewer than 2 classes, labels and
    /// rows disagree, features are empty or non-finite, or the configuration is out of range.
    public static func evaluate(features: FeatureMatrix, labels: [Int32], test: FeatureMatrix?, testLabels: [Int32]?,
                                config: FewShotConfig) throws -> [FewShotResult] {
        try features.validate("few-shot features")
        var numClasses = try checkLabels(labels, count: features.rows, "few-shot labels")
        try checkConfig(config, hasTest: test != nil)
        if (test == nil) != (testLabels == nil) {
            throw StalwartError.invalidArgument("few-shot: give both the test features and the test labels, or neither")
        }
        let maxShots = config.shots.max() ?? 1
        let split: HoldoutSplit
        let testMatrix: FeatureMatrix
        let testY: [Int32]
        if let test, let testLabels {
            try test.validate("few-shot test features")
            guard test.cols == features.cols else {
                throw StalwartError.invalidArgument("few-shot: test features have \(test.cols) columns, training features \(features.cols)")
            }
            numClasses = max(numClasses, try checkLabels(testLabels, count: test.rows, "few-shot test labels"))
            split = HoldoutSplit(trainPool: classRows(labels, numClasses), test: [])
            testMatrix = test
            testY = testLabels
        } else {
            split = try holdoutSplit(labels: labels, testFraction: config.testFraction, splitSeed: config.splitSeed)
            testMatrix = try features.gather(split.test)
            testY = split.test.map { labels[$0] }
        }
        let present = split.trainPool.indices.filter { !split.trainPool[$0].isEmpty }
        guard present.count >= 2 else {
            throw StalwartError.invalidArgument("few-shot: the training pool has \(present.count) class(es); need at least 2")
        }
        for c in present where split.trainPool[c].count < maxShots {
            let total = labels.lazy.filter { $0 == Int32(c) }.count
            let held = test == nil ? " (\(total - split.trainPool[c].count) of its \(total) examples are held out for testing)" : ""
            throw StalwartError.invalidArgument(
                "few-shot: class \(c) has \(split.trainPool[c].count) training examples\(held); \(maxShots) shots need \(maxShots) per class")
        }
        // Per seed, per class permutations of the pool (shared by every shots value).
        var perms: [[[Int]]] = []
        for seed in 0..<config.seeds {
            perms.append(split.trainPool.enumerated().map { c, pool in
                var p = pool
                var rng = SplitMix64(seed: UInt64(seed), tag: SplitMix64.shotsTag, index: UInt64(c))
                rng.shuffle(&p)
                return p
            })
        }
        var results: [FewShotResult] = []
        for shots in config.shots {
            for seed in 0..<config.seeds {
                var rows: [Int] = []
                for c in present { rows.append(contentsOf: perms[seed][c].prefix(shots)) }
                let x = try features.gather(rows)
                let y = rows.map { labels[$0] }
                let out = try solve(config.precision, train: x, labels: y, test: testMatrix, numClasses: numClasses,
                                    l2Regs: config.l2Regs, wantWeights: false)
                for (l2, pred) in zip(config.l2Regs, out.predictions) {
                    results.append(FewShotResult(shots: shots, seed: seed, l2: l2, accuracy: accuracy(pred, testY)))
                }
            }
        }
        return results
    }

    /// The seed-independent hold-out split used by `evaluate` without a test set (see there).
    public static func holdoutSplit(labels: [Int32], testFraction: Double, splitSeed: UInt64) throws -> HoldoutSplit {
        guard testFraction > 0, testFraction < 1 else {
            throw StalwartError.invalidArgument("few-shot: test fraction \(testFraction) is outside (0, 1)")
        }
        let numClasses = try checkLabels(labels, count: labels.count, "few-shot labels")
        var pools = classRows(labels, numClasses)
        var test: [Int] = []
        for c in pools.indices where !pools[c].isEmpty {
            var rng = SplitMix64(seed: splitSeed, tag: SplitMix64.splitTag, index: UInt64(c))
            rng.shuffle(&pools[c])
            let t = max(1, Int((Double(pools[c].count) * testFraction).rounded(.down)))
            test.append(contentsOf: pools[c].prefix(t))
            pools[c] = Array(pools[c].dropFirst(t))
        }
        return HoldoutSplit(trainPool: pools, test: test)
    }

    // MARK: - Validation

    static func classRows(_ labels: [Int32], _ numClasses: Int) -> [[Int]] {
        var rows = [[Int]](repeating: [], count: numClasses)
        for (i, l) in labels.enumerated() where Int(l) < numClasses { rows[Int(l)].append(i) }
        return rows
    }

    static func checkL2(_ l2Regs: [Double]) throws {
        guard !l2Regs.isEmpty, l2Regs.count <= 1 << 20 else {
            throw StalwartError.invalidArgument("few-shot: give 1 to 1048576 ridge strengths, got \(l2Regs.count)")
        }
        for l in l2Regs where !(l > 0 && l.isFinite) {
            throw StalwartError.invalidArgument("few-shot: ridge strength \(l) must be finite and > 0")
        }
    }

    static func checkConfig(_ c: FewShotConfig, hasTest: Bool) throws {
        guard !c.shots.isEmpty, c.shots.count <= 1024 else {
            throw StalwartError.invalidArgument("few-shot: give 1 to 1024 shots values, got \(c.shots.count)")
        }
        for s in c.shots where s < 1 || s > 1 << 24 {
            throw StalwartError.invalidArgument("few-shot: shots \(s) must be ≥ 1")
        }
        guard c.seeds >= 1, c.seeds <= 100_000 else {
            throw StalwartError.invalidArgument("few-shot: seeds \(c.seeds) is outside 1...100000")
        }
        try checkL2(c.l2Regs)
        if !hasTest, !(c.testFraction > 0 && c.testFraction < 1) {
            throw StalwartError.invalidArgument("few-shot: test fraction \(c.testFraction) is outside (0, 1)")
        }
    }

    /// Validates a fit/lsr problem; returns the class count.
    static func checkProblem(train: FeatureMatrix, trainLabels: [Int32], test: FeatureMatrix?, testLabels: [Int32]?,
                             l2Regs: [Double], numClasses: Int?) throws -> Int {
        try train.validate("few-shot training features")
        var c = try checkLabels(trainLabels, count: train.rows, "few-shot training labels")
        var distinct = Set<Int32>()
        for l in trainLabels { distinct.insert(l); if distinct.count >= 2 { break } }
        guard distinct.count >= 2 else {
            throw StalwartError.invalidArgument("few-shot: the training set has a single class (\(trainLabels.first ?? 0)); need at least 2")
        }
        if let test {
            try test.validate("few-shot test features")
            guard test.cols == train.cols else {
                throw StalwartError.invalidArgument("few-shot: test features have \(test.cols) columns, training features \(train.cols)")
            }
            if let testLabels { c = max(c, try checkLabels(testLabels, count: test.rows, "few-shot test labels")) }
        }
        try checkL2(l2Regs)
        if let numClasses {
            guard numClasses >= c, numClasses <= 1 << 24 else {
                throw StalwartError.invalidArgument("few-shot: numClasses \(numClasses) must be ≥ max label + 1 = \(c)")
            }
            c = numClasses
        }
        let (wCount, o) = (train.cols + 1).multipliedReportingOverflow(by: c)
        guard !o, wCount <= 1 << 32 else { throw StalwartError.outOfMemory("few-shot: \(train.cols + 1) × \(c) weights are too many") }
        return c
    }

    static func accuracy(_ pred: [Int32], _ labels: [Int32]) -> Double {
        guard !pred.isEmpty, pred.count == labels.count else { return 0 }
        var hits = 0
        for i in pred.indices where pred[i] == labels[i] { hits += 1 }
        return Double(hits) / Double(pred.count)
    }

    // MARK: - Solver

    struct Solution {
        var predictions: [[Int32]]   // per λ (empty arrays without test)
        var weights: [[Double]]      // per λ when requested
        var mean: [Double]
        var std: [Double]
    }

    static func solve(_ p: Precision, train: FeatureMatrix, labels: [Int32], test: FeatureMatrix?, numClasses: Int,
                      l2Regs: [Double], wantWeights: Bool) throws -> Solution {
        switch p {
        case .float32: return try solveT(Float.self, train: train, labels: labels, test: test, numClasses: numClasses, l2Regs: l2Regs, wantWeights: wantWeights)
        case .float64: return try solveT(Double.self, train: train, labels: labels, test: test, numClasses: numClasses, l2Regs: l2Regs, wantWeights: wantWeights)
        }
    }

    /// Whitened, bias-augmented copy of `x` in `T`.
    static func whiten<T: LapackScalar>(_ x: FeatureMatrix, _ mean: [T], _ std: [T]) throws -> Dense<T> {
        let d = x.cols
        var out = try Dense<T>(rows: x.rows, cols: d + 1)
        let bias = T(biasConstant)
        x.values.withUnsafeBufferPointer { src in
            out.a.withUnsafeMutableBufferPointer { dst in
                for i in 0..<x.rows {
                    let s = i * d, o = i * (d + 1)
                    for j in 0..<d { dst[o + j] = (T(src[s + j]) - mean[j]) / std[j] }
                    dst[o + d] = bias
                }
            }
        }
        return out
    }

    static func solveT<T: LapackScalar>(_: T.Type, train: FeatureMatrix, labels: [Int32], test: FeatureMatrix?, numClasses c: Int,
                                        l2Regs: [Double], wantWeights: Bool) throws -> Solution {
        let n = train.rows, d = train.cols, dp = d + 1
        try checkBLAS(n, dp, c, test?.rows ?? 0, what: "few-shot")
        // 1. Whitening statistics (accumulated in float64, two passes, population std).
        var meanD = [Double](repeating: 0, count: d)
        var varD = [Double](repeating: 0, count: d)
        train.values.withUnsafeBufferPointer { v in
            for i in 0..<n { for j in 0..<d { meanD[j] += Double(v[i * d + j]) } }
            for j in 0..<d { meanD[j] /= Double(n) }
            for i in 0..<n { for j in 0..<d { let z = Double(v[i * d + j]) - meanD[j]; varD[j] += z * z } }
        }
        let mean = meanD.map { T($0) }
        let std = varD.map { T(($0 / Double(n)).squareRoot() + stdEpsilon) }
        // 2. Bias-augmented features; 3. targets in {−1, +1}.
        let x = try whiten(train, mean, std)
        var y = try Dense<T>(rows: n, cols: c)
        for i in 0..<n {
            for k in 0..<c { y.a[i * c + k] = -1 }
            y.a[i * c + Int(labels[i])] = 1
        }
        // 4. One eigendecomposition.
        let primal = n >= dp
        let (eigs, e) = try symmetricEigen(try gram(x, transposed: primal))   // rows of e: eigenvectors
        let rhs: Dense<T>            // K × C
        if primal {
            rhs = try matmul(e, false, try matmul(x, true, y, false), false)   // Qᵀ (Xᵀ Y)
        } else {
            rhs = try matmul(e, false, y, false)                                // Qᵀ Y
        }
        // Test projection P = X_test · lhs (lhs = Q, or Xᵀ Q in the dual).
        var proj: Dense<T>? = nil
        if let test {
            let xt = try whiten(test, mean, std)
            proj = primal ? try matmul(xt, false, e, true) : try matmul(try matmul(xt, false, x, true), false, e, true)
        }
        // lhs itself (D+1 × K) only when weights are wanted.
        var lhs: Dense<T>? = nil
        if wantWeights { lhs = primal ? try transpose(e) : try matmul(x, true, e, true) }
        let kDim = eigs.count
        var out = Solution(predictions: [], weights: [], mean: mean.map { Double($0) }, std: std.map { Double($0) })
        for l2 in l2Regs {
            var m = rhs
            let lam = T(l2)
            for k in 0..<kDim {
                let s = 1 / (eigs[k] + lam)
                for j in 0..<c { m.a[k * c + j] *= s }
            }
            if let proj {
                let scores = try matmul(proj, false, m, false)
                var pred = [Int32](repeating: 0, count: scores.rows)
                for i in 0..<scores.rows {
                    var best = 0
                    var bestV = scores.a[i * c]
                    for j in 1..<max(c, 1) where scores.a[i * c + j] > bestV { best = j; bestV = scores.a[i * c + j] }
                    pred[i] = Int32(best)
                }
                out.predictions.append(pred)
            } else {
                out.predictions.append([])
            }
            if let lhs { out.weights.append(try matmul(lhs, false, m, false).a.map { Double($0) }) }
        }
        _ = dp
        return out
    }

    static func transpose<T: LapackScalar>(_ a: Dense<T>) throws -> Dense<T> {
        var t = try Dense<T>(rows: a.cols, cols: a.rows)
        for i in 0..<a.rows { for j in 0..<a.cols { t.a[j * a.rows + i] = a.a[i * a.cols + j] } }
        return t
    }
}
