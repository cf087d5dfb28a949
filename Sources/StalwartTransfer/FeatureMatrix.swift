// Transferability (issue 9): the feature matrix every estimator of this module consumes.
import StalwartTensor

/// An `n × d` matrix of features (one row per example), row-major float32 — the layout embeddings
/// are written in. Values must be finite; `init` checks the count and every value.
///
/// `values` stays mutable for callers that fill it in place; every estimator re-validates the
/// matrix (`validate()`) before reading it, so a NaN written afterwards is still reported.
public struct FeatureMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    /// `rows * cols` values, row-major: element (i, j) is `values[i * cols + j]`.
    public var values: [Float]

    /// Throws `invalidArgument` when `rows` or `cols` is < 1, `values.count != rows * cols`, or a
    /// value is NaN or infinite (the message names the first offending row and column).
    public init(rows: Int, cols: Int, values: [Float]) throws {
        self.rows = rows
        self.cols = cols
        self.values = values
        try validate()
    }

    /// Row `i` (0-based) as a slice of `values`.
    @inlinable public func row(_ i: Int) -> ArraySlice<Float> { values[(i * cols)..<((i + 1) * cols)] }

    /// Checks shape, count and finiteness (see `init`).
    public func validate(_ what: String = "features") throws {
        guard rows >= 1, cols >= 1 else {
            throw StalwartError.invalidArgument("\(what): empty matrix (\(rows) × \(cols)); need at least one row and one column")
        }
        let (total, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, total == values.count else {
            throw StalwartError.invalidArgument("\(what): \(values.count) values do not fill a \(rows) × \(cols) matrix")
        }
        let bad: Int? = values.withUnsafeBufferPointer { p in
            for i in 0..<p.count where !p[i].isFinite { return i }
            return nil
        }
        if let bad {
            throw StalwartError.invalidArgument(
                "\(what): value at row \(bad / cols), column \(bad % cols) is \(values[bad]); features must be finite")
        }
    }

    /// The rows at `indices`, in that order (indices must be valid rows).
    func gather(_ indices: [Int]) throws -> FeatureMatrix {
        var out = [Float]()
        out.reserveCapacity(indices.count * cols)
        for i in indices {
            guard i >= 0, i < rows else { throw StalwartError.internal("row index \(i) outside 0..<\(rows)") }
            out.append(contentsOf: row(i))
        }
        return try FeatureMatrix(rows: indices.count, cols: cols, values: out)
    }
}

/// Validates labels for `count` examples: same length, non-negative, below 2^24.
/// Returns the number of classes implied (max label + 1).
func checkLabels(_ labels: [Int32], count: Int, _ what: String) throws -> Int {
    guard labels.count == count else {
        throw StalwartError.invalidArgument("\(what): \(labels.count) labels for \(count) feature rows")
    }
    var maxLabel: Int32 = -1
    for (i, l) in labels.enumerated() {
        guard l >= 0, l < 1 << 24 else {
            throw StalwartError.invalidArgument("\(what): label \(l) at index \(i) is outside 0..<16777216")
        }
        maxLabel = max(maxLabel, l)
    }
    return Int(maxLabel) + 1
}
