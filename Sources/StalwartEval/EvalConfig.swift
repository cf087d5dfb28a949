import StalwartData
import StalwartPreprocess
import StalwartShift
import StalwartSIScore
import StalwartTensor

/// Everything one `stalwart eval` needs. Plain values; validated by `Evaluator.run`.
public struct EvalConfig: Sendable {
    /// ONNX classifier (one image input; output [N, classes]).
    public var model: String
    /// Dataset root folder.
    public var data: String
    /// The dataset layout (nil: detected from the folder, `Dataset.detectLayout`).
    public var layout: DatasetLayout? = nil
    /// Corruptions generated in memory for every image (on-the-fly ImageNet-C); [] = none.
    public var corruptions: [Corruption] = []
    /// Severities of the on-the-fly corruptions (1...5).
    public var severities: [Int] = [1, 2, 3, 4, 5]
    /// Also evaluate the unshifted images (always on for datasets without on-the-fly shifts).
    public var clean = true
    /// Test resolutions in pixels; [] = the model's own (its metadata, else its input size).
    public var resolutions: [Int] = []
    /// Preprocessing preset (`Presets.all`); nil = the model's metadata.
    public var preset: String? = nil
    /// Overrides of the preset's crop fraction and resize filter.
    public var cropPct: Double? = nil
    public var interpolation: ResizeFilter? = nil
    /// The SQLite results database (created if missing; runs in it are resumed).
    public var database: String = "results.sqlite"
    /// Seed of the on-the-fly corruptions (with each image's key: `Corruption.datasetKey`).
    public var seed: UInt64 = 0
    public var mode: CorruptionMode = .imagecorruptions
    /// Where on-the-fly corruptions are applied (see `CorruptAt`).
    public var corruptAt: CorruptAt = .input
    /// Images per forward pass (1...1024).
    public var batchSize = 16
    /// Inference threads (0 = one per core).
    public var threads = 0
    /// Decode/preprocess/corrupt worker threads (0 = one per core).
    public var workers = 0
    /// Evaluate only the first `limit` images of the (sharded) dataset.
    public var limit: Int? = nil
    /// Evaluate the images whose index i (in key order) has i % shards == shard.
    public var shard = 0
    public var shards = 1
    /// Dataset options (class map, labels file, label space override).
    public var datasetOptions = DatasetOptions()
    /// SI-Score synthesized in memory instead of reading `data` as a dataset: `data` is then a
    /// folder holding `foregrounds/<class>/<object>.png` and `backgrounds/<image>` (the bundled
    /// `examples/data/siscore` layout). nil = read `data`.
    public var siscore: SIScoreSynthesis? = nil

    public init(model: String, data: String) {
        self.model = model
        self.data = data
    }

    func validate() throws {
        guard (1...1024).contains(batchSize) else { throw StalwartError.invalidArgument("batch size must be 1...1024, got \(batchSize)") }
        guard severities.allSatisfy({ (1...5).contains($0) }) else { throw StalwartError.invalidArgument("severities must be in 1...5, got \(severities)") }
        guard resolutions.allSatisfy({ (16...4096).contains($0) }) else { throw StalwartError.invalidArgument("resolutions must be 16...4096, got \(resolutions)") }
        guard shards >= 1, shard >= 0, shard < shards else { throw StalwartError.invalidArgument("shard must be in 0..<shards, got \(shard)/\(shards)") }
        guard threads >= 0, threads <= 1024, workers >= 0, workers <= 256 else { throw StalwartError.invalidArgument("threads must be 0...1024 and workers 0...256") }
        if let l = limit, l < 1 { throw StalwartError.invalidArgument("limit must be at least 1, got \(l)") }
        guard !corruptions.isEmpty || clean else { throw StalwartError.invalidArgument("nothing to evaluate: no corruptions and clean images excluded") }
    }

    /// The JSON recorded with each run (what was asked for, so a run can be reproduced).
    var json: String {
        func q(_ s: String) -> String { JSONValue.string(s).serialized() }
        let parts = [
            "\"corruptions\":[" + corruptions.map { q($0.rawValue) }.joined(separator: ",") + "]",
            "\"severities\":[" + severities.map(String.init).joined(separator: ",") + "]",
            "\"clean\":\(clean)", "\"seed\":\(seed)", "\"mode\":\(q(mode.rawValue))", "\"corrupt_at\":\(q(corruptAt.rawValue))",
            "\"batch_size\":\(batchSize)", "\"shard\":\(shard)", "\"shards\":\(shards)",
            "\"limit\":" + (limit.map(String.init) ?? "null"),
        ] + (siscore.map { ["\"siscore\":" + q($0.canonical)] } ?? [])
        return "{" + parts.joined(separator: ",") + "}"
    }
}

/// Where on-the-fly corruptions are applied.
public enum CorruptAt: String, Sendable, CaseIterable {
    /// To the 8-bit image after the preprocessing's resize and crop, at the test resolution —
    /// ImageNet-C's own protocol (`make_imagenet_c.py` corrupts the 224×224 centre crop; the
    /// severities are calibrated at that size) — then normalized. Decoding and resizing happen
    /// once per image for all its shifts. Pipelines that resize in float (`inception`) have no
    /// 8-bit stage and corrupt at `.native` size instead.
    case input
    /// To the decoded image at its own size, then preprocessed: the same pixels as the files
    /// `stalwart corrupt` writes (evaluating such a folder gives the same rows).
    case native
}

/// Where an evaluation is (for progress bars). `done` counts images of the current run.
public struct EvalProgress: Sendable {
    public var run: Int
    public var runs: Int
    public var resolution: Int
    public var done: Int
    public var total: Int
    public var imagesPerSecond: Double
    public var etaSeconds: Double
    public var skipped: Int
}

/// What one evaluation did.
public struct EvalSummary: Sendable {
    public var runIDs: [Int64]
    /// Images evaluated now (not counting those resumed from the database).
    public var evaluated: Int
    /// Items already in the database (resumed).
    public var resumed: Int
    public var skipped: Int
    public var seconds: Double
    public var database: String
    /// The progress callback asked to stop; the last run has no aggregates yet.
    public var stopped: Bool
}

/// In-memory SI-Score generation for `stalwart eval` (see `SIScoreGenerator`).
public struct SIScoreSynthesis: Sendable, Equatable {
    /// The sweep (a preset or a custom grid).
    public var config: SIScoreConfig
    /// Round-trip every composite through JPEG (quality 75, 4:2:0), so the model sees exactly
    /// the pixels of the files `stalwart siscore generate` writes (the released data are JPEGs).
    /// Default on.
    public var jpeg = true

    public init(config: SIScoreConfig, jpeg: Bool = true) {
        self.config = config
        self.jpeg = jpeg
    }

    /// Every value of the configuration as text (the run's identity: two sweeps with the same
    /// text are the same images).
    public var canonical: String {
        let c = config
        func list(_ v: [Double]) -> String { v.map { PyMath.repr($0) }.joined(separator: ",") }
        return "variant=\(c.variant);areas=\(list(c.areas));angles=\(list(c.angles));centres="
            + c.centres.map { PyMath.repr($0.x) + ":" + PyMath.repr($0.y) }.joined(separator: ",")
            + ";resolution=\(c.resolution);backgrounds=\(c.backgroundsPerForeground);min_pct_inside=\(PyMath.repr(c.minPctInside))"
            + ";seed=\(c.seed);jpeg=\(jpeg)"
    }

    /// Short digest of `canonical` (12 hex digits of its SHA-256).
    public var digest: String {
        var h = SHA256()
        let bytes = Array(canonical.utf8)
        bytes.withUnsafeBytes { h.update($0) }
        return String(h.finalize().prefix(12))
    }
}
