import ArgumentParser
import Foundation
import StalwartImageIO
import StalwartONNX
import StalwartPreprocess
import StalwartTensor

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify PNG/JPEG images and print the top classes with probabilities.",
        discussion: """
            Preprocessing comes from --preset/--resolution, or from the model's metadata \
            (see `stalwart annotate`). Presets: \(Presets.all.map(\.name).joined(separator: ", ")).
            """)

    @Argument(help: "Path to an ONNX classifier.") var model: String
    @Argument(help: "PNG or JPEG files.") var images: [String]
    @Option(help: "Preprocessing preset (default: the model's metadata).") var preset: String?
    @Option(help: "Test resolution in pixels (default: the model's metadata).") var resolution: Int?
    @Option(help: "Resize filter override (nearest, bilinear, bicubic, box, lanczos, hamming).") var filter: String?
    @Option(help: "How many classes to print per image.") var top: Int = 5
    @Option(help: "Class names, one per line (default: the model's metadata).") var labels: String?
    @Option(help: "Images per batch.") var batch: Int = 8
    @Option(help: "Threads (0 = all cores).") var threads: Int = 0
    @Flag(help: "Apply EXIF orientation when decoding.") var exifOrientation = false

    func run() throws {
        do {
            guard top >= 1, batch >= 1 else { throw StalwartError.invalidArgument("--top and --batch must be at least 1") }
            let m = try InferenceModel(path: model, threads: threads)
            guard m.inputs.count == 1 else { throw StalwartError.unsupported("`classify` needs a model with one input, this one has \(m.inputs.count)") }
            var pipeline: Pipeline
            if let preset {
                let r = try resolution ?? m.inputs[0].dims.last.flatMap { $0 } ?? {
                    throw StalwartError.invalidArgument("--resolution is needed: the model's input size is not fixed")
                }()
                pipeline = try Presets.pipeline(preset, resolution: r)
            } else if let p = try Presets.pipeline(metadata: m.metadata, resolution: resolution) {
                pipeline = p
            } else {
                throw StalwartError.invalidArgument("the model carries no preprocessing metadata; pass --preset and --resolution (or add it with `stalwart annotate`)")
            }
            if let filter {
                guard let f = ResizeFilter(rawValue: filter) else { throw StalwartError.invalidArgument("unknown filter '\(filter)'") }
                pipeline.filter = f
            }
            let names = try labels.map { try readLines($0) } ?? Presets.labels(metadata: m.metadata) ?? []
            var options = DecodeOptions()
            options.applyEXIFOrientation = exifOrientation
            FileHandle.standardError.write(Data("preprocessing: \(pipeline.name)\n".utf8))

            for start in stride(from: 0, to: images.count, by: batch) {
                let paths = Array(images[start..<min(start + batch, images.count)])
                let decoded = try paths.map { try ImageCodec.decode(path: $0, options: options) }
                let x = try pipeline.batch(decoded)
                guard let logits = try m.run([x]).first, logits.shape.count == 2, logits.shape[0] == paths.count else {
                    throw StalwartError.unsupported("`classify` expects a [N, classes] output")
                }
                let k = logits.shape[1]
                for (i, path) in paths.enumerated() {
                    let row = (0..<k).map { Double(logits.floats[i * k + $0]) }
                    let mx = row.max() ?? 0
                    let ex = row.map { Foundation.exp($0 - mx) }
                    let sum = ex.reduce(0, +)
                    print(path)
                    for c in row.indices.sorted(by: { row[$0] > row[$1] }).prefix(top) {
                        print(String(format: "  %4d  %.4f  ", c, ex[c] / sum) + (c < names.count ? names[c] : ""))
                    }
                }
            }
        } catch { throw fail(error) }
    }
}

func readLines(_ path: String) throws -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw StalwartError.io("cannot read '\(path)'")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines
}

struct Annotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write preprocessing and class names into a model's metadata_props, so `classify` needs no flags.")

    @Argument(help: "Path to an ONNX model.") var model: String
    @Option(name: .shortAndLong, help: "Where to write the annotated model (may equal the input).") var output: String
    @Option(help: "Preprocessing preset.") var preset: String?
    @Option(help: "Test resolution in pixels.") var resolution: Int?
    @Option(help: "Class names file, one per line in output order.") var labels: String?
    @Option(name: .customLong("set"), help: "Any other entry as key=value (repeatable).") var entries: [String] = []

    func run() throws {
        do {
            var kv: [(key: String, value: String)] = []
            if let preset {
                guard let r = resolution else { throw StalwartError.invalidArgument("--preset needs --resolution") }
                _ = try Presets.pipeline(preset, resolution: r)   // validate
                kv += [(Presets.Key.preset, preset), (Presets.Key.resolution, String(r))]
            } else if let r = resolution {
                kv.append((Presets.Key.resolution, String(r)))
            }
            if let labels { kv.append((Presets.Key.labels, try readLines(labels).joined(separator: "\n"))) }
            for e in entries {
                guard let eq = e.firstIndex(of: "="), eq != e.startIndex else {
                    throw StalwartError.invalidArgument("--set takes key=value, got '\(e)'")
                }
                kv.append((String(e[..<eq]), String(e[e.index(after: eq)...])))
            }
            guard !kv.isEmpty else { throw StalwartError.invalidArgument("nothing to write: give --preset/--resolution, --labels or --set") }
            guard let data = FileManager.default.contents(atPath: model) else { throw StalwartError.io("cannot read '\(model)'") }
            let out = try data.withUnsafeBytes { try ModelAnnotation.setMetadata($0, kv) }
            // Check the result loads before replacing anything.
            _ = try out.withUnsafeBytes { try InferenceModel(bytes: $0, threads: 1) }
            guard FileManager.default.createFile(atPath: output + ".tmp", contents: Data(out)),
                  rename(output + ".tmp", output) == 0 else {
                throw StalwartError.io("cannot write '\(output)'")
            }
            FileHandle.standardError.write(Data("wrote \(output) with \(kv.map(\.key).joined(separator: ", "))\n".utf8))
        } catch { throw fail(error) }
    }
}
