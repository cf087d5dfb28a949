// The in-memory results model a report is rendered from (filled by the store / eval layers).

/// One evaluated (corruption, severity) cell of a run; the clean cell is `("", 0)`.
public struct ReportCell: Sendable, Equatable {
    /// Corruption name (`""` for clean images).
    public var corruption: String
    /// Severity 1…5 (`0` for clean images).
    public var severity: Int
    /// Number of images scored in this cell.
    public var count: Int
    /// Metric values: "top1", "top5", "nll", "brier", "ece", … (accuracies as fractions in [0, 1]).
    public var metrics: [String: Double]

    public init(corruption: String, severity: Int, count: Int, metrics: [String: Double]) {
        self.corruption = corruption
        self.severity = severity
        self.count = count
        self.metrics = metrics
    }
}

/// One confidence bin of a reliability diagram.
public struct ReliabilityBin: Sendable, Equatable {
    /// Bin bounds on the confidence axis, in [0, 1].
    public var lower: Double
    public var upper: Double
    /// Mean confidence and accuracy of the predictions in the bin.
    public var confidence: Double
    public var accuracy: Double
    /// Number of predictions in the bin.
    public var count: Int

    public init(lower: Double, upper: Double, confidence: Double, accuracy: Double, count: Int) {
        self.lower = lower
        self.upper = upper
        self.confidence = confidence
        self.accuracy = accuracy
        self.count = count
    }
}

/// Accuracy at one value of an SI-Score factor (an object area, a rotation angle, or a
/// location cell (x, y)).
public struct FactorPoint: Sendable, Equatable {
    /// Area (fraction of the image), angle (degrees), or the location's x in [0, 1].
    public var x: Double
    /// The location's y in [0, 1]; nil for area and angle.
    public var y: Double?
    /// Top-1 and top-5 accuracy as fractions in [0, 1].
    public var top1: Double
    public var top5: Double
    /// Images in the group.
    public var count: Int

    public init(x: Double, y: Double? = nil, top1: Double, top5: Double, count: Int) {
        self.x = x
        self.y = y
        self.top1 = top1
        self.top5 = top5
        self.count = count
    }
}

/// One evaluation run: a model on a suite at one resolution with one preprocessing configuration.
public struct ReportRun: Sendable {
    /// Display name of the model.
    public var model: String
    /// SHA-256 (hex) of the model file.
    public var modelHash: String
    /// Suite id: "imagenet", "imagenet-c", "imagenet-a", "imagenet-r", "imagenet-v2", "objectnet", …
    public var suite: String
    public var dataRoot: String
    /// Test resolution in pixels.
    public var resolution: Int
    public var preprocess: String
    public var cropPct: Double
    public var interpolation: String
    /// Images that could not be scored.
    public var skipped: Int
    public var cells: [ReportCell]
    /// Reliability bins of the clean cell; may be empty.
    public var reliability: [ReliabilityBin]
    /// Run-level values, e.g. "mce", "relative_mce", "pm10", "flip_rate".
    public var summary: [String: Double]
    /// Per-corruption corruption errors (mCE table); may be empty.
    public var corruptionErrors: [(name: String, ce: Double, relativeCE: Double)]
    /// SI-Score per-factor accuracies by factor ("size", "rotation", "location"); empty for
    /// other suites.
    public var factorCurves: [String: [FactorPoint]] = [:]

    public init(
        model: String, modelHash: String, suite: String, dataRoot: String = "", resolution: Int,
        preprocess: String = "", cropPct: Double = 0.875, interpolation: String = "bicubic", skipped: Int = 0,
        cells: [ReportCell] = [], reliability: [ReliabilityBin] = [], summary: [String: Double] = [:],
        corruptionErrors: [(name: String, ce: Double, relativeCE: Double)] = []
    ) {
        self.model = model
        self.modelHash = modelHash
        self.suite = suite
        self.dataRoot = dataRoot
        self.resolution = resolution
        self.preprocess = preprocess
        self.cropPct = cropPct
        self.interpolation = interpolation
        self.skipped = skipped
        self.cells = cells
        self.reliability = reliability
        self.summary = summary
        self.corruptionErrors = corruptionErrors
    }
}

/// Everything a report is rendered from.
public struct ReportInput: Sendable {
    public var title: String
    /// Generation time as display text (e.g. ISO 8601).
    public var generated: String
    /// Stalwart version string.
    public var version: String
    public var runs: [ReportRun]

    public init(title: String = "Stalwart robustness report", generated: String, version: String, runs: [ReportRun]) {
        self.title = title
        self.generated = generated
        self.version = version
        self.runs = runs
    }
}

/// Renders a `ReportInput` as HTML (inline SVG, no scripts or external resources), JSON or CSV.
public enum Report {
    /// One self-contained HTML document (XHTML-compatible markup) with inline SVG plots.
    public static func html(_ input: ReportInput) -> String { HTMLReport(input: input).render() }
    /// JSON with robustness_metrics-style keys ("imagenet_c/gaussian_noise/3/top1"); keys sorted.
    public static func json(_ input: ReportInput) -> String { JSONReport.render(input) }
    /// timm `results-*.csv`-style table, one row per run, sorted by top-1 descending.
    public static func csv(_ input: ReportInput) -> String { CSVReport.render(input) }
}
