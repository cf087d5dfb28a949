import Glibc
import StalwartData
import StalwartImageIO
import StalwartONNX
import StalwartPreprocess
import StalwartShift
import StalwartStore
import StalwartTensor
import StalwartTransfer

/// A folder of images for transfer tasks: one subfolder per class (any names; labels are the
/// subfolders' indices in byte order of their names, as torchvision's `ImageFolder`), images
/// found recursively below each; or, without subfolders, a flat folder of unlabelled images
/// (label −1). Files that are not PNG/JPEG by extension are ignored.
public struct ImageFolder: Sendable {
    public let root: String
    /// Class names in label order (empty for an unlabelled folder).
    public let classes: [String]
    /// Images in (class, path) order; `label` indexes `classes`, −1 when unlabelled.
    public let samples: [Sample]

    /// Throws `.io` for a missing folder and `.invalidArgument` for one without images.
    public static func open(_ root: String) throws -> ImageFolder {
        guard FileSystem.exists(root) else { throw StalwartError.io("image folder '\(root)' does not exist") }
        guard FileSystem.isDirectory(root) else { throw StalwartError.invalidArgument("'\(root)' is a file, not a folder of images") }
        let files = try FileSystem.walkFiles(root).filter { Dataset.isImageFile($0) }
        let nested = files.filter { $0.contains("/") }
        var classes: [String] = []
        var samples: [Sample] = []
        if nested.isEmpty {
            samples = files.map { Sample(path: FileSystem.join(root, $0), key: $0, label: -1) }
        } else {
            // Class folders: images directly in the root are not part of any class.
            var index: [String: Int] = [:]
            for rel in nested {
                let folder = String(rel.prefix { $0 != "/" })
                if index[folder] == nil { index[folder] = classes.count; classes.append(folder) }
            }
            // walkFiles sorts by bytes, so classes are already in byte order of their names.
            for rel in nested {
                let folder = String(rel.prefix { $0 != "/" })
                samples.append(Sample(path: FileSystem.join(root, rel), key: rel, label: index[folder] ?? -1))
            }
        }
        guard !samples.isEmpty else {
            throw StalwartError.invalidArgument("no PNG or JPEG images in '\(root)' (expected class subfolders of images, or images)")
        }
        return ImageFolder(root: root, classes: classes, samples: samples)
    }
}

/// How features are computed (`stalwart embed`, `stalwart transfer`).
public struct EmbedOptions: Sendable {
    /// Feature tensor; nil = the pre-logits (`InferenceModel.preLogitsName`).
    public var layer: String? = nil
    /// Preprocessing preset; nil = the model's metadata (as `stalwart eval`).
    public var preset: String? = nil
    /// Test resolution in pixels; nil = the model's (metadata, else its input size).
    public var resolution: Int? = nil
    public var cropPct: Double? = nil
    /// Images per forward pass (1...1024).
    public var batchSize = 32
    /// Inference threads and decode/preprocess workers (0 = one per core).
    public var threads = 0
    public var workers = 0
    /// Only the first `limit` images (in folder order).
    public var limit: Int? = nil
    public init() {}

    func validate() throws {
        guard (1...1024).contains(batchSize) else { throw StalwartError.invalidArgument("batch size must be 1...1024, got \(batchSize)") }
        guard threads >= 0, threads <= 1024, workers >= 0, workers <= 256 else { throw StalwartError.invalidArgument("threads must be 0...1024 and workers 0...256") }
        if let r = resolution, !(16...4096).contains(r) { throw StalwartError.invalidArgument("resolution must be 16...4096, got \(r)") }
        if let l = limit, l < 1 { throw StalwartError.invalidArgument("limit must be at least 1, got \(l)") }
    }
}

/// Features of a folder: `rows` × `cols` float32, row-major, one row per readable image.
public struct EmbeddingSet: Sendable {
    public var features: FeatureMatrix
    /// Labels per row (−1 unlabelled) and the images' folder-relative keys.
    public var labels: [Int32]
    public var keys: [String]
    public var classes: [String]
    /// Images that could not be decoded (not in the rows).
    public var skipped: [Skipped]
    public var layer: String
    public var preprocess: String
    public var resolution: Int
    public var seconds: Double
}

/// A model loaded for feature extraction, with the preprocessing it is fed with.
///
/// Thread-safety: `embed` may be called from one thread at a time per extractor (it runs its own
/// worker threads); the model inside is reentrant.
public final class FeatureExtractor {
    public let model: InferenceModel
    public let modelPath: String
    /// The resolved feature tensor.
    public let layer: String
    public let pipeline: Pipeline
    public let resolution: Int
    let options: EmbedOptions

    /// Loads `modelPath` (keeping `options.layer` through fusion, so any tensor of the file can
    /// be read) and resolves the layer and preprocessing.
    public init(modelPath: String, options: EmbedOptions) throws {
        try options.validate()
        self.options = options
        self.modelPath = modelPath
        let keep: Set<String> = options.layer.map { $0.isEmpty ? [] : [$0] } ?? []
        model = try InferenceModel(path: modelPath, threads: options.threads, freeSpatialDims: true, keep: keep)
        guard model.inputs.count == 1 else {
            throw StalwartError.unsupported("embedding images needs a model with one input, '\(modelPath)' has \(model.inputs.count)")
        }
        layer = try model.resolveLayer(options.layer)
        var c = EvalConfig(model: modelPath, data: "")
        c.preset = options.preset
        c.cropPct = options.cropPct
        var p = try Evaluator.pipeline(c, model: model, resolution: options.resolution)
        p.borderCrop = 0
        pipeline = p
        resolution = p.crop?.width ?? options.resolution ?? 0
    }

    /// The model's identity in a results database, exactly as `stalwart eval` records it (file
    /// SHA-256, display name, input description, class count), so studies join both sides.
    public func modelRecord() throws -> ModelRecord {
        let input = model.inputs[0]
        return ModelRecord(
            sha256: try SHA256.file(modelPath), name: Evaluator.displayName(modelPath, metadata: model.metadata), path: modelPath,
            input: "\(input.name) \(input.dims.map { $0.map(String.init) ?? "?" })", classes: model.outputs.first?.dims.last.flatMap { $0 } ?? 0)
    }

    /// Embeds every image of `folder` (up to `options.limit`): worker threads decode and
    /// preprocess (as `stalwart eval` does for clean images) while this thread runs batches.
    /// Unreadable images are skipped and listed. `progress(done, total)` is called after each
    /// batch. Throws when no image could be read or a feature is not finite.
    public func embed(_ folder: ImageFolder, progress: ((Int, Int) -> Void)? = nil) throws -> EmbeddingSet {
        let t0 = monotonicSeconds()
        var samples = folder.samples
        if let l = options.limit { samples = Array(samples.prefix(l)) }
        let total = samples.count
        let cores = ThreadPool.availableCores
        let workerCount = min(max(1, options.workers > 0 ? options.workers : cores), max(1, total))
        let queue = BoundedQueue<WorkResult>(capacity: max(2 * options.batchSize, 8), producers: workerCount)
        let next = Counter()
        let buffers = FloatBuffers(limit: 4 * options.batchSize + 16)
        let pipeline = self.pipeline
        let list = samples
        let workers = WorkerThreads(count: workerCount) { _ in
            defer { queue.producerFinished() }
            while true {
                let i = next.take()
                guard i < list.count else { return }
                for r in RunJob.prepare(list[i], index: i, shifts: [("", 0)], pipeline: pipeline, seed: 0,
                                        mode: .imagecorruptions, at: .input, buffers: buffers) {
                    if !queue.push(r) { return }
                }
            }
        }
        if workers.started < workerCount {
            queue.cancel(); workers.join()
            throw StalwartError.outOfMemory("cannot start \(workerCount) worker threads (started \(workers.started))")
        }
        defer { queue.cancel(); workers.join() }

        var rowsOf = [[Float]?](repeating: nil, count: total)
        var skipped: [Skipped] = []
        var cols = 0
        var done = 0
        var pending: [PreparedItem] = []
        func flush() throws {
            guard let first = pending.first else { return }
            let n = pending.count, c = pipeline.channels, h = first.height, w = first.width
            let shape = pipeline.layout == .nchw ? [n, c, h, w] : [n, h, w, c]
            let x: Tensor
            do { x = try Tensor(dtype: .float32, shape: shape) } catch { throw StalwartError(error) }
            let per = c * h * w
            for (i, item) in pending.enumerated() {
                guard item.pixels.count == per else { throw StalwartError.internal("prepared item of \(item.pixels.count) values, \(per) expected") }
                item.pixels.withUnsafeBufferPointer { b in
                    if let base = b.baseAddress { (x.floats + i * per).update(from: base, count: per) }
                }
            }
            let (features, d) = try model.embed(x, layer: layer)
            cols = d
            for (i, item) in pending.enumerated() {
                let row = Array(features[(i * d)..<((i + 1) * d)])
                if let bad = row.firstIndex(where: { !$0.isFinite }) {
                    throw StalwartError.invalidArgument("image '\(list[item.sample].key)': feature \(bad) of layer '\(layer)' is \(row[bad]) (not finite)")
                }
                rowsOf[item.sample] = row
                buffers.give(item.pixels)
            }
            done += n
            pending.removeAll(keepingCapacity: true)
            progress?(done + skipped.count, total)
        }
        while let r = queue.pop() {
            switch r {
            case .failed(let e): throw e
            case .skipped(let i, let reason): skipped.append(Skipped(key: list[i].key, reason: reason))
            case .item(let item):
                if let first = pending.first, first.width != item.width || first.height != item.height { try flush() }
                pending.append(item)
                if pending.count >= options.batchSize { try flush() }
            }
        }
        try flush()
        var values: [Float] = []
        var labels: [Int32] = [], keys: [String] = []
        values.reserveCapacity(done * cols)
        for (i, row) in rowsOf.enumerated() {
            guard let row else { continue }
            values += row
            labels.append(Int32(clamping: list[i].label))
            keys.append(list[i].key)
        }
        guard !keys.isEmpty else {
            let why = skipped.first.map { ": '\($0.key)': \($0.reason)" } ?? ""
            throw StalwartError.invalidArgument("none of the \(total) images in '\(folder.root)' could be read\(why)")
        }
        skipped.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return EmbeddingSet(features: try FeatureMatrix(rows: keys.count, cols: cols, values: values), labels: labels, keys: keys,
                            classes: folder.classes, skipped: skipped, layer: layer, preprocess: pipeline.name,
                            resolution: resolution, seconds: monotonicSeconds() - t0)
    }
}

/// What `stalwart transfer` evaluates besides the embedding.
public struct TransferOptions: Sendable {
    /// Task name recorded in the database (default: the training folder's last component).
    public var task: String? = nil
    /// Few-shot protocol (shots, seeds, λ; hold-out split when there is no test folder).
    public var fewShot = FewShotConfig()
    /// Also fit the full-data logistic probe (`LinearProbe`) on standardized features.
    public var probe = false
    /// The probe's l2 (scikit-learn's 1/C; default C = 1) and iteration cap.
    public var probeL2: Double = 1
    public var probeMaxIterations = 1000
    /// Results database (nil: nothing recorded).
    public var database: String? = nil
    public init() {}
}

/// Mean and (population) standard deviation of few-shot accuracy over seeds.
public struct FewShotSummary: Sendable {
    public var shots: Int
    public var l2: Double
    public var mean: Double
    public var std: Double
    public var seeds: Int
}

public struct TransferOutcome: Sendable {
    public var model: ModelRecord
    public var task: String
    public var train: EmbeddingSet
    public var test: EmbeddingSet?
    public var results: [TransferResult]
    public var fewShot: [FewShotSummary]
    public var probeAccuracy: Double?
}

public enum TransferRunner {
    /// Embeds `train` (and `test`), runs the few-shot protocol (and the probe), records every
    /// accuracy in `options.database` (models identified as `stalwart eval` does).
    /// Throws `.invalidArgument` for unlabelled folders, classes of the test folder missing from
    /// training, and whatever the estimators reject (too few images per class for the shots…).
    public static func run(model path: String, train: String, test: String?, embed: EmbedOptions,
                           options: TransferOptions, progress: ((String, Int, Int) -> Void)? = nil) throws -> TransferOutcome {
        let extractor = try FeatureExtractor(modelPath: path, options: embed)
        let trainFolder = try ImageFolder.open(train)
        guard !trainFolder.classes.isEmpty else {
            throw StalwartError.invalidArgument("'\(train)' has no class subfolders: transfer needs labelled images (one folder per class)")
        }
        let testFolder = try test.map { try ImageFolder.open($0) }
        if let tf = testFolder {
            guard !tf.classes.isEmpty else {
                throw StalwartError.invalidArgument("'\(tf.root)' has no class subfolders: the test set must be labelled")
            }
            let missing = tf.classes.filter { !trainFolder.classes.contains($0) }
            guard missing.isEmpty else {
                throw StalwartError.invalidArgument("test classes \(missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")) of '\(tf.root)' are not classes of '\(train)'")
            }
        }
        let task = options.task ?? Self.defaultTask(train)
        let record = try extractor.modelRecord()
        let trainSet = try extractor.embed(trainFolder) { progress?("train", $0, $1) }
        var testSet = try testFolder.map { f in try extractor.embed(f) { progress?("test", $0, $1) } }
        // Test labels in the training folder's class indices.
        if var t = testSet {
            t.labels = t.labels.map { l in
                guard l >= 0, Int(l) < t.classes.count else { return l }
                return Int32(trainFolder.classes.firstIndex(of: t.classes[Int(l)]) ?? -1)
            }
            t.classes = trainFolder.classes
            testSet = t
        }
        var results: [TransferResult] = []
        let testCount: Int
        let few = try FewShot.evaluate(features: trainSet.features, labels: trainSet.labels, test: testSet?.features,
                                       testLabels: testSet?.labels, config: options.fewShot)
        if let t = testSet {
            testCount = t.features.rows
        } else {
            testCount = try FewShot.holdoutSplit(labels: trainSet.labels, testFraction: options.fewShot.testFraction,
                                                 splitSeed: options.fewShot.splitSeed).test.count
        }
        let classCount = Set(trainSet.labels).count
        for r in few {
            results.append(TransferResult(task: task, dataRoot: train, method: "fewshot_lsr", layer: trainSet.layer,
                                          preprocess: trainSet.preprocess, resolution: trainSet.resolution, shots: r.shots,
                                          seed: r.seed, l2: r.l2, accuracy: r.accuracy, trainCount: r.shots * classCount,
                                          testCount: testCount))
        }
        var probeAccuracy: Double?
        if options.probe {
            let (xTrain, yTrain, xTest, yTest) = try probeData(trainSet, testSet, options.fewShot)
            let model = try LinearProbe.fit(train: xTrain, labels: yTrain, l2: options.probeL2, maxIterations: options.probeMaxIterations)
            let acc = try model.accuracy(xTest, labels: yTest)
            probeAccuracy = acc
            results.append(TransferResult(task: task, dataRoot: train, method: "linear_probe", layer: trainSet.layer,
                                          preprocess: trainSet.preprocess, resolution: trainSet.resolution, shots: 0, seed: 0,
                                          l2: options.probeL2, accuracy: acc, trainCount: xTrain.rows, testCount: xTest.rows))
        }
        if let db = options.database {
            let store = try ResultStore(path: db, version: Evaluator.version)
            try store.recordTransfer(model: record, results, created: utcTimestamp())
        }
        return TransferOutcome(model: record, task: task, train: trainSet, test: testSet, results: results,
                               fewShot: summarize(few), probeAccuracy: probeAccuracy)
    }

    /// The last path component of `folder` (trailing slashes ignored).
    static func defaultTask(_ folder: String) -> String {
        let parts = folder.split(separator: "/")
        let name = parts.last.map(String.init) ?? "task"
        return name.replacingColons()
    }

    /// Mean ± population std over seeds per (shots, λ), in the order of first appearance.
    public static func summarize(_ results: [FewShotResult]) -> [FewShotSummary] {
        var order: [String] = []
        var groups: [String: (shots: Int, l2: Double, acc: [Double])] = [:]
        for r in results {
            let k = "\(r.shots)|\(r.l2)"
            if groups[k] == nil { order.append(k); groups[k] = (r.shots, r.l2, []) }
            groups[k]?.acc.append(r.accuracy)
        }
        return order.compactMap { k in
            guard let g = groups[k], !g.acc.isEmpty else { return nil }
            let m = g.acc.reduce(0, +) / Double(g.acc.count)
            let v = g.acc.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(g.acc.count)
            return FewShotSummary(shots: g.shots, l2: g.l2, mean: m, std: v.squareRoot(), seeds: g.acc.count)
        }
    }

    /// Probe train/test matrices, standardized with the training rows' mean and population
    /// std (+1e-5, as the few-shot whitening): the test folder, else the few-shot hold-out split.
    static func probeData(_ train: EmbeddingSet, _ test: EmbeddingSet?, _ config: FewShotConfig) throws
        -> (FeatureMatrix, [Int32], FeatureMatrix, [Int32]) {
        var xTrain = train.features, yTrain = train.labels
        var xTest: FeatureMatrix, yTest: [Int32]
        if let test {
            xTest = test.features; yTest = test.labels
        } else {
            let split = try FewShot.holdoutSplit(labels: train.labels, testFraction: config.testFraction, splitSeed: config.splitSeed)
            let trainRows = split.trainPool.flatMap { $0 }
            xTrain = try gather(train.features, trainRows); yTrain = trainRows.map { train.labels[$0] }
            xTest = try gather(train.features, split.test); yTest = split.test.map { train.labels[$0] }
        }
        let d = xTrain.cols
        var mean = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        for i in 0..<xTrain.rows { for j in 0..<d { let v = Double(xTrain.values[i * d + j]); mean[j] += v; sq[j] += v * v } }
        let n = Double(xTrain.rows)
        var std = [Double](repeating: 1, count: d)
        for j in 0..<d {
            mean[j] /= n
            std[j] = (max(sq[j] / n - mean[j] * mean[j], 0)).squareRoot() + FewShot.stdEpsilon
        }
        func standardize(_ m: inout FeatureMatrix) {
            for i in 0..<m.rows { for j in 0..<d { m.values[i * d + j] = Float((Double(m.values[i * d + j]) - mean[j]) / std[j]) } }
        }
        standardize(&xTrain); standardize(&xTest)
        return (xTrain, yTrain, xTest, yTest)
    }

    static func gather(_ m: FeatureMatrix, _ rows: [Int]) throws -> FeatureMatrix {
        var v: [Float] = []
        v.reserveCapacity(rows.count * m.cols)
        for r in rows { v += m.values[(r * m.cols)..<((r + 1) * m.cols)] }
        return try FeatureMatrix(rows: rows.count, cols: m.cols, values: v)
    }
}

extension String {
    /// `:` replaced by `_` (task names must not contain the `TASK:SHOTS` separator).
    func replacingColons() -> String { String(map { $0 == ":" ? "_" : $0 }) }
}
