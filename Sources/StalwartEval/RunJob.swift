import Glibc
import StalwartData
import StalwartImageIO
import StalwartMetrics
import StalwartONNX
import StalwartPreprocess
import StalwartShift
import StalwartSIScore
import StalwartStore
import StalwartTensor

/// One image under one shift, preprocessed (CHW/HWC floats of the run's pipeline).
struct PreparedItem {
    var sample: Int
    var corruption: String
    var severity: Int
    var params: String
    var pixels: [Float]
    var width: Int
    var height: Int
}

/// What a worker hands to the consumer: a prepared item, or an image that could not be read.
enum WorkResult {
    case item(PreparedItem)
    case skipped(sample: Int, reason: String)
    case failed(StalwartError)
}

/// The evaluation of one run (one resolution): pending items → batches → committed rows.
struct RunJob {
    let config: EvalConfig
    let dataset: Dataset
    let samples: [Sample]
    let space: LabelSpace?
    let pipeline: Pipeline
    let model: InferenceModel
    let store: ResultStore
    let runID: Int64
    let runIndex: Int
    let runCount: Int
    let resolution: Int
    let progress: ((EvalProgress) -> Bool)?
    /// In-memory SI-Score: images come from the generator (JPEG round trip when true).
    var synthesis: (SIScoreGenerator, Bool)? = nil

    struct Outcome { var evaluated = 0, resumed = 0, skipped = 0; var stopped = false }

    /// The image's key in the database: its dataset key, without the `{corruption}/{severity}/`
    /// prefix of on-disk ImageNet-C (rows are keyed by corruption and severity already, and the
    /// same image then has the same key under every shift and on the fly).
    static func storedKey(_ s: Sample) -> String {
        guard !s.corruption.isEmpty else { return s.key }
        let prefix = "\(s.corruption)/\(s.severity)/"
        return s.key.hasPrefix(prefix) ? String(s.key.dropFirst(prefix.count)) : s.key
    }

    /// The shifts of one sample: on-disk ImageNet-C → its own; else clean + on-the-fly ones.
    func shifts(of s: Sample) -> [(String, Int)] {
        if !s.corruption.isEmpty { return [(s.corruption, s.severity)] }
        var out: [(String, Int)] = config.clean || config.corruptions.isEmpty ? [("", 0)] : []
        for c in config.corruptions { for v in config.severities { out.append((c.rawValue, v)) } }
        return out
    }

    func execute() throws -> Outcome {
        var outcome = Outcome()
        let completed = try store.completedItems(run: runID)
        let skippedBefore = Set(try store.skipped(run: runID).map(\.sample))
        // Units of work: one sample with its pending shifts (decoded once).
        var units: [(sample: Int, shifts: [(String, Int)])] = []
        var total = 0
        for (i, s) in samples.enumerated() {
            if skippedBefore.contains(s.key) { outcome.skipped += 1; continue }
            let all = shifts(of: s)
            let key = RunJob.storedKey(s)
            let pending = all.filter { !completed.contains(ResultStore.itemKey(corruption: $0.0, severity: $0.1, sample: key)) }
            outcome.resumed += all.count - pending.count
            if !pending.isEmpty { units.append((i, pending)); total += pending.count }
        }
        let pendingShifts = Dictionary(uniqueKeysWithValues: units.map { ($0.sample, $0.shifts.count) })
        var boxes = try loadStates()
        guard total > 0 else { return outcome }

        let cores = ThreadPool.availableCores
        let workerCount = config.workers > 0 ? config.workers : max(1, cores)
        let queue = BoundedQueue<WorkResult>(capacity: max(2 * config.batchSize, 8), producers: workerCount)
        let next = Counter()
        let buffers = FloatBuffers(limit: 4 * config.batchSize + 16)
        let batchTensor = BatchTensor()
        let (samples, pipeline, seed, mode, at) = (self.samples, self.pipeline, config.seed, config.mode, config.corruptAt)
        let synthesis = self.synthesis
        let workers = WorkerThreads(count: workerCount) { _ in
            defer { queue.producerFinished() }
            while true {
                let u = next.take()
                guard u < units.count else { return }
                let unit = units[u]
                let s = samples[unit.sample]
                for r in RunJob.prepare(s, index: unit.sample, shifts: unit.shifts, pipeline: pipeline, seed: seed, mode: mode, at: at,
                                        buffers: buffers, synthesis: synthesis) {
                    if !queue.push(r) { return }
                }
            }
        }
        if workers.started < workerCount {
            // The system refused threads: stop, nothing was evaluated yet beyond what is stored.
            queue.cancel(); workers.join()
            throw StalwartError.outOfMemory("cannot start \(workerCount) worker threads (started \(workers.started))")
        }
        defer { queue.cancel(); workers.join() }

        let t0 = monotonicSeconds()
        var pending: [PreparedItem] = []
        var skipped: [(sample: String, reason: String)] = []
        var done = 0
        func flush() throws {
            guard !pending.isEmpty || !skipped.isEmpty else { return }
            let rows = pending.isEmpty ? [] : try score(pending, boxes: &boxes, input: batchTensor)
            for item in pending { buffers.give(item.pixels) }
            let touched = Set(rows.map { GroupKey(corruption: $0.corruption, severity: $0.severity) })
            var states: [(group: GroupKey, metric: String, state: [UInt8])] = []
            for g in touched {
                for (spec, box) in boxes[g] ?? [] { states.append((g, spec, box.serialize())) }
            }
            try store.commitBatch(run: runID, rows: rows, skipped: skipped, states: states)
            done += pending.count
            outcome.evaluated += pending.count
            outcome.skipped += skipped.count
            pending.removeAll(keepingCapacity: true)
            skipped.removeAll()
            if let progress {
                let dt = max(monotonicSeconds() - t0, 1e-9)
                let rate = Double(done) / dt
                let go = progress(EvalProgress(run: runIndex, runs: runCount, resolution: resolution, done: done, total: total,
                                               imagesPerSecond: rate, etaSeconds: rate > 0 ? Double(total - done) / rate : 0,
                                               skipped: outcome.skipped))
                if !go { outcome.stopped = true }
            }
        }
        while !outcome.stopped, let r = queue.pop() {
            switch r {
            case .failed(let e):
                throw e
            case .skipped(let i, let reason):
                skipped.append((samples[i].key, reason))
                // Items of this sample never come: count them as done for the progress bar.
                total -= pendingShifts[i] ?? 0
            case .item(let item):
                if let first = pending.first, first.width != item.width || first.height != item.height {
                    try flush()
                }
                pending.append(item)
                if pending.count >= config.batchSize { try flush() }
            }
        }
        if !outcome.stopped { try flush() }
        return outcome
    }

    /// Decodes a sample once and prepares every pending shift of it (worker threads). With
    /// `.input`, the resize and crop also happen once, and each shift corrupts the 8-bit crop.
    static func prepare(_ s: Sample, index: Int, shifts: [(String, Int)], pipeline: Pipeline, seed: UInt64,
                        mode: CorruptionMode, at: CorruptAt, buffers: FloatBuffers,
                        synthesis: (SIScoreGenerator, Bool)? = nil) -> [WorkResult] {
        let decoded: Image
        var factorParams = ""
        do {
            if let (gen, jpeg) = synthesis {
                guard let item = gen.item(forKey: s.key) else {
                    return [.failed(.internal("SI-Score sample '\(s.key)' has no generated item"))]
                }
                decoded = try gen.image(item, jpeg: jpeg)
                factorParams = RunJob.factorJSON(item)
            } else {
                decoded = try ImageCodec.decode(path: s.path)
            }
        } catch let e as StalwartError {
            return [.skipped(sample: index, reason: e.message)]
        } catch {
            return [.skipped(sample: index, reason: "\(error)")]
        }
        var out: [WorkResult] = []
        let key = Corruption.datasetKey(s.key)
        var base = decoded
        var stage = pipeline
        var where_ = "native"
        do {
            if at == .input, s.corruption.isEmpty, let g = try pipeline.geometry(decoded) {
                base = g
                stage = pipeline.normalizationStage
                where_ = "input"
            }
        } catch let e as StalwartError {
            return [.failed(e.context("'\(s.key)'"))]
        } catch {
            return [.failed(.internal("'\(s.key)': \(error)"))]
        }
        for (name, severity) in shifts {
            do {
                var img = base
                var params = factorParams.isEmpty ? "{}" : "{\(factorParams)}"
                if !name.isEmpty && s.corruption.isEmpty {
                    let c = try Corruption(name: name)
                    img = try Corruptions.apply(base, c, severity: severity, seed: seed, key: key, mode: mode)
                    params = "{\"corruption\":\"\(name)\",\"severity\":\(severity),\"seed\":\(seed),\"key\":\(key),\"mode\":\"\(mode.rawValue)\",\"at\":\"\(where_)\"\(factorParams.isEmpty ? "" : "," + factorParams)}"
                } else if !s.corruption.isEmpty {
                    params = "{\"source\":\"on-disk\"}"
                }
                let (w, h) = try stage.outputSize(width: img.width, height: img.height)
                let (n, o1) = w.multipliedReportingOverflow(by: h)
                let (count, o2) = n.multipliedReportingOverflow(by: stage.channels)
                guard !o1, !o2, count > 0, count <= 1 << 28 else {
                    throw StalwartError.invalidArgument("preprocessed size \(w)×\(h) is out of range")
                }
                var pixels = buffers.take(count)
                try pixels.withUnsafeMutableBufferPointer { b in
                    guard let p = b.baseAddress else { return }
                    _ = try stage.write(img, into: p, capacity: count)
                }
                out.append(.item(PreparedItem(sample: index, corruption: name, severity: severity, params: params,
                                              pixels: pixels, width: w, height: h)))
            } catch let e as StalwartError {
                out.append(.failed(e.context("'\(s.key)' \(name.isEmpty ? "clean" : "\(name)/\(severity)")")))
                return out
            } catch {
                out.append(.failed(.internal("'\(s.key)': \(error)")))
                return out
            }
        }
        return out
    }

    /// The SI-Score factors of a generated item as JSON members (no braces) for a row's params:
    /// `"area":0.2,"rotation":21,"x_coord":0.5,"y_coord":0.5` (numbers as Python `repr`).
    static func factorJSON(_ it: SIScoreItem) -> String {
        "\"area\":\(PyMath.repr(it.area)),\"rotation\":\(PyMath.repr(it.angle)),\"x_coord\":\(PyMath.repr(it.x)),\"y_coord\":\(PyMath.repr(it.y))"
    }

    /// The metric accumulators of every group, restored from the database (resume).
    func loadStates() throws -> [GroupKey: [(String, MetricBox)]] {
        var boxes: [GroupKey: [(String, MetricBox)]] = [:]
        for s in try store.metricStates(run: runID) {
            boxes[s.group, default: []].append((s.metric, try MetricBox.deserialize(s.state)))
        }
        return boxes
    }
}

/// Recycled preprocessed-image buffers: a 224² float image is 600 KB, and a fresh allocation
/// of that size costs page faults every time (glibc maps it anew). Thread-safe.
final class FloatBuffers: @unchecked Sendable {
    private let lock = Lock()
    private var free: [[Float]] = []
    private let limit: Int
    init(limit: Int) { self.limit = limit }

    /// A buffer of exactly `count` values (contents undefined when recycled).
    func take(_ count: Int) -> [Float] {
        let reused: [Float]? = lock.withLock {
            guard let i = free.lastIndex(where: { $0.count == count }) else { return nil }
            return free.remove(at: i)
        }
        return reused ?? [Float](repeating: 0, count: count)
    }

    func give(_ buffer: [Float]) {
        lock.withLock { if free.count < limit { free.append(buffer) } }
    }
}

/// The last batch input tensor, reused while the batch shape stays the same.
final class BatchTensor {
    private var tensor: Tensor?
    func tensor(shape: [Int]) throws -> Tensor {
        if let t = tensor, t.shape == shape { return t }
        do { tensor = try Tensor(dtype: .float32, shape: shape) } catch { throw StalwartError(error) }
        guard let t = tensor else { throw StalwartError.internal("batch tensor allocation") }
        return t
    }
}

/// A shared counter handing out work indices (lock-guarded).
final class Counter: @unchecked Sendable {
    private let lock = Lock()
    private var value = 0
    func take() -> Int { lock.withLock { defer { value += 1 }; return value } }
}
