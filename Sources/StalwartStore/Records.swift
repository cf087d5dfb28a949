// Value types stored in and read from a results database.

/// One model file, identified by the SHA-256 of its bytes.
public struct ModelRecord: Sendable, Equatable, Hashable {
    /// Lower-case hex SHA-256 of the model file (the identity).
    public var sha256: String
    /// Display name.
    public var name: String
    /// Path the model was loaded from (informational; updated on re-upsert).
    public var path: String
    /// Input description, e.g. "NCHW float32 1x3x224x224".
    public var input: String
    /// Number of output classes (> 0).
    public var classes: Int

    public init(sha256: String, name: String, path: String, input: String, classes: Int) {
        self.sha256 = sha256
        self.name = name
        self.path = path
        self.input = input
        self.classes = classes
    }
}

/// Identity and description of one run: one model × dataset × preprocessing × resolution × seed.
/// The identity is (model, suite, dataRoot, preprocess, resolution, cropPct, interpolation, seed,
/// shiftMode); the other fields describe it.
public struct RunRecord: Sendable, Equatable, Hashable {
    /// Benchmark suite name, e.g. "imagenet-c".
    public var suite: String
    /// Dataset root directory as given.
    public var dataRoot: String
    /// Dataset layout name (descriptive; must not change for an existing run).
    public var layout: String
    /// Label space the stored `label`/`top1` indices refer to (must not change for an existing run).
    public var labelSpace: String
    /// Preprocessing preset name.
    public var preprocess: String
    /// Input resolution in pixels (square side).
    public var resolution: Int
    /// Center-crop fraction (> 0, typically 0.875 or 1).
    public var cropPct: Double
    /// Resize interpolation name.
    public var interpolation: String
    /// RNG seed (stored as the Int64 with the same bit pattern).
    public var seed: UInt64
    /// "none", "on-disk", or "on-the-fly" followed by where and how images are corrupted.
    public var shiftMode: String
    /// Full configuration as JSON text (updated on re-upsert).
    public var config: String
    /// Stalwart version that (last) wrote the run (updated on re-upsert).
    public var version: String

    public init(suite: String, dataRoot: String, layout: String, labelSpace: String, preprocess: String,
                resolution: Int, cropPct: Double, interpolation: String, seed: UInt64, shiftMode: String,
                config: String, version: String) {
        self.suite = suite
        self.dataRoot = dataRoot
        self.layout = layout
        self.labelSpace = labelSpace
        self.preprocess = preprocess
        self.resolution = resolution
        self.cropPct = cropPct
        self.interpolation = interpolation
        self.seed = seed
        self.shiftMode = shiftMode
        self.config = config
        self.version = version
    }
}

/// One stored per-image result. The key within a run is (corruption, severity, sample).
public struct PredictionRow: Sendable, Equatable {
    /// Dataset-relative sample key (any Unicode).
    public var sample: String
    /// Corruption name, "" for clean images ("*" is reserved for run-level aggregates).
    public var corruption: String
    /// Severity 1…5, 0 for clean (≥ 0).
    public var severity: Int
    /// Label index in the run's label space, -1 when unlabelled.
    public var label: Int
    /// Best class index.
    public var top1: Int
    /// Up to 5 class indices, best first (stored as comma-separated text).
    public var top5: [Int]
    /// Number of classes scoring strictly above the label; -1 when unlabelled.
    public var rank: Int
    /// Maximum probability.
    public var confidence: Double
    /// Probability of the label; nil when unlabelled.
    public var pLabel: Double?
    /// Natural log of `pLabel` (may be -infinity); nil when unlabelled.
    public var logPLabel: Double?
    /// Σ pᵢ² over all classes (for the Brier score).
    public var sumSquares: Double
    /// top1 == label; nil when unlabelled.
    public var correct1: Bool?
    /// label ∈ top5; nil when unlabelled.
    public var correct5: Bool?
    /// JSON object of the shift parameters actually used, "{}" when none.
    public var params: String

    public init(sample: String, corruption: String, severity: Int, label: Int, top1: Int, top5: [Int],
                rank: Int, confidence: Double, pLabel: Double?, logPLabel: Double?, sumSquares: Double,
                correct1: Bool?, correct5: Bool?, params: String) {
        self.sample = sample
        self.corruption = corruption
        self.severity = severity
        self.label = label
        self.top1 = top1
        self.top5 = top5
        self.rank = rank
        self.confidence = confidence
        self.pLabel = pLabel
        self.logPLabel = logPLabel
        self.sumSquares = sumSquares
        self.correct1 = correct1
        self.correct5 = correct5
        self.params = params
    }
}

/// A (corruption, severity) group within a run. Clean is ("", 0); run-level aggregates such as
/// mCE use ("*", -1).
public struct GroupKey: Hashable, Sendable {
    public var corruption: String
    public var severity: Int

    public init(corruption: String, severity: Int) {
        self.corruption = corruption
        self.severity = severity
    }

    /// The group of run-level aggregates (mCE, relative mCE, …): corruption "*", severity -1.
    public static let runLevel = GroupKey(corruption: "*", severity: -1)
}

/// One final metric value of a group.
public struct Aggregate: Sendable, Equatable {
    public var group: GroupKey
    /// Metric name, e.g. "top1", "ece", "mce".
    public var metric: String
    /// The value (finite or ±infinity; NaN is rejected).
    public var value: Double
    /// Number of samples it was computed from.
    public var count: Int

    public init(group: GroupKey, metric: String, value: Double, count: Int) {
        self.group = group
        self.metric = metric
        self.value = value
        self.count = count
    }
}

/// A run as stored, with its model.
public struct StoredRun: Sendable, Equatable {
    public var id: Int64
    public var model: ModelRecord
    public var record: RunRecord
    /// Creation timestamp as given to `upsertRun` (e.g. ISO 8601).
    public var created: String
    /// Completion timestamp, nil until `replaceAggregates(…, finished:)` marks the run complete
    /// (reset to nil when later batches add results).
    public var finished: String?

    public init(id: Int64, model: ModelRecord, record: RunRecord, created: String, finished: String?) {
        self.id = id
        self.model = model
        self.record = record
        self.created = created
        self.finished = finished
    }
}
