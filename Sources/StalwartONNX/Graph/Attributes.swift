import StalwartTensor

/// Typed, validated access to a node's attributes. Every accessor names the node and the
/// attribute in its error.
public struct Attributes {
    let node: String
    let byName: [String: AttributeProto]
    /// Tensor-valued attributes, decoded while the model bytes are alive (their raw_data
    /// points into the file mapping, which is gone after loading).
    let tensors: [String: Tensor]

    init(node: String, _ list: [AttributeProto]) throws {
        self.node = node
        var d: [String: AttributeProto] = [:]
        var t: [String: Tensor] = [:]
        for a in list {
            if !a.refAttrName.isEmpty {
                throw StalwartError.unsupported("\(node): attribute '\(a.name)' refers to a function attribute")
            }
            var copy = a
            if let tp = a.t, a.type == .tensor || a.type == .undefined {
                t[a.name] = try TensorDecoding.decode(tp, baseDirectory: nil, what: "\(node) attribute '\(a.name)'")
            }
            copy.t = nil
            copy.g = nil
            copy.tensors = []
            copy.graphs = []
            d[a.name] = copy
        }
        self.byName = d
        self.tensors = t
    }

    public func has(_ name: String) -> Bool { byName[name] != nil }
    public var names: [String] { Array(byName.keys) }

    private func get(_ name: String, _ type: AttributeType) throws -> AttributeProto? {
        guard let a = byName[name] else { return nil }
        // Some exporters leave `type` unset (0); accept when the payload fits.
        if a.type != type && a.type != .undefined {
            throw StalwartError.invalidModel("\(node): attribute '\(name)' has type \(a.type), expected \(type)")
        }
        return a
    }

    public func int(_ name: String) throws -> Int? {
        guard let a = try get(name, .int) else { return nil }
        guard let v = Int(exactly: a.i) else { throw StalwartError.invalidModel("\(node): attribute '\(name)' out of range") }
        return v
    }
    public func int(_ name: String, default d: Int) throws -> Int { try int(name) ?? d }

    public func float(_ name: String) throws -> Float? { try get(name, .float)?.f }
    public func float(_ name: String, default d: Float) throws -> Float { try float(name) ?? d }

    public func ints(_ name: String) throws -> [Int]? {
        guard let a = try get(name, .ints) else { return nil }
        return try a.ints.map {
            guard let v = Int(exactly: $0) else { throw StalwartError.invalidModel("\(node): attribute '\(name)' out of range") }
            return v
        }
    }
    public func floats(_ name: String) throws -> [Float]? { try get(name, .floats)?.floats }

    public func string(_ name: String) throws -> String? {
        guard let a = try get(name, .string) else { return nil }
        return String(decoding: a.s, as: UTF8.self)
    }
    public func string(_ name: String, default d: String) throws -> String { try string(name) ?? d }

    /// A tensor attribute, decoded at load.
    public func tensor(_ name: String) throws -> Tensor? {
        guard try get(name, .tensor) != nil else { return nil }
        guard let t = tensors[name] else { throw StalwartError.invalidModel("\(node): attribute '\(name)' has no tensor") }
        return t
    }

    /// Throws `unsupported` naming the first attribute not in `known`.
    public func check(known: Set<String>) throws {
        for k in byName.keys where !known.contains(k) {
            throw StalwartError.unsupported("\(node): attribute '\(k)' is not supported")
        }
    }
}
