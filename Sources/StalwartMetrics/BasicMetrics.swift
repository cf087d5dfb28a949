import StalwartTensor

/// Every accumulator the registry knows (the spec names of `MetricBox.create`).
let allMetrics: [any MetricAccumulator.Type] = [
    AccuracyMetric.self, NLLMetric.self, BrierMetric.self, AgreementMetric.self,
] + calibrationMetrics

/// A float64 sum with Neumaier compensation: shards summed separately and merged agree with
/// one pass to ~1 ulp of the total (plain summation would drift with the split).
public struct CompensatedSum: Sendable, Equatable {
    public private(set) var sum = 0.0
    public private(set) var compensation = 0.0
    public init() {}
    public init(sum: Double, compensation: Double) { self.sum = sum; self.compensation = compensation }
    public mutating func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) { compensation += (sum - t) + x } else { compensation += (x - t) + sum }
        sum = t
    }
    public mutating func add(_ o: CompensatedSum) { add(o.sum); add(o.compensation) }
    public var value: Double { sum + compensation }
    func encode(_ w: inout ByteWriter) { w.f64(sum); w.f64(compensation) }
    static func decode(_ r: inout ByteReader) throws -> CompensatedSum { CompensatedSum(sum: try r.f64(), compensation: try r.f64()) }
}

/// Top-1 accuracy (NumPy `argmax == label`, the first maximal class on ties) and top-k
/// accuracy (TensorFlow `in_top_k`: the label counts when fewer than k classes score strictly
/// higher). Spec `accuracy[:k=5]`. Results: `top1`, `top<k>` (named `top1_in_top_k` when k = 1,
/// where it differs from `top1` only on ties), `count`.
public struct AccuracyMetric: MetricAccumulator {
    public static let name = "accuracy"
    public let k: Int
    public private(set) var count: Int64 = 0
    public private(set) var correct1: Int64 = 0
    public private(set) var correctK: Int64 = 0

    public init(spec: MetricSpec) throws {
        try spec.check(allowed: ["k"])
        k = try spec.int("k", default: 5, range: 1...1_000_000)
    }
    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        count = try r.i64(); correct1 = try r.i64(); correctK = try r.i64()
        guard count >= 0, correct1 >= 0, correctK >= 0, correct1 <= count, correctK <= count else {
            throw StalwartError.invalidArgument("corrupt serialized accuracy state")
        }
    }
    public var configuration: [(String, String)] { [("k", String(k))] }
    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        for s in summaries {
            count += 1
            if s.correct { correct1 += 1 }
            if s.rank < k { correctK += 1 }
        }
    }
    public mutating func merge(_ o: AccuracyMetric) throws {
        guard o.k == k else { throw StalwartError.invalidArgument("cannot merge accuracy k=\(o.k) into k=\(k)") }
        count += o.count; correct1 += o.correct1; correctK += o.correctK
    }
    public func encodeState(_ w: inout ByteWriter) { w.i64(count); w.i64(correct1); w.i64(correctK) }
    public func result() -> [(String, Double)] {
        let n = Double(count)
        return [("top1", count > 0 ? Double(correct1) / n : .nan), (k == 1 ? "top1_in_top_k" : "top\(k)", count > 0 ? Double(correctK) / n : .nan),
                ("count", n)]
    }
}

/// Mean of a per-example float64 quantity (NLL, Brier), compensated.
public protocol MeanMetric: MetricAccumulator {
    var total: CompensatedSum { get set }
    var count: Int64 { get set }
    static func value(_ s: RowSummary) -> Double
    static var resultName: String { get }
    init()
}

extension MeanMetric {
    public init(spec: MetricSpec) throws { try spec.check(allowed: []); self.init() }
    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        total = try CompensatedSum.decode(&r); count = try r.i64()
        guard count >= 0 else { throw StalwartError.invalidArgument("corrupt serialized \(Self.name) state") }
    }
    public var configuration: [(String, String)] { [] }
    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        for s in summaries { total.add(Self.value(s)); count += 1 }
    }
    public mutating func merge(_ o: Self) throws { total.add(o.total); count += o.count }
    public func encodeState(_ w: inout ByteWriter) { total.encode(&w); w.i64(count) }
    public func result() -> [(String, Double)] {
        [(Self.resultName, count > 0 ? total.value / Double(count) : .nan), ("count", Double(count))]
    }
}

/// Negative log-likelihood `−log p_label`, averaged (natural log; from logits it is computed as
/// `logsumexp(z) − z_label`, finite for any finite logits; from probabilities p_label = 0 gives ∞).
public struct NLLMetric: MeanMetric {
    public static let name = "nll"
    public static let resultName = "nll"
    public var total = CompensatedSum()
    public var count: Int64 = 0
    public init() {}
    public static func value(_ s: RowSummary) -> Double { -s.logPLabel }
}

/// Brier score summed over classes, `Σ_i (p_i − [i = label])²`, averaged over examples
/// (robustness_metrics' convention; range [0, 2]).
public struct BrierMetric: MeanMetric {
    public static let name = "brier"
    public static let resultName = "brier"
    public var total = CompensatedSum()
    public var count: Int64 = 0
    public init() {}
    public static func value(_ s: RowSummary) -> Double { s.sumSquares - 2 * s.pLabel + 1 }
}

/// Label-free robustness: pass the model's predictions on the clean images as the labels and
/// its scores on the shifted images as the batch. Results: `agreement` (fraction of examples
/// whose top-1 is unchanged), `flip_rate` = 1 − agreement, `count`.
public struct AgreementMetric: MetricAccumulator {
    public static let name = "agreement"
    public private(set) var count: Int64 = 0
    public private(set) var same: Int64 = 0
    public init(spec: MetricSpec) throws { try spec.check(allowed: []) }
    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        count = try r.i64(); same = try r.i64()
        guard count >= 0, same >= 0, same <= count else { throw StalwartError.invalidArgument("corrupt serialized agreement state") }
    }
    public var configuration: [(String, String)] { [] }
    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        for s in summaries { count += 1; if s.correct { same += 1 } }
    }
    public mutating func merge(_ o: AgreementMetric) throws { count += o.count; same += o.same }
    public func encodeState(_ w: inout ByteWriter) { w.i64(count); w.i64(same) }
    public func result() -> [(String, Double)] {
        let a = count > 0 ? Double(same) / Double(count) : .nan
        return [("agreement", a), ("flip_rate", 1 - a), ("count", Double(count))]
    }
}
