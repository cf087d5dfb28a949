import StalwartTensor

/// The label space of a robustness dataset, expressed over the 1000 ImageNet-1k classes: class
/// `c` of the dataset is the set `members[c]` of ImageNet-1k indices (standard ILSVRC-2012
/// order, sorted WordNet ids: `n01440764` = 0 … `n15075141` = 999). The built-in spaces
/// (`LabelSpace.names`, `LabelSpace.named(_:)`) are embedded from `data/labelspaces/*.json`;
/// sources, licences and caveats are in `data/labelspaces/README.md`.
///
/// | name | classes | ImageNet ids | per class |
/// |---|---|---|---|
/// | `imagenet` | 1000 | 1000 | the identity |
/// | `imagenet_a`, `imagenet_r` | 200 | 200 | one id (Hendrycks' `indices_in_1k` / `imagenet_r_mask`) |
/// | `objectnet` | 113 | 125 | 1–3 ids (ObjectNet 1.0 map, imagenet-testbed) |
/// | `imagenet_vid_robust` | 30 | 288 | 1–118 ids (imagenet-testbed `rev_class_idx_map.json`) |
/// | `ytbb_robust` | 24 | 231 | 0–118 ids; classes 6 cow, 8 giraffe, 14 skateboard, 18 toilet, 22 none have none |
/// | `si_score` | 61 | 61 | one id (TFDS `siscore_labels.py`) |
/// | `model_vs_human_16` | 16 | 207 | 1–109 ids (model-vs-human `human_categories.py`) |
///
/// The classes of a space are disjoint: an ImageNet index belongs to at most one class.
///
/// Score matrices are row-major `n × 1000` Float buffers (one row per image, in the ImageNet-1k
/// order above); projections write row-major `n × classCount` into a caller buffer. Every
/// function validates its arguments and throws `StalwartError.invalidArgument` (never traps);
/// on error the output buffer is left untouched.
public struct LabelSpace: Sendable, Equatable, CustomStringConvertible {
    /// How the scores of a class's member ids are combined (NumPy's `max` / `mean` / `sum` over
    /// the member columns, as `merge_op` in imagenet-testbed's `imagenet_vid_robust.py` and
    /// `ytbb_robust.py`). Means and sums are accumulated in float64 and rounded to Float.
    public enum Merge: String, Sendable, CaseIterable {
        /// The largest member score: imagenet-testbed's default `merge_op='max'`. For logits or
        /// probabilities alike, the argmax of the max-merged row is the class of the argmax over
        /// the union of member ids (the ObjectNet rule).
        case max
        /// The mean of the member scores: model-vs-human's default aggregation of probabilities
        /// (`ImageNetProbabilitiesTo16ClassesMapping`, `aggregation_function=np.mean`).
        case mean
        /// The sum of the member scores: imagenet-testbed's choice for models named `smoothing`.
        /// For probabilities of disjoint sets this is the probability mass of the class.
        case sum
    }

    /// Number of classes of the source (ImageNet-1k) score rows: 1000.
    public static let sourceClassCount = 1000

    /// The stable lowercase name (`"imagenet_a"`, …), one of `LabelSpace.names` for the built-ins.
    public let name: String
    /// The dataset's display name (`"ImageNet-A"`, …).
    public let datasetName: String
    /// One name per class, in label order (`classNames.count == classCount`).
    public let classNames: [String]
    /// Per class, its ImageNet-1k indices in 0..<1000 (empty for an unmapped class), in the order
    /// of the upstream map.
    public let members: [[Int]]
    /// The merge `projectProbabilities` uses when none is given: `.mean` for
    /// `model_vs_human_16` (model-vs-human's default), `.max` otherwise.
    public let defaultProbabilityMerge: Merge
    /// Total number of ImageNet-1k ids over all classes (125 for ObjectNet, 288 for Vid-Robust, …).
    public let memberCount: Int
    /// The classes without any ImageNet id (YTBB-Robust: 6, 8, 14, 18, 22; empty elsewhere).
    public let unmappedClasses: [Int]
    /// For each ImageNet index, the class that contains it, or −1.
    let owner: [Int32]
    /// Every member id, class by class in `members` order (the tie order of restricted argmaxes).
    let union: [Int]
    let singleMember: Bool

    /// Number of classes C of the space.
    public var classCount: Int { members.count }
    /// Number of columns of the score rows the projections read: 1000 (ImageNet-1k).
    public var sourceClasses: Int { LabelSpace.sourceClassCount }
    /// True when `projectProbabilities` slices and renormalises (every class has exactly one id
    /// and the space is a strict subset: `imagenet_a`, `imagenet_r`, `si_score`).
    public var renormalizesProbabilities: Bool { singleMember && classCount < sourceClasses }

    public var description: String {
        "LabelSpace(\(name): \(classCount) classes over \(memberCount) ImageNet-1k ids)"
    }

    // MARK: - Built-in spaces

    /// The built-in spaces, in this order: `imagenet`, `imagenet_a`, `imagenet_r`, `objectnet`,
    /// `imagenet_vid_robust`, `ytbb_robust`, `si_score`, `model_vs_human_16`.
    public static let names: [String] = LabelSpaceData.all.map { $0.name }

    static let builtIn: [LabelSpace] = LabelSpaceData.all.map { e in
        LabelSpace(unchecked: e.name, datasetName: e.dataset, classNames: e.classNames, members: e.members,
                   defaultProbabilityMerge: e.name == "model_vs_human_16" ? .mean : .max)
    }

    /// The built-in space called `name` (exactly one of `LabelSpace.names`).
    public static func named(_ name: String) throws -> LabelSpace {
        guard let s = builtIn.first(where: { $0.name == name }) else {
            throw StalwartError.invalidArgument(
                "unknown label space '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return s
    }

    /// The 1000 ImageNet-1k WordNet ids in index order (`n01440764` … `n15075141`).
    public static var imagenetWnids: [String] { LabelSpaceData.imagenetWnids }

    // MARK: - Construction

    /// A custom space. Throws when `classNames` and `members` differ in length, there are no
    /// classes, an index is outside 0..<1000, or an index appears twice (within or across
    /// classes).
    public init(name: String, datasetName: String? = nil, classNames: [String], members: [[Int]],
                defaultProbabilityMerge: Merge = .max) throws {
        guard !members.isEmpty else { throw StalwartError.invalidArgument("label space '\(name)' has no classes") }
        guard classNames.count == members.count else {
            throw StalwartError.invalidArgument(
                "label space '\(name)': \(classNames.count) class names for \(members.count) member lists")
        }
        var seen = [Int](repeating: -1, count: LabelSpace.sourceClassCount)
        for (c, ids) in members.enumerated() {
            for i in ids {
                guard i >= 0, i < LabelSpace.sourceClassCount else {
                    throw StalwartError.invalidArgument(
                        "label space '\(name)': class \(c) lists ImageNet index \(i), outside 0..<\(LabelSpace.sourceClassCount)")
                }
                guard seen[i] < 0 else {
                    throw StalwartError.invalidArgument(
                        "label space '\(name)': ImageNet index \(i) is in class \(seen[i]) and class \(c)")
                }
                seen[i] = c
            }
        }
        self.init(unchecked: name, datasetName: datasetName ?? name, classNames: classNames, members: members,
                  defaultProbabilityMerge: defaultProbabilityMerge)
    }

    /// Builds the lookup tables; out-of-range ids are skipped (never trap). Callers validate.
    init(unchecked name: String, datasetName: String, classNames: [String], members: [[Int]],
         defaultProbabilityMerge: Merge) {
        self.name = name
        self.datasetName = datasetName
        self.classNames = classNames
        self.members = members
        self.defaultProbabilityMerge = defaultProbabilityMerge
        var owner = [Int32](repeating: -1, count: LabelSpace.sourceClassCount)
        var union: [Int] = []
        for (c, ids) in members.enumerated() {
            for i in ids where i >= 0 && i < LabelSpace.sourceClassCount {
                owner[i] = Int32(truncatingIfNeeded: c)
                union.append(i)
            }
        }
        self.owner = owner
        self.union = union
        self.memberCount = union.count
        self.unmappedClasses = members.indices.filter { members[$0].isEmpty }
        self.singleMember = members.allSatisfy { $0.count == 1 }
    }

    // MARK: - Lookups

    /// The class containing ImageNet-1k index `imagenetIndex`, or nil (also for indices outside
    /// 0..<1000).
    public func classIndex(ofImagenetIndex imagenetIndex: Int) -> Int? {
        guard imagenetIndex >= 0, imagenetIndex < owner.count else { return nil }
        let c = owner[imagenetIndex]
        return c < 0 ? nil : Int(c)
    }

    /// The ObjectNet rule (valid for every space): a 1000-way prediction is correct when it
    /// falls in the mapped set of the true class, `members[label].contains(prediction1000)`.
    /// False for a label outside 0..<classCount, a prediction outside 0..<1000, or an unmapped
    /// class.
    public func isCorrect(prediction1000: Int, label: Int) -> Bool {
        guard label >= 0, label < classCount, let c = classIndex(ofImagenetIndex: prediction1000) else { return false }
        return c == label
    }

    // MARK: - Projections

    /// Projects logits: `output[r·C + c]` = the `merge` of `scores[r·1000 + i]` over
    /// `i ∈ members[c]`, for `rows` rows (`C = classCount`).
    ///
    /// - A class with one member gets its logit unchanged (ImageNet-A/R, SI-Score: a plain
    ///   slice, as Hendrycks' `output[:, indices_in_1k]`).
    /// - A class with no members (YTBB-Robust's cow, giraffe, skateboard, toilet, none) gets
    ///   `unmappedValue`, by default −∞ so it is never the argmax. imagenet-testbed's
    ///   `project_imagenet_predictions_ytbb` starts from `np.zeros`, so pass `unmappedValue: 0`
    ///   to reproduce it exactly (there an unmapped class wins when every merged logit is < 0).
    ///   Note that `ScoreBatch` rejects non-finite scores: drop or remap such classes first.
    /// - `merge` defaults to `.max`, imagenet-testbed's default for Vid-Robust and YTBB-Robust
    ///   (`.sum` is what it uses for `smoothing` models).
    ///
    /// - Parameters:
    ///   - scores: row-major `rows × columns` logits; every value must be finite.
    ///   - rows: n ≥ 0.
    ///   - columns: must be 1000.
    ///   - output: at least `rows × classCount` Floats, not overlapping `scores`.
    public func projectLogits(_ scores: UnsafeBufferPointer<Float>, rows: Int, columns: Int = 1000,
                              merge: Merge = .max, unmappedValue: Float = -Float.infinity,
                              into output: UnsafeMutableBufferPointer<Float>) throws {
        try checkShapes(scores, rows: rows, columns: columns, output: UnsafeMutableRawBufferPointer(output),
                        outputCount: output.count, outputWidth: classCount, what: "logits")
        try checkFinite(scores, rows: rows)
        guard rows > 0, let s = scores.baseAddress, let o = output.baseAddress else { return }
        let C = classCount, k = columns
        let members = self.members
        MetricsPool.parallelRows(rows) { range in
            for r in range {
                let row = s + r * k, out = o + r * C
                for c in 0..<C { out[c] = LabelSpace.merged(row, members[c], merge, empty: unmappedValue) }
            }
        }
    }

    /// Projects probabilities (rows of a softmax over the 1000 classes) to the space:
    ///
    /// - `imagenet_a`, `imagenet_r`, `si_score` (`renormalizesProbabilities`: one id per class,
    ///   a strict subset): the member probabilities, renormalised so each row sums to 1 (the
    ///   distribution conditioned on the subset, for calibration); a row whose subset mass is 0
    ///   becomes uniform 1/C. `merge` is irrelevant (one member) and ignored.
    /// - `imagenet`: a copy.
    /// - the others: per class the `merge` of the member probabilities, not renormalised;
    ///   unmapped classes get 0 (as imagenet-testbed's `np.zeros` start). `merge` defaults to
    ///   `defaultProbabilityMerge`: `.mean` for `model_vs_human_16` (model-vs-human's
    ///   `ImageNetProbabilitiesTo16ClassesMapping` with its default `np.mean`), `.max` for
    ///   `objectnet`, `imagenet_vid_robust` and `ytbb_robust` (imagenet-testbed's default
    ///   `merge_op`; its argmax is the class of the argmax over the member ids). `.sum` gives
    ///   each class's probability mass (the classes are disjoint, so a row sums to ≤ 1).
    ///
    /// - Parameters:
    ///   - probabilities: row-major `rows × columns`, every value in [0, 1] (row sums are not
    ///     checked; `ScoreBatch` checks them on the result where that applies).
    ///   - rows: n ≥ 0.
    ///   - columns: must be 1000.
    ///   - output: at least `rows × classCount` Floats, not overlapping `probabilities`.
    public func projectProbabilities(_ probabilities: UnsafeBufferPointer<Float>, rows: Int, columns: Int = 1000,
                                     merge: Merge? = nil, into output: UnsafeMutableBufferPointer<Float>) throws {
        try checkShapes(probabilities, rows: rows, columns: columns, output: UnsafeMutableRawBufferPointer(output),
                        outputCount: output.count, outputWidth: classCount, what: "probabilities")
        try checkProbabilities(probabilities, rows: rows)
        guard rows > 0, let s = probabilities.baseAddress, let o = output.baseAddress else { return }
        let C = classCount, k = columns
        let members = self.members, merge = merge ?? defaultProbabilityMerge
        let renormalize = renormalizesProbabilities
        MetricsPool.parallelRows(rows) { range in
            for r in range {
                let row = s + r * k, out = o + r * C
                if renormalize {
                    var total = 0.0
                    for c in 0..<C { total += Double(row[members[c][0]]) }
                    if total > 0 {
                        for c in 0..<C { out[c] = Float(Double(row[members[c][0]]) / total) }
                    } else {
                        for c in 0..<C { out[c] = Float(1.0 / Double(C)) }
                    }
                } else {
                    for c in 0..<C { out[c] = LabelSpace.merged(row, members[c], merge, empty: 0) }
                }
            }
        }
    }

    /// The restricted prediction of one row of 1000 scores (logits or probabilities): the
    /// argmax over the union of member ids, and the class containing it (imagenet-testbed's
    /// ObjectNet evaluation with `class_sublist`: logits restricted to the 125 ids, argmax, then
    /// the class of that id). Ties go to the first id in `members` order, class by class (for
    /// ObjectNet, imagenet-testbed's `class_sublist` order). Throws on a row that is not 1000
    /// finite values, or a space without any member id.
    public func restrictedPrediction(_ row: UnsafeBufferPointer<Float>) throws -> (classIndex: Int, imagenetIndex: Int) {
        guard row.count == sourceClasses else {
            throw StalwartError.invalidArgument("a score row needs \(sourceClasses) values, got \(row.count)")
        }
        try checkFinite(row, rows: 1)
        guard let base = row.baseAddress, let best = restrictedArgmax(base) else {
            throw StalwartError.invalidArgument("label space '\(name)' has no ImageNet ids to predict")
        }
        return (Int(owner[best]), best)
    }

    /// `restrictedPrediction` of every row: `classes[r]` = the class index for row r.
    ///
    /// - Parameters:
    ///   - scores: row-major `rows × columns` finite scores.
    ///   - rows: n ≥ 0.
    ///   - columns: must be 1000.
    ///   - classes: at least `rows` Ints.
    public func restrictedPredictions(_ scores: UnsafeBufferPointer<Float>, rows: Int, columns: Int = 1000,
                                      into classes: UnsafeMutableBufferPointer<Int>) throws {
        try checkShapes(scores, rows: rows, columns: columns, output: UnsafeMutableRawBufferPointer(classes),
                        outputCount: classes.count, outputWidth: 1, what: "scores")
        try checkFinite(scores, rows: rows)
        guard !union.isEmpty else {
            throw StalwartError.invalidArgument("label space '\(name)' has no ImageNet ids to predict")
        }
        guard rows > 0, let s = scores.baseAddress, let o = classes.baseAddress else { return }
        let k = columns
        MetricsPool.parallelRows(rows) { range in
            for r in range {
                if let best = self.restrictedArgmax(s + r * k) { o[r] = Int(self.owner[best]) }
            }
        }
    }

    // MARK: - Array conveniences

    /// `projectLogits` on an array of `rows × 1000` logits; returns `rows × classCount`.
    public func projectLogits(_ scores: [Float], rows: Int, merge: Merge = .max,
                              unmappedValue: Float = -Float.infinity) throws -> [Float] {
        try outputArray(rows: rows, width: classCount) { out in
            try scores.withUnsafeBufferPointer {
                try projectLogits($0, rows: rows, columns: sourceClasses, merge: merge, unmappedValue: unmappedValue, into: out)
            }
        }
    }

    /// `projectProbabilities` on an array of `rows × 1000` probabilities; returns `rows × classCount`.
    public func projectProbabilities(_ probabilities: [Float], rows: Int, merge: Merge? = nil) throws -> [Float] {
        try outputArray(rows: rows, width: classCount) { out in
            try probabilities.withUnsafeBufferPointer {
                try projectProbabilities($0, rows: rows, columns: sourceClasses, merge: merge, into: out)
            }
        }
    }

    /// `restrictedPredictions` on an array of `rows × 1000` scores; returns one class per row.
    public func restrictedPredictions(_ scores: [Float], rows: Int) throws -> [Int] {
        guard rows >= 0 else { throw StalwartError.invalidArgument("rows must be ≥ 0, got \(rows)") }
        var out = [Int](repeating: 0, count: rows)
        try out.withUnsafeMutableBufferPointer { o in
            try scores.withUnsafeBufferPointer { try restrictedPredictions($0, rows: rows, columns: sourceClasses, into: o) }
        }
        return out
    }

    // MARK: - Internals

    @inline(__always)
    static func merged(_ row: UnsafePointer<Float>, _ ids: [Int], _ merge: Merge, empty: Float) -> Float {
        guard let first = ids.first else { return empty }
        if ids.count == 1 { return row[first] }
        switch merge {
        case .max:
            var m = row[first]
            for i in ids.dropFirst() where row[i] > m { m = row[i] }
            return m
        case .mean, .sum:
            var t = 0.0
            for i in ids { t += Double(row[i]) }
            return Float(merge == .mean ? t / Double(ids.count) : t)
        }
    }

    /// The first id of `union` with the largest score, or nil when the union is empty.
    func restrictedArgmax(_ row: UnsafePointer<Float>) -> Int? {
        guard let first = union.first else { return nil }
        var best = first, m = row[first]
        for i in union.dropFirst() where row[i] > m { m = row[i]; best = i }
        return best
    }

    func outputArray(rows: Int, width: Int, _ fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> [Float] {
        guard rows >= 0 else { throw StalwartError.invalidArgument("rows must be ≥ 0, got \(rows)") }
        let (count, overflow) = rows.multipliedReportingOverflow(by: width)
        guard !overflow else { throw StalwartError.invalidArgument("\(rows) rows × \(width) classes overflows") }
        var out = [Float](repeating: 0, count: count)
        try out.withUnsafeMutableBufferPointer { try fill($0) }
        return out
    }

    func checkShapes(_ input: UnsafeBufferPointer<Float>, rows: Int, columns: Int, output: UnsafeMutableRawBufferPointer,
                     outputCount: Int, outputWidth: Int, what: String) throws {
        guard rows >= 0 else { throw StalwartError.invalidArgument("rows must be ≥ 0, got \(rows)") }
        guard columns == sourceClasses else {
            throw StalwartError.invalidArgument(
                "label space '\(name)' projects \(sourceClasses)-class ImageNet-1k \(what), got \(columns) columns")
        }
        let (n, o1) = rows.multipliedReportingOverflow(by: columns)
        guard !o1, input.count == n else {
            throw StalwartError.invalidArgument("\(what) hold \(input.count) values, \(rows)×\(columns) expected")
        }
        let (m, o2) = rows.multipliedReportingOverflow(by: outputWidth)
        guard !o2, outputCount >= m else {
            throw StalwartError.invalidArgument(
                "output holds \(outputCount) values, \(rows)×\(outputWidth) needed for label space '\(name)'")
        }
        if let a = UnsafeRawPointer(input.baseAddress), let b = UnsafeRawPointer(output.baseAddress),
           input.count > 0, output.count > 0 {
            let aEnd = a + input.count * MemoryLayout<Float>.stride, bEnd = b + output.count
            guard aEnd <= b || bEnd <= a else {
                throw StalwartError.invalidArgument("the output buffer overlaps the \(what)")
            }
        }
    }

    func checkFinite(_ scores: UnsafeBufferPointer<Float>, rows: Int) throws {
        for (j, v) in scores.enumerated() where !v.isFinite {
            throw StalwartError.invalidArgument("row \(j / sourceClasses), score \(j % sourceClasses) is \(v)")
        }
    }

    func checkProbabilities(_ p: UnsafeBufferPointer<Float>, rows: Int) throws {
        for (j, v) in p.enumerated() where !(v >= 0 && v <= 1) {
            throw StalwartError.invalidArgument(
                "row \(j / sourceClasses), probability \(j % sourceClasses) is \(v), outside [0, 1]")
        }
    }
}
