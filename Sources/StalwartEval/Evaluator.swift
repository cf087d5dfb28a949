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

/// The evaluation runner: dataset × shifts × test resolutions → model → SQLite.
///
/// Per resolution one *run* row. Worker threads decode, corrupt (in memory, keyed by the
/// image's relative path so results equal `stalwart corrupt`'s files) and preprocess images
/// into a bounded queue while the calling thread runs the model on batches; every batch is
/// committed in one transaction with its rows and the updated metric states, so a killed
/// process loses at most the batch in flight and a rerun resumes after the last commit.
public enum Evaluator {
    /// The streaming metrics kept per (corruption, severity) group of a labelled run.
    public static let metricSpecs = ["accuracy:k=5", "nll", "brier", "ece"]

    /// `progress` is called on the calling thread after every committed batch; returning false
    /// stops the evaluation there (committed batches stay; the same call later resumes).
    public static func run(_ config: EvalConfig, progress: ((EvalProgress) -> Bool)? = nil) throws -> EvalSummary {
        try config.validate()
        let start = monotonicSeconds()
        let hash = try SHA256.file(config.model)
        let model = try InferenceModel(path: config.model, threads: config.threads, freeSpatialDims: true)
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw StalwartError.unsupported("`eval` needs a model with one input, '\(config.model)' has \(model.inputs.count)")
        }
        var generator: SIScoreGenerator? = nil
        if let syn = config.siscore {
            generator = try SIScoreGenerator(config: syn.config, foregrounds: FileSystem.join(config.data, "foregrounds"),
                                             backgrounds: FileSystem.join(config.data, "backgrounds"))
        }
        let dataset = try generator.map { $0.dataset(root: config.data) }
            ?? Dataset.open(config.data, layout: config.layout, options: config.datasetOptions)
        if dataset.layout == .imagenetC && !config.corruptions.isEmpty {
            throw StalwartError.invalidArgument("'\(config.data)' is an on-disk ImageNet-C folder; its corruptions are evaluated as stored (drop --corruptions)")
        }
        let space: LabelSpace? = dataset.labelSpace.isEmpty ? nil : try LabelSpace.named(dataset.labelSpace)
        if let space, let k = model.outputs.first?.dims.last.flatMap({ $0 }), k != space.classCount, k != LabelSpace.sourceClassCount {
            throw StalwartError.shapeMismatch("the model outputs \(k) classes; label space '\(space.name)' needs ImageNet-1k logits (1000) or its own \(space.classCount)")
        }
        var samples: [Sample] = []
        for (i, s) in dataset.samples.enumerated() where i % config.shards == config.shard { samples.append(s) }
        if let l = config.limit { samples = Array(samples.prefix(l)) }
        guard !samples.isEmpty else {
            throw StalwartError.invalidArgument("no images to evaluate in '\(config.data)' (layout \(dataset.layout.rawValue), \(dataset.skipped.count) skipped)")
        }

        let store = try ResultStore(path: config.database, version: Evaluator.version)
        let modelID = try store.upsertModel(ModelRecord(
            sha256: hash, name: Evaluator.displayName(config.model, metadata: model.metadata), path: config.model,
            input: "\(input.name) \(input.dims.map { $0.map(String.init) ?? "?" })", classes: model.outputs.first?.dims.last.flatMap { $0 } ?? 0))

        let resolutions: [Int?] = config.resolutions.isEmpty ? [nil] : config.resolutions.map { $0 }
        var summary = EvalSummary(runIDs: [], evaluated: 0, resumed: 0, skipped: 0, seconds: 0, database: config.database, stopped: false)
        for (ri, r) in resolutions.enumerated() {
            var pipeline = try Evaluator.pipeline(config, model: model, resolution: r)
            pipeline.borderCrop = dataset.borderCrop
            let resolution = pipeline.crop?.width ?? r ?? 0
            // In-memory SI-Score: the suite names the variant, the data root carries the sweep's
            // digest (run identity: another grid is another run).
            let record = RunRecord(
                suite: config.siscore.map { "si-score-\($0.config.variant)" } ?? dataset.layout.rawValue,
                dataRoot: config.siscore.map { "\(config.data)#siscore-\($0.digest)" } ?? config.data,
                layout: dataset.layout.rawValue,
                labelSpace: dataset.labelSpace, preprocess: pipeline.name, resolution: resolution,
                cropPct: Evaluator.cropPct(pipeline), interpolation: pipeline.filter.rawValue, seed: config.seed,
                shiftMode: dataset.layout == .imagenetC ? "on-disk"
                    : config.corruptions.isEmpty ? "none" : "on-the-fly \(config.corruptAt.rawValue) \(config.mode.rawValue)",
                config: config.json, version: Evaluator.version)
            let runID = try store.upsertRun(modelID: modelID, record, created: utcTimestamp())
            summary.runIDs.append(runID)
            let job = RunJob(config: config, dataset: dataset, samples: samples, space: space, pipeline: pipeline,
                             model: model, store: store, runID: runID, runIndex: ri, runCount: resolutions.count,
                             resolution: resolution, progress: progress,
                             synthesis: generator.map { ($0, config.siscore?.jpeg ?? true) })
            let done = try job.execute()
            summary.evaluated += done.evaluated
            summary.resumed += done.resumed
            summary.skipped += done.skipped
            if done.stopped { summary.stopped = true; break }
            try Aggregation.finish(store: store, runID: runID, dataset: dataset, finished: utcTimestamp())
        }
        summary.seconds = monotonicSeconds() - start
        return summary
    }

    /// The library version recorded with results.
    public static let version = stalwartVersion.description

    /// The model's name: its `model` metadata entry, else the file name without extension.
    static func displayName(_ path: String, metadata: [(key: String, value: String)]) -> String {
        if let m = metadata.first(where: { $0.key == "model" })?.value, !m.isEmpty { return m }
        let file = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = file.lastIndex(of: "."), dot != file.startIndex { return String(file[..<dot]) }
        return file
    }

    /// The preprocessing of one run: `--preset` (at `resolution`, default the model's input
    /// size) with the overrides, else the model's metadata.
    static func pipeline(_ c: EvalConfig, model: InferenceModel, resolution: Int?) throws -> Pipeline {
        var p: Pipeline
        if let preset = c.preset {
            guard let r = resolution ?? model.inputs.first?.dims.last.flatMap({ $0 }) else {
                throw StalwartError.invalidArgument("--resolutions is needed: the model's input size is not fixed")
            }
            var o = Presets.Options()
            o.cropPct = c.cropPct
            o.filter = c.interpolation
            p = try Presets.pipeline(preset, resolution: r, options: o)
        } else if let m = try Presets.pipeline(metadata: model.metadata, resolution: resolution) {
            p = m
            if c.cropPct != nil {
                throw StalwartError.invalidArgument("--crop-pct needs --preset (the model's metadata fixes its preprocessing)")
            }
            if let f = c.interpolation { p.filter = f }
        } else {
            throw StalwartError.invalidArgument("the model carries no preprocessing metadata; pass --preset (and --resolutions), or add it with `stalwart annotate`")
        }
        var fixedSize = p.crop != nil
        switch p.resize {
        case .squash, .centralFraction: fixedSize = true
        case .none, .shorterSide: break
        }
        guard fixedSize else {
            throw StalwartError.unsupported("preprocessing '\(p.name)' does not give every image the same size; batches need a crop or a fixed resize")
        }
        return p
    }

    /// The crop fraction of a pipeline: crop / resized shorter side, TF's central fraction, else 1.
    static func cropPct(_ p: Pipeline) -> Double {
        switch p.resize {
        case .shorterSide(let s): if let c = p.crop, s > 0 { return Double(c.width) / Double(s) }; return 1
        case .centralFraction(let f, _, _): return f
        default: return 1
        }
    }
}
