/// Element types, numbered as ONNX `TensorProto.DataType` (and `stalwart_dtype` in the C API).
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case int32 = 6
    case int64 = 7
    case bool = 9
    case float64 = 11

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .float32, .int32: return 4
        case .int64, .float64: return 8
        }
    }

    /// The lower-case ONNX name (`"float"`, `"int64"`, ...), as NumPy-minded users read it.
    public var description: String {
        switch self {
        case .float32: return "float32"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .int32: return "int32"
        case .int64: return "int64"
        case .bool: return "bool"
        case .float64: return "float64"
        }
    }
}
