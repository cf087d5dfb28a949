// The full-data linear probe: multinomial logistic regression with an L2 penalty, fitted by
// L-BFGS in float64 (the objective and penalty convention of scikit-learn's
// LogisticRegression(solver="lbfgs"), so `l2 = 1 / C`).
import Glibc
import StalwartTensor

/// A fitted multinomial logistic regression: scores = x · W + b over the training set's classes.
public struct LogisticModel: Sendable {
    /// The distinct training labels, ascending; column k of `weights` scores `classes[k]`.
    public let classes: [Int32]
    /// D: feature dimension.
    public let dims: Int
    /// D × K row-major weights (K = `classes.count`).
    public let weights: [Double]
    /// K intercepts (not penalized).
    public let bias: [Double]
    /// L-BFGS iterations run.
    public let iterations: Int
    /// Whether the gradient test (‖∇f‖∞ ≤ tolerance) or the relative-decrease test stopped it
    /// (false: `maxIterations` was reached or the line search could not make progress).
    public let converged: Bool
    /// Final objective: Σᵢ −log pᵢ(yᵢ) + l2/2 · ‖W‖².
    public let objective: Double

    /// n × K scores `x · W + b`, row-major.
    public func decision(_ x: FeatureMatrix) throws -> [Double] {
        try x.validate("probe features")
        guard x.cols == dims else {
            throw StalwartError.invalidArgument("probe: features have \(x.cols) columns, the model \(dims)")
        }
        let k = classes.count
        var xd = try Dense<Double>(rows: x.rows, cols: dims)
        for i in 0..<x.values.count { xd.a[i] = Double(x.values[i]) }
        var w = try Dense<Double>(rows: dims, cols: k)
        w.a = weights
        var s = try matmul(xd, false, w, false)
        for i in 0..<x.rows { for j in 0..<k { s.a[i * k + j] += bias[j] } }
        return s.a
    }

    /// Predicted label per row (first maximum on ties).
    public func predict(_ x: FeatureMatrix) throws -> [Int32] {
        let s = try decision(x)
        let k = classes.count
        return (0..<x.rows).map { i in
            var best = 0
            for j in 1..<k where s[i * k + j] > s[i * k + best] { best = j }
            return classes[best]
        }
    }

    /// Fraction of rows whose prediction equals `labels`.
    public func accuracy(_ x: FeatureMatrix, labels: [Int32]) throws -> Double {
        guard labels.count == x.rows else {
            throw StalwartError.invalidArgument("probe: \(labels.count) labels for \(x.rows) feature rows")
        }
        let p = try predict(x)
        var hits = 0
        for i in p.indices where p[i] == labels[i] { hits += 1 }
        return Double(hits) / Double(max(p.count, 1))
    }
}

public enum LinearProbe {
    /// Fits the multinomial logistic regression minimizing
    /// `Σᵢ −log softmax(xᵢ·W + b)[yᵢ] + l2/2 · ‖W‖²` (b unpenalized) — scikit-learn's
    /// `LogisticRegression(C = 1/l2, solver="lbfgs")` objective. Features are used as given (not
    /// standardized; standardize beforehand if their scales differ widely). L-BFGS with 10
    /// correction pairs and a strong-Wolfe line search from W = 0, b = 0, on the objective divided
    /// by n; it stops when ‖∇(f/n)‖∞ ≤ 1e-6, when the relative decrease falls below 64·ε, or after
    /// `maxIterations`. Deterministic for a given OpenBLAS build and thread count.
    ///
    /// Throws `invalidArgument` on empty or non-finite features, mismatched labels, fewer than two
    /// classes, `l2 < 0` or non-finite, or `maxIterations < 1`.
    public static func fit(train: FeatureMatrix, labels: [Int32], l2: Double, maxIterations: Int) throws -> LogisticModel {
        try fit(train: train, labels: labels, l2: l2, maxIterations: maxIterations, tolerance: 1e-6)
    }

    /// `fit` with an explicit gradient tolerance (on the objective divided by n).
    public static func fit(train: FeatureMatrix, labels: [Int32], l2: Double, maxIterations: Int,
                           tolerance: Double) throws -> LogisticModel {
        try train.validate("probe features")
        _ = try checkLabels(labels, count: train.rows, "probe labels")
        guard l2 >= 0, l2.isFinite else { throw StalwartError.invalidArgument("probe: l2 \(l2) must be finite and ≥ 0") }
        guard maxIterations >= 1, maxIterations <= 10_000_000 else {
            throw StalwartError.invalidArgument("probe: maxIterations \(maxIterations) is outside 1...10000000")
        }
        guard tolerance >= 0, tolerance.isFinite else { throw StalwartError.invalidArgument("probe: tolerance \(tolerance) must be finite and ≥ 0") }
        let classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else {
            throw StalwartError.invalidArgument("probe: the training set has a single class (\(classes.first ?? 0)); need at least 2")
        }
        let n = train.rows, d = train.cols, k = classes.count
        try checkBLAS(n, d, k, what: "probe")
        var index = [Int32: Int]()
        for (i, c) in classes.enumerated() { index[c] = i }
        let y = labels.map { index[$0] ?? 0 }
        var x = try Dense<Double>(rows: n, cols: d)
        for i in 0..<train.values.count { x.a[i] = Double(train.values[i]) }
        let problem = LogisticObjective(x: x, y: y, k: k, l2: l2)
        let dim = d * k + k
        let result = try LBFGS.minimize(dimension: dim, maxIterations: maxIterations, tolerance: tolerance) { theta in
            try problem.evaluate(theta)
        }
        return LogisticModel(classes: classes, dims: d, weights: Array(result.x[0..<(d * k)]),
                             bias: Array(result.x[(d * k)...]), iterations: result.iterations,
                             converged: result.converged, objective: result.f * Double(n))
    }
}

/// f(θ) = (1/n)[Σᵢ −log softmax(xᵢW + b)[yᵢ] + l2/2 ‖W‖²], θ = (W row-major D×K, b).
struct LogisticObjective {
    let x: Dense<Double>
    let y: [Int]
    let k: Int
    let l2: Double

    func evaluate(_ theta: [Double]) throws -> (Double, [Double]) {
        let n = x.rows, d = x.cols
        var w = try Dense<Double>(rows: d, cols: k)
        w.a = Array(theta[0..<(d * k)])
        var z = try matmul(x, false, w, false)   // n × K
        var loss = 0.0
        var gb = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let o = i * k
            var m = -Double.infinity
            for j in 0..<k { z.a[o + j] += theta[d * k + j]; m = max(m, z.a[o + j]) }
            var s = 0.0
            for j in 0..<k { s += exp(z.a[o + j] - m) }
            let lse = m + log(s)
            loss += lse - z.a[o + y[i]]
            for j in 0..<k { z.a[o + j] = exp(z.a[o + j] - lse) }   // probabilities
            z.a[o + y[i]] -= 1                                        // P − Y
            for j in 0..<k { gb[j] += z.a[o + j] }
        }
        var gw = try matmul(x, true, z, false)   // D × K
        var sq = 0.0
        for i in 0..<(d * k) { sq += w.a[i] * w.a[i]; gw.a[i] += l2 * w.a[i] }
        let inv = 1 / Double(n)
        let f = (loss + 0.5 * l2 * sq) * inv
        var g = gw.a
        g.append(contentsOf: gb)
        for i in g.indices { g[i] *= inv }
        return (f, g)
    }
}
