import StalwartTensor

/// A graph input or output as declared by the model.
public struct TensorSignature: Sendable {
    public let name: String
    public let dtype: DType
    /// Declared dimensions; nil entries are symbolic or unknown (reported as -1 in the C API).
    public let dims: [Int?]
    /// Symbolic dimension names (nil where fixed or unnamed), e.g. "N" for the batch.
    public let dimNames: [String?]
}

/// One operator instance in Stalwart's graph IR. Values are referred to by name; an empty
/// name is an absent optional input.
public final class IRNode {
    public var opType: String
    public var name: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: Attributes
    /// Set by the optimizer when Conv absorbed a following activation (and maybe a residual
    /// Add, which is then `inputs[3]`).
    public var fusedActivation: FusedActivation = .none
    public var fusedResidual: Bool = false

    init(opType: String, name: String, domain: String, inputs: [String], outputs: [String], attributes: Attributes) {
        self.opType = opType; self.name = name; self.domain = domain
        self.inputs = inputs; self.outputs = outputs; self.attributes = attributes
    }

    /// "Conv 'name'" for error messages (falls back to the first output when unnamed).
    public var label: String {
        "\(opType) node '\(name.isEmpty ? (outputs.first ?? "?") : name)'"
    }
}

/// The whole model after loading and optimization: topologically ordered nodes, constant
/// tensors, declared inputs and outputs. Immutable once `ModelLoader` returns it.
public final class Graph {
    public internal(set) var nodes: [IRNode]
    public internal(set) var constants: [String: Tensor]
    public let inputs: [TensorSignature]
    public let outputs: [TensorSignature]
    /// Default-domain opset the model imports.
    public let opset: Int
    public let irVersion: Int
    public let producer: String
    public let metadata: [(key: String, value: String)]
    /// Tensors that load-time fusion removed: name → the tensor that now carries the fused
    /// chain's result and the label of the node computing it.
    public internal(set) var fusedAway: [String: (tensor: String, node: String)] = [:]

    init(nodes: [IRNode], constants: [String: Tensor], inputs: [TensorSignature],
         outputs: [TensorSignature], opset: Int, irVersion: Int, producer: String,
         metadata: [(key: String, value: String)]) {
        self.nodes = nodes; self.constants = constants; self.inputs = inputs; self.outputs = outputs
        self.opset = opset; self.irVersion = irVersion; self.producer = producer; self.metadata = metadata
    }
}
