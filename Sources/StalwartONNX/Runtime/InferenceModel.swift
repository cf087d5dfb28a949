import Glibc
import StalwartTensor

/// A loaded, validated and prepared ONNX model: the object behind `stalwart_model`.
///
/// Loading decodes the file, validates the graph, folds constants, fuses BatchNormalization,
/// affine chains and activations into convolutions, and packs weights once. Running builds
/// (and caches) an `ExecutionPlan` per distinct input-shape combination.
///
/// Thread-safety: immutable after init; `run` and every query may be called from many threads
/// at once. Concurrent runs share the model's thread pool.
public final class InferenceModel: @unchecked Sendable {
    public let graph: Graph
    public var inputs: [TensorSignature] { graph.inputs }
    public var outputs: [TensorSignature] { graph.outputs }
    /// Operator counts of the model as written in the file (before fusion).
    public let opHistogram: [String: Int]
    /// Number of parameters (elements of float initializers) in the file.
    public let parameterCount: Int
    public let threadCount: Int
    /// Whether the spatial dimensions of rank-4 image inputs (H and W of NCHW or NHWC, told
    /// apart by a channel dimension of 1 or 3) accept any size even when the file fixes them —
    /// for test-resolution sweeps of convolutional models exported at one size. Layers whose
    /// shapes then no longer fit (a Reshape to a fixed size) fail at planning with a shape error.
    public let freeSpatialDims: Bool

    let ops: [Operator]
    let pool: ThreadPool
    private let planLock = Lock()
    private var plans: [PlanKey: ExecutionPlan] = [:]
    private struct PlanKey: Hashable { var shapes: [Int]; var outputs: [String]? }
    private static let maxCachedPlans = 16

    /// Loads a model from a file. `threads` = 0 means one per core. Tensors named in `keep`
    /// survive load-time fusion so that `embed`/`run(outputNames:)` can read them.
    public convenience init(path: String, threads: Int = 0, freeSpatialDims: Bool = false, keep: Set<String> = []) throws {
        try self.init(graph: try ModelLoader.load(path: path), threads: threads, freeSpatialDims: freeSpatialDims, keep: keep)
    }

    /// Loads a model from bytes (read only during the call).
    public convenience init(bytes: UnsafeRawBufferPointer, threads: Int = 0, keep: Set<String> = []) throws {
        try self.init(graph: try ModelLoader.load(bytes: bytes, baseDirectory: nil), threads: threads, keep: keep)
    }

    init(graph: Graph, threads: Int, freeSpatialDims: Bool = false, keep: Set<String> = []) throws {
        self.freeSpatialDims = freeSpatialDims
        guard threads >= 0, threads <= 1024 else {
            throw StalwartError.invalidArgument("threads must be 0...1024, got \(threads)")
        }
        var hist: [String: Int] = [:]
        for n in graph.nodes { hist[n.opType, default: 0] += 1 }
        opHistogram = hist
        parameterCount = graph.constants.values.reduce(0) { $0 + ($1.dtype == .float32 ? $1.count : 0) }
        try GraphOptimizer.optimize(graph, keep: keep)
        var ops: [Operator] = []
        ops.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            ops.append(try OperatorRegistry.make(node, opset: graph.opset, constants: graph.constants))
        }
        self.graph = graph
        self.ops = ops
        self.pool = ThreadPool(threads: threads)
        self.threadCount = pool.threadCount
        // Prepare the plan for the declared shape when every dimension is fixed, so that the
        // first run pays nothing extra and shape errors surface at load.
        if graph.inputs.allSatisfy({ $0.dims.allSatisfy { $0 != nil } }) {
            let shapes = graph.inputs.map { $0.dims.map { $0 ?? 1 } }
            if graph.inputs.allSatisfy({ !InferenceModel.valueKeyed($0.dtype, $0.dims.map { $0 ?? 1 }) }) {
                _ = try plan(for: shapes, values: shapes.map { _ in nil })
            }
        }
    }

    /// Checks `shapes` (one per input, in order) against the declared signatures.
    public func validate(dtypes: [DType], shapes: [[Int]]) throws {
        guard shapes.count == inputs.count else {
            throw StalwartError.shapeMismatch("model has \(inputs.count) input(s), got \(shapes.count)")
        }
        var symbols: [String: Int] = [:]
        for (i, sig) in inputs.enumerated() {
            let s = shapes[i]
            guard dtypes[i] == sig.dtype else {
                throw StalwartError.shapeMismatch("input '\(sig.name)' must be \(sig.dtype), got \(dtypes[i])")
            }
            guard s.count == sig.dims.count else {
                throw StalwartError.shapeMismatch("input '\(sig.name)' must have rank \(sig.dims.count) \(describe(sig)), got shape \(s)")
            }
            for (k, d) in s.enumerated() {
                guard d > 0 else {
                    throw StalwartError.shapeMismatch("input '\(sig.name)' has a zero-sized or negative dimension: \(s)")
                }
                if let want = sig.dims[k], want != d, !(freeSpatialDims && InferenceModel.isSpatial(k, of: sig)) {
                    throw StalwartError.shapeMismatch("input '\(sig.name)' must have shape \(describe(sig)), got \(s)")
                }
                if let name = sig.dimNames[k] {
                    if let prev = symbols[name], prev != d {
                        throw StalwartError.shapeMismatch("dimension '\(name)' is \(prev) in one input and \(d) in '\(sig.name)'")
                    }
                    symbols[name] = d
                }
            }
        }
    }

    /// Whether dimension `k` of `sig` is H or W of a rank-4 NCHW (C = 1 or 3 at index 1) or
    /// NHWC (C at index 3) image input.
    static func isSpatial(_ k: Int, of sig: TensorSignature) -> Bool {
        guard sig.dims.count == 4 else { return false }
        if let c = sig.dims[1], c == 1 || c == 3 { return k == 2 || k == 3 }
        if let c = sig.dims[3], c == 1 || c == 3 { return k == 1 || k == 2 }
        return false
    }

    private func describe(_ sig: TensorSignature) -> String {
        "[" + zip(sig.dims, sig.dimNames).map { d, n in d.map(String.init) ?? n ?? "?" }.joined(separator: ", ") + "]"
    }

    /// Small integer inputs are treated as shape-defining: plans are keyed by their values.
    static func valueKeyed(_ dtype: DType, _ shape: [Int]) -> Bool {
        (dtype == .int64 || dtype == .int32) && shape.reduce(1, *) <= 64
    }

    /// Copies of the value-keyed inputs (nil for the others, or when `data` is nil).
    func keyValues(_ data: [UnsafeRawPointer?], dtypes: [DType], shapes: [[Int]]) throws -> [Tensor?] {
        var out: [Tensor?] = []
        for i in 0..<shapes.count {
            guard InferenceModel.valueKeyed(dtypes[i], shapes[i]), let p = data[i] else { out.append(nil); continue }
            let t: Tensor
            do { t = try Tensor(dtype: dtypes[i], shape: shapes[i]) } catch { throw StalwartError(error) }
            t.data.copyMemory(from: p, byteCount: t.byteCount)
            out.append(t)
        }
        return out
    }

    /// The cached or newly built plan for these input shapes (and value-keyed input values).
    /// `outputNames` nil: the graph outputs; else these tensors, in order (unneeded steps pruned).
    func plan(for shapes: [[Int]], values: [Tensor?], outputNames: [String]? = nil) throws -> ExecutionPlan {
        var ints = shapes.flatMap { $0 + [-1] }
        for v in values { if let v { ints += v.intValues() + [-2] } }
        let key = PlanKey(shapes: ints, outputs: outputNames)
        planLock.lock()
        if let p = plans[key] { planLock.unlock(); return p }
        planLock.unlock()
        let p = try ExecutionPlan(graph: graph, ops: ops, inputShapes: shapes, inputValues: values, threads: threadCount,
                                  outputNames: outputNames)
        planLock.lock()
        defer { planLock.unlock() }
        if let existing = plans[key] { return existing }
        if plans.count >= InferenceModel.maxCachedPlans, let victim = plans.keys.first { plans[victim] = nil }
        plans[key] = p
        return p
    }

    /// Output types and shapes for inputs of these types and shapes (validated). `data` is
    /// needed only for small integer inputs that define shapes (nil entries otherwise).
    public func outputInfo(dtypes: [DType], shapes: [[Int]], data: [UnsafeRawPointer?]? = nil) throws -> [(dtype: DType, shape: [Int])] {
        try validate(dtypes: dtypes, shapes: shapes)
        let values = try keyValues(data ?? shapes.map { _ in nil }, dtypes: dtypes, shapes: shapes)
        return try plan(for: shapes, values: values).outputInfos.map { ($0.dtype, $0.shape) }
    }

    /// Runs the model on raw input buffers. `inputs[i]` holds input i densely packed with
    /// `shapes[i]`; output k is written to `outputs[k]` when non-nil (the caller sized it with
    /// `outputInfo`).
    public func run(inputs data: [UnsafeRawPointer], dtypes: [DType], shapes: [[Int]],
                    outputs: [UnsafeMutableRawPointer?]) throws {
        try validate(dtypes: dtypes, shapes: shapes)
        let values = try keyValues(data, dtypes: dtypes, shapes: shapes)
        try plan(for: shapes, values: values).run(inputs: data, outputs: outputs, pool: pool)
    }

    /// Convenience: runs on tensors and returns every output as a new tensor.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        let dtypes = inputs.map(\.dtype), shapes = inputs.map(\.shape)
        let infos = try outputInfo(dtypes: dtypes, shapes: shapes, data: inputs.map { UnsafeRawPointer($0.data) })
        var outs: [Tensor] = []
        for i in infos {
            do { outs.append(try Tensor(dtype: i.dtype, shape: i.shape)) } catch { throw StalwartError(error) }
        }
        try run(inputs: inputs.map { UnsafeRawPointer($0.data) }, dtypes: dtypes, shapes: shapes,
                outputs: outs.map { $0.data })
        return outs
    }

    /// `metadata_props` of the model file.
    public var metadata: [(key: String, value: String)] { graph.metadata }
}
