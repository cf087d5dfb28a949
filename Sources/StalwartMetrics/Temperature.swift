import Glibc
import StalwartTensor

/// Temperature scaling (Guo et al. 2017): the T > 0 minimising the mean negative log-likelihood
/// of softmax(z / T) on held-out logits, and its application.
///
/// The objective f(β) = mean_i [logsumexp(β·z_i) − β·z_{i,y_i}] with β = 1/T is convex in β
/// (f'' = mean variance of z under softmax(β·z) ≥ 0). `fit` brackets the root of f' by factors of
/// 4 from β = 1, then runs Newton's method in float64 safeguarded by bisection in log β, until a
/// step changes log T by less than 1e-10. The search is limited to T in
/// [`minimumTemperature`, `maximumTemperature`] = [1e-4, 1e4]: when the minimum lies outside
/// (the labels are separated by the logits' margins, so the NLL keeps falling as T → 0; or the
/// logits rank the labels no better than chance, so it falls as T → ∞) or f does not depend on T
/// (every row constant), `fit` throws `invalidArgument` rather than returning a boundary.
/// The sums run over fixed blocks of rows in parallel and are added in block order, so the result
/// does not depend on the thread count.
public enum TemperatureScaling {
    public static let minimumTemperature = 1e-4
    public static let maximumTemperature = 1e4

    /// The fitted temperature T for `batch` (kind `.logits`, k ≥ 2, validated like every batch).
    public static func fit(_ batch: ScoreBatch) throws -> Double {
        guard batch.kind == .logits else {
            throw StalwartError.invalidArgument("temperature scaling needs logits, not probabilities")
        }
        guard batch.k >= 2 else { throw StalwartError.invalidArgument("temperature scaling needs at least 2 classes, got \(batch.k)") }
        _ = try batch.summaries()  // validation (finite scores, labels in range)
        let bLo = 1 / maximumTemperature, bHi = 1 / minimumTemperature
        // Bracket the root of f'(β) (non-decreasing) starting from β = 1.
        var lo = 0.0, hi = Double.infinity
        var beta = 1.0
        var e = evaluate(batch, beta: beta)
        if e.g == 0 && e.h == 0 {
            throw StalwartError.invalidArgument("temperature scaling: the NLL does not depend on T (every row of logits is constant)")
        }
        if e.g < 0 {
            lo = beta
            while true {
                let next = beta * 4
                if next > bHi {
                    let eh = evaluate(batch, beta: bHi)
                    guard eh.g > 0, eh.h > 0 else {
                        throw StalwartError.invalidArgument("temperature scaling: the NLL still decreases at T = \(minimumTemperature) (the logits separate the labels)")
                    }
                    beta = bHi; e = eh; hi = bHi
                    break
                }
                beta = next; e = evaluate(batch, beta: beta)
                if e.g >= 0 {
                    // f' ≥ 0 only through underflow (every softmax one-hot): still decreasing.
                    guard e.h > 0 else {
                        throw StalwartError.invalidArgument("temperature scaling: the NLL decreases towards 0 as T → 0 (the logits separate the labels)")
                    }
                    hi = beta; break
                }
                lo = beta
            }
        } else if e.g > 0 {
            hi = beta
            while true {
                let next = beta / 4
                if next < bLo {
                    let el = evaluate(batch, beta: bLo)
                    guard el.g < 0 else {
                        throw StalwartError.invalidArgument("temperature scaling: the NLL still decreases at T = \(maximumTemperature) (the logits rank the labels no better than chance)")
                    }
                    beta = bLo; e = el; lo = bLo
                    break
                }
                beta = next; e = evaluate(batch, beta: beta)
                if e.g <= 0 { lo = beta; break }
                hi = beta
            }
        } else {
            return 1
        }
        // Safeguarded Newton on f'(β) = 0 inside [lo, hi].
        for _ in 0..<200 {
            if e.g == 0 { break }
            if e.g < 0 { lo = max(lo, beta) } else { hi = min(hi, beta) }
            var next = e.h > 0 ? beta - e.g / e.h : .nan
            if !(next > lo && next < hi) { next = (lo * hi).squareRoot() }
            let step = abs(log(next) - log(beta))
            beta = next
            if step < 1e-10 { break }
            e = evaluate(batch, beta: beta)
            if hi / lo - 1 < 1e-13 { break }
        }
        return 1 / beta
    }

    /// `fit` on row-major `logits` (n × k) and `labels`.
    public static func fit(logits: [Float], labels: [Int64], k: Int) throws -> Double {
        try logits.withUnsafeBufferPointer { s in
            try labels.withUnsafeBufferPointer { l in
                try fit(ScoreBatch(scores: s, labels: l, n: labels.count, k: k, kind: .logits))
            }
        }
    }

    /// Mean NLL of softmax(z / temperature) over `batch` (kind `.logits`).
    public static func nll(_ batch: ScoreBatch, temperature: Double) throws -> Double {
        guard batch.kind == .logits else { throw StalwartError.invalidArgument("temperature scaling needs logits, not probabilities") }
        guard temperature.isFinite, temperature > 0 else { throw StalwartError.invalidArgument("temperature \(temperature) must be finite and > 0") }
        _ = try batch.summaries()
        return evaluate(batch, beta: 1 / temperature).f
    }

    /// The logits divided by `temperature` (finite, > 0), computed in float64 and rounded to
    /// float32; throws if a scaled logit overflows float32.
    public static func apply(_ logits: [Float], temperature: Double) throws -> [Float] {
        var out = logits
        try out.withUnsafeMutableBufferPointer { try apply($0, temperature: temperature) }
        return out
    }

    /// In-place version of `apply`. On error the buffer is unchanged.
    public static func apply(_ logits: UnsafeMutableBufferPointer<Float>, temperature: Double) throws {
        guard temperature.isFinite, temperature > 0 else { throw StalwartError.invalidArgument("temperature \(temperature) must be finite and > 0") }
        for (i, z) in logits.enumerated() {
            guard z.isFinite, Float(Double(z) / temperature).isFinite else {
                throw StalwartError.invalidArgument("logit \(i) (\(z)) / \(temperature) is not a finite float32")
            }
        }
        for i in logits.indices { logits[i] = Float(Double(logits[i]) / temperature) }
    }

    /// Mean f, f', f'' at β over the rows, in fixed blocks summed in order.
    static func evaluate(_ batch: ScoreBatch, beta: Double) -> (f: Double, g: Double, h: Double) {
        let n = batch.n, k = batch.k
        let block = 512
        let blocks = (n + block - 1) / block
        var parts = [(Double, Double, Double)](repeating: (0, 0, 0), count: blocks)
        parts.withUnsafeMutableBufferPointer { pb in
            guard let out = pb.baseAddress, let s = batch.scores.baseAddress, let l = batch.labels.baseAddress else { return }
            MetricsPool.pool.parallelFor(blocks) { b in
                var w = [Double](repeating: 0, count: k)
                w.withUnsafeMutableBufferPointer { wb in
                    guard let e = wb.baseAddress else { return }
                    do {
                        var f = CompensatedSum(), g = CompensatedSum(), h = CompensatedSum()
                        for i in (b * block)..<min(n, (b + 1) * block) {
                            let row = s + i * k
                            var m = Double(row[0])
                            for j in 1..<k { m = max(m, Double(row[j])) }
                            // e_j = exp(β (z_j − m)); moments of d_j = z_j − m under p ∝ e.
                            var z = 0.0, s1 = 0.0
                            for j in 0..<k {
                                let d = Double(row[j]) - m
                                let v = exp(beta * d); e[j] = v; z += v; s1 += v * d
                            }
                            let mean = s1 / z
                            var s2 = 0.0
                            for j in 0..<k { let d = Double(row[j]) - m - mean; s2 += e[j] * d * d }
                            let dy = Double(row[Int(l[i])]) - m
                            f.add(log(z) - beta * dy)
                            g.add(mean - dy)
                            h.add(s2 / z)
                        }
                        out[b] = (f.value, g.value, h.value)
                    }
                }
            }
        }
        var f = CompensatedSum(), g = CompensatedSum(), h = CompensatedSum()
        for p in parts { f.add(p.0); g.add(p.1); h.add(p.2) }
        return (f.value / Double(n), g.value / Double(n), h.value / Double(n))
    }
}
