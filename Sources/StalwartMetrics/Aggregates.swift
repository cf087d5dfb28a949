import Glibc
import StalwartTensor

/// The aggregates of the robustness literature, from per-condition accuracies.
public enum Aggregates {
    /// AlexNet's top-1 error per ImageNet-C corruption, averaged over severities 1–5, and on
    /// clean ImageNet (Hendrycks & Dietterich, ICLR 2019, the mCE normaliser).
    public static let alexNetErrors: [String: Double] = [
        "gaussian_noise": 0.886, "shot_noise": 0.894, "impulse_noise": 0.923, "defocus_blur": 0.820,
        "glass_blur": 0.826, "motion_blur": 0.786, "zoom_blur": 0.798, "snow": 0.867, "frost": 0.827,
        "fog": 0.819, "brightness": 0.565, "contrast": 0.853, "elastic_transform": 0.646,
        "pixelate": 0.718, "jpeg_compression": 0.607,
    ]
    public static let alexNetCleanError = 0.4348

    public struct CorruptionErrors: Sendable {
        /// Mean over the corruptions of `ce` (and of `relativeCE`: NaN without a clean accuracy).
        public var mce: Double
        public var relativeMCE: Double
        /// Per corruption, in the input order: CE = Σ_s E_s / Σ_s E_s^baseline (= mean error over
        /// the severities / the baseline's mean error); relative CE = Σ_s (E_s − E_clean) /
        /// Σ_s (E_s^baseline − E_clean^baseline).
        public var ce: [Double]
        public var relativeCE: [Double]
    }

    /// mCE and relative mCE (Hendrycks & Dietterich 2019). `accuracies[i]` holds the model's
    /// top-1 accuracies at severities 1–5 of corruption `names[i]` (5 values in [0, 1]);
    /// `baseline` maps each name to the baseline model's error averaged over severities (default
    /// AlexNet's, above) and `baselineCleanError` is its clean error. Every name must have a
    /// baseline value. `cleanAccuracy` (the model's clean top-1) is needed for relative mCE.
    public static func mce(names: [String], accuracies: [[Double]], cleanAccuracy: Double? = nil,
                           baseline: [String: Double] = alexNetErrors, baselineCleanError: Double = alexNetCleanError) throws -> CorruptionErrors {
        guard !names.isEmpty, names.count == accuracies.count else {
            throw StalwartError.invalidArgument("mCE needs one row of 5 accuracies per corruption (\(names.count) names, \(accuracies.count) rows)")
        }
        if let c = cleanAccuracy { try checkUnit(c, "clean accuracy") }
        try checkUnit(baselineCleanError, "baseline clean error")
        var ce: [Double] = [], rel: [Double] = []
        for (name, row) in zip(names, accuracies) {
            guard row.count == 5 else { throw StalwartError.invalidArgument("\(name): \(row.count) accuracies, 5 severities needed") }
            for a in row { try checkUnit(a, "\(name) accuracy") }
            guard let b = baseline[name] else { throw StalwartError.invalidArgument("no baseline error for corruption '\(name)'") }
            try checkUnit(b, "\(name) baseline error")
            let meanError = row.map { 1 - $0 }.reduce(0, +) / 5
            guard b > 0 else { throw StalwartError.invalidArgument("\(name): baseline error 0") }
            ce.append(meanError / b)
            if let c = cleanAccuracy {
                let d = b - baselineCleanError
                guard d != 0 else { throw StalwartError.invalidArgument("\(name): baseline error equals its clean error") }
                rel.append((meanError - (1 - c)) / d)
            } else { rel.append(.nan) }
        }
        let n = Double(ce.count)
        return CorruptionErrors(mce: ce.reduce(0, +) / n, relativeMCE: rel.reduce(0, +) / n, ce: ce, relativeCE: rel)
    }

    /// pm-k of ImageNet-Vid-Robust / YTBB-Robust (Shankar et al. 2021): an anchor frame counts
    /// as correct only if it and every reviewed neighbour within k frames (|offset| ≤ k) are
    /// classified correctly; pm-0 is anchor accuracy. `neighborAnchor[j]` is the anchor index
    /// (0..<anchorCorrect.count) of neighbour j, `neighborOffset[j]` its frame distance.
    public static func pmK(anchorCorrect: [Bool], neighborAnchor: [Int], neighborOffset: [Int], neighborCorrect: [Bool], k: Int) throws -> Double {
        guard !anchorCorrect.isEmpty else { throw StalwartError.invalidArgument("pm-k needs at least one anchor") }
        guard neighborAnchor.count == neighborOffset.count, neighborOffset.count == neighborCorrect.count else {
            throw StalwartError.invalidArgument("neighbour arrays differ in length (\(neighborAnchor.count), \(neighborOffset.count), \(neighborCorrect.count))")
        }
        guard k >= 0 else { throw StalwartError.invalidArgument("k must be ≥ 0, got \(k)") }
        var ok = anchorCorrect
        for j in neighborAnchor.indices {
            let a = neighborAnchor[j]
            guard a >= 0, a < ok.count else { throw StalwartError.invalidArgument("neighbour \(j) names anchor \(a) of \(ok.count)") }
            if neighborOffset[j].magnitude <= UInt(k) && !neighborCorrect[j] { ok[a] = false }
        }
        return Double(ok.filter { $0 }.count) / Double(ok.count)
    }

    public struct FactorAccuracy: Sendable {
        /// Distinct factor values, ascending, with the accuracy and count of their examples.
        public var values: [Double]
        public var accuracy: [Double]
        public var counts: [Int]
        /// Mean of the per-value accuracies (every value weighted equally, as SI-Score reports).
        public var mean: Double
    }

    /// Accuracy per value of a factor (SI-Score: object area, rotation angle, or a location
    /// encoded as one number per (x, y) cell) and its average over values.
    public static func factorAccuracy(factor: [Double], correct: [Bool]) throws -> FactorAccuracy {
        guard !factor.isEmpty, factor.count == correct.count else {
            throw StalwartError.invalidArgument("factor accuracy needs one factor value per example (\(factor.count) values, \(correct.count) results)")
        }
        guard factor.allSatisfy({ $0.isFinite }) else { throw StalwartError.invalidArgument("factor values must be finite") }
        let order = factor.indices.sorted { factor[$0] < factor[$1] }
        var values: [Double] = [], acc: [Double] = [], counts: [Int] = []
        var i = 0
        while i < order.count {
            let v = factor[order[i]]
            var n = 0, c = 0
            while i < order.count && factor[order[i]] == v { n += 1; if correct[order[i]] { c += 1 }; i += 1 }
            values.append(v); counts.append(n); acc.append(Double(c) / Double(n))
        }
        return FactorAccuracy(values: values, accuracy: acc, counts: counts, mean: acc.reduce(0, +) / Double(acc.count))
    }

    public struct EffectiveRobustness: Sendable {
        /// Shifted accuracy minus the fit's prediction from the clean accuracy.
        public var value: Double
        /// logit(shifted) ≈ slope · logit(clean) + intercept over the reference models.
        public var slope: Double
        public var intercept: Double
    }

    /// Effective robustness (Taori et al. 2020): a least-squares line through the reference
    /// models' (logit clean accuracy, logit shifted accuracy), then
    /// `shifted − sigmoid(slope·logit(clean) + intercept)`. Accuracies must lie in (0, 1); at
    /// least two references with different clean accuracies.
    public static func effectiveRobustness(referenceClean: [Double], referenceShifted: [Double], clean: Double, shifted: Double) throws -> EffectiveRobustness {
        guard referenceClean.count == referenceShifted.count, referenceClean.count >= 2 else {
            throw StalwartError.invalidArgument("effective robustness needs ≥ 2 reference models with both accuracies")
        }
        func logit(_ p: Double, _ what: String) throws -> Double {
            guard p > 0, p < 1 else { throw StalwartError.invalidArgument("\(what) accuracy \(p) must lie in (0, 1)") }
            return log(p / (1 - p))
        }
        let x = try referenceClean.map { try logit($0, "reference clean") }
        let y = try referenceShifted.map { try logit($0, "reference shifted") }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0
        for i in x.indices { sxx += (x[i] - mx) * (x[i] - mx); sxy += (x[i] - mx) * (y[i] - my) }
        guard sxx > 0 else { throw StalwartError.invalidArgument("reference models all have the same clean accuracy") }
        let slope = sxy / sxx, intercept = my - slope * mx
        let predicted = 1 / (1 + exp(-(slope * (try logit(clean, "clean")) + intercept)))
        try checkUnit(shifted, "shifted accuracy")
        return EffectiveRobustness(value: shifted - predicted, slope: slope, intercept: intercept)
    }

    static func checkUnit(_ v: Double, _ what: String) throws {
        guard v.isFinite, v >= 0, v <= 1 else { throw StalwartError.invalidArgument("\(what) \(v) must lie in [0, 1]") }
    }
}
