import ArgumentParser
import Foundation
import StalwartData
import StalwartEval
import StalwartMetrics
import StalwartPreprocess
import StalwartReport
import StalwartShift
import StalwartStore
import StalwartTensor

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a classifier on a dataset, its shifts and test resolutions; results go to SQLite.",
        discussion: """
            Layouts (--suite, default: detected): \(DatasetLayout.allCases.map(\.rawValue).joined(separator: ", ")). \
            --corruptions generates ImageNet-C corruptions in memory for every image (keyed by its \
            path relative to --data, so results equal `stalwart corrupt` output with the same seed). \
            Every batch is committed with its metric states: an interrupted run loses at most one \
            batch, and running the same command again resumes it. Runs are identified by model \
            content, data, preprocessing, resolution and seed; --shard I/N splits a run into \
            shards whose databases `stalwart merge` combines.
            """)

    @Option(help: "ONNX classifier.") var model: String
    @Option(help: "Dataset folder.") var data: String
    @Option(help: "Dataset layout (default: detected).") var suite: String?
    @Option(help: "On-the-fly corruptions: names or subsets (common, validation, all, noise, blur, weather, digital).") var corruptions: String?
    @Option(help: "Severities of the corruptions: 1-5 or 1,3,5.") var severities: String = "1-5"
    @Flag(help: "Skip the clean (unshifted) images when corruptions are given.") var noClean = false
    @Option(help: "Test resolutions, comma-separated (default: the model's).") var resolutions: String?
    @Option(help: "Preprocessing preset (default: the model's metadata).") var preset: String?
    @Option(help: "Crop fraction override (with --preset).") var cropPct: Double?
    @Option(help: "Resize filter override (nearest, bilinear, bicubic, box, lanczos, hamming).") var interpolation: String?
    @Option(help: "Results database.") var db: String = "results.sqlite"
    @Option(help: "Seed of the corruptions.") var seed: UInt64 = 0
    @Option(help: "Corruption semantics: imagecorruptions or hendrycks.") var mode: String = "imagecorruptions"
    @Option(help: "Where on-the-fly corruptions apply: input (after resize and crop, at the test resolution: ImageNet-C's protocol) or native (the decoded image, as `stalwart corrupt` writes it).")
    var corruptAt: String = "input"
    @Option(help: "Images per forward pass.") var batch: Int = 16
    @Option(help: "Inference threads (0 = one per core).") var threads: Int = 0
    @Option(help: "Decode/corrupt/preprocess workers (0 = one per core).") var workers: Int = 0
    @Option(help: "Only the first N images.") var limit: Int?
    @Option(help: "Evaluate shard I of N (0-based), e.g. 0/4.") var shard: String?
    @Option(help: "Class map for `folder` layouts: 'name index' per line.") var classMap: String?
    @Option(help: "Labels file for imagenet-val: 'FILE INDEX' per line.") var labelsFile: String?
    @Option(help: "Also write the report (HTML; JSON and CSV beside it).") var report: String?
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        do {
            var c = EvalConfig(model: model, data: data)
            let options: [(String, String?)] = [
                ("layout", suite), ("corruptions", corruptions), ("severities", severities), ("resolutions", resolutions),
                ("preset", preset), ("crop_pct", cropPct.map { String($0) }), ("interpolation", interpolation),
                ("seed", String(seed)), ("mode", mode), ("corrupt_at", corruptAt), ("batch", String(batch)), ("threads", String(threads)),
                ("workers", String(workers)), ("limit", limit.map(String.init)), ("shard", shard),
                ("class_map", classMap), ("labels_file", labelsFile),
            ]
            for (key, value) in options { if let value { try c.set(key, value) } }
            c.clean = !noClean
            c.database = db
            let bar = ProgressBar(enabled: !quiet)
            let s = try Evaluator.run(c) { bar.update($0); return true }
            bar.finish()
            print("database: \(s.database)")
            print("evaluated \(s.evaluated) images in \(String(format: "%.1f", s.seconds)) s" +
                  (s.resumed > 0 ? ", \(s.resumed) resumed from the database" : "") +
                  (s.skipped > 0 ? ", \(s.skipped) unreadable images skipped" : ""))
            let store = try ResultStore(path: db, version: Evaluator.version)
            for r in try store.runs() where s.runIDs.contains(r.id) {
                let a = try store.aggregates(run: r.id)
                func value(_ g: GroupKey, _ m: String) -> String {
                    a.first { $0.group == g && $0.metric == m }.map { String(format: "%.4f", $0.value) } ?? "-"
                }
                let clean = GroupKey(corruption: "", severity: 0)
                print("  \(r.model.name) @\(r.record.resolution) [\(r.record.preprocess)] \(r.record.suite): " +
                      "top1 \(value(clean, "top1"))  top5 \(value(clean, "top5"))  ece \(value(clean, "ece"))" +
                      "  corrupted top1 \(value(Aggregation.runLevel, "corrupted_top1"))  mCE \(value(Aggregation.runLevel, "mce"))")
            }
            if let report { try writeReport(database: db, html: report) }
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report (inline SVG plots), robustness_metrics-style JSON and a timm-style CSV from a results database.")

    @Option(help: "Results database.") var db: String = "results.sqlite"
    @Option(help: "HTML output.") var out: String = "report.html"
    @Option(help: "JSON output (default: beside --out).") var json: String?
    @Option(help: "CSV output (default: beside --out).") var csv: String?
    @Option(help: "Report title.") var title: String = "Stalwart robustness report"

    func run() throws {
        do {
            try writeReport(database: db, html: out, json: json, csv: csv, title: title)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge shard databases (from `eval --shard`) into one and recompute the aggregates.")

    @Option(help: "Target database (created if missing).") var db: String
    @Argument(help: "Shard databases.") var shards: [String]

    func run() throws {
        do {
            let store = try ResultStore(path: db, version: Evaluator.version)
            for s in shards {
                guard FileManager.default.fileExists(atPath: s) else { throw StalwartError.io("no database at '\(s)'") }
                try store.merge(from: s) { a, b in
                    let x = try MetricBox.deserialize(a)
                    try x.merge(try MetricBox.deserialize(b))
                    return x.serialize()
                }
            }
            for r in try store.runs() {
                let layout = DatasetLayout(rawValue: r.record.layout)
                let dataset = try? Dataset.open(r.record.dataRoot, layout: layout)
                try Aggregation.finish(store: store, runID: r.id, dataset: dataset, finished: utcTimestamp())
            }
            print("merged \(shards.count) shard(s) into \(db)")
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

/// Writes the HTML report and its JSON and CSV companions (default: `html` with the
/// extension replaced by .json / .csv).
func writeReport(database: String, html: String, json: String? = nil, csv: String? = nil,
                 title: String = ReportFiles.defaultTitle) throws {
    let stem = (html as NSString).deletingPathExtension
    let (j, c) = (json ?? stem + ".json", csv ?? stem + ".csv")
    try ReportFiles.write(database: database, html: html, json: j, csv: c, title: title)
    print("report: \(html) (JSON \(j), CSV \(c))")
}

/// A one-line progress bar on stderr: run, images, images/s, ETA (redrawn at most 10×/s).
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    private var last = Date.distantPast
    private var drawn = false
    init(enabled: Bool) { self.enabled = enabled && isatty(2) != 0 || enabled && ProcessInfo.processInfo.environment["STALWART_PROGRESS"] == "1" }

    func update(_ p: EvalProgress) {
        guard enabled else { return }
        let now = Date()
        guard p.done == p.total || now.timeIntervalSince(last) > 0.1 else { return }
        last = now
        let width = 28, filled = p.total > 0 ? width * min(p.done, p.total) / p.total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "\rrun %d/%d @%dpx [%@] %d/%d  %.1f img/s  ETA %@%@ ", p.run + 1, p.runs, p.resolution, bar,
                          p.done, p.total, p.imagesPerSecond, ProgressBar.duration(p.etaSeconds),
                          p.skipped > 0 ? "  \(p.skipped) skipped" : "")
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }

    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : t >= 60 ? String(format: "%dm%02ds", t / 60, t % 60) : "\(t)s"
    }
}
