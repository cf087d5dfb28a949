import StalwartReport
import StalwartStore
import StalwartTensor

/// Turns a results database into the report model (`StalwartReport`).
public enum ReportBuilder {
    /// Bins of the reliability diagram (equal width on [0, 1], as the stored `ece`).
    public static let reliabilityBins = 15

    public static func input(from store: ResultStore, title: String, generated: String) throws -> ReportInput {
        var runs: [ReportRun] = []
        for r in try store.runs() {
            let aggregates = try store.aggregates(run: r.id)
            var cells: [GroupKey: ReportCell] = [:]
            var summary: [String: Double] = [:]
            var ce: [String: (Double, Double)] = [:]
            for a in aggregates {
                if a.group == Aggregation.siScoreGroup { continue }
                if a.group == Aggregation.runLevel { summary[a.metric] = a.value; continue }
                if a.group.severity < 0 {
                    var e = ce[a.group.corruption] ?? (.nan, .nan)
                    if a.metric == "ce" { e.0 = a.value } else if a.metric == "relative_ce" { e.1 = a.value }
                    ce[a.group.corruption] = e
                    continue
                }
                var cell = cells[a.group] ?? ReportCell(corruption: a.group.corruption, severity: a.group.severity, count: 0, metrics: [:])
                cell.metrics[a.metric] = a.value
                if a.metric == "confidence" || a.metric == "top1" { cell.count = max(cell.count, a.count) }
                cells[a.group] = cell
            }
            let clean = try store.predictions(run: r.id, group: GroupKey(corruption: "", severity: 0)).filter { $0.correct1 != nil }
            let sortedCells: [ReportCell] = cells.values.sorted { a, b in
                a.corruption != b.corruption ? a.corruption < b.corruption : a.severity < b.severity
            }
            var errors: [(name: String, ce: Double, relativeCE: Double)] = []
            for name in ce.keys.sorted() {
                let e = ce[name] ?? (.nan, .nan)
                errors.append((name: name, ce: e.0, relativeCE: e.1))
            }
            let skipped = try store.skipped(run: r.id).count
            let bins = reliability(clean)
            var run = ReportRun(
                model: r.model.name, modelHash: r.model.sha256, suite: reportedSuite(r.record), dataRoot: r.record.dataRoot,
                resolution: r.record.resolution, preprocess: r.record.preprocess, cropPct: r.record.cropPct,
                interpolation: r.record.interpolation, skipped: skipped, cells: sortedCells,
                reliability: bins, summary: summary, corruptionErrors: errors)
            let si = Aggregation.siScoreScores(aggregates)
            for factor in si.factors {
                run.factorCurves[factor] = si.points(factor).map {
                    FactorPoint(x: $0.x, y: $0.y, top1: $0.top1, top5: $0.top5, count: $0.count)
                }
            }
            runs.append(run)
        }
        return ReportInput(title: title, generated: generated, version: Evaluator.version, runs: runs)
    }

    /// The benchmark a run's numbers belong to, as reports name it: on-the-fly corruptions of
    /// an ImageNet-labelled folder are ImageNet-C (clean cells then report as `imagenet`);
    /// class folders and the validation layout are ImageNet; other layouts keep their name.
    static func reportedSuite(_ r: RunRecord) -> String {
        let imagenetLike = ["folder", "imagenet-val"].contains(r.layout) && r.labelSpace == "imagenet"
        if r.shiftMode.hasPrefix("on-the-fly") && (imagenetLike || r.layout == "imagenet-v2") { return "imagenet-c" }
        return imagenetLike ? "imagenet" : r.suite
    }

    /// Equal-width confidence bins of labelled rows: mean confidence, accuracy and count per
    /// non-empty bin (confidence 1.0 falls in the last bin).
    static func reliability(_ rows: [PredictionRow]) -> [ReliabilityBin] {
        let b = reliabilityBins
        var conf = [Double](repeating: 0, count: b), acc = [Double](repeating: 0, count: b), n = [Int](repeating: 0, count: b)
        for r in rows {
            guard r.confidence.isFinite else { continue }
            let i = min(b - 1, max(0, Int(r.confidence * Double(b))))
            conf[i] += r.confidence
            acc[i] += (r.correct1 ?? false) ? 1 : 0
            n[i] += 1
        }
        var out: [ReliabilityBin] = []
        let width = 1.0 / Double(b)
        for i in 0..<b where n[i] > 0 {
            let count = Double(n[i])
            let lower = Double(i) * width
            out.append(ReliabilityBin(lower: lower, upper: lower + width, confidence: conf[i] / count,
                                      accuracy: acc[i] / count, count: n[i]))
        }
        return out
    }
}
