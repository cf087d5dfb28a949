import Glibc
import StalwartTensor

/// The calibration, selective-prediction and OOD-detection accumulators (see each type).
///
/// Spec names: `ece`, `rms_calibration`, `gce`, `aurra` (this file), `ood` (OOD.swift).
/// Temperature scaling (a fit, not an accumulator) is `TemperatureScaling` (Temperature.swift).
///
/// Conventions shared by all of them: the confidence of a row is its maximal probability
/// (`RowSummary.confidence`, float64; softmax of the logits computed in float64) and a row is
/// correct when NumPy's `argmax` (the first maximal class) equals the label. A batch with k = 1
/// is one class with probability 1 (the references would instead read a single column as the
/// probability of class 1 of a binary problem; Stalwart's scores are always per class).
let calibrationMetrics: [any MetricAccumulator.Type] = [
    ECEMetric.self, RMSCalibrationMetric.self, GCEMetric.self, AURRAMetric.self, OODMetric.self,
]

/// The largest count a serialized state may hold (2^53: counts stay exact in float64).
let maxSerializedCount: Int64 = 1 << 53

/// Adds two counts of merged states; overflow (only reachable with forged states) is an error.
@inline(__always)
func mergedCount(_ a: Int64, _ b: Int64, _ what: String) throws -> Int64 {
    let (s, o) = a.addingReportingOverflow(b)
    guard !o, s <= maxSerializedCount else { throw StalwartError.invalidArgument("\(what): merged count overflows") }
    return s
}

/// Reads an Int64 count in 0...2^53.
func readCount(_ r: inout ByteReader, _ what: String) throws -> Int64 {
    let v = try r.i64()
    guard v >= 0, v <= maxSerializedCount else { throw StalwartError.invalidArgument("corrupt serialized \(what) state: count \(v)") }
    return v
}

/// Per-example (value, flag) pairs in insertion order, merged by concatenation: the state of the
/// metrics that need the whole sample (sorting, adaptive bins, ranks). 9 bytes per example.
struct ScoredFlags: Equatable {
    var values: [Double] = []
    var flags: [UInt8] = []

    var count: Int { values.count }

    mutating func append(_ v: Double, _ flag: Bool) { values.append(v); flags.append(flag ? 1 : 0) }
    mutating func append(contentsOf o: ScoredFlags) { values.append(contentsOf: o.values); flags.append(contentsOf: o.flags) }

    func encode(_ w: inout ByteWriter) {
        w.f64s(values)
        w.u64(UInt64(flags.count))
        w.bytes(flags)
    }

    /// Values must lie in `range` (finite), flags be 0/1, and both arrays have the same length.
    static func decode(_ r: inout ByteReader, _ what: String, range: ClosedRange<Double>) throws -> ScoredFlags {
        var s = ScoredFlags()
        s.values = try r.f64s()
        let n = try r.count(limit: r.remaining)
        guard n == s.values.count else { throw StalwartError.invalidArgument("corrupt serialized \(what) state: \(s.values.count) values, \(n) flags") }
        s.flags = try r.bytes(n)
        for v in s.values where !(v.isFinite && range.contains(v)) {
            throw StalwartError.invalidArgument("corrupt serialized \(what) state: value \(v) outside \(range)")
        }
        for f in s.flags where f > 1 { throw StalwartError.invalidArgument("corrupt serialized \(what) state: flag \(f)") }
        return s
    }

    /// The pairs sorted by (value, flag) ascending: a total order on the multiset, so the
    /// result never depends on the order in which examples were added or merged.
    func sortedPairs() -> [(v: Double, f: UInt8)] {
        var p = [(v: Double, f: UInt8)]()
        p.reserveCapacity(values.count)
        for i in 0..<values.count { p.append((values[i], flags[i])) }
        p.sort { $0.v < $1.v || ($0.v == $1.v && $0.f < $1.f) }
        return p
    }
}

// MARK: - ECE

/// Expected calibration error with equal-width bins on the confidence (max probability), as
/// robustness_metrics' `ExpectedCalibrationError` / `_KerasECEMetric` (uncertainty.py; Guo et
/// al. 2017): spec `ece[:bins=15]`.
///
/// Binning (`tf.histogram_fixed_width_bins(conf, [0, 1], nbins)`): a confidence c goes to bin
/// `min(bins − 1, ⌊bins · c⌋)` with the product computed in float64. So bins are [i/B, (i+1)/B)
/// — a confidence exactly on an edge i/B goes to the bin *above* it — except that 1.0 goes to the
/// last bin (which is [(B−1)/B, 1]). (TensorFlow computes the product in the metric's float32;
/// Stalwart uses float64 throughout, a difference only for confidences within float32 rounding of
/// an edge.)
///
/// Results: `ece` = Σ_b (n_b / n)·|acc_b − conf_b| over non-empty bins (acc_b = fraction correct,
/// conf_b = mean confidence); `ece_unweighted` = mean of |acc_b − conf_b| over the non-empty bins;
/// `count`. NaN without examples. Constant memory (3 numbers per bin).
public struct ECEMetric: MetricAccumulator {
    public static let name = "ece"
    public let bins: Int
    var counts: [Int64]
    var correct: [Int64]
    var confidence: [CompensatedSum]

    public init(spec: MetricSpec) throws {
        try spec.check(allowed: ["bins"])
        bins = try spec.int("bins", default: 15, range: 1...1_000_000)
        counts = [Int64](repeating: 0, count: bins)
        correct = counts
        confidence = [CompensatedSum](repeating: CompensatedSum(), count: bins)
    }

    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        for b in 0..<bins {
            let c = try readCount(&r, "ece"), k = try readCount(&r, "ece")
            let s = try CompensatedSum.decode(&r)
            guard k <= c, s.value.isFinite, s.value >= 0, s.value <= Double(c) * (1 + 1e-9) else {
                throw StalwartError.invalidArgument("corrupt serialized ece state (bin \(b))")
            }
            counts[b] = c; correct[b] = k; confidence[b] = s
        }
    }

    public var configuration: [(String, String)] { [("bins", String(bins))] }

    /// The bin of a confidence in [0, 1] (see the type's documentation).
    @inline(__always)
    static func bin(_ c: Double, bins: Int) -> Int {
        let x = (c * Double(bins)).rounded(.down)
        guard x.isFinite, x > 0 else { return 0 }
        return x >= Double(bins - 1) ? bins - 1 : Int(x)
    }

    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        for s in summaries {
            let b = ECEMetric.bin(s.confidence, bins: bins)
            counts[b] += 1
            if s.correct { correct[b] += 1 }
            confidence[b].add(s.confidence)
        }
    }

    public mutating func merge(_ o: ECEMetric) throws {
        guard o.bins == bins else { throw StalwartError.invalidArgument("cannot merge ece bins=\(o.bins) into bins=\(bins)") }
        var c = counts, k = correct
        for b in 0..<bins {
            c[b] = try mergedCount(c[b], o.counts[b], "ece")
            k[b] = try mergedCount(k[b], o.correct[b], "ece")
        }
        counts = c; correct = k
        for b in 0..<bins { confidence[b].add(o.confidence[b]) }
    }

    public func encodeState(_ w: inout ByteWriter) {
        for b in 0..<bins { w.i64(counts[b]); w.i64(correct[b]); confidence[b].encode(&w) }
    }

    public func result() -> [(String, Double)] {
        var n = 0.0  // float64: a forged state may hold counts whose Int64 sum overflows
        for c in counts { n += Double(c) }
        guard n > 0 else { return [("ece", .nan), ("ece_unweighted", .nan), ("count", 0)] }
        var weighted = 0.0, unweighted = 0.0, nonEmpty = 0
        for b in 0..<bins where counts[b] > 0 {
            let c = Double(counts[b])
            let gap = abs(Double(correct[b]) / c - confidence[b].value / c)
            weighted += c / n * gap
            unweighted += gap
            nonEmpty += 1
        }
        return [("ece", weighted), ("ece_unweighted", unweighted / Double(nonEmpty)), ("count", n)]
    }
}

// MARK: - Hendrycks' RMS calibration error

/// Hendrycks' calibration error `calib_err(confidence, correct, p='2', beta=100)`
/// (calibration_tools.py of hendrycks/natural-adv-examples, outlier-exposure, robustness):
/// spec `rms_calibration[:bin_size=100,include_last=0,p=2]`.
///
/// The examples are sorted by confidence and cut into ⌊n / bin_size⌋ consecutive bins of
/// `bin_size` examples, the last bin taking the remainder (bin_size … 2·bin_size − 1 examples).
/// Per bin d = |mean confidence − accuracy|; p=2: √(Σ (n_b/n)·d²) (RMS), p=1: Σ (n_b/n)·d (MAD),
/// p=max: max d. n counts every example, used bins or not.
///
/// `include_last=0` (default) reproduces his loop `for i in range(len(bins) - 1)`, which never
/// visits the last bin (so 100 ≤ n < 200 gives 0); `include_last=1` uses every bin. With
/// n < bin_size his code fails (`bins[-1]` of an empty list): the result is NaN.
///
/// Ties: examples are ordered by (confidence, correct) — incorrect first among equal
/// confidences — so a tie group cut by a bin boundary is split deterministically (his
/// `np.argsort` leaves that order to the sort algorithm); elsewhere ties do not matter.
///
/// Results: `rms_calibration` (the value for the chosen p), `count`. Stores 9 bytes per example.
public struct RMSCalibrationMetric: MetricAccumulator {
    public static let name = "rms_calibration"
    public let binSize: Int
    public let includeLast: Bool
    public let p: String
    var pairs = ScoredFlags()

    public init(spec: MetricSpec) throws {
        try spec.check(allowed: ["bin_size", "include_last", "p"])
        binSize = try spec.int("bin_size", default: 100, range: 1...(1 << 40))
        includeLast = try spec.bool("include_last", default: false)
        p = try spec.choice("p", default: "2", ["1", "2", "max"])
    }

    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        pairs = try ScoredFlags.decode(&r, Self.name, range: 0...1)
    }

    public var configuration: [(String, String)] {
        [("bin_size", String(binSize)), ("include_last", includeLast ? "1" : "0"), ("p", p)]
    }

    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        for s in summaries { pairs.append(s.confidence, s.correct) }
    }

    public mutating func merge(_ o: RMSCalibrationMetric) throws {
        guard o.configuration.map({ "\($0.0)=\($0.1)" }) == configuration.map({ "\($0.0)=\($0.1)" }) else {
            throw StalwartError.invalidArgument("cannot merge rms_calibration with a different configuration")
        }
        pairs.append(contentsOf: o.pairs)
    }

    public func encodeState(_ w: inout ByteWriter) { pairs.encode(&w) }

    public func result() -> [(String, Double)] {
        let n = pairs.count
        guard n >= binSize else { return [(Self.name, .nan), ("count", Double(n))] }
        let sorted = pairs.sortedPairs()
        let nb = n / binSize
        let used = includeLast ? nb : nb - 1
        var cerr = 0.0
        for i in 0..<used {
            let lo = i * binSize, hi = i == nb - 1 ? n : (i + 1) * binSize
            var sc = 0.0, sk = 0.0
            for j in lo..<hi { sc += sorted[j].v; sk += Double(sorted[j].f) }
            let m = Double(hi - lo)
            let d = abs(sc / m - sk / m)
            switch p {
            case "1": cerr += m / Double(n) * d
            case "max": cerr = max(cerr, d)
            default: cerr += m / Double(n) * (d * d)
            }
        }
        if p == "2" { cerr = cerr.squareRoot() }
        return [(Self.name, cerr), ("count", Double(n))]
    }
}

// MARK: - AURRA

/// Area under the response-rate–accuracy curve, Hendrycks' `aurra(confidence, correct)`
/// (calibration_tools.py): examples ranked by decreasing confidence; the accuracy of the r most
/// confident examples, averaged over r = 1…n. Spec `aurra` (no options).
///
/// Ties: the reference's order within equal confidences is whatever `np.argsort` leaves;
/// Stalwart averages over every order of each tie group (the expectation under a uniformly
/// random tie-break, exact: a group of m examples with c correct after s examples with C correct
/// contributes Σ_{j=1..m} (C + c·j/m)/(s + j)). Equal to the reference when confidences are
/// distinct; the same convention as scikit-learn's ROC AUC for tied scores.
///
/// Results: `aurra`, `count` (NaN without examples). Stores 9 bytes per example.
public struct AURRAMetric: MetricAccumulator {
    public static let name = "aurra"
    var pairs = ScoredFlags()

    public init(spec: MetricSpec) throws { try spec.check(allowed: []) }

    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        pairs = try ScoredFlags.decode(&r, Self.name, range: 0...1)
    }

    public var configuration: [(String, String)] { [] }

    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        for s in summaries { pairs.append(s.confidence, s.correct) }
    }

    public mutating func merge(_ o: AURRAMetric) throws { pairs.append(contentsOf: o.pairs) }

    public func encodeState(_ w: inout ByteWriter) { pairs.encode(&w) }

    public func result() -> [(String, Double)] {
        let n = pairs.count
        guard n > 0 else { return [(Self.name, .nan), ("count", 0)] }
        let sorted = pairs.sortedPairs()
        var total = CompensatedSum()
        var before = 0, correctBefore = 0
        var end = n
        while end > 0 {  // tie groups from the most confident down
            var start = end - 1
            while start > 0 && sorted[start - 1].v == sorted[end - 1].v { start -= 1 }
            let m = end - start
            var c = 0
            for j in start..<end { c += Int(sorted[j].f) }
            for j in 1...m {
                total.add((Double(correctBefore) + Double(c) * Double(j) / Double(m)) / Double(before + j))
            }
            before += m; correctBefore += c
            end = start
        }
        return [(Self.name, total.value / Double(n)), ("count", Double(n))]
    }
}

// MARK: - General calibration error

/// robustness_metrics' General Calibration Error (`GeneralCalibrationError` /
/// `_GeneralCalibrationErrorMetric`, uncertainty.py; Nixon et al. 2019) without recalibration:
/// spec `gce[:binning=even|adaptive,bins=15,norm=l1|l2,class_conditional=0,max_prob=1,threshold=0,datapoints_per_bin=N]`.
///
/// Entries: with `max_prob=1` one per row, the row's maximal probability (class = its argmax,
/// hit = argmax == label); with `max_prob=0` all k probabilities of the row (class j, hit =
/// j == label). Only entries with p **> threshold** (strictly, as the reference's
/// `probs > threshold`; so threshold=0 still drops exact zeros) are kept.
/// `class_conditional=0` bins all kept entries together; `class_conditional=1` bins each class's
/// entries separately (with `max_prob=1`: the rows whose argmax is that class) and averages the
/// per-class errors over all k classes (a class without entries contributes 0).
///
/// Per group of N entries: upper bin edges u_0 ≤ … ≤ u_{B−1} = 1 and bin(p) = #{u_i ≤ p}
/// (`np.digitize`: a value equal to an edge goes to the bin above it; p = 1.0 lands in an extra
/// bin B of its own, as in the reference). `even`: u_i = (i+1)·(1/B) in float64
/// (`np.histogram_bin_edges([], B, (0, 1))[1:]`); `adaptive`: with the group's sorted values s,
/// u_i = s[min(N−1, round_half_even((i+1)·N/B))] for i < B−1 and u_{B−1} = 1
/// (`_get_adaptive_bins`); ties therefore stay in one bin, so adaptive bins can be unequal or
/// empty. Error = Σ_b |e_b|·w_b with e_b = acc_b − conf_b (l1) or (acc_b − conf_b)² (l2),
/// acc_b = hits_b/(n_b + ε), conf_b = Σp/(n_b + ε), w_b = (n_b + ε)/N, ε = 2^−52 (the reference's
/// division guard, reproduced; empty bins contribute 0); an empty group gives 0. l2 takes the
/// square root of the final (class-averaged) value. `datapoints_per_bin=D` (adaptive only) sets
/// B = ⌊rows / D⌋ (NaN when that is 0: the reference fails an assertion), overriding `bins`
/// (the registered "rmsce" is `binning=adaptive,norm=l2,datapoints_per_bin=100`). The reference's
/// monotonic-sweep binning (num_bins=None) and recalibration are not offered. Norms: l1 and l2
/// only (the reference has no max norm).
///
/// Memory: `binning=even` keeps per-(group, bin) sums only: (B+1) bins, times k groups when
/// class-conditional. `binning=adaptive` stores every kept entry (p, hit and, class-conditional,
/// the class: 9 or 13 bytes), i.e. rows × (entries per row above the threshold): k per row with
/// `max_prob=0`, so use a threshold (e.g. 0.01 as TACE) for large k.
///
/// All batches (and merged states) must have the same number of classes k.
///
/// Results: `gce`, `count` (rows), `entries` (kept entries). NaN without rows; 0 when rows were
/// seen but no entry exceeds the threshold (as the reference).
public struct GCEMetric: MetricAccumulator {
    public static let name = "gce"
    public let adaptive: Bool
    public let bins: Int
    public let l2: Bool
    public let classConditional: Bool
    public let maxProb: Bool
    public let threshold: Double
    /// 0 when not set.
    public let datapointsPerBin: Int

    /// Rows added, and the number of classes (0 until the first batch).
    var rows: Int64 = 0
    var classes = 0
    // even: per (group, bin) sums, group-major, B+1 bins per group.
    var binCounts: [Int64] = []
    var binHits: [Int64] = []
    var binSums: [CompensatedSum] = []
    // adaptive: the kept entries (class only when class-conditional).
    var entries = ScoredFlags()
    var entryClasses: [Int32] = []
    var evenEntries: Int64 = 0

    /// The most (group × bin) cells an even-binned state may have.
    static let maxCells = 1 << 24

    public init(spec: MetricSpec) throws {
        try spec.check(allowed: ["binning", "bins", "norm", "class_conditional", "max_prob", "threshold", "datapoints_per_bin"])
        adaptive = try spec.choice("binning", default: "even", ["even", "adaptive"]) == "adaptive"
        bins = try spec.int("bins", default: 15, range: 1...1_000_000)
        l2 = try spec.choice("norm", default: "l1", ["l1", "l2"]) == "l2"
        classConditional = try spec.bool("class_conditional", default: false)
        maxProb = try spec.bool("max_prob", default: true)
        threshold = try spec.double("threshold", default: 0, range: 0...1)
        datapointsPerBin = try spec.int("datapoints_per_bin", default: 0, range: 0...(1 << 40))
        if datapointsPerBin > 0 && !adaptive {
            throw StalwartError.invalidArgument("gce: datapoints_per_bin needs binning=adaptive")
        }
        if !adaptive && !classConditional { try allocateEven(groups: 1) }
    }

    public var configuration: [(String, String)] {
        [("binning", adaptive ? "adaptive" : "even"),
         datapointsPerBin > 0 ? ("datapoints_per_bin", String(datapointsPerBin)) : ("bins", String(bins)),
         ("norm", l2 ? "l2" : "l1"), ("class_conditional", classConditional ? "1" : "0"),
         ("max_prob", maxProb ? "1" : "0"), ("threshold", String(threshold))]
    }

    var groups: Int { classConditional ? classes : 1 }

    mutating func allocateEven(groups g: Int) throws {
        let (cells, o) = g.multipliedReportingOverflow(by: bins + 1)
        guard !o, cells <= GCEMetric.maxCells else {
            throw StalwartError.invalidArgument("gce: \(g) groups × \(bins + 1) bins exceed \(GCEMetric.maxCells) cells")
        }
        binCounts = [Int64](repeating: 0, count: cells)
        binHits = binCounts
        binSums = [CompensatedSum](repeating: CompensatedSum(), count: cells)
    }

    /// The reference's even upper edges: (i+1)·(1/B), the last exactly 1.
    static func evenEdges(_ bins: Int) -> [Double] {
        let step = 1.0 / Double(bins)
        return (0..<bins).map { $0 == bins - 1 ? 1.0 : Double($0 + 1) * step }
    }

    /// #{edges ≤ x} for non-decreasing `edges` (`np.digitize(x, edges)`, right=False).
    @inline(__always)
    static func digitize(_ x: Double, _ edges: [Double]) -> Int {
        var lo = 0, hi = edges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if edges[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public init(configuration: MetricSpec, state r: inout ByteReader) throws {
        try self.init(spec: configuration)
        rows = try readCount(&r, Self.name)
        let k = try r.u64()
        guard k <= 1 << 31, (k == 0) == (rows == 0) else { throw StalwartError.invalidArgument("corrupt serialized gce state: \(k) classes") }
        classes = Int(k)
        if adaptive {
            entries = try ScoredFlags.decode(&r, Self.name, range: 0...1)
            for v in entries.values where !(v > threshold) {
                throw StalwartError.invalidArgument("corrupt serialized gce state: entry \(v) not above the threshold")
            }
            if classConditional {
                let n = try r.count(limit: r.remaining / 4)
                guard n == entries.count else { throw StalwartError.invalidArgument("corrupt serialized gce state: \(n) classes for \(entries.count) entries") }
                entryClasses.reserveCapacity(n)
                for _ in 0..<n {
                    let c = try r.u32()
                    guard Int(c) < classes else { throw StalwartError.invalidArgument("corrupt serialized gce state: class \(c) ≥ \(classes)") }
                    entryClasses.append(Int32(c))
                }
            }
        } else {
            if classConditional && classes > 0 { try allocateEven(groups: classes) }
            evenEntries = try readCount(&r, Self.name)
            let counts = try r.i64s(), hits = try r.i64s(), sums = try r.f64s()
            guard counts.count == binCounts.count, hits.count == binCounts.count, sums.count == 2 * binCounts.count else {
                throw StalwartError.invalidArgument("corrupt serialized gce state: \(counts.count) bins, \(binCounts.count) expected")
            }
            var total: Int64 = 0
            for i in 0..<counts.count {
                let c = counts[i], h = hits[i]
                let s = CompensatedSum(sum: sums[2 * i], compensation: sums[2 * i + 1])
                guard c >= 0, c <= maxSerializedCount, h >= 0, h <= c, s.value.isFinite, s.value >= 0,
                      s.value <= Double(c) * (1 + 1e-9) else {
                    throw StalwartError.invalidArgument("corrupt serialized gce state (cell \(i))")
                }
                total += c
                guard total <= maxSerializedCount else { throw StalwartError.invalidArgument("corrupt serialized gce state: counts overflow") }
                binCounts[i] = c; binHits[i] = h; binSums[i] = s
            }
            guard total == evenEntries else { throw StalwartError.invalidArgument("corrupt serialized gce state: \(total) binned entries, \(evenEntries) recorded") }
        }
    }

    public func encodeState(_ w: inout ByteWriter) {
        w.i64(rows); w.u64(UInt64(classes))
        if adaptive {
            entries.encode(&w)
            if classConditional {
                w.u64(UInt64(entryClasses.count))
                for c in entryClasses { w.u32(UInt32(c)) }
            }
        } else {
            w.i64(evenEntries)
            w.i64s(binCounts); w.i64s(binHits)
            var sums = [Double](); sums.reserveCapacity(2 * binSums.count)
            for s in binSums { sums.append(s.sum); sums.append(s.compensation) }
            w.f64s(sums)
        }
    }

    public mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws {
        guard !summaries.isEmpty else { return }
        if classes != 0 && batch.k != classes {
            throw StalwartError.invalidArgument("gce: batch has \(batch.k) classes, earlier batches \(classes)")
        }
        if classes == 0 {
            if !adaptive && classConditional { try allocateEven(groups: batch.k) }
            classes = batch.k
        }
        let edges = adaptive ? [] : GCEMetric.evenEdges(bins)
        let k = batch.k
        var row = [Double](repeating: 0, count: maxProb ? 0 : k)
        for (i, s) in summaries.enumerated() {
            if maxProb {
                record(s.confidence, s.correct, group: classConditional ? s.argmax : 0, edges)
            } else {
                row.withUnsafeMutableBufferPointer { b in
                    guard let p = b.baseAddress else { return }
                    batch.probabilities(row: i, into: p)
                }
                for j in 0..<k { record(row[j], j == s.label, group: classConditional ? j : 0, edges) }
            }
            rows += 1
        }
    }

    @inline(__always)
    mutating func record(_ p: Double, _ hit: Bool, group: Int, _ edges: [Double]) {
        guard p > threshold else { return }
        if adaptive {
            entries.append(p, hit)
            if classConditional { entryClasses.append(Int32(truncatingIfNeeded: group)) }
        } else {
            let cell = group * (bins + 1) + GCEMetric.digitize(p, edges)
            binCounts[cell] += 1
            if hit { binHits[cell] += 1 }
            binSums[cell].add(p)
            evenEntries += 1
        }
    }

    public mutating func merge(_ o: GCEMetric) throws {
        guard o.configuration.map({ "\($0.0)=\($0.1)" }) == configuration.map({ "\($0.0)=\($0.1)" }) else {
            throw StalwartError.invalidArgument("cannot merge gce with a different configuration")
        }
        if o.rows == 0 { return }
        if rows == 0 { self = o; return }
        guard o.classes == classes else { throw StalwartError.invalidArgument("cannot merge gce over \(o.classes) classes into \(classes)") }
        let newRows = try mergedCount(rows, o.rows, Self.name)
        if adaptive {
            entries.append(contentsOf: o.entries)
            entryClasses.append(contentsOf: o.entryClasses)
        } else {
            var c = binCounts, h = binHits
            for i in 0..<c.count {
                c[i] = try mergedCount(c[i], o.binCounts[i], Self.name)
                h[i] = try mergedCount(h[i], o.binHits[i], Self.name)
            }
            evenEntries = try mergedCount(evenEntries, o.evenEntries, Self.name)
            binCounts = c; binHits = h
            for i in 0..<binSums.count { binSums[i].add(o.binSums[i]) }
        }
        rows = newRows
    }

    /// Σ_b |e_b|·w_b of one group from its per-bin (count, hits, Σp).
    func groupError(counts: UnsafeBufferPointer<Int64>, hits: UnsafeBufferPointer<Int64>, sums: (Int) -> Double) -> Double {
        var n: Int64 = 0
        for c in counts { n += c }
        if n == 0 { return 0 }
        let eps = Double.ulpOfOne
        var err = 0.0
        for b in 0..<counts.count {
            let c = Double(counts[b]) + eps
            let d = Double(hits[b]) / c - sums(b) / c
            err += abs((l2 ? d * d : d) * (c / Double(n)))
        }
        return err
    }

    public func result() -> [(String, Double)] {
        let entryCount = adaptive ? entries.count : Int(evenEntries)
        let tail: [(String, Double)] = [("count", Double(rows)), ("entries", Double(entryCount))]
        guard rows > 0 else { return [("gce", .nan)] + tail }
        var B = bins
        if datapointsPerBin > 0 {
            B = Int(rows) / datapointsPerBin
            if B == 0 { return [("gce", .nan)] + tail }
        }
        let G = groups
        var total = 0.0
        if !adaptive {
            binCounts.withUnsafeBufferPointer { cb in
                binHits.withUnsafeBufferPointer { hb in
                    for g in 0..<G {
                        let base = g * (bins + 1)
                        let e = groupError(counts: UnsafeBufferPointer(rebasing: cb[base..<(base + bins + 1)]),
                                           hits: UnsafeBufferPointer(rebasing: hb[base..<(base + bins + 1)]),
                                           sums: { binSums[base + $0].value })
                        total += classConditional ? e / Double(G) : e
                    }
                }
            }
        } else {
            // The entries sorted by (group, p, hit); groups without entries contribute 0.
            var sorted = [(g: Int32, v: Double, f: UInt8)]()
            sorted.reserveCapacity(entries.count)
            for i in 0..<entries.count {
                sorted.append((classConditional ? entryClasses[i] : 0, entries.values[i], entries.flags[i]))
            }
            sorted.sort { $0.g < $1.g || ($0.g == $1.g && ($0.v < $1.v || ($0.v == $1.v && $0.f < $1.f))) }
            var start = 0
            while start < sorted.count {
                var end = start
                while end < sorted.count && sorted[end].g == sorted[start].g { end += 1 }
                let n = end - start
                // With B ≥ 2N the edge indices below hit every index 0..<N, so each distinct
                // value gets its own bin whatever B is, and empty bins add exactly 0: capping B
                // at 2N + 2 changes nothing but the memory (B may come from datapoints_per_bin).
                let Bg = min(B, 2 * n + 2)
                var counts = [Int64](repeating: 0, count: Bg + 1), hits = counts
                var sums = [Double](repeating: 0, count: Bg + 1)
                // _get_adaptive_bins: edge indices round_half_even(i·N/B), i = 1..<B, clipped.
                let step = Double(n) / Double(Bg)
                var edges = [Double]()
                edges.reserveCapacity(Bg)
                for i in 1..<max(Bg, 1) {
                    let idx = min(n - 1, Int((Double(i) * step).rounded(.toNearestOrEven)))
                    edges.append(sorted[start + idx].v)
                }
                edges.append(1.0)
                var b = 0
                for e in sorted[start..<end] {  // values ascending: the bin index only grows
                    while b < edges.count && edges[b] <= e.v { b += 1 }
                    counts[b] += 1; hits[b] += Int64(e.f); sums[b] += e.v
                }
                let e = counts.withUnsafeBufferPointer { cb in
                    hits.withUnsafeBufferPointer { hb in groupError(counts: cb, hits: hb, sums: { sums[$0] }) }
                }
                total += classConditional ? e / Double(G) : e
                start = end
            }
        }
        if l2 { total = total.squareRoot() }
        return [("gce", total)] + tail
    }
}
