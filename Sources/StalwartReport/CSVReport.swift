// CSV writer in the style of timm's `results-*.csv`.

/// Columns: `model,top1,top5,img_size,crop_pct,interpolation,top1_diff,suite`, LF line endings,
/// RFC 4180 quoting. top1/top5 are percentages with 3 decimals: the clean cell's accuracy, or for
/// `imagenet-c` runs the unweighted mean over all corrupted cells. `top1_diff` is this top1 minus
/// the same model's (name and hash) `imagenet` run top1 at the same resolution, from the rounded
/// values; empty when there is no such run. Rows are sorted by top1 descending (missing values last,
/// ties in input order). Missing values are empty fields.
enum CSVReport {
    static let header = "model,top1,top5,img_size,crop_pct,interpolation,top1_diff,suite"

    static func render(_ input: ReportInput) -> String {
        struct Row {
            var index: Int
            var top1: Double?
            var line: String
        }
        /// Percentage rounded to 3 decimals (nil for missing / non-finite).
        func pct3(_ v: Double?) -> Double? {
            guard let v, v.isFinite else { return nil }
            return (v * 100 * 1000).rounded(.toNearestOrAwayFromZero) / 1000
        }
        let runs = input.runs
        var rows: [Row] = []
        for (i, run) in runs.enumerated() {
            let top1 = pct3(run.headlineTop1)
            let top5 = pct3(run.headlineTop5)
            let reference = runs.first {
                $0.suite.lowercased() == "imagenet" && $0.modelKey == run.modelKey && $0.resolution == run.resolution
                    && pct3($0.clean("top1")) != nil
            }
            var diff = ""
            if let top1, let ref = pct3(reference?.clean("top1")) { diff = format(top1 - ref, decimals: 3) }
            let fields = [
                csvField(run.model),
                top1.map { format($0, decimals: 3) } ?? "",
                top5.map { format($0, decimals: 3) } ?? "",
                String(run.resolution),
                run.cropPct.isFinite ? format(run.cropPct, decimals: 3) : "",
                csvField(run.interpolation),
                diff,
                csvField(run.suite),
            ]
            rows.append(Row(index: i, top1: top1, line: fields.joined(separator: ",")))
        }
        rows.sort { a, b in
            switch (a.top1, b.top1) {
            case let (x?, y?): return x != y ? x > y : a.index < b.index
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.index < b.index
            }
        }
        return ([header] + rows.map(\.line)).joined(separator: "\n") + "\n"
    }
}
