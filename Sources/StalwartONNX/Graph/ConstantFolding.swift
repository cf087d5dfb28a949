import StalwartTensor

/// Evaluates, at load, every node whose inputs are all constants (e.g. weights produced by
/// ConstantOfShape, or Transpose/Reshape of initializers), so later passes and weight packing
/// see plain constants. Outputs larger than `maxElements` are left to run time.
enum ConstantFolding {
    static let maxElements = 1 << 26

    static func fold(_ g: Graph) throws {
        var kept: [IRNode] = []
        for node in g.nodes {
            let ins = node.inputs
            guard !ins.isEmpty, ins.allSatisfy({ $0.isEmpty || g.constants[$0] != nil }),
                  node.outputs.allSatisfy({ !$0.isEmpty }) else {
                kept.append(node); continue
            }
            let op = try OperatorRegistry.make(node, opset: g.opset, constants: g.constants)
            let inInfo: [ValueInfo?] = ins.map { $0.isEmpty ? nil : g.constants[$0].map { ValueInfo($0) } }
            let outInfo: [ValueInfo]
            do { outInfo = try op.infer(inInfo) } catch let e as StalwartError { throw e.context(node.label) }
            guard outInfo.count >= node.outputs.count,
                  outInfo.allSatisfy({ (try? Shape.elementCount($0.shape)).map { $0 <= maxElements } ?? false }) else {
                kept.append(node); continue
            }
            let values = outInfo.allSatisfy({ $0.constant != nil })
                ? outInfo : try ExecutionPlan.evaluate(op, node: node, inInfo, outInfo)
            for (k, name) in node.outputs.enumerated() {
                guard let c = values[k].constant else { throw StalwartError.internal("\(node.label): folding produced no value") }
                g.constants[name] = c
            }
        }
        g.nodes = kept
    }
}
