// JSON writer: robustness_metrics-style metric keys, sorted object keys, NaN → null.
import StalwartTensor

/// A minimal JSON value with a deterministic (key-sorted) pretty printer.
indirect enum JSONValue {
    case null
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Pretty-printed text with two-space indentation and sorted keys.
    func render(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let closePad = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case .int(let v): return String(v)
        case .number(let v): return jsonNumber(v)
        case .string(let s): return s.jsonQuoted
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n" + closePad + "]"
        case .object(let dict):
            if dict.isEmpty { return "{}" }
            let body = dict.keys.sorted().map { key in
                pad + key.jsonQuoted + ": " + (dict[key] ?? .null).render(indent: indent + 1)
            }
            return "{\n" + body.joined(separator: ",\n") + "\n" + closePad + "}"
        }
    }
}

enum JSONReport {
    static func render(_ input: ReportInput) -> String {
        let root: [String: JSONValue] = [
            "title": .string(input.title),
            "generated": .string(input.generated),
            "stalwart_version": .string(input.version),
            "runs": .array(input.runs.map(runObject)),
        ]
        return JSONValue.object(root).render() + "\n"
    }

    static func runObject(_ run: ReportRun) -> JSONValue {
        .object([
            "model": .string(run.model),
            "model_sha256": .string(run.modelHash),
            "suite": .string(run.suite),
            "data_root": .string(run.dataRoot),
            "resolution": .int(run.resolution),
            "preprocess": .string(run.preprocess),
            "crop_pct": .number(run.cropPct),
            "interpolation": .string(run.interpolation),
            "images": .int(run.imageCount),
            "skipped": .int(run.skipped),
            "metrics": .object(metrics(run).mapValues { JSONValue.number($0) }),
        ])
    }

    /// Flat metric map for one run. With prefix `p` (suite, "-" → "_"):
    /// - clean cell: `p/<metric>` (for ImageNet-C runs: `imagenet/<metric>`);
    /// - corrupted cell: `p/<corruption>/<severity>/<metric>`;
    /// - per-corruption mean over severities: `p/<corruption>/<metric>`;
    /// - ImageNet-C runs also get the mean over all corrupted cells as `imagenet_c/<metric>`;
    /// - corruption errors: `p/<corruption>/ce`, `p/<corruption>/relative_ce`;
    /// - summary values: `p/<key>` (these win on a key collision);
    /// - every `…/top1` also as `…/accuracy`, robustness_metrics' name for it.
    static func metrics(_ run: ReportRun) -> [String: Double] {
        let p = run.metricPrefix
        var out: [String: Double] = [:]
        if let clean = run.cleanCell {
            let cleanPrefix = run.isImageNetC ? "imagenet" : p
            for (k, v) in clean.metrics { out["\(cleanPrefix)/\(k)"] = v }
        }
        let corrupted = run.corruptedCells
        for cell in corrupted {
            for (k, v) in cell.metrics { out["\(p)/\(cell.corruption)/\(cell.severity)/\(k)"] = v }
        }
        let metricNames = Set(corrupted.flatMap { $0.metrics.keys })
        for corruption in run.corruptionNames {
            for m in metricNames {
                if let mean = run.corruptionMean(corruption, m) { out["\(p)/\(corruption)/\(m)"] = mean }
            }
        }
        if run.isImageNetC {
            for m in metricNames {
                if let mean = run.corruptedMean(m) { out["\(p)/\(m)"] = mean }
            }
        }
        for e in run.corruptionErrors {
            out["\(p)/\(e.name)/ce"] = e.ce
            out["\(p)/\(e.name)/relative_ce"] = e.relativeCE
        }
        for (k, v) in run.summary { out["\(p)/\(k)"] = v }
        // robustness_metrics names top-1 "accuracy" (`imagenet_a/accuracy`): both keys are given.
        for (k, v) in out where k.hasSuffix("/top1") { out[String(k.dropLast(4)) + "accuracy"] = v }
        return out
    }
}
