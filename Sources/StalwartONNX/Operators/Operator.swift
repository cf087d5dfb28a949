import StalwartTensor

/// What the planner knows about a value for one set of input shapes: its element type, its
/// concrete shape, and its contents when they are known before running (constants and
/// everything folded from them, e.g. Shape → Gather → Concat chains).
public struct ValueInfo {
    public var dtype: DType
    public var shape: [Int]
    public var constant: Tensor?

    public init(_ dtype: DType, _ shape: [Int], constant: Tensor? = nil) {
        self.dtype = dtype; self.shape = shape; self.constant = constant
    }
    public init(_ t: Tensor) { self.init(t.dtype, t.shape, constant: t) }
}

/// Buffers of one operator invocation. Input pointers are nil for absent optional inputs.
/// All buffers are dense row-major; output buffers are exactly as large as the shapes
/// `infer` returned. `scratch` holds `scratchBytes` bytes (64-byte aligned) or is nil.
public struct OpIO {
    public var inputs: [UnsafeRawPointer?]
    public var inputInfo: [ValueInfo?]
    public var outputs: [UnsafeMutableRawPointer]
    public var outputInfo: [ValueInfo]
    public var scratch: UnsafeMutableRawPointer?
    public let pool: ThreadPool

    @inline(__always) func f(_ i: Int) -> UnsafePointer<Float> {
        inputs[i].unsafelyUnwrapped.assumingMemoryBound(to: Float.self)
    }
    @inline(__always) func out(_ i: Int) -> UnsafeMutablePointer<Float> {
        outputs[i].assumingMemoryBound(to: Float.self)
    }
}

/// An ONNX operator prepared from one node: attributes parsed and validated at load, constant
/// weights packed. Immutable; `execute` is reentrant (all mutable state is in `OpIO`).
public protocol Operator: AnyObject {
    /// Output types and shapes for the given inputs (nil = absent optional input). May attach
    /// `constant` to outputs it can compute from shapes alone (Shape). Throws
    /// `shapeMismatch`/`invalidModel` for inconsistent inputs.
    func infer(_ inputs: [ValueInfo?]) throws -> [ValueInfo]
    /// Bytes of scratch `execute` needs for these inputs.
    func scratchBytes(_ inputs: [ValueInfo?], threads: Int) -> Int
    /// Computes the outputs.
    func execute(_ io: OpIO) throws
    /// When non-nil, output 0 is input `aliasInput`'s bytes reinterpreted with the new shape
    /// (Reshape, Flatten, Squeeze, ...): the planner shares the buffer instead of copying.
    var aliasInput: Int? { get }
    /// When non-nil, output 0 may be written over input `overwritableInput` (same shape) if
    /// nothing reads that input afterwards: the operator reads each of its elements before it
    /// stores the same output element. The planner then shares the buffer.
    var overwritableInput: Int? { get }
}

extension Operator {
    public func scratchBytes(_ inputs: [ValueInfo?], threads: Int) -> Int { 0 }
    public var aliasInput: Int? { nil }
    public var overwritableInput: Int? { nil }
}

/// Context for building operators: the node, the model opset, and constant lookup.
struct OpBuildContext {
    let node: IRNode
    let opset: Int
    let constants: [String: Tensor]

    var attrs: Attributes { node.attributes }

    /// The constant tensor behind input `i`, if that input is a constant.
    func constant(_ i: Int) -> Tensor? {
        guard i < node.inputs.count, !node.inputs[i].isEmpty else { return nil }
        return constants[node.inputs[i]]
    }
    func hasInput(_ i: Int) -> Bool { i < node.inputs.count && !node.inputs[i].isEmpty }

    func fail(_ m: String) -> StalwartError { .invalidModel("\(node.label): \(m)") }
    func unsupported(_ m: String) -> StalwartError { .unsupported("\(node.label): \(m)") }
}

/// Shape checks shared by operators.
enum Check {
    static func inputs(_ ins: [ValueInfo?], min: Int, max: Int, _ op: String) throws {
        guard ins.count >= min, ins.count <= max else {
            throw StalwartError.invalidModel("\(op) takes \(min)...\(max) inputs, got \(ins.count)")
        }
        for i in 0..<min where ins[i] == nil {
            throw StalwartError.invalidModel("\(op): required input \(i) is missing")
        }
    }
    static func float(_ v: ValueInfo, _ what: String) throws {
        guard v.dtype == .float32 else {
            throw StalwartError.unsupported("\(what) must be float32, got \(v.dtype)")
        }
    }
    /// Normalizes a possibly negative axis against `rank`.
    static func axis(_ a: Int, rank: Int, _ what: String = "axis") throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0, r < max(rank, 1) else {
            throw StalwartError.invalidModel("\(what) \(a) is out of range for rank \(rank)")
        }
        return r
    }
}
