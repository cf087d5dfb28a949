// Derived values shared by the HTML, JSON and CSV writers.

/// The ImageNet-C corruptions in their conventional order (15 benchmark + 4 extra).
let canonicalCorruptions: [String] = [
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
    "speckle_noise", "gaussian_blur", "spatter", "saturate",
]

/// Sorts corruption names: canonical ones in benchmark order, then the others alphabetically.
func sortedCorruptions<S: Sequence>(_ names: S) -> [String] where S.Element == String {
    var seen = Set<String>()
    let unique = names.filter { seen.insert($0).inserted }
    func rank(_ name: String) -> Int { canonicalCorruptions.firstIndex(of: name) ?? canonicalCorruptions.count }
    return unique.sorted { a, b in
        let ra = rank(a), rb = rank(b)
        return ra != rb ? ra < rb : a < b
    }
}

/// Mean of the finite values: nil for no values, NaN when none is finite.
func finiteMean(_ values: [Double]) -> Double? {
    if values.isEmpty { return nil }
    var sum = 0.0
    var n = 0
    for v in values where v.isFinite {
        sum += v
        n += 1
    }
    return n == 0 ? Double.nan : sum / Double(n)
}

/// Saturating sum (never traps on overflow).
func saturatingSum(_ values: [Int]) -> Int {
    var total = 0
    for v in values {
        let (s, overflow) = total.addingReportingOverflow(v)
        total = overflow ? (v > 0 ? Int.max : Int.min) : s
    }
    return total
}

extension ReportRun {
    /// The clean cell: corruption "" at severity 0, else the first cell without a corruption name.
    var cleanCell: ReportCell? {
        cells.first { $0.corruption.isEmpty && $0.severity == 0 } ?? cells.first { $0.corruption.isEmpty }
    }

    /// A clean-cell metric (may be NaN), nil when absent.
    func clean(_ metric: String) -> Double? { cleanCell?.metrics[metric] }

    /// Cells with a corruption name.
    var corruptedCells: [ReportCell] { cells.filter { !$0.corruption.isEmpty } }

    /// Corruption names present, in canonical order.
    var corruptionNames: [String] { sortedCorruptions(corruptedCells.map(\.corruption)) }

    /// Unweighted mean of `metric` over the severities of one corruption (NaN values ignored).
    func corruptionMean(_ corruption: String, _ metric: String) -> Double? {
        finiteMean(cells.filter { $0.corruption == corruption }.compactMap { $0.metrics[metric] })
    }

    /// Unweighted mean of `metric` over all corrupted cells (NaN values ignored).
    func corruptedMean(_ metric: String) -> Double? {
        finiteMean(corruptedCells.compactMap { $0.metrics[metric] })
    }

    /// Images over all cells.
    var imageCount: Int { saturatingSum(cells.map(\.count)) }

    /// Identity used to match runs of the same model.
    var modelKey: String { model + "\u{0}" + modelHash }

    var isImageNetC: Bool { suite.lowercased() == "imagenet-c" }

    /// Key prefix for JSON metrics: suite with "-" replaced by "_".
    var metricPrefix: String { String(suite.map { $0 == "-" ? "_" : $0 }) }

    /// Headline top-1 as used by the CSV: clean top-1, or the corrupted mean for ImageNet-C runs.
    var headlineTop1: Double? { isImageNetC ? corruptedMean("top1") ?? clean("top1") : clean("top1") ?? summary["top1"] }

    /// Headline top-5, chosen like `headlineTop1`.
    var headlineTop5: Double? { isImageNetC ? corruptedMean("top5") ?? clean("top5") : clean("top5") ?? summary["top5"] }
}
