import Glibc
import StalwartTensor

/// Reads ONNX bytes into a validated `Graph`: decodes the protobuf, checks the opset, turns
/// initializers and Constant nodes into tensors, resolves every node input, orders the nodes
/// topologically (rejecting cycles) and names the offending node in every error.
enum ModelLoader {
    static let minOpset = 7
    static let maxOpset = 21

    /// Loads from a file. The file is memory-mapped; weights are read from the mapping.
    static func load(path: String) throws -> Graph {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw StalwartError.io("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StalwartError.io("cannot stat '\(path)'") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw StalwartError.io("'\(path)' is not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { throw StalwartError.invalidModel("'\(path)' is empty") }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw StalwartError.io("cannot map '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { munmap(map, size) }
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        return try load(bytes: UnsafeRawBufferPointer(start: map, count: size), baseDirectory: dir.isEmpty ? "/" : dir)
    }

    /// Loads from bytes that stay valid for the duration of the call.
    static func load(bytes: UnsafeRawBufferPointer, baseDirectory: String?) throws -> Graph {
        guard bytes.count > 0 else { throw StalwartError.invalidModel("model is empty (0 bytes)") }
        let model = try ONNXDecoder.decodeModel(bytes)
        guard let g = model.graph else { throw StalwartError.invalidModel("model has no graph") }
        guard model.irVersion >= 3 else {
            throw StalwartError.invalidModel("not an ONNX model (ir_version \(model.irVersion)); the bytes may not be ONNX at all")
        }
        var opset = -1
        for o in model.opsetImports where o.domain == "" || o.domain == "ai.onnx" {
            opset = Int(clamping: o.version)
        }
        guard opset >= 0 else { throw StalwartError.invalidModel("model imports no default-domain opset") }
        guard opset >= minOpset, opset <= maxOpset else {
            throw StalwartError.unsupported("opset \(opset) is not supported (Stalwart supports default-domain opsets \(minOpset)–\(maxOpset))")
        }
        if g.sparseInitializerCount > 0 {
            throw StalwartError.unsupported("sparse initializers are not supported")
        }

        var constants: [String: Tensor] = [:]
        for t in g.initializers {
            guard !t.name.isEmpty else { throw StalwartError.invalidModel("an initializer has no name") }
            constants[t.name] = try TensorDecoding.decode(t, baseDirectory: baseDirectory, what: "initializer '\(t.name)'")
        }

        var inputs: [TensorSignature] = []
        for vi in g.inputs where constants[vi.name] == nil {
            inputs.append(try signature(vi, what: "graph input"))
        }
        var outputs: [TensorSignature] = []
        for vi in g.outputs { outputs.append(try signature(vi, what: "graph output")) }
        guard !outputs.isEmpty else { throw StalwartError.invalidModel("graph has no outputs") }

        var nodes: [IRNode] = []
        for (i, n) in g.nodes.enumerated() {
            let label = "\(n.opType) node '\(n.name.isEmpty ? (n.outputs.first ?? "#\(i)") : n.name)'"
            guard n.domain == "" || n.domain == "ai.onnx" else {
                throw StalwartError.unsupported("\(label): operator domain '\(n.domain)' is not supported")
            }
            guard !n.outputs.isEmpty else { throw StalwartError.invalidModel("\(label) has no outputs") }
            let node = IRNode(opType: n.opType, name: n.name, domain: n.domain, inputs: n.inputs,
                              outputs: n.outputs, attributes: try Attributes(node: label, n.attributes))
            nodes.append(node)
        }

        let ordered = try topologicalOrder(nodes, available: Set(inputs.map(\.name)).union(constants.keys))
        var producers = Set(inputs.map(\.name)).union(constants.keys)
        for n in ordered { for o in n.outputs where !o.isEmpty { producers.insert(o) } }
        for o in outputs where !producers.contains(o.name) {
            throw StalwartError.invalidModel("graph output '\(o.name)' is not produced by any node")
        }
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return Graph(nodes: ordered, constants: constants, inputs: inputs, outputs: outputs, opset: opset,
                     irVersion: Int(clamping: model.irVersion), producer: producer, metadata: model.metadataProps)
    }

    static func signature(_ vi: ValueInfoProto, what: String) throws -> TensorSignature {
        guard !vi.name.isEmpty else { throw StalwartError.invalidModel("a \(what) has no name") }
        guard let type = vi.type else {
            throw StalwartError.invalidModel("\(what) '\(vi.name)' has no type")
        }
        switch type {
        case .tensor(let elem, let shape):
            guard let dt = DType(rawValue: elem) else {
                throw StalwartError.unsupported("\(what) '\(vi.name)' has element type \(TensorDecoding.onnxTypeName(elem)), which is not supported")
            }
            var dims: [Int?] = [], names: [String?] = []
            for d in shape ?? [] {
                switch d {
                case .value(let v) where v >= 0: dims.append(Int(clamping: v)); names.append(nil)
                case .param(let p): dims.append(nil); names.append(p)
                default: dims.append(nil); names.append(nil)
                }
            }
            if shape == nil, what == "graph input" {
                throw StalwartError.unsupported("\(what) '\(vi.name)' has unknown rank")
            }
            return TensorSignature(name: vi.name, dtype: dt, dims: dims, dimNames: names)
        case .other(let kind):
            throw StalwartError.unsupported("\(what) '\(vi.name)' is a \(kind), only tensors are supported")
        }
    }

    /// Kahn's algorithm; ties keep the file order. Errors name the node with an unknown input
    /// or the nodes on a cycle.
    static func topologicalOrder(_ nodes: [IRNode], available: Set<String>) throws -> [IRNode] {
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.outputs where !o.isEmpty {
                if producer[o] != nil || available.contains(o) {
                    throw StalwartError.invalidModel("\(n.label): output '\(o)' is produced more than once")
                }
                producer[o] = i
            }
        }
        var indegree = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() {
            for name in n.inputs where !name.isEmpty {
                if available.contains(name) { continue }
                guard let p = producer[name] else {
                    throw StalwartError.invalidModel("\(n.label): input '\(name)' is not a graph input, initializer or node output")
                }
                indegree[i] += 1
                consumers[p].append(i)
            }
        }
        // Min-heap by index would keep file order exactly; a sorted ready list is fine here.
        var ready = (0..<nodes.count).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [IRNode] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(nodes[i])
            var newly: [Int] = []
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { newly.append(c) }
            }
            ready.append(contentsOf: newly.sorted(by: >))
        }
        if order.count != nodes.count {
            let stuck = (0..<nodes.count).filter { indegree[$0] > 0 }.prefix(3).map { nodes[$0].label }
            throw StalwartError.invalidModel("graph has a cycle through \(stuck.joined(separator: ", "))")
        }
        return order
    }
}
