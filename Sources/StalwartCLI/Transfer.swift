import ArgumentParser
import Foundation
import StalwartEval
import StalwartStore
import StalwartTensor
import StalwartTransfer

/// Options shared by `embed` and `transfer`: which features and how images are preprocessed.
struct FeatureOptions: ParsableArguments {
    @Option(help: "Feature tensor (default: the pre-logits, the input of the last Gemm/MatMul). Any tensor of the file, even one fusion would remove.")
    var layer: String?
    @Option(help: "Preprocessing preset (default: the model's metadata).") var preset: String?
    @Option(help: "Test resolution in pixels (default: the model's).") var resolution: Int?
    @Option(help: "Crop fraction override (with --preset).") var cropPct: Double?
    @Option(help: "Images per forward pass.") var batch: Int = 32
    @Option(help: "Inference threads (0 = one per core).") var threads: Int = 0
    @Option(help: "Decode/preprocess workers (0 = one per core).") var workers: Int = 0
    @Option(help: "Only the first N images of each folder.") var limit: Int?

    var embedOptions: EmbedOptions {
        var o = EmbedOptions()
        o.layer = layer
        o.preset = preset
        o.resolution = resolution
        o.cropPct = cropPct
        o.batchSize = batch
        o.threads = threads
        o.workers = workers
        o.limit = limit
        return o
    }
}

/// Writes a float32 [rows, cols] matrix or int64 [n] labels as .npy.
private func writeNPY(_ values: [Float], rows: Int, cols: Int, path: String) throws {
    let t: Tensor
    do { t = try Tensor(dtype: .float32, shape: [rows, cols]) } catch { throw StalwartError(error) }
    values.withUnsafeBufferPointer { b in if let base = b.baseAddress { t.floats.update(from: base, count: min(b.count, t.count)) } }
    try NPY.write(t, path: path)
}

private func writeLabels(_ labels: [Int32], path: String) throws {
    let t: Tensor
    do { t = try Tensor(shape: [labels.count], int64s: labels.map { Int64($0) }) } catch { throw StalwartError(error) }
    try NPY.write(t, path: path)
}

private func stderr(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// `stalwart embed` (issue 9).
struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model's features for a folder of images.",
        discussion: """
            DATA is a folder with one subfolder per class (labels are the subfolders' indices in \
            name order, as torchvision's ImageFolder) or a flat folder of images (labels −1). \
            Images are preprocessed as `stalwart eval` does (the model's metadata, or --preset \
            and --resolution). Features are float32 [N, D] (the layer flattened after the batch \
            dimension), rows in folder order; unreadable images are skipped and listed.
            """)

    @Argument(help: "ONNX model.") var model: String
    @Argument(help: "Image folder.") var data: String
    @Option(help: "Features (.npy, float32 [N, D]).") var out: String
    @Option(help: "Also write the labels (.npy, int64 [N]).") var labelsOut: String?
    @Option(help: "Also write the images' relative paths, one per line.") var keysOut: String?
    @OptionGroup var features: FeatureOptions

    func run() throws {
        do {
            let extractor = try FeatureExtractor(modelPath: model, options: features.embedOptions)
            let folder = try ImageFolder.open(data)
            let set = try extractor.embed(folder)
            try writeNPY(set.features.values, rows: set.features.rows, cols: set.features.cols, path: out)
            if let labelsOut { try writeLabels(set.labels, path: labelsOut) }
            if let keysOut {
                guard FileManager.default.createFile(atPath: keysOut, contents: Data((set.keys.joined(separator: "\n") + "\n").utf8)) else {
                    throw StalwartError.io("cannot write '\(keysOut)'")
                }
            }
            print("layer \(set.layer) at \(set.resolution) px [\(set.preprocess)]: \(set.features.rows) × \(set.features.cols) features -> \(out)"
                  + String(format: " (%.1f s)", set.seconds))
            if !set.classes.isEmpty { print("\(set.classes.count) classes") }
            for s in set.skipped { stderr("skipped \(s.key): \(s.reason)") }
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

/// Parses "1,5,10" into integers.
private func intList(_ s: String, _ what: String) throws -> [Int] {
    let parts = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Int($0) }
    guard !parts.isEmpty, values.count == parts.count else { throw StalwartError.invalidArgument("\(what) must be comma-separated integers, got '\(s)'") }
    return values
}

private func doubleList(_ s: String, _ what: String) throws -> [Double] {
    let parts = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Double($0) }
    guard !parts.isEmpty, values.count == parts.count else { throw StalwartError.invalidArgument("\(what) must be comma-separated numbers, got '\(s)'") }
    return values
}

/// `stalwart transfer` (issue 9).
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer", abstract: "Few-shot and linear-probe transfer of a model's features.",
        discussion: """
            Embeds DATA (class subfolders) and, with --test, a test folder of the same classes; \
            without --test, half of each class is held out for testing (the same split for \
            every shots and seed). Few-shot evaluation is big_vision's fewshot_lsr: per shots \
            and seed, a ridge regression on whitened features with targets ±1. --probe adds a \
            full-data multinomial logistic regression (L-BFGS) on standardized features. With \
            --db every accuracy is recorded under the model's file hash, as `stalwart eval` \
            records models, for `stalwart study`.
            """)

    @Argument(help: "ONNX model.") var model: String
    @Argument(help: "Training images: one subfolder per class.") var data: String
    @Option(help: "Test images (same class folder names).") var test: String?
    @Option(help: "Shots per class, comma-separated.") var shots: String = "1,5,10,25"
    @Option(help: "Seeds per shots value.") var seeds: Int = 3
    @Option(help: "Ridge strengths λ, comma-separated.") var l2: String = "1024"
    @Option(help: "Fraction of each class held out for testing without --test.") var testFraction: Double = 0.5
    @Flag(help: "Also fit the full-data logistic probe.") var probe = false
    @Option(help: "l2 of the probe (scikit-learn's 1/C).") var probeL2: Double = 1
    @Option(help: "Iteration cap of the probe's L-BFGS.") var probeIterations: Int = 1000
    @Option(help: "Results database to record into.") var db: String?
    @Option(help: "Task name in the database (default: the folder's name).") var task: String?
    @Option(help: "Write the results as JSON too.") var json: String?
    @OptionGroup var features: FeatureOptions

    func run() throws {
        do {
            var o = TransferOptions()
            o.fewShot.shots = try intList(shots, "--shots")
            o.fewShot.seeds = seeds
            o.fewShot.l2Regs = try doubleList(l2, "--l2")
            o.fewShot.testFraction = testFraction
            o.probe = probe
            o.probeL2 = probeL2
            o.probeMaxIterations = probeIterations
            o.database = db
            if let task {
                guard !task.isEmpty, !task.contains(":") else { throw StalwartError.invalidArgument("--task must be non-empty and must not contain ':'") }
                o.task = task
            }
            let r = try TransferRunner.run(model: model, train: data, test: test, embed: features.embedOptions, options: o)
            print("model \(r.model.name) (\(r.model.sha256.prefix(12))), task \(r.task): layer \(r.train.layer) at \(r.train.resolution) px [\(r.train.preprocess)]")
            print("  train \(r.train.features.rows) images × \(r.train.features.cols) features, \(r.train.classes.count) classes"
                  + (r.test.map { ", test \($0.features.rows) images" } ?? ", test: held-out \(Int(testFraction * 100))% of each class")
                  + String(format: " (embedded in %.1f s)", r.train.seconds + (r.test?.seconds ?? 0)))
            for s in r.fewShot {
                print(String(format: "  %3d-shot  λ=%-8@  %6.2f%% ± %.2f  (%d seeds)", s.shots, "\(formatL2(s.l2))" as NSString,
                             s.mean * 100, s.std * 100, s.seeds))
            }
            if let p = r.probeAccuracy { print(String(format: "  probe     l2=%-7@ %6.2f%%", "\(formatL2(probeL2))" as NSString, p * 100)) }
            for s in r.train.skipped + (r.test?.skipped ?? []) { stderr("skipped \(s.key): \(s.reason)") }
            if let db { print("recorded \(r.results.count) results in \(db)") }
            if let json {
                var items: [String] = []
                for t in r.results {
                    items.append("{\"method\":\"\(t.method)\",\"shots\":\(t.shots),\"seed\":\(t.seed),\"l2\":\(t.l2),\"accuracy\":\(t.accuracy)}")
                }
                let text = "{\"model\":\(jsonQuote(r.model.name)),\"sha256\":\"\(r.model.sha256)\",\"task\":\(jsonQuote(r.task)),\"layer\":\(jsonQuote(r.train.layer)),\"results\":[\(items.joined(separator: ","))]}\n"
                guard FileManager.default.createFile(atPath: json, contents: Data(text.utf8)) else { throw StalwartError.io("cannot write '\(json)'") }
            }
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

private func formatL2(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }

private func jsonQuote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default: if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

/// `stalwart study` (issue 9).
struct Study: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Correlate robustness with transfer across models.",
        discussion: """
            Joins, per model (file hash), a robustness metric of `stalwart eval` runs with a \
            transfer accuracy of `stalwart transfer` runs in the same database, and reports \
            Kendall τ-b, Spearman ρ and Pearson r with percentile-bootstrap intervals. Without \
            --robustness or --transfer it lists what is available. Robustness metrics: METRIC \
            (run-level such as mce or corrupted_top1, else the clean images' top1, ece, …), \
            METRIC@CORRUPTION:SEVERITY, optionally prefixed SUITE/. Transfer: TASK:SHOTS (mean \
            over seeds) or TASK:probe.
            """)

    @Option(help: "Results database.") var db: String = "results.sqlite"
    @Option(help: "Robustness metric (see above).") var robustness: String?
    @Option(help: "Transfer metric TASK:SHOTS or TASK:probe.") var transfer: String?
    @Option(help: "Ridge λ of the few-shot results (default: the only one, else 1024).") var l2: Double?
    @Option(help: "Resolution of the eval runs (default: the transfer features' resolution).") var resolution: Int?
    @Option(help: "Bootstrap resamples.") var bootstrap: Int = 1000
    @Option(help: "Confidence of the intervals.") var confidence: Double = 0.95
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 0
    @Option(help: "Write the HTML report (scatter plot with fitted line).") var report: String?
    @Option(help: "Write the numbers as JSON.") var json: String?
    @Option(help: "Report title.") var title: String = "Stalwart robustness vs transfer study"

    func run() throws {
        do {
            guard FileManager.default.fileExists(atPath: db) else { throw StalwartError.io("no results database at '\(db)'") }
            let store = try ResultStore(path: db, version: Evaluator.version)
            guard let robustness, let transfer else {
                let r = try StalwartEval.Study.robustnessMetrics(store), t = try StalwartEval.Study.transferMetrics(store)
                print("robustness metrics (--robustness), with model counts:")
                if r.isEmpty { print("  none (run `stalwart eval … --db \(db)`)") }
                for m in r { print("  \(m.name)  (\(m.models))") }
                print("transfer metrics (--transfer):")
                if t.isEmpty { print("  none (run `stalwart transfer … --db \(db)`)") }
                for m in t { print("  \(m.name)  (\(m.models))") }
                if self.robustness != nil || self.transfer != nil {
                    throw StalwartError.invalidArgument("give both --robustness and --transfer")
                }
                return
            }
            var o = StudyOptions(robustness: robustness, transfer: transfer)
            o.l2 = l2
            o.resolution = resolution
            o.bootstrap = bootstrap
            o.confidence = confidence
            o.seed = seed
            let r = try StalwartEval.Study.run(store, o)
            print("\(r.points.count) models: \(r.robustness) vs \(r.transfer)")
            for p in r.points {
                print(String(format: "  %-28@ %10.6f  %8.4f ± %.4f", p.model as NSString, p.robustness, p.transfer, p.transferStd))
            }
            let pct = Int((confidence * 100).rounded())
            for c in r.correlations {
                print(String(format: "  %-12@ %+.6f   %d%% CI [%+.4f, %+.4f]", c.kind.displayName as NSString, c.value, pct, c.low, c.high))
            }
            print(String(format: "  fit: transfer = %.6f + %.6f · robustness", r.intercept, r.slope))
            if !r.unmatched.isEmpty { print("  left out (one side only): \(r.unmatched.joined(separator: ", "))") }
            if let report {
                let html = StalwartEval.Study.html(r, title: title, generated: utcTimestamp())
                guard FileManager.default.createFile(atPath: report, contents: Data(html.utf8)) else { throw StalwartError.io("cannot write '\(report)'") }
                print("report: \(report)")
            }
            if let json {
                let pts = r.points.map { "{\"model\":\(jsonQuote($0.model)),\"sha256\":\"\($0.sha256)\",\"robustness\":\($0.robustness),\"transfer\":\($0.transfer),\"transfer_std\":\($0.transferStd),\"seeds\":\($0.seeds)}" }
                let cs = r.correlations.map { "\"\($0.kind.rawValue)\":{\"value\":\($0.value),\"low\":\($0.low),\"high\":\($0.high)}" }
                let text = "{\"robustness\":\(jsonQuote(r.robustness)),\"transfer\":\(jsonQuote(r.transfer)),\"points\":[\(pts.joined(separator: ","))],\"correlations\":{\(cs.joined(separator: ","))},\"fit\":{\"slope\":\(r.slope),\"intercept\":\(r.intercept)}}\n"
                guard FileManager.default.createFile(atPath: json, contents: Data(text.utf8)) else { throw StalwartError.io("cannot write '\(json)'") }
            }
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}
