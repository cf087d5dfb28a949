import Glibc
import StalwartTensor

/// What a batch's score matrix holds.
public enum ScoreKind: Int, Sendable {
    /// Unnormalised log-probabilities; probabilities are their softmax (computed in float64).
    case logits = 0
    /// Probabilities (each row non-negative, summing to 1 within 1e-3; used as given).
    case probabilities = 1
}

/// The per-example quantities the streaming metrics consume, computed once per batch in
/// float64 from one row of scores (k classes) and its label.
public struct RowSummary: Sendable, Equatable {
    /// The true class, in 0..<k.
    public var label: Int
    /// NumPy's `argmax` of the row (the first maximal index).
    public var argmax: Int
    /// Number of classes whose score is strictly greater than the label's: the label is in the
    /// top k iff `rank < k` (TensorFlow `in_top_k`: classes tied at the boundary all count).
    public var rank: Int
    /// max_i p_i (the confidence).
    public var confidence: Double
    /// p_label.
    public var pLabel: Double
    /// log p_label (from the logits directly when given logits: no underflow to −∞).
    public var logPLabel: Double
    /// Σ_i p_i².
    public var sumSquares: Double

    /// argmax == label.
    public var correct: Bool { argmax == label }
}

/// A validated batch of model outputs: `n` rows of `k` scores (row-major) and `n` labels.
/// Validation (`StalwartError.invalidArgument` naming the row): n ≥ 1, k ≥ 1, n·k without
/// overflow, every score finite, probabilities in [0, 1] with rows summing to 1 ± 1e-3,
/// labels in 0..<k.
public struct ScoreBatch {
    public let scores: UnsafeBufferPointer<Float>
    public let labels: UnsafeBufferPointer<Int64>
    public let n: Int
    public let k: Int
    public let kind: ScoreKind

    /// Borrows the buffers for the duration of the calls made with this value (no copy).
    public init(scores: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int64>, n: Int, k: Int, kind: ScoreKind) throws {
        guard n >= 1 else { throw StalwartError.invalidArgument("a batch needs at least one row, got \(n)") }
        guard k >= 1 else { throw StalwartError.invalidArgument("scores need at least one class, got \(k)") }
        let (total, overflow) = n.multipliedReportingOverflow(by: k)
        guard !overflow, scores.count >= total else {
            throw StalwartError.shapeMismatch("scores hold \(scores.count) values, \(n)×\(k) needed")
        }
        guard labels.count >= n else { throw StalwartError.shapeMismatch("\(labels.count) labels for \(n) rows") }
        self.scores = scores; self.labels = labels; self.n = n; self.k = k; self.kind = kind
    }

    /// The summaries of every row (rows in parallel; validation errors name the first bad row).
    public func summaries() throws -> [RowSummary] {
        var out = [RowSummary](repeating: RowSummary(label: 0, argmax: 0, rank: 0, confidence: 0, pLabel: 0, logPLabel: 0, sumSquares: 0), count: n)
        var firstBad = Int.max
        var message = ""
        let lock = Lock()
        out.withUnsafeMutableBufferPointer { ob in
            guard let o = ob.baseAddress, let s = scores.baseAddress, let l = labels.baseAddress else { return }
            let n = self.n, k = self.k, kind = self.kind
            let kernel = ScoreRowKernels.current.stats
            MetricsPool.parallelRows(n) { rows in
                for i in rows {
                    do {
                        o[i] = try ScoreBatch.summarize(s + i * k, k: k, label: l[i], kind: kind, kernel)
                    } catch let e as StalwartError {
                        lock.lock(); if i < firstBad { firstBad = i; message = e.message }; lock.unlock()
                        return
                    } catch {
                        lock.lock(); if i < firstBad { firstBad = i; message = "\(error)" }; lock.unlock()
                        return
                    }
                }
            }
        }
        if firstBad != Int.max { throw StalwartError.invalidArgument("row \(firstBad): \(message)") }
        return out
    }

    /// Row `i` as probabilities in float64 (softmax for logits, the values as given otherwise)
    /// into `out[0..<k]`. Rows must have been validated by `summaries()`.
    public func probabilities(row i: Int, into out: UnsafeMutablePointer<Double>) {
        guard let base = scores.baseAddress, i >= 0, i < n else { return }
        let row = base + i * k
        switch kind {
        case .probabilities:
            for j in 0..<k { out[j] = Double(row[j]) }
        case .logits:
            var m = Double(row[0])
            for j in 1..<k { m = Swift.max(m, Double(row[j])) }
            var z = 0.0
            for j in 0..<k { let e = exp(Double(row[j]) - m); out[j] = e; z += e }
            for j in 0..<k { out[j] /= z }
        }
    }

    /// One row's summary; throws on a non-finite score, a bad probability row or label.
    /// Argmax, rank, validity and (for logits) the softmax sums come from one vectorised pass
    /// (`ScoreRowKernels`, float64 exp); p_label = e^(z_y − max) / Σ, Σ p² = Σ e²/(Σ e)².
    @inline(__always)
    static func summarize(_ row: UnsafePointer<Float>, k: Int, label: Int64, kind: ScoreKind,
                          _ kernel: ScoreRowKernels.Stats) throws -> RowSummary {
        guard label >= 0, label < Int64(k) else { throw StalwartError.invalidArgument("label \(label) outside 0..<\(k)") }
        let y = Int(label)
        let st = kernel(row, k, y, kind == .logits)
        guard st.valid else {
            let j = (0..<k).first { !row[$0].isFinite } ?? 0
            throw StalwartError.invalidArgument("score \(j) is \(row[j])")
        }
        switch kind {
        case .logits:
            let z = st.sumExp
            let logPy = Double(row[y]) - Double(st.max) - log(z)
            return RowSummary(label: y, argmax: st.argmax, rank: st.rank, confidence: 1 / z, pLabel: exp(logPy),
                              logPLabel: logPy, sumSquares: st.sumExp2 / (z * z))
        case .probabilities:
            var sum = 0.0, ss = 0.0
            for j in 0..<k {
                let p = Double(row[j])
                guard p >= 0, p <= 1 else { throw StalwartError.invalidArgument("probability \(j) is \(p), outside [0, 1]") }
                sum += p; ss += p * p
            }
            guard abs(sum - 1) <= 1e-3 else { throw StalwartError.invalidArgument("probabilities sum to \(sum), not 1") }
            let py = Double(row[y])
            return RowSummary(label: y, argmax: st.argmax, rank: st.rank, confidence: Double(st.max), pLabel: py,
                              logPLabel: log(py), sumSquares: ss)
        }
    }
}

/// The worker threads of the metrics (one per core; a call made while busy runs inline).
enum MetricsPool {
    static let pool = ThreadPool(threads: 0)

    /// `body` over contiguous blocks of `0..<count` (≥ 256 rows per block), in parallel.
    static func parallelRows(_ count: Int, _ body: (Range<Int>) -> Void) {
        let blocks = min(max(1, count / 256), pool.threadCount * 4)
        if blocks <= 1 { body(0..<count); return }
        pool.parallelFor(blocks) { b in body((b * count / blocks)..<((b + 1) * count / blocks)) }
    }
}
