import Glibc
import StalwartTensor

/// Out-of-distribution detection with the maximum softmax probability (MSP; Hendrycks & Gimpel
/// 2017): spec `ood[:recall=95]`.
///
/// Labels are **flags**, not classes: 0 = in-distribution example, 1 = out-of-distribution
/// example (any other label is an error). Labels are still validated against k by `ScoreBatch`,
/// so k ≥ 2 is needed; the class scores are only used for the MSP = max_i p_i.
///
/// Conventions of Hendrycks' `get_measures` / `fpr_and_fdr_at_recall` (outlier-exposure,
/// utils/display_results.py; CIFAR/test.py calls `get_measures(out_score, in_score)` with
/// score −MSP, i.e. OOD is the positive class), with scikit-learn's tie handling:
/// - `auroc`: `roc_auc_score` — the probability that an in-distribution example has a higher MSP
///   than an OOD one, ties counting 1/2 (the same for either choice of positive class).
/// - `aupr_in`: `average_precision_score` with in-distribution positive and score MSP;
///   `aupr_out`: OOD positive and score −MSP (OE's AUPR). AP = Σ_t (R_t − R_{t−1})·P_t over the
///   distinct score thresholds t (a tie group is one threshold), no interpolation.
/// - `fpr<r>_out` (r = `recall`, default 95): `fpr_and_fdr_at_recall(ood, −MSP, r/100)` — the
///   fraction of in-distribution examples flagged as OOD at the threshold where the OOD recall is
///   closest to r% (thresholds at distinct scores, from full recall down; the first, i.e. the
///   highest-recall, of equally close points), OE's FPR95.
///   `fpr<r>_in`: the same with in-distribution positive and score MSP — the fraction of OOD
///   examples accepted at r% in-distribution TPR (the ODIN / energy-score papers' FPR95).
/// - `count_in`, `count_out`.
/// Every measure is NaN unless both kinds of example were seen (`roc_auc_score` raises then).
/// Stores 9 bytes per example (MSP, flag).
public struct OODMetric: MetricAccumulator {
    public static let name = "ood"
    public let recall: Int
    var pairs = ScoredFlags()

    public init(spec: MetricSpec) throws {
        try spec.check(allowed: ["recall"])
        recall = try spec.int("recall", default: 95, range: 1...100)
    }

    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        pairs = try ScoredFlags.decode(&r, Self.name, range: 0...1)
    }

    public var configuration: [(String, String)] { [("recall", String(recall))] }

    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        for (i, s) in summaries.enumerated() where s.label > 1 {
            throw StalwartError.invalidArgument("ood: row \(i): label \(s.label) is neither 0 (in-distribution) nor 1 (out-of-distribution)")
        }
        for s in summaries { pairs.append(s.confidence, s.label == 1) }
    }

    public mutating func merge(_ o: OODMetric) throws {
        guard o.recall == recall else { throw StalwartError.invalidArgument("cannot merge ood recall=\(o.recall) into recall=\(recall)") }
        pairs.append(contentsOf: o.pairs)
    }

    public func encodeState(_ w: inout ByteWriter) { pairs.encode(&w) }

    /// Tie groups of a score sorted from the most to the least positive: (positives, negatives).
    /// `fpr_and_fdr_at_recall` and AP over them.
    static func apAndFPR(_ groups: [(pos: Int, neg: Int)], positives: Int, negatives: Int, level: Double) -> (ap: Double, fpr: Double) {
        let P = Double(positives)
        var ap = CompensatedSum()
        var tp = 0, fp = 0
        var tps = [Int](), fps = [Int]()
        tps.reserveCapacity(groups.count); fps.reserveCapacity(groups.count)
        var prevRecall = 0.0
        for g in groups {
            tp += g.pos; fp += g.neg
            tps.append(tp); fps.append(fp)
            let r = Double(tp) / P
            if g.pos > 0 { ap.add((r - prevRecall) * (Double(tp) / Double(tp + fp))) }
            prevRecall = r
        }
        // last_ind = tps.searchsorted(tps[-1]); scan recall from there down to the first threshold.
        var lastInd = 0
        while tps[lastInd] < positives { lastInd += 1 }
        var best = lastInd
        var bestGap = abs(Double(tps[lastInd]) / P - level)
        var i = lastInd - 1
        while i >= 0 {
            let gap = abs(Double(tps[i]) / P - level)
            if gap < bestGap { bestGap = gap; best = i }
            i -= 1
        }
        return (ap.value, Double(fps[best]) / Double(negatives))
    }

    public func result() -> [(String, Double)] {
        var nOut = 0
        for f in pairs.flags { nOut += Int(f) }
        let nIn = pairs.count - nOut
        let tail: [(String, Double)] = [("count_in", Double(nIn)), ("count_out", Double(nOut))]
        let names = ["auroc", "aupr_in", "aupr_out", "fpr\(recall)_out", "fpr\(recall)_in"]
        guard nIn > 0, nOut > 0 else { return names.map { ($0, Double.nan) } + tail }
        // Tie groups of the MSP, ascending: (in-distribution, OOD) counts.
        let sorted = pairs.sortedPairs()
        var groups = [(inD: Int, out: Int)]()
        var j = 0
        while j < sorted.count {
            var e = j, o = 0
            while e < sorted.count && sorted[e].v == sorted[j].v { o += Int(sorted[e].f); e += 1 }
            groups.append((e - j - o, o))
            j = e
        }
        // AUROC: Σ_g in_g·(2·OOD below + OOD_g) / (2·n_in·n_out), exact in float64 for < 2^53.
        var u = 0.0, outBelow = 0.0
        for g in groups {
            u += Double(g.inD) * (2 * outBelow + Double(g.out))
            outBelow += Double(g.out)
        }
        let auroc = u / (2 * Double(nIn) * Double(nOut))
        let level = Double(recall) / 100
        // In-distribution positive, score MSP: most positive = highest MSP.
        let inView = OODMetric.apAndFPR(groups.reversed().map { ($0.inD, $0.out) }, positives: nIn, negatives: nOut, level: level)
        // OOD positive, score −MSP: most positive = lowest MSP.
        let outView = OODMetric.apAndFPR(groups.map { ($0.out, $0.inD) }, positives: nOut, negatives: nIn, level: level)
        return [("auroc", auroc), ("aupr_in", inView.ap), ("aupr_out", outView.ap),
                ("fpr\(recall)_out", outView.fpr), ("fpr\(recall)_in", inView.fpr)] + tail
    }
}
