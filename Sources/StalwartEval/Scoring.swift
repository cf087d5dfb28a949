import StalwartMetrics
import StalwartPreprocess
import StalwartStore
import StalwartTensor

extension RunJob {
    /// Logit given to label-space classes with no ImageNet member (YTBB-Robust has 5): finite,
    /// as `ScoreBatch` requires, and low enough that its probability is 0 in float64.
    static let unmappedLogit: Float = -1e4

    /// Runs the model on a batch of same-sized items and turns the outputs into database rows,
    /// adding each labelled row to its group's accumulators (`boxes`, created on first use).
    func score(_ items: [PreparedItem], boxes: inout [GroupKey: [(String, MetricBox)]], input: BatchTensor) throws -> [PredictionRow] {
        let n = items.count
        guard let first = items.first else { return [] }
        let c = pipeline.channels, h = first.height, w = first.width
        let shape = pipeline.layout == .nchw ? [n, c, h, w] : [n, h, w, c]
        let x = try input.tensor(shape: shape)
        let per = c * h * w
        for (i, item) in items.enumerated() {
            guard item.pixels.count == per else { throw StalwartError.internal("prepared item of \(item.pixels.count) values, \(per) expected") }
            item.pixels.withUnsafeBufferPointer { b in
                if let base = b.baseAddress { (x.floats + i * per).update(from: base, count: per) }
            }
        }
        guard let y = try model.run([x]).first, y.dtype == .float32, y.shape.first == n, y.count % n == 0, y.count > 0 else {
            throw StalwartError.unsupported("`eval` expects the model's first output to be float32 [N, classes]")
        }
        let k = y.count / n
        var scores: [Float]
        let classes: Int
        let raw = UnsafeBufferPointer(start: y.floats, count: y.count)
        if let space, k != space.classCount {
            guard k == LabelSpace.sourceClassCount else {
                throw StalwartError.shapeMismatch("the model outputs \(k) classes; label space '\(space.name)' needs ImageNet-1k logits (1000) or its own \(space.classCount)")
            }
            classes = space.classCount
            scores = [Float](repeating: 0, count: n * classes)
            try scores.withUnsafeMutableBufferPointer { out in
                try space.projectLogits(raw, rows: n, columns: k, merge: .max, unmappedValue: RunJob.unmappedLogit, into: out)
            }
        } else {
            classes = k
            scores = Array(raw)
        }
        // Effective labels: a frame with several labels counts as correct when the prediction
        // is any of them, so its label is the prediction then (rows and metrics agree).
        var labels = [Int64](repeating: 0, count: n)
        for i in 0..<n {
            let s = samples[items[i].sample]
            var label = s.label
            if !s.labels.isEmpty {
                // NumPy's argmax (first maximum), as `ScoreBatch` computes it below.
                var best = 0
                for j in 1..<max(classes, 1) where scores[i * classes + j] > scores[i * classes + best] { best = j }
                if s.labels.contains(best) { label = best }
            }
            guard label < classes else {
                throw StalwartError.shapeMismatch("label \(label) of '\(s.key)' is outside the model's \(classes) classes")
            }
            labels[i] = Int64(max(label, 0))
        }
        let summaries = try scores.withUnsafeBufferPointer { sb in
            try labels.withUnsafeBufferPointer { lb in
                try ScoreBatch(scores: sb, labels: lb, n: n, k: classes, kind: .logits).summaries()
            }
        }
        var rows: [PredictionRow] = []
        rows.reserveCapacity(n)
        var groups: [GroupKey: [Int]] = [:]
        for i in 0..<n {
            let s = samples[items[i].sample]
            let sm = summaries[i]
            let labelled = s.label >= 0
            let top5 = RunJob.topIndices(scores, row: i, classes: classes, count: 5)
            rows.append(PredictionRow(
                sample: RunJob.storedKey(s), corruption: items[i].corruption, severity: items[i].severity,
                label: labelled ? Int(labels[i]) : -1, top1: sm.argmax, top5: top5,
                rank: labelled ? sm.rank : -1, confidence: sm.confidence,
                pLabel: labelled ? sm.pLabel : nil, logPLabel: labelled ? sm.logPLabel : nil,
                sumSquares: sm.sumSquares, correct1: labelled ? sm.correct : nil,
                correct5: labelled ? sm.rank < 5 : nil, params: items[i].params))
            if labelled { groups[GroupKey(corruption: items[i].corruption, severity: items[i].severity), default: []].append(i) }
        }
        // Per group: a sub-batch of its rows (scores and labels copied) into its accumulators.
        for (g, idx) in groups {
            if boxes[g] == nil { boxes[g] = try Evaluator.metricSpecs.map { ($0, try MetricBox.create($0)) } }
            var sub = [Float](repeating: 0, count: idx.count * classes)
            var subLabels = [Int64](repeating: 0, count: idx.count)
            for (j, i) in idx.enumerated() {
                for q in 0..<classes { sub[j * classes + q] = scores[i * classes + q] }
                subLabels[j] = labels[i]
            }
            let subSummaries = idx.map { summaries[$0] }
            try sub.withUnsafeBufferPointer { sb in
                try subLabels.withUnsafeBufferPointer { lb in
                    let batch = try ScoreBatch(scores: sb, labels: lb, n: idx.count, k: classes, kind: .logits)
                    for (_, box) in boxes[g] ?? [] { try box.add(batch, summaries: subSummaries) }
                }
            }
        }
        return rows
    }

    /// Indices of the `count` largest scores of a row, best first (ties: lower index first).
    static func topIndices(_ scores: [Float], row: Int, classes: Int, count: Int) -> [Int] {
        var top: [Int] = []
        let base = row * classes
        for j in 0..<classes {
            let v = scores[base + j]
            if top.count == count, let last = top.last, !(v > scores[base + last]) { continue }
            var pos = top.count
            while pos > 0 && v > scores[base + top[pos - 1]] { pos -= 1 }
            top.insert(j, at: pos)
            if top.count > count { top.removeLast() }
        }
        return top
    }
}
