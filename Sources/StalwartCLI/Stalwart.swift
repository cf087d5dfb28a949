import ArgumentParser
import Foundation
import StalwartONNX
import StalwartTensor

@main
struct Stalwart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stalwart",
        abstract: "Run ONNX image classifiers on the CPU and measure their robustness.",
        version: stalwartVersion.description,
        subcommands: [Info.self, Run.self, Classify.self, Annotate.self, Corrupt.self, Eval.self, ReportCommand.self, Merge.self,
                      SIScoreCommand.self, Embed.self, TransferCommand.self, Study.self])
}

/// Prints a message to stderr and exits non-zero (never traps).
func fail(_ e: Error) -> ExitCode {
    let msg = (e as? StalwartError)?.message ?? "\(e)"
    FileHandle.standardError.write(Data("stalwart: error: \(msg)\n".utf8))
    return ExitCode(1)
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a model's inputs, outputs, opset, operators and parameter count.")

    @Argument(help: "Path to an ONNX model.") var model: String

    func run() throws {
        let m: InferenceModel
        do { m = try InferenceModel(path: model, threads: 1) } catch { throw fail(error) }
        func describe(_ s: TensorSignature) -> String {
            let dims = zip(s.dims, s.dimNames).map { d, n in d.map(String.init) ?? n ?? "?" }
            return "\(s.name): \(s.dtype) [\(dims.joined(separator: ", "))]"
        }
        print("model:      \(model)")
        print("opset:      \(m.graph.opset) (ir_version \(m.graph.irVersion))\(m.graph.producer.isEmpty ? "" : ", producer \(m.graph.producer)")")
        print("parameters: \(m.parameterCount.formatted())")
        print("inputs:")
        for s in m.inputs { print("  " + describe(s)) }
        print("outputs:")
        for s in m.outputs { print("  " + describe(s)) }
        print("operators:")
        for (op, n) in m.opHistogram.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            print("  \(op.padding(toLength: 24, withPad: " ", startingAt: 0))\(n)")
        }
        var fused: [String: Int] = [:]
        for n in m.graph.nodes { fused[n.opType, default: 0] += 1 }
        let mix = fused.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("after fusion: \(m.graph.nodes.count) nodes (\(mix.joined(separator: ", "))); kernels: \(KernelInfo.isa)")
        if !m.metadata.isEmpty {
            print("metadata:")
            for kv in m.metadata {
                let lines = kv.value.split(separator: "\n", omittingEmptySubsequences: false)
                let shown = lines.count > 1 ? "\(lines.count) lines (\(lines.prefix(2).joined(separator: " | ")) | ...)"
                    : kv.value.count > 160 ? String(kv.value.prefix(157)) + "..." : kv.value
                print("  \(kv.key): \(shown)")
            }
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a model on a NumPy .npy input and write the first output as .npy.")

    @Argument(help: "Path to an ONNX model.") var model: String
    @Option(name: .shortAndLong, help: "Input tensor (.npy, float32, C order).") var input: String
    @Option(name: .shortAndLong, help: "Where to write the first output (.npy).") var output: String
    @Option(help: "Threads (0 = all cores).") var threads: Int = 0
    @Option(help: "Print the top-k classes of each row of a 2-D output (0 = off).") var top: Int = 0
    @Option(help: "Class names, one per line in index order (used with --top).") var labels: String?

    func run() throws {
        do {
            let m = try InferenceModel(path: model, threads: threads)
            guard m.inputs.count == 1 else {
                throw StalwartError.unsupported("`run` feeds one .npy; this model has \(m.inputs.count) inputs")
            }
            let x = try NPY.read(path: input)
            let start = Date()
            let outs = try m.run([x])
            let ms = Date().timeIntervalSince(start) * 1000
            guard let y = outs.first else { throw StalwartError.internal("model produced no output") }
            try NPY.write(y, path: output)
            FileHandle.standardError.write(Data("ran in \(String(format: "%.1f", ms)) ms; wrote \(m.outputs[0].name) \(y.shape) to \(output)\n".utf8))
            if top > 0, y.shape.count == 2, y.dtype == .float32 {
                let names = try labels.map { try readLines($0) } ?? []
                for r in 0..<y.shape[0] {
                    let row = (0..<y.shape[1]).map { y.floats[r * y.shape[1] + $0] }
                    // Softmax probabilities for display.
                    let mx = row.max() ?? 0
                    let ex = row.map { Foundation.exp(Double($0 - mx)) }
                    let sum = ex.reduce(0, +)
                    let best = row.indices.sorted { row[$0] > row[$1] }.prefix(top)
                    print("row \(r):")
                    for c in best {
                        let name = c < names.count ? "  \(names[c])" : ""
                        print(String(format: "  %4d  p=%.3f", c, ex[c] / sum) + name)
                    }
                }
            }
        } catch { throw fail(error) }
    }
}
