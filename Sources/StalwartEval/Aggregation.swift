import StalwartData
import StalwartMetrics
import StalwartSIScore
import StalwartStore
import StalwartTensor

/// The aggregates of a run, written when it finishes (and rewritten by `stalwart merge`).
///
/// Per (corruption, severity) group: the results of the streaming accumulators restored from
/// their stored states (`top1`, `top5`, `nll`, `brier`, `ece`, `ece_unweighted`), the mean
/// `confidence`, and for shifted groups the `flip_rate` against the same images' clean
/// predictions. Run-level values use corruption "*" and severity −1: `mce`, `relative_mce`
/// (corruptions with all five severities and an AlexNet baseline), `corrupted_top1` (mean over
/// corrupted groups), `pm0`/`pm10` (pm-k sets), `factor:<name>` (SI-Score, mean accuracy over a
/// factor's values); per corruption (severity −1): `ce`, `relative_ce`.
///
/// SI-Score runs also get robustness_metrics' per-factor accuracies (`SIScoreScores`): group
/// ("si-score", −2) holds `size=<area>:top1|top5`, `rotation=<angle>:top1|top5` and
/// `location=<x>,<y>:top1|top5` (x, y as `%.2f`), and run-level `siscore:<factor>_average`
/// (top-1) and `siscore:<factor>_average_top5`, for each factor that varies. Factors come from
/// the dataset's samples, or — when the dataset cannot be reopened (in-memory synthesis after
/// `stalwart merge`) — from the clean rows' `params`.
public enum Aggregation {
    public static let runLevel = GroupKey(corruption: "*", severity: -1)

    public static func finish(store: ResultStore, runID: Int64, dataset: Dataset?, finished: String?) throws {
        // Constant memory in the run's size: counts, confidence and flips come from SQL.
        var out: [Aggregate] = []
        var counts: [GroupKey: Int] = [:]
        for g in try store.groupConfidence(run: runID) where g.count > 0 {
            counts[g.group] = g.count
            out.append(Aggregate(group: g.group, metric: "confidence", value: g.meanConfidence, count: g.count))
        }
        var top1: [GroupKey: Double] = [:]
        for s in try store.metricStates(run: runID) {
            let box = try MetricBox.deserialize(s.state)
            let n = counts[s.group] ?? 0
            for (name, value) in box.result() where name != "count" {
                out.append(Aggregate(group: s.group, metric: name, value: value, count: n))
                if name == "top1" { top1[s.group] = value }
            }
        }
        // Flip rate of each shifted group against the clean predictions of the same images.
        for f in try store.flips(run: runID) where f.matched > 0 {
            out.append(Aggregate(group: f.group, metric: "flip_rate", value: Double(f.flipped) / Double(f.matched), count: f.matched))
        }
        out += try corruptionSummary(top1, counts: counts)
        if let dataset, dataset.layout == .imagenetVidRobust || dataset.layout == .ytbbRobust || dataset.layout == .siScore {
            out += try datasetSpecific(dataset, rows: try store.predictions(run: runID, group: GroupKey(corruption: "", severity: 0)))
        } else if dataset == nil, try store.runs().first(where: { $0.id == runID })?.record.layout == DatasetLayout.siScore.rawValue {
            let rows = try store.predictions(run: runID, group: GroupKey(corruption: "", severity: 0)).filter { $0.correct1 != nil }
            out += siScoreAggregates(rows.map { r in
                SIScoreResult(factors: factorsFromParams(r.params), correct1: r.correct1 ?? false, correct5: r.correct5 ?? false)
            })
        }
        try store.replaceAggregates(run: runID, out, finished: finished)
    }

    /// mCE / relative mCE and the mean corrupted top-1 from the groups' top-1.
    static func corruptionSummary(_ top1: [GroupKey: Double], counts: [GroupKey: Int]) throws -> [Aggregate] {
        var out: [Aggregate] = []
        let corrupted = top1.filter { !$0.key.corruption.isEmpty && $0.key.severity > 0 }
        guard !corrupted.isEmpty else { return out }
        let total = corrupted.keys.reduce(0) { $0 + (counts[$1] ?? 0) }
        out.append(Aggregate(group: runLevel, metric: "corrupted_top1",
                             value: corrupted.values.reduce(0, +) / Double(corrupted.count), count: total))
        let names = Set(corrupted.keys.map(\.corruption)).sorted().filter { name in
            Aggregates.alexNetErrors[name] != nil && (1...5).allSatisfy { corrupted[GroupKey(corruption: name, severity: $0)] != nil }
        }
        guard !names.isEmpty else { return out }
        let acc = names.map { n in (1...5).map { corrupted[GroupKey(corruption: n, severity: $0)] ?? .nan } }
        let cleanAcc = top1[GroupKey(corruption: "", severity: 0)]
        let e = try Aggregates.mce(names: names, accuracies: acc, cleanAccuracy: cleanAcc)
        let n = names.reduce(0) { t, name in t + (1...5).reduce(0) { $0 + (counts[GroupKey(corruption: name, severity: $1)] ?? 0) } }
        out.append(Aggregate(group: runLevel, metric: "mce", value: e.mce, count: n))
        if cleanAcc != nil { out.append(Aggregate(group: runLevel, metric: "relative_mce", value: e.relativeMCE, count: n)) }
        for (i, name) in names.enumerated() {
            let g = GroupKey(corruption: name, severity: -1)
            let m = (1...5).reduce(0) { $0 + (counts[GroupKey(corruption: name, severity: $1)] ?? 0) }
            out.append(Aggregate(group: g, metric: "ce", value: e.ce[i], count: m))
            if cleanAcc != nil { out.append(Aggregate(group: g, metric: "relative_ce", value: e.relativeCE[i], count: m)) }
        }
        return out
    }

    /// pm-k (Vid-Robust, YTBB-Robust) and SI-Score factor accuracies; `rows` are the run's
    /// clean rows (`predictions(run:group:)` of ("", 0)).
    static func datasetSpecific(_ dataset: Dataset, rows: [PredictionRow]) throws -> [Aggregate] {
        var out: [Aggregate] = []
        let bySample = Dictionary(dataset.samples.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let cleanRows = rows.filter { $0.correct1 != nil }   // the clean group's labelled rows
        if dataset.layout == .imagenetVidRobust || dataset.layout == .ytbbRobust {
            var anchors: [String: Int] = [:]
            var anchorCorrect: [Bool] = []
            for r in cleanRows {
                guard let s = bySample[r.sample], s.anchor == s.key else { continue }
                anchors[s.key] = anchorCorrect.count
                anchorCorrect.append(r.correct1 ?? false)
            }
            var na: [Int] = [], off: [Int] = [], nc: [Bool] = []
            for r in cleanRows {
                guard let s = bySample[r.sample], !s.anchor.isEmpty, s.anchor != s.key, let a = anchors[s.anchor],
                      let fa = frameNumber(s.anchor), let fs = frameNumber(s.key) else { continue }
                na.append(a); off.append(fs - fa); nc.append(r.correct1 ?? false)
            }
            if !anchorCorrect.isEmpty {
                for k in [0, 10] {
                    out.append(Aggregate(group: runLevel, metric: "pm\(k)",
                                         value: try Aggregates.pmK(anchorCorrect: anchorCorrect, neighborAnchor: na,
                                                                   neighborOffset: off, neighborCorrect: nc, k: k),
                                         count: anchorCorrect.count))
                }
            }
        }
        if dataset.layout == .siScore {
            var names = Set<String>()
            for s in dataset.samples { names.formUnion(s.factors.keys) }
            for name in names.sorted() {
                var f: [Double] = [], c: [Bool] = []
                for r in cleanRows { if let v = bySample[r.sample]?.factors[name] { f.append(v); c.append(r.correct1 ?? false) } }
                guard !f.isEmpty else { continue }
                let fa = try Aggregates.factorAccuracy(factor: f, correct: c)
                out.append(Aggregate(group: runLevel, metric: "factor:\(name)", value: fa.mean, count: f.count))
            }
            out += siScoreAggregates(cleanRows.compactMap { r in
                guard let s = bySample[r.sample] else { return nil }
                let f = s.factors.isEmpty ? factorsFromParams(r.params) : s.factors
                return SIScoreResult(factors: f, correct1: r.correct1 ?? false, correct5: r.correct5 ?? false)
            })
        }
        return out
    }

    /// The group of SI-Score per-value accuracies.
    public static let siScoreGroup = GroupKey(corruption: "si-score", severity: -2)

    /// Per-factor SI-Score aggregates of labelled results (see the type's documentation).
    static func siScoreAggregates(_ results: [SIScoreResult]) -> [Aggregate] {
        let scores = SIScoreScores.compute(results)
        var out: [Aggregate] = []
        for factor in scores.factors {
            let pts = scores.points(factor)
            for p in pts {
                let v = factor == "location" ? "\(SIScoreScores.fixed2(p.x)),\(SIScoreScores.fixed2(p.y ?? 0))" : PyMath.repr(p.x)
                out.append(Aggregate(group: siScoreGroup, metric: "\(factor)=\(v):top1", value: p.top1, count: p.count))
                out.append(Aggregate(group: siScoreGroup, metric: "\(factor)=\(v):top5", value: p.top5, count: p.count))
            }
            let n = pts.reduce(0) { $0 + $1.count }
            if let a = scores.average(factor) { out.append(Aggregate(group: runLevel, metric: "siscore:\(factor)_average", value: a, count: n)) }
            if let a = scores.average(factor, top5: true) {
                out.append(Aggregate(group: runLevel, metric: "siscore:\(factor)_average_top5", value: a, count: n))
            }
        }
        return out
    }

    /// Numeric members of a row's params JSON (`RunJob.factorJSON`), `[:]` when none parse.
    static func factorsFromParams(_ params: String) -> [String: Double] {
        guard params.count > 2, let obj = (try? JSONValue.parse(params))?.object else { return [:] }
        var f: [String: Double] = [:]
        for (k, v) in obj where ["area", "rotation", "x_coord", "y_coord"].contains(k) { if let d = v.double { f[k] = d } }
        return f
    }

    /// The frame number of a video frame key: the last run of digits in its file name
    /// (`val/ILSVRC2015_val_00000000/000442.JPEG` → 442, `…/frame-1117.jpg` → 1117).
    static func frameNumber(_ key: String) -> Int? {
        let file = key.split(separator: "/").last.map(String.init) ?? key
        var digits: [Character] = [], best: [Character] = []
        for ch in file {
            if ch.isASCII && ch.isNumber { digits.append(ch) } else { if !digits.isEmpty { best = digits }; digits = [] }
        }
        if !digits.isEmpty { best = digits }
        guard !best.isEmpty, best.count <= 12 else { return nil }
        return Int(String(best))
    }
}
