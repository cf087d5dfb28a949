// C ABI for transfer (include/stalwart_transfer.h, API version 5): few-shot ridge, the
// shots × seeds protocol, the logistic probe and correlations.
import CStalwart
import StalwartTensor
import StalwartTransfer

/// Copies a caller's [rows, cols] float32 matrix after validating pointer and sizes.
private func matrix(_ p: UnsafePointer<Float>?, _ rows: Int64, _ cols: Int64, _ what: String) throws -> FeatureMatrix {
    guard let p else { throw StalwartError.invalidArgument("\(what) is NULL") }
    guard rows >= 1, cols >= 1, rows <= 1 << 31, cols <= 1 << 31 else {
        throw StalwartError.invalidArgument("\(what): \(rows) × \(cols) is empty or too large")
    }
    let (count, overflow) = Int(rows).multipliedReportingOverflow(by: Int(cols))
    guard !overflow, count <= 1 << 34 else { throw StalwartError.outOfMemory("\(what): \(rows) × \(cols) is too large") }
    return try FeatureMatrix(rows: Int(rows), cols: Int(cols), values: Array(UnsafeBufferPointer(start: p, count: count)))
}

/// Copies `n` int64 labels, each in 0 ..< 2^24, as Int32.
private func labels(_ p: UnsafePointer<Int64>?, _ n: Int64, _ what: String) throws -> [Int32] {
    guard let p else { throw StalwartError.invalidArgument("\(what) is NULL") }
    guard n >= 1, n <= 1 << 31 else { throw StalwartError.invalidArgument("\(what): count \(n) is out of range") }
    var out = [Int32]()
    out.reserveCapacity(Int(n))
    for i in 0..<Int(n) {
        let v = p[i]
        guard v >= 0, v < 1 << 24 else { throw StalwartError.invalidArgument("\(what): label \(v) at index \(i) is outside 0..<16777216") }
        out.append(Int32(v))
    }
    return out
}

private func doubles(_ p: UnsafePointer<Double>?, _ n: Int, _ what: String) throws -> [Double] {
    guard let p else { throw StalwartError.invalidArgument("\(what) is NULL") }
    guard n >= 1, n <= 1 << 28 else { throw StalwartError.invalidArgument("\(what): count \(n) is out of range") }
    return Array(UnsafeBufferPointer(start: p, count: n))
}

private func precision(_ p: Int32) throws -> Precision {
    switch p {
    case STALWART_PRECISION_FLOAT32: return .float32
    case STALWART_PRECISION_FLOAT64: return .float64
    default: throw StalwartError.invalidArgument("unknown precision \(p) (STALWART_PRECISION_FLOAT32 = 0, FLOAT64 = 1)")
    }
}

private func correlationKind(_ k: Int32) throws -> Correlation.Kind {
    switch k {
    case STALWART_CORRELATION_KENDALL: return .kendall
    case STALWART_CORRELATION_SPEARMAN: return .spearman
    case STALWART_CORRELATION_PEARSON: return .pearson
    default: throw StalwartError.invalidArgument("unknown correlation kind \(k) (0 kendall, 1 spearman, 2 pearson)")
    }
}

private func classCount(_ n: Int32) throws -> Int? {
    guard n >= 0 else { throw StalwartError.invalidArgument("num_classes \(n) is negative") }
    return n == 0 ? nil : Int(n)
}

@c @implementation
public func stalwart_fewshot_lsr(_ trainX: UnsafePointer<Float>?, _ trainY: UnsafePointer<Int64>?, _ nTrain: Int64, _ dim: Int64,
                                 _ testX: UnsafePointer<Float>?, _ testY: UnsafePointer<Int64>?, _ nTest: Int64,
                                 _ l2Regs: UnsafePointer<Double>?, _ l2Count: Int, _ numClasses: Int32, _ prec: Int32,
                                 _ outAccuracies: UnsafeMutablePointer<Double>?) -> stalwart_status {
    ErrorState.guarded {
        guard let outAccuracies else { throw StalwartError.invalidArgument("stalwart_fewshot_lsr: out_accuracies is NULL") }
        let x = try matrix(trainX, nTrain, dim, "train_x")
        let y = try labels(trainY, nTrain, "train_y")
        let t = try matrix(testX, nTest, dim, "test_x")
        let ty = try labels(testY, nTest, "test_y")
        let l2 = try doubles(l2Regs, l2Count, "l2_regs")
        let acc = try FewShot.lsr(train: x, trainLabels: y, test: t, testLabels: ty, l2Regs: l2,
                                  numClasses: try classCount(numClasses), precision: try precision(prec))
        for (i, a) in acc.enumerated() { outAccuracies[i] = a }
    }
}

@c @implementation
public func stalwart_fewshot_lsr_fit(_ trainX: UnsafePointer<Float>?, _ trainY: UnsafePointer<Int64>?, _ nTrain: Int64, _ dim: Int64,
                                     _ testX: UnsafePointer<Float>?, _ nTest: Int64, _ l2: Double, _ numClasses: Int32,
                                     _ prec: Int32, _ outWeights: UnsafeMutablePointer<Double>?, _ weightsCapacity: Int,
                                     _ outMean: UnsafeMutablePointer<Double>?, _ outStd: UnsafeMutablePointer<Double>?,
                                     _ outPredictions: UnsafeMutablePointer<Int64>?,
                                     _ outNumClasses: UnsafeMutablePointer<Int>?) -> stalwart_status {
    ErrorState.guarded {
        let x = try matrix(trainX, nTrain, dim, "train_x")
        let y = try labels(trainY, nTrain, "train_y")
        var t: FeatureMatrix? = nil
        if testX != nil || nTest != 0 { t = try matrix(testX, nTest, dim, "test_x") }
        let fit = try FewShot.fit(train: x, trainLabels: y, test: t, l2: l2, numClasses: try classCount(numClasses),
                                  precision: try precision(prec))
        if outWeights != nil, weightsCapacity < fit.weights.count {
            throw StalwartError.bufferTooSmall("stalwart_fewshot_lsr_fit: weights need \(fit.weights.count) doubles, capacity is \(weightsCapacity)")
        }
        if let outWeights { for (i, w) in fit.weights.enumerated() { outWeights[i] = w } }
        if let outMean { for (i, v) in fit.mean.enumerated() { outMean[i] = v } }
        if let outStd { for (i, v) in fit.std.enumerated() { outStd[i] = v } }
        if let outPredictions { for (i, v) in fit.predictions.enumerated() { outPredictions[i] = Int64(v) } }
        outNumClasses?.pointee = fit.numClasses
    }
}

@c @implementation
public func stalwart_fewshot_evaluate(_ features: UnsafePointer<Float>?, _ labelsPtr: UnsafePointer<Int64>?, _ n: Int64, _ dim: Int64,
                                      _ testX: UnsafePointer<Float>?, _ testY: UnsafePointer<Int64>?, _ nTest: Int64,
                                      _ shots: UnsafePointer<Int64>?, _ shotsCount: Int, _ seeds: Int32,
                                      _ l2Regs: UnsafePointer<Double>?, _ l2Count: Int, _ testFraction: Double,
                                      _ splitSeed: UInt64, _ prec: Int32, _ outAccuracies: UnsafeMutablePointer<Double>?,
                                      _ capacity: Int) -> stalwart_status {
    ErrorState.guarded {
        guard let outAccuracies else { throw StalwartError.invalidArgument("stalwart_fewshot_evaluate: out_accuracies is NULL") }
        let x = try matrix(features, n, dim, "features")
        let y = try labels(labelsPtr, n, "labels")
        var t: FeatureMatrix? = nil, ty: [Int32]? = nil
        if testX != nil || testY != nil || nTest != 0 {
            t = try matrix(testX, nTest, dim, "test_x")
            ty = try labels(testY, nTest, "test_y")
        }
        guard let shots, shotsCount >= 1, shotsCount <= 1024 else {
            throw StalwartError.invalidArgument("stalwart_fewshot_evaluate: shots is NULL or shots_count is outside 1...1024")
        }
        var config = FewShotConfig()
        config.shots = try (0..<shotsCount).map { i -> Int in
            guard shots[i] >= 1, shots[i] <= 1 << 24 else { throw StalwartError.invalidArgument("shots[\(i)] = \(shots[i]) must be in 1...16777216") }
            return Int(shots[i])
        }
        config.seeds = Int(seeds)
        config.l2Regs = try doubles(l2Regs, l2Count, "l2_regs")
        config.testFraction = testFraction
        config.splitSeed = splitSeed
        config.precision = try precision(prec)
        let (a, o1) = shotsCount.multipliedReportingOverflow(by: max(Int(seeds), 0))
        let (needed, o2) = a.multipliedReportingOverflow(by: l2Count)
        guard !o1, !o2 else { throw StalwartError.invalidArgument("stalwart_fewshot_evaluate: too many results") }
        guard capacity >= needed else {
            throw StalwartError.bufferTooSmall("stalwart_fewshot_evaluate: \(needed) results, capacity is \(capacity)")
        }
        let results = try FewShot.evaluate(features: x, labels: y, test: t, testLabels: ty, config: config)
        for (i, r) in results.enumerated() { outAccuracies[i] = r.accuracy }
    }
}

@c @implementation
public func stalwart_linear_probe(_ trainX: UnsafePointer<Float>?, _ trainY: UnsafePointer<Int64>?, _ nTrain: Int64, _ dim: Int64,
                                  _ testX: UnsafePointer<Float>?, _ nTest: Int64, _ l2: Double, _ maxIterations: Int32,
                                  _ tolerance: Double, _ outPredictions: UnsafeMutablePointer<Int64>?,
                                  _ outClasses: UnsafeMutablePointer<Int64>?, _ outWeights: UnsafeMutablePointer<Double>?,
                                  _ outBias: UnsafeMutablePointer<Double>?, _ classCapacity: Int,
                                  _ outClassCount: UnsafeMutablePointer<Int>?, _ outIterations: UnsafeMutablePointer<Int>?,
                                  _ outConverged: UnsafeMutablePointer<Int64>?) -> stalwart_status {
    ErrorState.guarded {
        let x = try matrix(trainX, nTrain, dim, "train_x")
        let y = try labels(trainY, nTrain, "train_y")
        var t: FeatureMatrix? = nil
        if testX != nil || nTest != 0 { t = try matrix(testX, nTest, dim, "test_x") }
        let model = try LinearProbe.fit(train: x, labels: y, l2: l2, maxIterations: Int(maxIterations),
                                        tolerance: tolerance == 0 ? 1e-6 : tolerance)
        let k = model.classes.count
        if outClasses != nil || outWeights != nil || outBias != nil, classCapacity < k {
            throw StalwartError.bufferTooSmall("stalwart_linear_probe: \(k) classes, class_capacity is \(classCapacity)")
        }
        let predictions = try t.map { try model.predict($0) } ?? []
        if let outPredictions { for (i, v) in predictions.enumerated() { outPredictions[i] = Int64(v) } }
        if let outClasses { for (i, v) in model.classes.enumerated() { outClasses[i] = Int64(v) } }
        if let outWeights { for (i, v) in model.weights.enumerated() { outWeights[i] = v } }
        if let outBias { for (i, v) in model.bias.enumerated() { outBias[i] = v } }
        outClassCount?.pointee = k
        outIterations?.pointee = model.iterations
        outConverged?.pointee = model.converged ? 1 : 0
    }
}

@c @implementation
public func stalwart_correlation(_ x: UnsafePointer<Double>?, _ y: UnsafePointer<Double>?, _ n: Int, _ kind: Int32,
                                 _ outValue: UnsafeMutablePointer<Double>?) -> stalwart_status {
    ErrorState.guarded {
        guard let outValue else { throw StalwartError.invalidArgument("stalwart_correlation: out_value is NULL") }
        let v = try Correlation.coefficient(try correlationKind(kind), try doubles(x, n, "x"), try doubles(y, n, "y"))
        outValue.pointee = v
    }
}

@c @implementation
public func stalwart_correlation_bootstrap(_ x: UnsafePointer<Double>?, _ y: UnsafePointer<Double>?, _ n: Int, _ kind: Int32,
                                           _ resamples: Int64, _ confidence: Double, _ seed: UInt64,
                                           _ outLow: UnsafeMutablePointer<Double>?, _ outHigh: UnsafeMutablePointer<Double>?) -> stalwart_status {
    ErrorState.guarded {
        guard let outLow, let outHigh else { throw StalwartError.invalidArgument("stalwart_correlation_bootstrap: NULL output") }
        guard resamples >= 1, resamples <= 10_000_000 else {
            throw StalwartError.invalidArgument("stalwart_correlation_bootstrap: resamples \(resamples) is outside 1...10000000")
        }
        let ci = try Correlation.bootstrapInterval(try correlationKind(kind), try doubles(x, n, "x"), try doubles(y, n, "y"),
                                                   resamples: Int(resamples), confidence: confidence, seed: seed)
        outLow.pointee = ci.low
        outHigh.pointee = ci.high
    }
}
