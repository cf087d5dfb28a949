import StalwartTensor

/// Reading intermediate tensors ("layers") of a model: the features that transfer studies
/// use, by default the pre-logits (the input of the last Gemm/MatMul).
///
/// A layer is any tensor a node of the *prepared* graph produces, or a graph input. Load-time
/// fusion (Conv + BatchNormalization + activation, see `GraphOptimizer`) removes the tensors
/// inside a fused chain; asking for one of them is an error naming the tensor that now holds
/// the chain's result, unless the model was loaded with that name in `keep`.
///
/// Thread-safety: like `run` — every method may be called from many threads at once.
extension InferenceModel {
    /// Names of the tensors `embed` can return, in execution order: every value a node of the
    /// prepared graph produces (graph outputs included; tensors removed by fusion excluded).
    public var layerNames: [String] {
        var seen = Set<String>()
        var out: [String] = []
        for n in graph.nodes {
            for o in n.outputs where !o.isEmpty && seen.insert(o).inserted { out.append(o) }
        }
        return out
    }

    /// The pre-logits tensor: the non-constant input of the last Gemm or MatMul in execution
    /// order (typically the output of the Flatten/Reshape after global pooling).
    /// - Throws: `.unsupported` when the model has no Gemm/MatMul, or its last one reads its
    ///   features transposed (Gemm transA = 1) or only constants.
    public func preLogitsName() throws -> String {
        guard let last = graph.nodes.last(where: { $0.opType == "Gemm" || $0.opType == "MatMul" }) else {
            throw StalwartError.unsupported("the model has no Gemm or MatMul, so it has no pre-logits; name a layer instead (e.g. one of \(suggestions(for: "").joined(separator: ", ")))")
        }
        if last.opType == "Gemm", (try? last.attributes.int("transA", default: 0)) ?? 0 != 0 {
            throw StalwartError.unsupported("\(last.label) reads its input transposed (transA = 1); name the feature layer explicitly")
        }
        let candidates = last.inputs.prefix(2).filter { !$0.isEmpty && graph.constants[$0] == nil }
        guard let name = candidates.first else {
            throw StalwartError.unsupported("\(last.label) has only constant inputs; name the feature layer explicitly")
        }
        guard candidates.count == 1 || last.inputs.first == name else {
            throw StalwartError.unsupported("\(last.label) multiplies two computed tensors; name the feature layer explicitly")
        }
        return name
    }

    /// The tensor to embed: `layer` itself when the prepared graph has it, the pre-logits when
    /// `layer` is nil or empty.
    /// - Throws: `.invalidArgument` for an unknown name (listing a few valid ones) or one that
    ///   fusion removed (naming the tensor that replaced it).
    public func resolveLayer(_ layer: String?) throws -> String {
        guard let layer, !layer.isEmpty else { return try preLogitsName() }
        if graph.inputs.contains(where: { $0.name == layer }) { return layer }
        if graph.nodes.contains(where: { $0.outputs.contains(layer) }) { return layer }
        if let f = graph.fusedAway[layer] {
            throw StalwartError.invalidArgument("layer '\(layer)' was fused away at load (into \(f.node), whose output is '\(f.tensor)'); ask for '\(f.tensor)', or load the model keeping '\(layer)' (the CLI's `embed --layer` does)")
        }
        if graph.constants[layer] != nil {
            throw StalwartError.invalidArgument("'\(layer)' is a constant of the model (a weight or a folded value), not a layer")
        }
        let s = suggestions(for: layer)
        throw StalwartError.invalidArgument("the model has no layer named '\(layer)'; valid names include \(s.map { "'\($0)'" }.joined(separator: ", ")) (\(layerNames.count) layers in all)")
    }

    /// Up to 8 layer names: those containing `query` (case-insensitive) first, then the last
    /// layers of the model (where feature layers usually are).
    func suggestions(for query: String) -> [String] {
        let all = layerNames
        let q = query.lowercased()
        var out = q.isEmpty ? [] : all.filter { $0.lowercased().contains(q) }.suffix(5).map { $0 }
        for name in all.suffix(8).reversed() where out.count < 8 && !out.contains(name) { out.append(name) }
        return out
    }

    /// Types and shapes of the named tensors for inputs of these types and shapes.
    public func outputInfo(dtypes: [DType], shapes: [[Int]], data: [UnsafeRawPointer?]? = nil,
                           outputNames: [String]) throws -> [(dtype: DType, shape: [Int])] {
        try validate(dtypes: dtypes, shapes: shapes)
        let values = try keyValues(data ?? shapes.map { _ in nil }, dtypes: dtypes, shapes: shapes)
        return try plan(for: shapes, values: values, outputNames: outputNames).outputInfos.map { ($0.dtype, $0.shape) }
    }

    /// Runs only what the named tensors need and writes tensor k to `outputs[k]` (when
    /// non-nil; sized with `outputInfo(…, outputNames:)`).
    public func run(inputs data: [UnsafeRawPointer], dtypes: [DType], shapes: [[Int]], outputNames: [String],
                    outputs: [UnsafeMutableRawPointer?]) throws {
        try validate(dtypes: dtypes, shapes: shapes)
        let values = try keyValues(data, dtypes: dtypes, shapes: shapes)
        try plan(for: shapes, values: values, outputNames: outputNames).run(inputs: data, outputs: outputs, pool: pool)
    }

    /// The feature shape [N, D] of `layer` (already resolved) for inputs of these shapes: N is
    /// the batch (the first dimension of the first input), D the product of the tensor's
    /// other dimensions (the row-major flattening ONNX Flatten(axis = 1) gives).
    /// - Throws: `.shapeMismatch` when the layer is not float32 or its first dimension is not
    ///   the batch.
    public func embeddingShape(layer: String, dtypes: [DType], shapes: [[Int]],
                               data: [UnsafeRawPointer?]? = nil) throws -> (rows: Int, cols: Int) {
        guard let info = try outputInfo(dtypes: dtypes, shapes: shapes, data: data, outputNames: [layer]).first else {
            throw StalwartError.internal("no shape for layer '\(layer)'")
        }
        guard info.dtype == .float32 else {
            throw StalwartError.shapeMismatch("layer '\(layer)' holds \(info.dtype), features must be float32")
        }
        let batch = shapes.first?.first ?? 1
        guard let n = info.shape.first, n == batch else {
            throw StalwartError.shapeMismatch("layer '\(layer)' has shape \(info.shape), which is not batched along its first dimension (batch \(batch))")
        }
        var d = 1
        for x in info.shape.dropFirst() {
            let (p, o) = d.multipliedReportingOverflow(by: x)
            guard !o else { throw StalwartError.outOfMemory("layer '\(layer)': feature size overflows") }
            d = p
        }
        return (n, d)
    }

    /// Runs the model up to `layer` (resolved: see `resolveLayer`) on one batch and writes its
    /// features, [N, D] float32 row-major, to `output` (N·D floats; `embeddingShape`).
    public func embed(inputs data: [UnsafeRawPointer], dtypes: [DType], shapes: [[Int]], layer: String,
                      output: UnsafeMutablePointer<Float>) throws {
        _ = try embeddingShape(layer: layer, dtypes: dtypes, shapes: shapes, data: data)
        try run(inputs: data, dtypes: dtypes, shapes: shapes, outputNames: [layer], outputs: [UnsafeMutableRawPointer(output)])
    }

    /// Convenience for one float32 input batch [N, ...]: the features of `layer` (nil =
    /// pre-logits) as N·D floats, with D.
    public func embed(_ input: Tensor, layer: String? = nil) throws -> (features: [Float], cols: Int) {
        let name = try resolveLayer(layer)
        let p = [UnsafeRawPointer(input.data)]
        let (n, d) = try embeddingShape(layer: name, dtypes: [input.dtype], shapes: [input.shape], data: p)
        let (count, o) = n.multipliedReportingOverflow(by: d)
        guard !o else { throw StalwartError.outOfMemory("features of \(n) × \(d) overflow") }
        var out = [Float](repeating: 0, count: count)
        try out.withUnsafeMutableBufferPointer { b in
            guard let base = b.baseAddress else { return }
            try run(inputs: p, dtypes: [input.dtype], shapes: [input.shape], outputNames: [name],
                    outputs: [UnsafeMutableRawPointer(base)])
        }
        return (out, d)
    }
}
