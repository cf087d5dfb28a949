import CStalwart
import StalwartONNX
import StalwartTensor

/// Validates `stalwart_tensor` arrays and binds them to model inputs/outputs.
enum TensorBinding {
    struct Bound {
        var data: [UnsafeRawPointer]
        /// Data pointers as given (nil where the caller passed none); shape queries use them
        /// for small integer inputs that define shapes.
        var given: [UnsafeRawPointer?]
        var dtypes: [DType]
        var shapes: [[Int]]
    }

    /// Binds inputs and output entries and computes the output types/shapes for them.
    static func bind(_ m: InferenceModel, _ inputs: UnsafePointer<stalwart_tensor>?, _ inputCount: Int,
                     _ outputs: UnsafeMutablePointer<stalwart_tensor>?, _ outputCount: Int, needData: Bool)
        throws -> (inputs: Bound, slots: [Int], infos: [(dtype: DType, shape: [Int])]) {
        let bound = try TensorBinding.inputs(m, inputs, inputCount, needData: needData)
        let slots = try TensorBinding.outputs(m, outputs, outputCount)
        let infos = try m.outputInfo(dtypes: bound.dtypes, shapes: bound.shapes, data: bound.given)
        return (bound, slots, infos)
    }

    static func checkHeader(_ t: stalwart_tensor, _ what: String) throws {
        guard t.struct_size >= UInt32(MemoryLayout<stalwart_tensor>.size) else {
            throw StalwartError.invalidArgument("\(what): struct_size is \(t.struct_size), expected sizeof(stalwart_tensor) = \(MemoryLayout<stalwart_tensor>.size)")
        }
    }

    static func name(_ t: stalwart_tensor) -> String? { t.name.map { String(cString: $0) } }

    /// Resolves entry → input index, checks dtype/rank/byte size, returns data in model order.
    static func inputs(_ m: InferenceModel, _ p: UnsafePointer<stalwart_tensor>?, _ n: Int, needData: Bool) throws -> Bound {
        let count = m.inputs.count
        guard n == count else {
            throw StalwartError.shapeMismatch("model has \(count) input(s) (\(m.inputs.map(\.name).joined(separator: ", "))), got \(n)")
        }
        guard n == 0 || p != nil else { throw StalwartError.invalidArgument("inputs is NULL") }
        var data = [UnsafeRawPointer?](repeating: nil, count: count)
        var dtypes = [DType](repeating: .float32, count: count)
        var shapes = [[Int]](repeating: [], count: count)
        var seen = Set<Int>()
        for k in 0..<n {
            let t = p.unsafelyUnwrapped[k]
            try checkHeader(t, "input \(k)")
            var idx = k
            if let nm = name(t) {
                guard let i = m.inputs.firstIndex(where: { $0.name == nm }) else {
                    throw StalwartError.shapeMismatch("model has no input named '\(nm)' (inputs: \(m.inputs.map(\.name).joined(separator: ", ")))")
                }
                idx = i
            }
            guard seen.insert(idx).inserted else { throw StalwartError.invalidArgument("input '\(m.inputs[idx].name)' is bound twice") }
            guard let dt = DType(rawValue: t.dtype) else { throw StalwartError.invalidArgument("input \(k): unknown dtype \(t.dtype)") }
            guard t.rank <= Int(STALWART_MAX_RANK) else { throw StalwartError.invalidArgument("input \(k): rank \(t.rank) exceeds STALWART_MAX_RANK") }
            let shape = withUnsafeBytes(of: t.shape) { raw in (0..<t.rank).map { Int(truncatingIfNeeded: raw.load(fromByteOffset: $0 * 8, as: Int64.self)) } }
            for d in shape where d <= 0 {
                throw StalwartError.shapeMismatch("input '\(m.inputs[idx].name)' has a zero-sized or negative dimension: \(shape)")
            }
            if needData || t.data != nil {
                let bytes = try Shape.byteCount(shape, dt)
                guard let d = t.data else { throw StalwartError.invalidArgument("input '\(m.inputs[idx].name)': data is NULL") }
                guard t.capacity_bytes >= bytes else {
                    throw StalwartError.invalidArgument("input '\(m.inputs[idx].name)': capacity_bytes \(t.capacity_bytes) is less than the \(bytes) bytes of shape \(shape) \(dt)")
                }
                data[idx] = UnsafeRawPointer(d)
            }
            dtypes[idx] = dt; shapes[idx] = shape
        }
        let sentinel = UnsafeRawPointer(bitPattern: 64).unsafelyUnwrapped
        return Bound(data: data.map { $0 ?? sentinel }, given: data, dtypes: dtypes, shapes: shapes)
    }

    /// Resolves each output entry to a model output index.
    static func outputs(_ m: InferenceModel, _ p: UnsafeMutablePointer<stalwart_tensor>?, _ n: Int) throws -> [Int] {
        guard n >= 0, n <= m.outputs.count else { throw StalwartError.invalidArgument("model has \(m.outputs.count) output(s), got \(n) output entries") }
        guard n == 0 || p != nil else { throw StalwartError.invalidArgument("outputs is NULL") }
        var out: [Int] = []
        for k in 0..<n {
            let t = p.unsafelyUnwrapped[k]
            try checkHeader(t, "output \(k)")
            var idx = k
            if let nm = name(t) {
                guard let i = m.outputs.firstIndex(where: { $0.name == nm }) else {
                    throw StalwartError.invalidArgument("model has no output named '\(nm)'")
                }
                idx = i
            }
            guard !out.contains(idx) else {
                throw StalwartError.invalidArgument("output '\(m.outputs[idx].name)' is bound twice")
            }
            out.append(idx)
        }
        return out
    }

    /// Writes dtype, rank and shape of an output into a tensor entry.
    static func describe(_ info: (dtype: DType, shape: [Int]), into t: UnsafeMutablePointer<stalwart_tensor>) throws {
        guard info.shape.count <= Int(STALWART_MAX_RANK) else {
            throw StalwartError.unsupported("output rank \(info.shape.count) exceeds STALWART_MAX_RANK")
        }
        t.pointee.dtype = info.dtype.rawValue
        t.pointee.rank = info.shape.count
        withUnsafeMutableBytes(of: &t.pointee.shape) { raw in
            for (k, d) in info.shape.enumerated() { raw.storeBytes(of: Int64(d), toByteOffset: k * 8, as: Int64.self) }
        }
    }
}
