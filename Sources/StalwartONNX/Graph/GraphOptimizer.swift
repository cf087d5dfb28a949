import Glibc
import StalwartTensor

/// Load-time graph rewrites, applied once:
/// 1. Constant nodes become constant tensors.
/// 2. Into each Conv with constant weights, fold what follows it through a single-consumer
///    chain: BatchNormalization, Mul/Div by a per-channel constant, Add/Sub of a per-channel
///    constant (the unfused batch norm tf2onnx writes), then one activation (Relu, Clip,
///    LeakyRelu, HardSigmoid, HardSwish, Sigmoid), or a residual Add followed by an activation.
/// Folding is exact algebra on the weights (w' = w·s, b' = b·s + t), done in Float64.
/// Tensors named in `keep` (and graph outputs) are never fused away; every tensor that fusion
/// removes is recorded in `Graph.fusedAway` with the tensor that now holds the fused result.
enum GraphOptimizer {
    static func optimize(_ g: Graph, keep: Set<String> = []) throws {
        try foldConstantNodes(g)
        try ConstantFolding.fold(g)
        fuseConvChains(g, keep: keep)
        // A fused residual may be produced after the conv in file order: re-sort.
        g.nodes = try ModelLoader.topologicalOrder(g.nodes, available: Set(g.inputs.map(\.name)).union(g.constants.keys))
    }

    static func foldConstantNodes(_ g: Graph) throws {
        var kept: [IRNode] = []
        for n in g.nodes {
            guard n.opType == "Constant" else { kept.append(n); continue }
            guard n.outputs.count == 1 else { throw StalwartError.invalidModel("\(n.label) must have one output") }
            let a = n.attributes
            let t: Tensor
            if let v = try a.tensor("value") {
                t = v
            } else if let f = try a.float("value_float") {
                t = try Tensor(shape: [], floats: [f])
            } else if let fs = try a.floats("value_floats") {
                t = try Tensor(shape: [fs.count], floats: fs)
            } else if let i = try a.int("value_int") {
                t = try Tensor(shape: [], int64s: [Int64(i)])
            } else if let is_ = try a.ints("value_ints") {
                t = try Tensor(shape: [is_.count], int64s: is_.map { Int64($0) })
            } else {
                throw StalwartError.unsupported("\(n.label): only tensor, float(s) and int(s) values are supported")
            }
            g.constants[n.outputs[0]] = t
        }
        g.nodes = kept
    }

    static func fuseConvChains(_ g: Graph, keep: Set<String> = []) {
        var consumers: [String: Int] = [:]
        for n in g.nodes { for i in n.inputs where !i.isEmpty { consumers[i, default: 0] += 1 } }
        for o in g.outputs { consumers[o.name, default: 0] += 100 }  // never fuse away a graph output
        for k in keep { consumers[k, default: 0] += 100 }            // nor a tensor the caller will read
        var byInput: [String: IRNode] = [:]
        for n in g.nodes { for i in n.inputs where !i.isEmpty { byInput[i] = n } }
        var removed = Set<ObjectIdentifier>()

        for conv in g.nodes where conv.opType == "Conv" {
            guard let wName = conv.inputs.count > 1 ? conv.inputs[1] : nil, let w = g.constants[wName],
                  w.dtype == .float32, w.shape.count >= 3 else { continue }
            let cout = w.shape[0]
            let per = w.count / max(cout, 1)
            var scale = [Double](repeating: 1, count: cout)
            var shift = [Double](repeating: 0, count: cout)
            if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
                guard let b = g.constants[conv.inputs[2]], b.dtype == .float32, b.count == cout else { continue }
                for o in 0..<cout { shift[o] = Double(b.floats[o]) }
            }
            var changed = false
            var tail = conv  // the node whose output the fused conv now produces
            var chain = conv.outputs  // tensors of the chain (all but the last disappear)

            // Affine folds.
            while true {
                let y = tail.outputs[0]
                guard consumers[y] == 1, let next = byInput[y], !removed.contains(ObjectIdentifier(next)),
                      let (s, t) = affine(next, input: y, channels: cout, spatialRank: w.shape.count - 2, g) else { break }
                for o in 0..<cout { scale[o] *= s[o]; shift[o] = shift[o] * s[o] + t[o] }
                removed.insert(ObjectIdentifier(next))
                chain += next.outputs
                tail = next; changed = true
            }
            var outputName = tail.outputs[0]
            // Residual Add, then activation.
            if consumers[outputName] == 1, let add = byInput[outputName], add.opType == "Add", add.inputs.count == 2,
               !removed.contains(ObjectIdentifier(add)) {
                let other = add.inputs[0] == outputName ? add.inputs[1] : add.inputs[0]
                if other != outputName, g.constants[other] == nil {
                    conv.fusedResidual = true
                    conv.inputs = [conv.inputs[0], conv.inputs[1], conv.inputs.count > 2 ? conv.inputs[2] : "", other]
                    removed.insert(ObjectIdentifier(add))
                    chain += add.outputs
                    outputName = add.outputs[0]; changed = true
                }
            }
            if consumers[outputName] == 1, let act = byInput[outputName], !removed.contains(ObjectIdentifier(act)),
               let a = activation(act, g) {
                conv.fusedActivation = a
                removed.insert(ObjectIdentifier(act))
                chain += act.outputs
                outputName = act.outputs[0]; changed = true
            }
            guard changed else { continue }
            // Every intermediate tensor of the chain is gone: remember where its value went.
            for name in chain where name != outputName && !name.isEmpty { g.fusedAway[name] = (outputName, conv.label) }
            if scale.contains(where: { $0 != 1 }) || shift.contains(where: { $0 != 0 }) || conv.inputs.count > 2 {
                guard let nw = try? Tensor(dtype: .float32, shape: w.shape),
                      let nb = try? Tensor(dtype: .float32, shape: [cout]) else { continue }
                for o in 0..<cout {
                    let s = scale[o]
                    for k in 0..<per { nw.floats[o * per + k] = Float(Double(w.floats[o * per + k]) * s) }
                    nb.floats[o] = Float(shift[o])
                }
                let base = conv.name.isEmpty ? outputName : conv.name
                g.constants["\(base)::folded_weight"] = nw
                g.constants["\(base)::folded_bias"] = nb
                var ins = conv.inputs
                while ins.count < 3 { ins.append("") }
                ins[1] = "\(base)::folded_weight"; ins[2] = "\(base)::folded_bias"
                conv.inputs = ins
            }
            conv.outputs = [outputName]
        }
        g.nodes = g.nodes.filter { !removed.contains(ObjectIdentifier($0)) }
        // Drop constants nobody reads any more (the unfolded weights).
        var used = Set<String>()
        for n in g.nodes { for i in n.inputs { used.insert(i) } }
        for o in g.outputs { used.insert(o.name) }
        for k in Array(g.constants.keys) where !used.contains(k) { g.constants[k] = nil }
    }

    /// Per-channel (scale, shift) when `n` is an affine op on `input` with constant per-channel
    /// parameters for an NC... tensor with `channels` channels.
    static func affine(_ n: IRNode, input: String, channels c: Int, spatialRank: Int, _ g: Graph) -> ([Double], [Double])? {
        func perChannel(_ name: String) -> [Double]? {
            guard let t = g.constants[name], t.dtype == .float32 else { return nil }
            if t.count == 1 && t.shape.count <= spatialRank + 2 { return Array(repeating: Double(t.floats[0]), count: c) }
            // Broadcast against [N, C, spatial...]: the one non-1 dimension must line up with
            // the channel axis, i.e. be followed by exactly `spatialRank` dimensions of 1
            // ([C,1,1] or [1,C,1,1] for a 2-D conv; a [C] or [C,1] would hit W or H instead).
            let nonOne = t.shape.enumerated().filter { $0.element != 1 }
            guard t.count == c, nonOne.count == 1, t.shape.count <= spatialRank + 2,
                  t.shape.count - 1 - nonOne[0].offset == spatialRank else { return nil }
            return (0..<c).map { Double(t.floats[$0]) }
        }
        switch n.opType {
        case "BatchNormalization":
            guard n.inputs.count == 5, n.inputs[0] == input, (try? n.attributes.int("training_mode", default: 0)) == 0,
                  n.outputs.count == 1 || n.outputs.dropFirst().allSatisfy({ $0.isEmpty }),
                  let s = g.constants[n.inputs[1]], let b = g.constants[n.inputs[2]],
                  let m = g.constants[n.inputs[3]], let v = g.constants[n.inputs[4]],
                  [s, b, m, v].allSatisfy({ $0.dtype == .float32 && $0.count == c }) else { return nil }
            let eps = Double((try? n.attributes.float("epsilon", default: 1e-5)) ?? 1e-5)
            var sc = [Double](repeating: 0, count: c), sh = [Double](repeating: 0, count: c)
            for o in 0..<c {
                let k = Double(s.floats[o]) / (Double(v.floats[o]) + eps).squareRoot()
                sc[o] = k; sh[o] = Double(b.floats[o]) - Double(m.floats[o]) * k
            }
            return (sc, sh)
        case "Mul", "Add", "Sub", "Div":
            guard n.inputs.count == 2 else { return nil }
            let first = n.inputs[0] == input
            let other = first ? n.inputs[1] : n.inputs[0]
            guard n.inputs[0] == input || n.inputs[1] == input, other != input, let p = perChannel(other) else { return nil }
            switch n.opType {
            case "Mul": return (p, Array(repeating: 0, count: c))
            case "Add": return (Array(repeating: 1, count: c), p)
            case "Sub": return first ? (Array(repeating: 1, count: c), p.map { -$0 }) : nil
            default: return first && !p.contains(0) ? (p.map { 1 / $0 }, Array(repeating: 0, count: c)) : nil
            }
        default: return nil
        }
    }

    /// The fusable activation `n` computes, when its parameters are constant.
    static func activation(_ n: IRNode, _ g: Graph) -> FusedActivation? {
        let a = n.attributes
        switch n.opType {
        case "Relu": return .relu
        case "Sigmoid": return .sigmoid
        case "HardSwish": return .hardSwish
        case "LeakyRelu": return .leakyRelu(alpha: (try? a.float("alpha", default: 0.01)) ?? 0.01)
        case "HardSigmoid":
            guard let al = try? a.float("alpha", default: 0.2), let be = try? a.float("beta", default: 0.5) else { return nil }
            return .hardSigmoid(alpha: al, beta: be)
        case "Clip":
            if g.opset < 11 {
                guard let lo = try? a.float("min", default: -.greatestFiniteMagnitude),
                      let hi = try? a.float("max", default: .greatestFiniteMagnitude) else { return nil }
                return .clip(min: lo, max: hi)
            }
            func bound(_ i: Int, _ d: Float) -> Float? {
                guard i < n.inputs.count, !n.inputs[i].isEmpty else { return d }
                guard let t = g.constants[n.inputs[i]], t.dtype == .float32, t.count == 1 else { return nil }
                return t.floats[0]
            }
            guard let lo = bound(1, -.infinity), let hi = bound(2, .infinity) else { return nil }
            return .clip(min: lo, max: hi)
        default: return nil
        }
    }
}
