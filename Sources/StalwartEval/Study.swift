import StalwartReport
import StalwartStore
import StalwartTensor
import StalwartTransfer

/// What `stalwart study` correlates.
public struct StudyOptions: Sendable {
    /// Robustness metric: `METRIC` (run-level aggregates such as `mce`, `corrupted_top1`, else
    /// the clean group's, e.g. `top1`, `ece`) or `METRIC@CORRUPTION:SEVERITY`
    /// (`top1@gaussian_noise:3`), optionally prefixed by a suite, `imagenet-c/mce`.
    public var robustness: String
    /// Transfer metric: `TASK:SHOTS` (few-shot mean over seeds) or `TASK:probe`.
    public var transfer: String
    /// Ridge λ of the few-shot results (nil: the only one stored, else 1024).
    public var l2: Double? = nil
    /// Resolution of the eval runs (nil: per model the resolution its transfer features were
    /// computed at, else its only run).
    public var resolution: Int? = nil
    public var bootstrap = 1000
    public var confidence = 0.95
    public var seed: UInt64 = 0
    public init(robustness: String, transfer: String) {
        self.robustness = robustness
        self.transfer = transfer
    }
}

/// One model of a study.
public struct StudyPoint: Sendable, Equatable {
    public var model: String
    public var sha256: String
    public var robustness: Double
    /// Mean transfer accuracy over seeds, and its population std.
    public var transfer: Double
    public var transferStd: Double
    public var seeds: Int
}

public struct StudyCorrelation: Sendable, Equatable {
    public var kind: Correlation.Kind
    public var value: Double
    public var low: Double
    public var high: Double
}

public struct StudyResult: Sendable {
    public var robustness: String
    public var transfer: String
    public var points: [StudyPoint]
    /// Kendall τ-b, Spearman ρ, Pearson r with percentile-bootstrap intervals.
    public var correlations: [StudyCorrelation]
    /// Least-squares line transfer = intercept + slope · robustness.
    public var slope: Double
    public var intercept: Double
    public var bootstrap: Int
    public var confidence: Double
    /// Models with only one side (not in the study).
    public var unmatched: [String]
}

public enum Study {
    /// The robustness metric names available in `store` (see `StudyOptions.robustness`),
    /// sorted, each with the number of models that have it.
    public static func robustnessMetrics(_ store: ResultStore) throws -> [(name: String, models: Int)] {
        var models: [String: Set<String>] = [:]
        for r in try store.runs() {
            for a in try store.aggregates(run: r.id) {
                guard let name = metricName(a.group, a.metric) else { continue }
                models[name, default: []].insert(r.model.sha256)
                models["\(r.record.suite)/\(name)", default: []].insert(r.model.sha256)
            }
        }
        return models.keys.sorted().map { ($0, models[$0]?.count ?? 0) }
    }

    /// The transfer metric names available (`TASK:SHOTS`, `TASK:probe`), with model counts.
    public static func transferMetrics(_ store: ResultStore) throws -> [(name: String, models: Int)] {
        var models: [String: Set<String>] = [:]
        var order: [String: (String, Int)] = [:]
        for t in try store.transferResults() {
            let name = t.result.method == "linear_probe" ? "\(t.result.task):probe" : "\(t.result.task):\(t.result.shots)"
            models[name, default: []].insert(t.model.sha256)
            order[name] = (t.result.task, t.result.method == "linear_probe" ? Int.max : t.result.shots)
        }
        return models.keys.sorted { a, b in
            let x = order[a] ?? ("", 0), y = order[b] ?? ("", 0)
            return x.0 != y.0 ? x.0 < y.0 : x.1 < y.1
        }.map { ($0, models[$0]?.count ?? 0) }
    }

    /// The name of an aggregate in study specs (nil for groups that have none).
    static func metricName(_ g: GroupKey, _ metric: String) -> String? {
        if g == GroupKey.runLevel { return metric }
        if g.corruption.isEmpty && g.severity == 0 { return metric }
        if g.corruption == "*" || g.corruption.isEmpty { return nil }
        return g.severity < 0 ? "\(metric)@\(g.corruption)" : "\(metric)@\(g.corruption):\(g.severity)"
    }

    /// Joins the two sides per model (by file SHA-256) and correlates them.
    /// Throws `.invalidArgument` for unknown metrics (listing the available ones), ambiguous
    /// eval runs, or fewer than 3 models with both values.
    public static func run(_ store: ResultStore, _ o: StudyOptions) throws -> StudyResult {
        // Transfer side: per model, accuracies at the chosen λ.
        let parts = o.transfer.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw StalwartError.invalidArgument("transfer metric '\(o.transfer)' must be TASK:SHOTS or TASK:probe")
        }
        let task = parts[0]
        let probe = parts[1] == "probe"
        let shots = Int(parts[1])
        guard probe || (shots ?? 0) >= 1 else {
            throw StalwartError.invalidArgument("transfer metric '\(o.transfer)': '\(parts[1])' is neither a number of shots ≥ 1 nor 'probe'")
        }
        let all = try store.transferResults().filter {
            $0.result.task == task && (probe ? $0.result.method == "linear_probe" : $0.result.method == "fewshot_lsr" && $0.result.shots == shots)
        }
        guard !all.isEmpty else {
            let names = try transferMetrics(store).map(\.name)
            throw StalwartError.invalidArgument("no transfer results for '\(o.transfer)'; available: \(names.isEmpty ? "none (run `stalwart transfer … --db`)" : names.joined(separator: ", "))")
        }
        var l2 = o.l2
        if l2 == nil && !probe {
            let regs = Set(all.map(\.result.l2))
            l2 = regs.count == 1 ? regs.first : (regs.contains(1024) ? 1024 : nil)
            if l2 == nil {
                throw StalwartError.invalidArgument("'\(o.transfer)' has results for λ = \(regs.sorted().map { "\($0)" }.joined(separator: ", ")); choose one with --l2")
            }
        }
        var transfer: [String: (name: String, acc: [Double], resolutions: Set<Int>, configs: Set<String>)] = [:]
        for t in all where probe || t.result.l2 == l2 {
            let r = t.result
            var e = transfer[t.model.sha256] ?? (t.model.name, [], [], [])
            e.acc.append(r.accuracy)
            e.resolutions.insert(r.resolution)
            e.configs.insert("\(r.layer) \(r.preprocess) \(r.resolution)")
            transfer[t.model.sha256] = e
        }
        for (_, e) in transfer where e.configs.count > 1 {
            throw StalwartError.invalidArgument("model \(e.name) has '\(o.transfer)' results for several feature settings (\(e.configs.sorted().joined(separator: "; "))); keep one per model (use another --task name for the others)")
        }

        // Robustness side: per model, the metric of the matching run.
        var suite: String? = nil
        var spec = o.robustness
        if let slash = spec.firstIndex(of: "/") {
            suite = String(spec[..<slash]); spec = String(spec[spec.index(after: slash)...])
        }
        var values: [String: [(resolution: Int, value: Double, run: Int64)]] = [:]
        var names: [String: String] = [:]
        for r in try store.runs() where suite == nil || r.record.suite == suite {
            for a in try store.aggregates(run: r.id) where metricName(a.group, a.metric) == spec {
                values[r.model.sha256, default: []].append((r.record.resolution, a.value, r.id))
                names[r.model.sha256] = r.model.name
            }
        }
        guard !values.isEmpty else {
            let available = try robustnessMetrics(store).map(\.name)
            throw StalwartError.invalidArgument("no eval results for robustness metric '\(o.robustness)'; available: \(available.isEmpty ? "none (run `stalwart eval … --db`)" : available.joined(separator: ", "))")
        }

        var points: [StudyPoint] = []
        var unmatched: [String] = []
        for (sha, e) in transfer.sorted(by: { $0.value.name < $1.value.name }) {
            guard let candidates = values[sha] else { unmatched.append(e.name); continue }
            var pick = candidates
            if let res = o.resolution {
                pick = candidates.filter { $0.resolution == res }
            } else if candidates.count > 1 {
                let same = candidates.filter { e.resolutions.contains($0.resolution) }
                if !same.isEmpty { pick = same }
            }
            guard !pick.isEmpty else { unmatched.append(e.name); continue }
            guard pick.count == 1 else {
                throw StalwartError.invalidArgument("model \(e.name) has \(pick.count) eval runs with '\(o.robustness)' (resolutions \(pick.map { String($0.resolution) }.joined(separator: ", ")), runs \(pick.map { String($0.run) }.joined(separator: ", "))); choose with --resolution or a suite prefix (SUITE/METRIC)")
            }
            let m = e.acc.reduce(0, +) / Double(e.acc.count)
            let v = e.acc.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(e.acc.count)
            points.append(StudyPoint(model: e.name, sha256: sha, robustness: pick[0].value, transfer: m,
                                     transferStd: v.squareRoot(), seeds: e.acc.count))
        }
        for (sha, name) in names where transfer[sha] == nil { unmatched.append(name) }
        guard points.count >= 3 else {
            throw StalwartError.invalidArgument("only \(points.count) model(s) have both '\(o.robustness)' and '\(o.transfer)'\(points.isEmpty ? "" : " (\(points.map(\.model).joined(separator: ", ")))"); a study needs at least 3\(unmatched.isEmpty ? "" : "; models with one side only: \(unmatched.sorted().joined(separator: ", "))")")
        }
        for p in points where !p.robustness.isFinite {
            throw StalwartError.invalidArgument("model \(p.model): '\(o.robustness)' is \(p.robustness)")
        }
        let x = points.map(\.robustness), y = points.map(\.transfer)
        var correlations: [StudyCorrelation] = []
        for kind in Correlation.Kind.allCases {
            let c = try Correlation.coefficient(kind, x, y)
            let ci = try Correlation.bootstrapInterval(kind, x, y, resamples: o.bootstrap, confidence: o.confidence, seed: o.seed)
            correlations.append(StudyCorrelation(kind: kind, value: c, low: ci.low, high: ci.high))
        }
        let fit = leastSquares(x, y)
        return StudyResult(robustness: o.robustness, transfer: o.transfer + (probe ? "" : " (λ = \(format(l2 ?? 0)))"), points: points,
                           correlations: correlations, slope: fit.slope, intercept: fit.intercept, bootstrap: o.bootstrap,
                           confidence: o.confidence, unmatched: unmatched.sorted())
    }

    /// Ordinary least squares y = a + b·x (b = 0 when x is constant).
    static func leastSquares(_ x: [Double], _ y: [Double]) -> (slope: Double, intercept: Double) {
        let n = Double(x.count)
        guard n > 0 else { return (0, 0) }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for i in 0..<x.count { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx) }
        let b = sxx > 0 ? sxy / sxx : 0
        return (b, my - b * mx)
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && v.magnitude < 1e15 ? String(Int(v)) : "\(v)"
    }

    /// The HTML page of a study (the scatter plot with the fitted line, the table of models and
    /// the correlations).
    public static func html(_ r: StudyResult, title: String, generated: String) -> String {
        StudyReport(
            title: title, generated: generated, version: Evaluator.version, xLabel: r.robustness, yLabel: r.transfer,
            points: r.points.map { StudyReport.Point(label: $0.model, x: $0.robustness, y: $0.transfer, yStd: $0.transferStd, seeds: $0.seeds) },
            correlations: r.correlations.map { StudyReport.Coefficient(name: $0.kind.displayName, value: $0.value, low: $0.low, high: $0.high) },
            slope: r.slope, intercept: r.intercept, bootstrap: r.bootstrap, confidence: r.confidence, unmatched: r.unmatched
        ).render()
    }
}

extension Correlation.Kind {
    /// "Kendall τ-b", "Spearman ρ", "Pearson r".
    public var displayName: String {
        switch self {
        case .kendall: return "Kendall τ-b"
        case .spearman: return "Spearman ρ"
        case .pearson: return "Pearson r"
        }
    }
}
