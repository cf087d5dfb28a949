// C ABI for the robustness metrics (stalwart.h, API version 3).
import CStalwart
import Glibc
import StalwartMetrics
import StalwartTensor

/// The object behind a `stalwart_metric *`: an accumulator and the C strings of its result
/// names (created once, freed with the handle).
final class MetricHandle {
    let box: MetricBox
    private(set) var names: [UnsafeMutablePointer<CChar>?] = []
    init(_ box: MetricBox) {
        self.box = box
        names = box.result().map { strdup($0.0) }
    }
    deinit { for p in names { free(p) } }
}

private func handle(_ p: OpaquePointer?) -> MetricHandle? {
    guard let p else { return nil }
    return Unmanaged<MetricHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

private func retained(_ box: MetricBox) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(MetricHandle(box)).toOpaque())
}

/// Validates rows/classes/pointers and builds a batch borrowing the caller's buffers.
func withScoreBatch<R>(_ scores: UnsafePointer<Float>?, _ rows: Int64, _ classes: Int64, _ labels: UnsafePointer<Int64>?,
                       _ kind: Int32, _ body: (ScoreBatch) throws -> R) throws -> R {
    guard let scores, let labels else { throw StalwartError.invalidArgument("scores or labels is NULL") }
    guard rows >= 1, classes >= 1, rows <= Int64(Int32.max) * 64, classes <= 10_000_000 else {
        throw StalwartError.invalidArgument("rows (\(rows)) and classes (\(classes)) must be ≥ 1")
    }
    let (total, overflow) = Int(rows).multipliedReportingOverflow(by: Int(classes))
    guard !overflow, total <= 1 << 40 else { throw StalwartError.outOfMemory("\(rows)×\(classes) scores") }
    guard let k = ScoreKind(rawValue: Int(kind)) else { throw StalwartError.invalidArgument("unknown score kind \(kind)") }
    let batch = try ScoreBatch(scores: UnsafeBufferPointer(start: scores, count: total),
                               labels: UnsafeBufferPointer(start: labels, count: Int(rows)), n: Int(rows), k: Int(classes), kind: k)
    return try body(batch)
}

@c @implementation
public func stalwart_metric_create(_ spec: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let spec, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_create: NULL argument") }
    return ErrorState.guarded { out.pointee = retained(try MetricBox.create(String(cString: spec))) }
}

@c @implementation
public func stalwart_metric_add(_ metric: OpaquePointer?, _ scores: UnsafePointer<Float>?, _ rows: Int64, _ classes: Int64,
                                _ labels: UnsafePointer<Int64>?, _ kind: Int32) -> stalwart_status {
    guard let m = handle(metric) else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_add: NULL metric") }
    return ErrorState.guarded { try withScoreBatch(scores, rows, classes, labels, kind) { try m.box.add($0) } }
}

@c @implementation
public func stalwart_metric_add_all(_ list: UnsafePointer<OpaquePointer?>?, _ count: Int, _ scores: UnsafePointer<Float>?,
                                    _ rows: Int64, _ classes: Int64, _ labels: UnsafePointer<Int64>?, _ kind: Int32) -> stalwart_status {
    guard let list, count >= 1, count <= 4096 else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_add_all: NULL list or count outside 1...4096")
    }
    var handles: [MetricHandle] = []
    for i in 0..<count {
        guard let h = handle(list[i]) else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_add_all: metric \(i) is NULL") }
        handles.append(h)
    }
    return ErrorState.guarded {
        try withScoreBatch(scores, rows, classes, labels, kind) { batch in
            let summaries = try batch.summaries()
            for h in handles { try h.box.add(batch, summaries: summaries) }
        }
    }
}

@c @implementation
public func stalwart_metric_merge(_ into: OpaquePointer?, _ other: OpaquePointer?) -> stalwart_status {
    guard let a = handle(into), let b = handle(other) else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_merge: NULL metric")
    }
    return ErrorState.guarded {
        // Merging an accumulator into itself would double it; merge a copy instead.
        let source = a === b ? try MetricBox.deserialize(b.box.serialize()) : b.box
        try a.box.merge(source)
    }
}

@c @implementation
public func stalwart_metric_serialize(_ metric: OpaquePointer?, _ outData: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                                      _ outSize: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let m = handle(metric), let outData, let outSize else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_serialize: NULL argument")
    }
    return ErrorState.guarded {
        let bytes = m.box.serialize()
        outData.pointee = try mallocCopy(bytes)
        outSize.pointee = bytes.count
    }
}

@c @implementation
public func stalwart_metric_deserialize(_ data: UnsafePointer<UInt8>?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let data, let out, size >= 0 else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_deserialize: NULL argument") }
    return ErrorState.guarded { out.pointee = retained(try MetricBox.deserialize(Array(UnsafeBufferPointer(start: data, count: size)))) }
}

@c @implementation
public func stalwart_metric_result(_ metric: OpaquePointer?, _ values: UnsafeMutablePointer<Double>?, _ capacity: Int,
                                   _ outCount: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let m = handle(metric), let outCount else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_result: NULL argument") }
    guard capacity == 0 || values != nil else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_metric_result: values is NULL") }
    let r = m.box.result()
    if let values { for (i, v) in r.prefix(max(0, capacity)).enumerated() { values[i] = v.1 } }
    outCount.pointee = r.count
    return STALWART_OK
}

@c @implementation
public func stalwart_metric_result_name(_ metric: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let m = handle(metric), index >= 0, index < m.names.count else { return nil }
    return m.names[index].map { UnsafePointer($0) }
}

@c @implementation
public func stalwart_metric_free(_ metric: OpaquePointer?) {
    guard let metric else { return }
    Unmanaged<MetricHandle>.fromOpaque(UnsafeRawPointer(metric)).release()
}

@c @implementation
public func stalwart_temperature_fit(_ logits: UnsafePointer<Float>?, _ rows: Int64, _ classes: Int64, _ labels: UnsafePointer<Int64>?,
                                     _ out: UnsafeMutablePointer<Double>?) -> stalwart_status {
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_temperature_fit: NULL argument") }
    return ErrorState.guarded {
        out.pointee = try withScoreBatch(logits, rows, classes, labels, STALWART_SCORES_LOGITS) { try TemperatureScaling.fit($0) }
    }
}

@c @implementation
public func stalwart_mce(_ names: UnsafePointer<UnsafePointer<CChar>?>?, _ accuracies: UnsafePointer<Double>?, _ count: Int,
                         _ cleanAccuracy: Double, _ baselineErrors: UnsafePointer<Double>?, _ baselineCleanError: Double,
                         _ outMCE: UnsafeMutablePointer<Double>?, _ outRelative: UnsafeMutablePointer<Double>?,
                         _ outCE: UnsafeMutablePointer<Double>?, _ outRelativeCE: UnsafeMutablePointer<Double>?) -> stalwart_status {
    guard let names, let accuracies, let outMCE, let outRelative, count >= 1, count <= 1024 else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_mce: NULL argument or count outside 1...1024")
    }
    return ErrorState.guarded {
        var list: [String] = []
        for i in 0..<count {
            guard let n = names[i] else { throw StalwartError.invalidArgument("stalwart_mce: name \(i) is NULL") }
            list.append(String(cString: n))
        }
        let rows = (0..<count).map { i in (0..<5).map { accuracies[5 * i + $0] } }
        var baseline = Aggregates.alexNetErrors, clean = Aggregates.alexNetCleanError
        if let b = baselineErrors {
            baseline = Dictionary(list.enumerated().map { ($0.element, b[$0.offset]) }, uniquingKeysWith: { a, _ in a })
            clean = baselineCleanError
        }
        let r = try Aggregates.mce(names: list, accuracies: rows, cleanAccuracy: cleanAccuracy.isNaN ? nil : cleanAccuracy,
                                   baseline: baseline, baselineCleanError: clean)
        outMCE.pointee = r.mce
        outRelative.pointee = r.relativeMCE
        if let o = outCE { for i in 0..<count { o[i] = r.ce[i] } }
        if let o = outRelativeCE { for i in 0..<count { o[i] = r.relativeCE[i] } }
    }
}

@c @implementation
public func stalwart_pm_k(_ anchorCorrect: UnsafePointer<UInt8>?, _ anchors: Int, _ neighborAnchor: UnsafePointer<Int64>?,
                          _ neighborOffset: UnsafePointer<Int64>?, _ neighborCorrect: UnsafePointer<UInt8>?, _ neighbors: Int,
                          _ k: Int64, _ out: UnsafeMutablePointer<Double>?) -> stalwart_status {
    guard let anchorCorrect, let out, anchors >= 1,
          neighbors == 0 || (neighborAnchor != nil && neighborOffset != nil && neighborCorrect != nil), neighbors >= 0 else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pm_k: NULL argument or no anchors")
    }
    return ErrorState.guarded {
        let a = (0..<anchors).map { anchorCorrect[$0] != 0 }
        let na = (0..<neighbors).map { i -> Int in neighborAnchor.map { Int(clamping: $0[i]) } ?? 0 }
        let no = (0..<neighbors).map { i -> Int in neighborOffset.map { Int(clamping: $0[i]) } ?? 0 }
        let nc = (0..<neighbors).map { i -> Bool in neighborCorrect.map { $0[i] != 0 } ?? false }
        guard k >= 0 else { throw StalwartError.invalidArgument("stalwart_pm_k: k must be ≥ 0") }
        out.pointee = try Aggregates.pmK(anchorCorrect: a, neighborAnchor: na, neighborOffset: no, neighborCorrect: nc, k: Int(clamping: k))
    }
}

@c @implementation
public func stalwart_factor_accuracy(_ factor: UnsafePointer<Double>?, _ correct: UnsafePointer<UInt8>?, _ n: Int,
                                     _ outValues: UnsafeMutablePointer<Double>?, _ outAccuracy: UnsafeMutablePointer<Double>?,
                                     _ outCounts: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                                     _ outGroups: UnsafeMutablePointer<Int>?, _ outMean: UnsafeMutablePointer<Double>?) -> stalwart_status {
    guard let factor, let correct, let outGroups, let outMean, n >= 1 else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_factor_accuracy: NULL argument or no examples")
    }
    return ErrorState.guarded {
        let r = try Aggregates.factorAccuracy(factor: Array(UnsafeBufferPointer(start: factor, count: n)),
                                              correct: (0..<n).map { correct[$0] != 0 })
        let m = min(max(capacity, 0), r.values.count)
        for i in 0..<m {
            outValues?[i] = r.values[i]; outAccuracy?[i] = r.accuracy[i]; outCounts?[i] = Int64(r.counts[i])
        }
        outGroups.pointee = r.values.count
        outMean.pointee = r.mean
    }
}

@c @implementation
public func stalwart_effective_robustness(_ refClean: UnsafePointer<Double>?, _ refShifted: UnsafePointer<Double>?, _ references: Int,
                                          _ clean: Double, _ shifted: Double, _ outValue: UnsafeMutablePointer<Double>?,
                                          _ outSlope: UnsafeMutablePointer<Double>?, _ outIntercept: UnsafeMutablePointer<Double>?) -> stalwart_status {
    guard let refClean, let refShifted, let outValue, references >= 0 else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_effective_robustness: NULL argument")
    }
    return ErrorState.guarded {
        let r = try Aggregates.effectiveRobustness(referenceClean: Array(UnsafeBufferPointer(start: refClean, count: references)),
                                                   referenceShifted: Array(UnsafeBufferPointer(start: refShifted, count: references)),
                                                   clean: clean, shifted: shifted)
        outValue.pointee = r.value
        outSlope?.pointee = r.slope
        outIntercept?.pointee = r.intercept
    }
}
