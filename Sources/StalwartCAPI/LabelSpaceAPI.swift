// C ABI for the label spaces (stalwart.h, API version 3).
import CStalwart
import Glibc
import StalwartMetrics
import StalwartTensor

/// Static NUL-terminated label-space names and, per space, class names (created once).
let labelSpaceNames: [UnsafeMutablePointer<CChar>?] = LabelSpace.names.map { strdup($0) }
let labelSpaceClassNames: [String: [UnsafeMutablePointer<CChar>?]] = Dictionary(uniqueKeysWithValues:
    LabelSpace.names.compactMap { n in (try? LabelSpace.named(n)).map { (n, $0.classNames.map { strdup($0) }) } })

private func space(_ name: UnsafePointer<CChar>?) throws -> LabelSpace {
    guard let name else { throw StalwartError.invalidArgument("label space name is NULL") }
    return try LabelSpace.named(String(cString: name))
}

private func rowsColumns(_ rows: Int64, _ columns: Int64) throws -> (Int, Int) {
    guard rows >= 1, rows <= 1 << 31 else { throw StalwartError.invalidArgument("rows must be in 1...2^31, got \(rows)") }
    guard columns == 1000 else { throw StalwartError.shapeMismatch("label spaces project 1000 ImageNet scores per row, got \(columns)") }
    return (Int(rows), 1000)
}

@c @implementation
public func stalwart_labelspace_count() -> Int { LabelSpace.names.count }

@c @implementation
public func stalwart_labelspace_name(_ index: Int) -> UnsafePointer<CChar>? {
    guard index >= 0, index < labelSpaceNames.count else { return nil }
    return labelSpaceNames[index].map { UnsafePointer($0) }
}

@c @implementation
public func stalwart_labelspace_classes(_ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_labelspace_classes: NULL argument") }
    return ErrorState.guarded { out.pointee = try space(name).classCount }
}

@c @implementation
public func stalwart_labelspace_class_name(_ name: UnsafePointer<CChar>?, _ index: Int,
                                           _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> stalwart_status {
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_labelspace_class_name: NULL argument") }
    return ErrorState.guarded {
        let s = try space(name)
        guard index >= 0, index < s.classCount, let names = labelSpaceClassNames[s.name], let p = names[index] else {
            throw StalwartError.invalidArgument("class \(index) outside 0..<\(s.classCount) of \(s.name)")
        }
        out.pointee = UnsafePointer(p)
    }
}

@c @implementation
public func stalwart_labelspace_members(_ name: UnsafePointer<CChar>?, _ index: Int, _ ids: UnsafeMutablePointer<Int64>?,
                                        _ capacity: Int, _ outCount: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let outCount, capacity == 0 || ids != nil else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_labelspace_members: NULL argument")
    }
    return ErrorState.guarded {
        let s = try space(name)
        guard index >= 0, index < s.classCount else { throw StalwartError.invalidArgument("class \(index) outside 0..<\(s.classCount) of \(s.name)") }
        let m = s.members[index]
        if let ids { for (i, v) in m.prefix(max(0, capacity)).enumerated() { ids[i] = Int64(v) } }
        outCount.pointee = m.count
    }
}

@c @implementation
public func stalwart_labelspace_project(_ name: UnsafePointer<CChar>?, _ scores: UnsafePointer<Float>?, _ rows: Int64, _ columns: Int64,
                                        _ kind: Int32, _ merge: Int32, _ unmapped: Float,
                                        _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> stalwart_status {
    guard let scores, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_labelspace_project: NULL argument") }
    return ErrorState.guarded {
        let s = try space(name)
        let (n, k) = try rowsColumns(rows, columns)
        let need = n * s.classCount
        guard capacity >= need else { throw StalwartError.bufferTooSmall("the projection needs \(need) floats (\(n)×\(s.classCount)), buffer has \(capacity)") }
        let m: LabelSpace.Merge?
        switch merge {
        case STALWART_MERGE_DEFAULT: m = nil
        case STALWART_MERGE_MAX: m = .max
        case STALWART_MERGE_MEAN: m = .mean
        case STALWART_MERGE_SUM: m = .sum
        default: throw StalwartError.invalidArgument("unknown merge \(merge)")
        }
        let input = UnsafeBufferPointer(start: scores, count: n * k)
        let output = UnsafeMutableBufferPointer(start: out, count: need)
        switch kind {
        case STALWART_SCORES_LOGITS:
            try s.projectLogits(input, rows: n, columns: k, merge: m ?? .max, unmappedValue: unmapped, into: output)
        case STALWART_SCORES_PROBABILITIES:
            try s.projectProbabilities(input, rows: n, columns: k, merge: m, into: output)
        default: throw StalwartError.invalidArgument("unknown score kind \(kind)")
        }
    }
}

@c @implementation
public func stalwart_labelspace_predict(_ name: UnsafePointer<CChar>?, _ scores: UnsafePointer<Float>?, _ rows: Int64, _ columns: Int64,
                                        _ out: UnsafeMutablePointer<Int64>?, _ capacity: Int) -> stalwart_status {
    guard let scores, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_labelspace_predict: NULL argument") }
    return ErrorState.guarded {
        let s = try space(name)
        let (n, k) = try rowsColumns(rows, columns)
        guard capacity >= n else { throw StalwartError.bufferTooSmall("\(n) predictions, buffer has \(capacity)") }
        var classes = [Int](repeating: 0, count: n)
        try classes.withUnsafeMutableBufferPointer { c in
            try s.restrictedPredictions(UnsafeBufferPointer(start: scores, count: n * k), rows: n, columns: k, into: c)
        }
        for i in 0..<n { out[i] = Int64(classes[i]) }
    }
}
