// The ONNX messages Stalwart reads, as plain Swift values.
//
// These mirror `onnx.proto` (proto2, IR version ≤ 14) field for field where Stalwart needs the
// field, and drop the rest (training info, quantization annotations, sharding, overloads).
// Absent fields take their protobuf defaults: 0, "", empty arrays, nil for absent sub-messages.
// Produced by `ONNXDecoder.decodeModel`; see `ONNXDecoder.swift` for the decoding rules.

/// A borrowed, read-only view of bytes inside the buffer passed to `ONNXDecoder.decodeModel`.
///
/// Ownership: the caller's buffer owns the memory. A `ByteSlice` is valid only while that buffer
/// is alive and unmodified (for a memory-mapped model: until it is unmapped). Nothing is copied,
/// so an 18 MB weight file costs no allocation to decode. Sharing between threads is safe for
/// reading, which is the only thing a `ByteSlice` allows.
public struct ByteSlice: @unchecked Sendable {
    /// First byte. Not necessarily aligned to anything: load with `loadUnaligned`.
    public let base: UnsafeRawPointer
    /// Length in bytes (≥ 0).
    public let count: Int

    public init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    /// The same bytes as a buffer pointer.
    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A copy of the bytes (for tests and small values).
    public var bytes: [UInt8] { [UInt8](buffer) }
}

/// `OperatorSetIdProto`: which version of an operator domain the model uses.
public struct OperatorSetId: Sendable, Equatable {
    /// "" (or "ai.onnx") is the default ONNX domain.
    public var domain: String = ""
    public var version: Int64 = 0
    public init(domain: String = "", version: Int64 = 0) {
        self.domain = domain
        self.version = version
    }
}

/// `ModelProto`: the top-level message of an `.onnx` file.
public struct ModelProto: Sendable {
    public var irVersion: Int64 = 0
    public var opsetImports: [OperatorSetId] = []
    public var producerName: String = ""
    public var producerVersion: String = ""
    public var domain: String = ""
    public var modelVersion: Int64 = 0
    public var docString: String = ""
    /// nil when the message has no `graph` field (a bare or empty protobuf).
    public var graph: GraphProto?
    /// Free-form key/value pairs, in file order (keys may repeat).
    public var metadataProps: [(key: String, value: String)] = []
    /// Number of `FunctionProto`s (model-local functions). Their bodies are not decoded.
    public var functionCount: Int = 0
    public init() {}
}

/// `GraphProto`: nodes in topological order plus the graph's weights and signature.
public struct GraphProto: Sendable {
    public var name: String = ""
    public var nodes: [NodeProto] = []
    /// Constant tensors (weights). Their `rawData` points into the model buffer.
    public var initializers: [TensorProto] = []
    /// Number of `sparse_initializer`s. They are not decoded; a model using them is unsupported.
    public var sparseInitializerCount: Int = 0
    public var inputs: [ValueInfoProto] = []
    public var outputs: [ValueInfoProto] = []
    public var valueInfo: [ValueInfoProto] = []
    public var docString: String = ""
    public init() {}
}

/// `NodeProto`: one operator application.
public struct NodeProto: Sendable {
    /// Input value names in order; "" marks an omitted optional input.
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var name: String = ""
    public var opType: String = ""
    /// "" is the default ONNX domain.
    public var domain: String = ""
    public var attributes: [AttributeProto] = []
    public var docString: String = ""
    public init() {}

    /// The first attribute named `name`, if any.
    public func attribute(_ name: String) -> AttributeProto? {
        attributes.first { $0.name == name }
    }
}

/// `AttributeProto.AttributeType`, with ONNX's numbering.
public enum AttributeType: Int32, Sendable, Equatable {
    case undefined = 0
    case float = 1
    case int = 2
    case string = 3
    case tensor = 4
    case graph = 5
    case floats = 6
    case ints = 7
    case strings = 8
    case tensors = 9
    case graphs = 10
    case sparseTensor = 11
    case sparseTensors = 12
    case typeProto = 13
    case typeProtos = 14
}

/// `AttributeProto`: a named operator parameter. `type` says which value field is meaningful;
/// a value ONNX encodes but Stalwart does not decode (sparse tensors, type protos) is skipped.
public struct AttributeProto: Sendable {
    public var name: String = ""
    /// `.undefined` when the field is absent or holds a number this enum does not know.
    public var type: AttributeType = .undefined
    /// The raw `type` number as found in the file (kept for error messages about unknown types).
    public var rawType: Int32 = 0
    public var f: Float = 0
    public var i: Int64 = 0
    /// UTF-8 text in ONNX practice, but protobuf `bytes`: kept as bytes.
    public var s: [UInt8] = []
    /// A tensor value (e.g. `Constant`'s `value`). Stored boxed, like `g`, to keep the struct small.
    public var t: TensorProto? {
        get { tensorBox?.value }
        set { tensorBox = newValue.map(Box.init) }
    }
    /// A sub-graph (e.g. `If`'s branches). Stored boxed; reading it is a retain.
    public var g: GraphProto? {
        get { graphBox?.value }
        set { graphBox = newValue.map(Box.init) }
    }
    public var floats: [Float] = []
    public var ints: [Int64] = []
    public var strings: [[UInt8]] = []
    public var tensors: [TensorProto] = []
    public var graphs: [GraphProto] = []
    /// Non-empty inside function bodies: the attribute refers to the caller's attribute of this name.
    public var refAttrName: String = ""
    public var docString: String = ""

    var tensorBox: Box<TensorProto>?
    var graphBox: Box<GraphProto>?

    public init() {}
}

/// One heap cell, so that a struct can hold a large or recursive value by reference.
final class Box<Value: Sendable>: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `TensorProto`: a tensor's type, shape and data.
///
/// The data is in exactly one place: `rawData` (little-endian, packed, the usual case for weights),
/// one of the typed arrays (which one depends on `dataType`, see `onnx.proto`), or an external
/// file described by `externalData` when `dataLocation == 1`.
public struct TensorProto: Sendable {
    public var dims: [Int64] = []
    /// `TensorProto.DataType` number: 1 float, 2 uint8, 3 int8, 6 int32, 7 int64, 9 bool,
    /// 10 float16, 11 double, … (kept raw: the ONNX layer maps it to a `DType`).
    public var dataType: Int32 = 0
    public var name: String = ""
    /// Borrowed from the model buffer, never copied. nil when the field is absent.
    public var rawData: ByteSlice?
    public var floatData: [Float] = []
    public var int32Data: [Int32] = []
    public var stringData: [[UInt8]] = []
    public var int64Data: [Int64] = []
    public var doubleData: [Double] = []
    public var uint64Data: [UInt64] = []
    /// `location`, `offset`, `length`, `checksum` entries when `dataLocation == 1`.
    public var externalData: [(key: String, value: String)] = []
    /// 0 = data in this message, 1 = external file.
    public var dataLocation: Int32 = 0
    public var docString: String = ""
    public init() {}
}

/// `ValueInfoProto`: a named value's declared type (graph inputs, outputs, annotations).
public struct ValueInfoProto: Sendable, Equatable {
    public var name: String = ""
    /// nil when the message has no `type` field.
    public var type: TypeProto?
    public var docString: String = ""
    public init(name: String = "", type: TypeProto? = nil, docString: String = "") {
        self.name = name
        self.type = type
        self.docString = docString
    }
}

/// `TypeProto`, reduced to what an image classifier engine needs.
public enum TypeProto: Sendable, Equatable {
    /// A dense tensor. `elemType` is a `TensorProto.DataType` number (0 if absent);
    /// `shape` is nil when the rank is unknown, `[]` for a scalar.
    case tensor(elemType: Int32, shape: [Dimension]?)
    /// Anything else, named for messages: "sequence(tensor(float))", "map(int64,tensor(float))",
    /// "optional(…)", "sparse_tensor(float)", "opaque(domain.name)", or "unset" when no
    /// variant is present.
    case other(String)
}

/// One dimension of a `TensorShapeProto`.
public enum Dimension: Sendable, Equatable, Hashable {
    /// A fixed size (ONNX allows any int64 here; negative values are the graph layer's concern).
    case value(Int64)
    /// A symbolic size such as "N" or "batch".
    case param(String)
    /// Neither set: any size.
    case unknown
}
