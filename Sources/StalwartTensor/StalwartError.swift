/// The one error type that crosses module boundaries; each case maps to a `stalwart_status`.
/// Messages are complete sentences fragments meant for users: they name the node, tensor or
/// file involved.
public enum StalwartError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A caller passed a bad argument (NULL, out of range, invalid option).
    case invalidArgument(String)
    /// A file could not be opened, mapped or read.
    case io(String)
    /// The model bytes are not a valid ONNX model or the graph is inconsistent.
    case invalidModel(String)
    /// Valid ONNX that uses something Stalwart does not implement.
    case unsupported(String)
    /// Inputs do not match the model's declared or inferred shapes/types.
    case shapeMismatch(String)
    /// Allocation failure or size overflow.
    case outOfMemory(String)
    /// A caller-provided buffer is too small for the data to be written.
    case bufferTooSmall(String)
    /// Image bytes are corrupt, truncated, of an unsupported kind, or above the pixel limit.
    case decode(String)
    /// A bug in Stalwart.
    case `internal`(String)

    public var message: String {
        switch self {
        case .invalidArgument(let m), .io(let m), .invalidModel(let m), .unsupported(let m),
             .shapeMismatch(let m), .outOfMemory(let m), .bufferTooSmall(let m), .decode(let m), .internal(let m):
            return m
        }
    }

    public var description: String { message }

    /// Wraps a tensor allocation error.
    public init(_ e: TensorError) {
        switch e {
        case .outOfMemory, .shape: self = .outOfMemory(e.description)
        case .dtypeMismatch, .countMismatch: self = .shapeMismatch(e.description)
        }
    }

    /// Prefixes the message with context, keeping the case: `error.context("node 'conv1'")`.
    public func context(_ prefix: String) -> StalwartError {
        switch self {
        case .invalidArgument(let m): return .invalidArgument("\(prefix): \(m)")
        case .io(let m): return .io("\(prefix): \(m)")
        case .invalidModel(let m): return .invalidModel("\(prefix): \(m)")
        case .unsupported(let m): return .unsupported("\(prefix): \(m)")
        case .shapeMismatch(let m): return .shapeMismatch("\(prefix): \(m)")
        case .outOfMemory(let m): return .outOfMemory("\(prefix): \(m)")
        case .bufferTooSmall(let m): return .bufferTooSmall("\(prefix): \(m)")
        case .decode(let m): return .decode("\(prefix): \(m)")
        case .internal(let m): return .internal("\(prefix): \(m)")
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (no Foundation needed).
    public var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
