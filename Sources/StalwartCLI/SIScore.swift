import ArgumentParser
import Foundation
import StalwartData
import StalwartEval
import StalwartSIScore
import StalwartStore
import StalwartTensor

/// `stalwart siscore generate|eval` (issue 8).
struct SIScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "siscore", abstract: "Synthesize SI-Score data and score models per factor.",
        discussion: """
            SI-Score pastes segmented objects onto backgrounds while sweeping one factor: object \
            size (--preset size), rotation (rotation) or location (location), as \
            google-research/si-score's generator does (Pillow's bilinear resize, bicubic rotate, \
            alpha paste, reproduced exactly). Default data: the bundled samples \
            (examples/data/siscore: 9 objects, 8 backgrounds).
            """,
        subcommands: [SIScoreGenerate.self, SIScoreEval.self])
}

/// Options shared by `generate` and `eval`: which sweep, over which samples.
struct SweepOptions: ParsableArguments {
    @Option(help: "Sweep preset: size, rotation or location.") var preset: String = "size"
    @Option(help: "Object areas (fractions of the background), comma-separated, e.g. 0.1,0.3,0.6.") var areas: String?
    @Option(help: "Rotation angles in degrees, comma-separated.") var angles: String?
    @Option(help: "Object centres as x:y pairs in [0,1], comma-separated.") var centres: String?
    @Option(help: "An N×N grid of centres over [0,1]².") var grid: Int?
    @Option(help: "Background side in pixels.") var resolution: Int?
    @Option(help: "Backgrounds per object (drawn without replacement).") var backgrounds: Int?
    @Option(help: "Skip composites with less of the object inside (0-1).") var minPctInside: Double?
    @Option(help: "Seed of the background draws.") var seed: UInt64?
    @Option(help: "Samples folder with foregrounds/<class>/*.png and backgrounds/* (default: the bundled examples/data/siscore).")
    var samples: String?

    var overrides: [(String, String)] {
        let all: [(String, String?)] = [
            ("areas", areas), ("angles", angles), ("centres", centres), ("grid", grid.map(String.init)),
            ("resolution", resolution.map(String.init)), ("backgrounds", backgrounds.map(String.init)),
            ("min_pct_inside", minPctInside.map { String($0) }), ("seed", seed.map { String($0) }),
        ]
        return all.compactMap { k, v in v.map { (k, $0) } }
    }

    func config() throws -> SIScoreConfig {
        var c = try SIScoreConfig.preset(preset)
        for (k, v) in overrides { try c.set(k, v) }
        return c
    }

    func samplesDir() throws -> String {
        if let samples { return samples }
        if let found = RepoPaths.find("examples/data/siscore") { return found }
        throw StalwartError.io("the bundled samples (examples/data/siscore) were not found next to the executable or in the current folder; pass --samples DIR")
    }
}

/// Files of the source checkout found from the executable (…/.build*/release/stalwart) or the
/// current directory.
enum RepoPaths {
    static func find(_ relative: String) -> String? {
        var starts: [URL] = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        for s in starts {
            var dir = s
            for _ in 0..<6 {
                let candidate = dir.appendingPathComponent(relative).path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }
}

struct SIScoreGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write an SI-Score sweep in the released layout: {class}/{image_id}.jpg (JPEG quality 75) and metadata.csv.")

    @OptionGroup var sweep: SweepOptions
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(help: "Only the first N images (id order).") var limit: Int?
    @Option(help: "Threads (0 = one per core).") var threads: Int = 0
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        do {
            let dir = try sweep.samplesDir()
            let g = try SIScoreGenerator(config: try sweep.config(), foregrounds: dir + "/foregrounds", backgrounds: dir + "/backgrounds")
            let tty = !quiet && isatty(2) != 0
            let s = try g.write(to: out, limit: limit, threads: threads) { done, total in
                if tty { FileHandle.standardError.write(Data("\r\(done)/\(total) images".utf8)) }
            }
            if tty { FileHandle.standardError.write(Data("\n".utf8)) }
            print("wrote \(s.written) images to \(out) in \(String(format: "%.1f", s.seconds)) s (\(g.classes.count) classes, "
                  + "\(g.backgroundFiles.count) backgrounds; \(s.skipped) combinations below min_pct_inside \(g.config.minPctInside) left out)")
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }
}

struct SIScoreEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a classifier per SI-Score factor: top-1/top-5 per area, angle and location, and their averages.",
        discussion: """
            Without --data the sweep is generated in memory (nothing written; each composite is \
            JPEG round-tripped at quality 75 like the written dataset unless --no-jpeg). With --data \
            a folder in the released layout (or from `siscore generate`) is read instead. Images go \
            through the model's own preprocessing (its metadata; --preprocess / --test-resolution \
            override); labels are ImageNet-1k indices, scored 1000-way (robustness_metrics' \
            synthetic metric). Averages are unweighted over a factor's values.
            """)

    @Option(help: "ONNX classifier (default: the bundled models/efficientnet_lite0.onnx).") var model: String?
    @OptionGroup var sweep: SweepOptions
    @Option(help: "Read this SI-Score folder (released layout) instead of generating in memory.") var data: String?
    @Option(help: "Results database (default: a temporary one, deleted afterwards).") var db: String?
    @Option(help: "Write PNG plots (accuracy vs area, vs angle, location heatmap) into this folder.") var plots: String?
    @Option(help: "Model preprocessing preset (default: the model's metadata).") var preprocess: String?
    @Option(help: "Model input resolution (default: the model's).") var testResolution: Int?
    @Flag(help: "Feed the composites without the JPEG round trip.") var noJpeg = false
    @Option(help: "Images per forward pass.") var batch: Int = 16
    @Option(help: "Inference threads (0 = one per core).") var threads: Int = 0
    @Option(help: "Only the first N images.") var limit: Int?
    @Option(help: "Also write the HTML report (needs --db to keep the results).") var report: String?
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        do {
            guard let modelPath = model ?? RepoPaths.find("models/efficientnet_lite0.onnx") else {
                throw StalwartError.invalidArgument("--model is required (the bundled models/efficientnet_lite0.onnx was not found)")
            }
            let database = db ?? NSTemporaryDirectory() + "stalwart-siscore-\(getpid()).sqlite"
            defer { if db == nil { for s in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: database + s) } } }
            var c: EvalConfig
            if let data {
                c = EvalConfig(model: modelPath, data: data)
                try c.set("layout", "si-score")
                try c.set("label_space", "imagenet")
            } else {
                c = EvalConfig(model: modelPath, data: try sweep.samplesDir())
                var syn = SIScoreSynthesis(config: try sweep.config(), jpeg: !noJpeg)
                try syn.config.validate()
                c.siscore = syn
            }
            if let p = preprocess { try c.set("preset", p) }
            if let r = testResolution { try c.set("resolutions", String(r)) }
            try c.set("batch", String(batch))
            try c.set("threads", String(threads))
            if let l = limit { try c.set("limit", String(l)) }
            c.database = database
            let bar = ProgressBar(enabled: !quiet)
            let s = try Evaluator.run(c) { bar.update($0); return true }
            bar.finish()
            print("evaluated \(s.evaluated) images in \(String(format: "%.1f", s.seconds)) s"
                  + (s.resumed > 0 ? ", \(s.resumed) resumed from \(database)" : ""))
            let store = try ResultStore(path: database, version: Evaluator.version)
            for r in try store.runs() where s.runIDs.contains(r.id) {
                let aggregates = try store.aggregates(run: r.id)
                let scores = Aggregation.siScoreScores(aggregates)
                print("\(r.model.name) @\(r.record.resolution) [\(r.record.preprocess)] \(r.record.suite)")
                if scores.factors.isEmpty { print("  no factor varies: nothing to score per factor") }
                try report(scores, run: r)
            }
            if db != nil { print("database: \(database)") }
            if let report {
                guard db != nil else { throw StalwartError.invalidArgument("--report needs --db (the temporary database is deleted)") }
                try writeReport(database: database, html: report)
            }
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }

    func report(_ scores: SIScoreScores, run: StoredRun) throws {
        func pct(_ v: Double) -> String { String(format: "%5.1f", v * 100) }
        for factor in scores.factors {
            let pts = scores.points(factor)
            let avg1 = scores.average(factor) ?? .nan, avg5 = scores.average(factor, top5: true) ?? .nan
            print("  \(factor): \(pts.count) values, average top-1 \(pct(avg1))%  top-5 \(pct(avg5))%")
            if factor == "location" {
                let best = pts.max { $0.top1 < $1.top1 }, worst = pts.min { $0.top1 < $1.top1 }
                if let best, let worst {
                    print("    best  (\(SIScoreScores.fixed2(best.x)), \(SIScoreScores.fixed2(best.y ?? 0))) top-1 \(pct(best.top1))%")
                    print("    worst (\(SIScoreScores.fixed2(worst.x)), \(SIScoreScores.fixed2(worst.y ?? 0))) top-1 \(pct(worst.top1))%")
                }
            } else {
                print("    \(factor == "size" ? "area " : "angle")  top-1  top-5    n")
                for p in pts {
                    let v = factor == "size" ? String(format: "%5.2f", p.x) : String(format: "%5.0f", p.x)
                    print("    \(v)  \(pct(p.top1))  \(pct(p.top5))  \(String(format: "%3d", p.count))")
                }
            }
        }
        guard let plots else { return }
        try FileManager.default.createDirectory(atPath: plots, withIntermediateDirectories: true)
        let tag = run.record.suite + "-\(run.record.resolution)"
        for factor in scores.factors {
            let bytes: [UInt8]
            switch factor {
            case "location": bytes = try SIScorePlots.heatmapPNG(scores.location, title: "TOP-1 BY OBJECT LOCATION")
            case "rotation": bytes = try SIScorePlots.curvePNG(scores.rotation, title: "ACCURACY VS ROTATION", xLabel: "ANGLE (DEGREES)")
            default: bytes = try SIScorePlots.curvePNG(scores.area, title: "ACCURACY VS OBJECT SIZE", xLabel: "AREA (FRACTION OF IMAGE)")
            }
            let path = plots + "/\(tag)-\(factor).png"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            print("  plot: \(path)")
        }
    }
}
