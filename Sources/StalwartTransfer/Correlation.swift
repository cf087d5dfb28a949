// Rank and linear correlations between a robustness metric and transfer accuracy across models,
// with percentile-bootstrap confidence intervals. Definitions follow SciPy: Kendall's τ-b
// (`scipy.stats.kendalltau`, Knight's O(n log n) algorithm), Spearman's ρ (Pearson r of average
// ranks, `spearmanr`), Pearson's r (`pearsonr`).
import StalwartTensor

public enum Correlation {
    public enum Kind: String, CaseIterable, Sendable { case kendall, spearman, pearson }

    /// The coefficient of `x` and `y` (same length ≥ 2, finite). Throws `invalidArgument` on
    /// mismatched lengths, fewer than two pairs, non-finite values, or a constant `x` or `y`
    /// (where every coefficient is undefined; SciPy returns NaN).
    public static func coefficient(_ kind: Kind, _ x: [Double], _ y: [Double]) throws -> Double {
        try check(x, y)
        guard let v = value(kind, x, y) else {
            throw StalwartError.invalidArgument("\(kind.rawValue) correlation is undefined: x or y is constant")
        }
        return v
    }

    /// Percentile bootstrap over (x, y) pairs resampled with replacement: `resamples` times, n
    /// indices are drawn (in order, each `SplitMix64.below(n)`) from the single stream
    /// `SplitMix64(seed: seed, tag: bootstrapTag, index: 0)`; the coefficient of each resample is
    /// computed (resamples where x or y is constant, so the coefficient is undefined, are skipped);
    /// the interval is the (1 − confidence)/2 and (1 + confidence)/2 quantiles of those values with
    /// linear interpolation (NumPy's default `percentile`). Seeded and deterministic.
    /// Throws `invalidArgument` for the inputs `coefficient` rejects, `resamples` outside
    /// 1...10⁷, `confidence` outside (0, 1), or when every resample is undefined.
    public static func bootstrapInterval(_ kind: Kind, _ x: [Double], _ y: [Double], resamples: Int, confidence: Double,
                                         seed: UInt64) throws -> (low: Double, high: Double) {
        _ = try coefficient(kind, x, y)
        guard resamples >= 1, resamples <= 10_000_000 else {
            throw StalwartError.invalidArgument("bootstrap: resamples \(resamples) is outside 1...10000000")
        }
        guard confidence > 0, confidence < 1 else {
            throw StalwartError.invalidArgument("bootstrap: confidence \(confidence) is outside (0, 1)")
        }
        let n = x.count
        var rng = SplitMix64(seed: seed, tag: SplitMix64.bootstrapTag, index: 0)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        var bx = [Double](repeating: 0, count: n), by = [Double](repeating: 0, count: n)
        for _ in 0..<resamples {
            for i in 0..<n {
                let j = Int(rng.below(UInt64(n)))
                bx[i] = x[j]
                by[i] = y[j]
            }
            if let v = value(kind, bx, by) { values.append(v) }
        }
        guard !values.isEmpty else {
            throw StalwartError.invalidArgument("bootstrap: every resample had a constant x or y; the interval is undefined")
        }
        values.sort()
        let alpha = (1 - confidence) / 2
        return (quantile(values, alpha), quantile(values, 1 - alpha))
    }

    /// Quantile of sorted `v` at `q` ∈ [0, 1] with linear interpolation (NumPy "linear").
    static func quantile(_ v: [Double], _ q: Double) -> Double {
        let pos = q * Double(v.count - 1)
        let lo = Int(pos.rounded(.down))
        let hi = min(lo + 1, v.count - 1)
        let t = pos - Double(lo)
        let a = v[lo], b = v[hi]
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }

    static func check(_ x: [Double], _ y: [Double]) throws {
        guard x.count == y.count else { throw StalwartError.invalidArgument("correlation: x has \(x.count) values, y \(y.count)") }
        guard x.count >= 2 else { throw StalwartError.invalidArgument("correlation: need at least 2 pairs, got \(x.count)") }
        guard x.count <= 1 << 28 else { throw StalwartError.invalidArgument("correlation: \(x.count) pairs is too many") }
        for (i, v) in x.enumerated() where !v.isFinite { throw StalwartError.invalidArgument("correlation: x[\(i)] is \(v); values must be finite") }
        for (i, v) in y.enumerated() where !v.isFinite { throw StalwartError.invalidArgument("correlation: y[\(i)] is \(v); values must be finite") }
    }

    /// nil when undefined (constant input).
    static func value(_ kind: Kind, _ x: [Double], _ y: [Double]) -> Double? {
        switch kind {
        case .kendall: return kendallTauB(x, y)
        case .spearman: return pearson(averageRanks(x), averageRanks(y))
        case .pearson: return pearson(x, y)
        }
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        let n = Double(x.count)
        var mx = 0.0, my = 0.0
        for i in x.indices { mx += x[i]; my += y[i] }
        mx /= n; my /= n
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in x.indices {
            let a = x[i] - mx, b = y[i] - my
            sxx += a * a; syy += b * b; sxy += a * b
        }
        guard sxx > 0, syy > 0 else { return nil }
        let r = sxy / (sxx.squareRoot() * syy.squareRoot())
        return min(1, max(-1, r))
    }

    /// Ranks 1...n, ties sharing their average rank (`scipy.stats.rankdata(method="average")`).
    static func averageRanks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, v[order[j + 1]] == v[order[i]] { j += 1 }
            let r = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = r }
            i = j + 1
        }
        return ranks
    }

    /// Kendall's τ-b = (n_c − n_d) / √((n₀ − n₁)(n₀ − n₂)) with Knight's algorithm: sort by (x, y),
    /// count discordant pairs as the inversions of y (merge sort), ties from runs.
    static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
        let n = x.count
        let order = x.indices.sorted { x[$0] < x[$1] || (x[$0] == x[$1] && y[$0] < y[$1]) }
        var ys = order.map { y[$0] }
        let xs = order.map { x[$0] }
        // Ties in x and joint ties (x, y), from runs of the (x, y)-sorted sequence.
        var xtie: Int64 = 0, ntie: Int64 = 0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n, xs[j + 1] == xs[i] { j += 1 }
            let run = Int64(j - i + 1); xtie += run * (run - 1) / 2
            var a = i
            while a <= j {
                var b = a
                while b + 1 <= j, ys[b + 1] == ys[a] { b += 1 }
                let r = Int64(b - a + 1); ntie += r * (r - 1) / 2
                a = b + 1
            }
            i = j + 1
        }
        // Discordant pairs = strict inversions of ys; merge sort leaves ys sorted for the y ties.
        var buffer = [Double](repeating: 0, count: n)
        let dis = mergeCount(&ys, &buffer, 0, n)
        var ytie: Int64 = 0
        i = 0
        while i < n {
            var j = i
            while j + 1 < n, ys[j + 1] == ys[i] { j += 1 }
            let run = Int64(j - i + 1); ytie += run * (run - 1) / 2
            i = j + 1
        }
        let tot = Int64(n) * Int64(n - 1) / 2
        guard xtie < tot, ytie < tot else { return nil }
        let conMinusDis = Double(tot - xtie - ytie + ntie - 2 * dis)
        let tau = conMinusDis / Double(tot - xtie).squareRoot() / Double(tot - ytie).squareRoot()
        return min(1, max(-1, tau))
    }

    /// Sorts `a[lo..<hi]` ascending, returning the number of pairs i < j with a[i] > a[j].
    static func mergeCount(_ a: inout [Double], _ buf: inout [Double], _ lo: Int, _ hi: Int) -> Int64 {
        if hi - lo < 2 { return 0 }
        let mid = (lo + hi) / 2
        var count = mergeCount(&a, &buf, lo, mid) + mergeCount(&a, &buf, mid, hi)
        var i = lo, j = mid, k = lo
        while i < mid && j < hi {
            if a[j] < a[i] { buf[k] = a[j]; count += Int64(mid - i); j += 1 } else { buf[k] = a[i]; i += 1 }
            k += 1
        }
        while i < mid { buf[k] = a[i]; i += 1; k += 1 }
        while j < hi { buf[k] = a[j]; j += 1; k += 1 }
        for t in lo..<hi { a[t] = buf[t] }
        return count
    }
}
