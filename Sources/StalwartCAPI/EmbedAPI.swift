// The C ABI of include/stalwart_embed.h: features of intermediate tensors. Every function is
// total (validates, maps errors to statuses, never traps) and leaves out-params untouched on
// failure.
import CStalwart
import Glibc
import StalwartONNX
import StalwartTensor

/// Copies `s` NUL-terminated into `buffer` (query-then-fill; see the header).
func copyName(_ s: String, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
              _ outLength: UnsafeMutablePointer<Int>?, _ fn: String) throws {
    let bytes = Array(s.utf8)
    if let buffer, capacity > 0 {
        guard capacity > bytes.count else {
            throw StalwartError.bufferTooSmall("\(fn): the name needs \(bytes.count + 1) bytes, buffer has \(capacity)")
        }
        bytes.withUnsafeBufferPointer { src in
            if let b = src.baseAddress {
                UnsafeMutableRawPointer(buffer).copyMemory(from: b, byteCount: bytes.count)
            }
        }
        buffer[bytes.count] = 0
    } else {
        guard capacity == 0 else { throw StalwartError.invalidArgument("\(fn): buffer is NULL but capacity is \(capacity)") }
        guard outLength != nil else { throw StalwartError.invalidArgument("\(fn): buffer and out_length are both NULL") }
    }
    outLength?.pointee = bytes.count
}

/// `layer` as a Swift string; NULL or "" → nil (the pre-logits).
func layerArgument(_ layer: UnsafePointer<CChar>?) -> String? {
    guard let layer, layer.pointee != 0 else { return nil }
    return String(cString: layer)
}

@c @implementation
public func stalwart_model_layer_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let model, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_layer_count: NULL argument") }
    out.pointee = handle(model).model.layerNames.count
    return STALWART_OK
}

@c @implementation
public func stalwart_model_layer_name(_ model: OpaquePointer?, _ index: Int, _ buffer: UnsafeMutablePointer<CChar>?,
                                      _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let model else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_layer_name: model is NULL") }
    return ErrorState.guarded {
        let names = handle(model).model.layerNames
        guard index >= 0, index < names.count else {
            throw StalwartError.invalidArgument("stalwart_model_layer_name: index \(index) out of range (model has \(names.count) layers)")
        }
        try copyName(names[index], buffer, capacity, outLength, "stalwart_model_layer_name")
    }
}

@c @implementation
public func stalwart_model_prelogits_name(_ model: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?,
                                          _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let model else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_prelogits_name: model is NULL") }
    return ErrorState.guarded {
        try copyName(try handle(model).model.preLogitsName(), buffer, capacity, outLength, "stalwart_model_prelogits_name")
    }
}

/// Validates the arguments of the embed functions and computes the feature shape.
private func bindEmbed(_ m: InferenceModel, _ layer: UnsafePointer<CChar>?, _ inputs: UnsafePointer<stalwart_tensor>?,
                       _ inputCount: Int, _ output: UnsafeMutablePointer<stalwart_tensor>?, needData: Bool)
    throws -> (name: String, bound: TensorBinding.Bound, rows: Int, cols: Int, output: UnsafeMutablePointer<stalwart_tensor>) {
    guard let output else { throw StalwartError.invalidArgument("output is NULL") }
    try TensorBinding.checkHeader(output.pointee, "output")
    let name = try m.resolveLayer(layerArgument(layer))
    let bound = try TensorBinding.inputs(m, inputs, inputCount, needData: needData)
    let (n, d) = try m.embeddingShape(layer: name, dtypes: bound.dtypes, shapes: bound.shapes, data: bound.given)
    return (name, bound, n, d, output)
}

private func describeFeatures(_ rows: Int, _ cols: Int, into t: UnsafeMutablePointer<stalwart_tensor>) throws {
    try TensorBinding.describe((dtype: .float32, shape: [rows, cols]), into: t)
}

@c @implementation
public func stalwart_model_embed_shape(_ model: OpaquePointer?, _ layer: UnsafePointer<CChar>?,
                                       _ inputs: UnsafePointer<stalwart_tensor>?, _ inputCount: Int,
                                       _ output: UnsafeMutablePointer<stalwart_tensor>?) -> stalwart_status {
    guard let model else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_embed_shape: model is NULL") }
    return ErrorState.guarded {
        let b = try bindEmbed(handle(model).model, layer, inputs, inputCount, output, needData: false)
        try describeFeatures(b.rows, b.cols, into: b.output)
    }
}

@c @implementation
public func stalwart_model_embed(_ model: OpaquePointer?, _ layer: UnsafePointer<CChar>?,
                                 _ inputs: UnsafePointer<stalwart_tensor>?, _ inputCount: Int,
                                 _ output: UnsafeMutablePointer<stalwart_tensor>?) -> stalwart_status {
    guard let model else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_embed: model is NULL") }
    return ErrorState.guarded {
        let m = handle(model).model
        let b = try bindEmbed(m, layer, inputs, inputCount, output, needData: true)
        let need = try Shape.byteCount([b.rows, b.cols], .float32)
        let t = b.output.pointee
        guard t.capacity_bytes >= need else {
            throw StalwartError.bufferTooSmall("features of layer '\(b.name)' need \(need) bytes ([\(b.rows), \(b.cols)] float32), buffer has \(t.capacity_bytes)")
        }
        guard let p = t.data else { throw StalwartError.invalidArgument("output data is NULL") }
        guard Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 else {
            throw StalwartError.invalidArgument("output data is not aligned to 4 bytes")
        }
        try m.run(inputs: b.bound.data, dtypes: b.bound.dtypes, shapes: b.bound.shapes, outputNames: [b.name], outputs: [p])
        try describeFeatures(b.rows, b.cols, into: b.output)
    }
}

@c @implementation
public func stalwart_options_keep_tensor(_ options: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> stalwart_status {
    guard let options else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_options_keep_tensor: options is NULL") }
    guard let name, name.pointee != 0 else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_options_keep_tensor: name is NULL or empty")
    }
    Unmanaged<ModelOptions>.fromOpaque(UnsafeRawPointer(options)).takeUnretainedValue().keep.insert(String(cString: name))
    return STALWART_OK
}
