// The C ABI of include/stalwart.h. Every function here is total: it validates its
// arguments, catches every Swift error and maps it to a stalwart_status, and never traps.
// This file and ErrorState.swift are the only places that deal in Unmanaged/OpaquePointer.
import CStalwart
import Glibc
import StalwartONNX
import StalwartTensor

/// Load-time options behind `stalwart_options`.
final class ModelOptions {
    var threads: Int32 = 0
    /// Tensors that graph fusion must keep computable (`stalwart_options_keep_tensor`).
    var keep: Set<String> = []
}

// MARK: - Library information

@c @implementation
public func stalwart_api_version() -> UInt32 { UInt32(STALWART_API_VERSION) }

@c @implementation
public func stalwart_version() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(stalwartVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func stalwart_last_error() -> UnsafePointer<CChar>? { ErrorState.current() }

@c @implementation
public func stalwart_status_string(_ status: stalwart_status) -> UnsafePointer<CChar>? {
    StatusNames.name(status)
}

// MARK: - Options

@c @implementation
public func stalwart_options_create(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_options_create: out is NULL") }
    out.pointee = OpaquePointer(Unmanaged.passRetained(ModelOptions()).toOpaque())
    return STALWART_OK
}

@c @implementation
public func stalwart_options_free(_ options: OpaquePointer?) {
    guard let options else { return }
    Unmanaged<ModelOptions>.fromOpaque(UnsafeRawPointer(options)).release()
}

@c @implementation
public func stalwart_options_set_threads(_ options: OpaquePointer?, _ threads: Int32) -> stalwart_status {
    guard let options else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_options_set_threads: options is NULL") }
    guard threads >= 0, threads <= 1024 else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "threads must be between 0 (all cores) and 1024, got \(threads)")
    }
    Unmanaged<ModelOptions>.fromOpaque(UnsafeRawPointer(options)).takeUnretainedValue().threads = threads
    return STALWART_OK
}

// MARK: - Models

/// The object behind `stalwart_model`: the model plus C strings of its names.
final class ModelHandle {
    let model: InferenceModel
    let inputNames: [UnsafeMutablePointer<CChar>]
    let outputNames: [UnsafeMutablePointer<CChar>]
    /// metadata_props as C strings (key, value), in file order.
    let metadata: [(key: UnsafeMutablePointer<CChar>, value: UnsafeMutablePointer<CChar>)]

    init(_ model: InferenceModel) throws {
        self.model = model
        var all: [UnsafeMutablePointer<CChar>] = []
        func dup(_ s: String) throws -> UnsafeMutablePointer<CChar> {
            guard let p = strdup(s) else { throw StalwartError.outOfMemory("cannot copy string '\(s.prefix(40))'") }
            all.append(p)
            return p
        }
        do {
            inputNames = try model.inputs.map { try dup($0.name) }
            outputNames = try model.outputs.map { try dup($0.name) }
            metadata = try model.metadata.map { (try dup($0.key), try dup($0.value)) }
        } catch {
            for p in all { free(p) }
            throw error
        }
    }
    deinit {
        for p in inputNames { free(p) }
        for p in outputNames { free(p) }
        for kv in metadata { free(kv.key); free(kv.value) }
    }
}

@inline(__always)
func handle(_ p: OpaquePointer) -> ModelHandle {
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

func threadsOption(_ options: OpaquePointer?) -> Int {
    guard let options else { return 0 }
    return Int(Unmanaged<ModelOptions>.fromOpaque(UnsafeRawPointer(options)).takeUnretainedValue().threads)
}

func keepOption(_ options: OpaquePointer?) -> Set<String> {
    guard let options else { return [] }
    return Unmanaged<ModelOptions>.fromOpaque(UnsafeRawPointer(options)).takeUnretainedValue().keep
}

@c @implementation
public func stalwart_model_load(_ path: UnsafePointer<CChar>?, _ options: OpaquePointer?,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let path else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_load: path is NULL") }
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_load: out is NULL") }
    return ErrorState.guarded {
        let m = try InferenceModel(path: String(cString: path), threads: threadsOption(options), keep: keepOption(options))
        out.pointee = OpaquePointer(Unmanaged.passRetained(try ModelHandle(m)).toOpaque())
    }
}

@c @implementation
public func stalwart_model_load_from_memory(_ data: UnsafeRawPointer?, _ size: Int, _ options: OpaquePointer?,
                                            _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let data else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_load_from_memory: data is NULL") }
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_load_from_memory: out is NULL") }
    guard size > 0 else { return ErrorState.fail(STALWART_ERROR_INVALID_MODEL, "model is empty (0 bytes)") }
    return ErrorState.guarded {
        let m = try InferenceModel(bytes: UnsafeRawBufferPointer(start: data, count: size), threads: threadsOption(options),
                                   keep: keepOption(options))
        out.pointee = OpaquePointer(Unmanaged.passRetained(try ModelHandle(m)).toOpaque())
    }
}

@c @implementation
public func stalwart_model_free(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

@c @implementation
public func stalwart_model_input_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let model, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_input_count: NULL argument") }
    out.pointee = handle(model).inputNames.count
    return STALWART_OK
}

@c @implementation
public func stalwart_model_output_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let model, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_output_count: NULL argument") }
    out.pointee = handle(model).outputNames.count
    return STALWART_OK
}

func name(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?, input: Bool) -> stalwart_status {
    let fn = input ? "stalwart_model_input_name" : "stalwart_model_output_name"
    guard let model, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "\(fn): NULL argument") }
    let names = input ? handle(model).inputNames : handle(model).outputNames
    guard index >= 0, index < names.count else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "\(fn): index \(index) out of range (model has \(names.count))")
    }
    out.pointee = UnsafePointer(names[index])
    return STALWART_OK
}

@c @implementation
public func stalwart_model_input_name(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> stalwart_status {
    name(model, index, out, input: true)
}

@c @implementation
public func stalwart_model_output_name(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> stalwart_status {
    name(model, index, out, input: false)
}

func info(_ model: OpaquePointer?, _ index: Int, _ dtype: UnsafeMutablePointer<stalwart_dtype>?, _ dims: UnsafeMutablePointer<Int64>?,
          _ capacity: Int, _ rank: UnsafeMutablePointer<Int>?, input: Bool) -> stalwart_status {
    let fn = input ? "stalwart_model_input_info" : "stalwart_model_output_info"
    guard let model, let rank else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "\(fn): NULL argument") }
    guard capacity == 0 || dims != nil else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "\(fn): dims is NULL but dims_capacity is \(capacity)") }
    let m = handle(model).model
    let sigs = input ? m.inputs : m.outputs
    guard index >= 0, index < sigs.count else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "\(fn): index \(index) out of range (model has \(sigs.count))")
    }
    let s = sigs[index]
    if let dims { for k in 0..<min(capacity, s.dims.count) { dims[k] = Int64(s.dims[k] ?? -1) } }
    dtype?.pointee = s.dtype.rawValue
    rank.pointee = s.dims.count
    return STALWART_OK
}

@c @implementation
public func stalwart_model_input_info(_ model: OpaquePointer?, _ index: Int, _ dtype: UnsafeMutablePointer<stalwart_dtype>?,
                                      _ dims: UnsafeMutablePointer<Int64>?, _ capacity: Int, _ rank: UnsafeMutablePointer<Int>?) -> stalwart_status {
    info(model, index, dtype, dims, capacity, rank, input: true)
}

@c @implementation
public func stalwart_model_output_info(_ model: OpaquePointer?, _ index: Int, _ dtype: UnsafeMutablePointer<stalwart_dtype>?,
                                       _ dims: UnsafeMutablePointer<Int64>?, _ capacity: Int, _ rank: UnsafeMutablePointer<Int>?) -> stalwart_status {
    info(model, index, dtype, dims, capacity, rank, input: false)
}

// MARK: - Running

@c @implementation
public func stalwart_model_output_shapes(_ model: OpaquePointer?, _ inputs: UnsafePointer<stalwart_tensor>?, _ inputCount: Int,
                                         _ outputs: UnsafeMutablePointer<stalwart_tensor>?, _ outputCount: Int) -> stalwart_status {
    guard let model else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_output_shapes: model is NULL") }
    return ErrorState.guarded {
        let b = try TensorBinding.bind(handle(model).model, inputs, inputCount, outputs, outputCount, needData: false)
        for (k, o) in b.slots.enumerated() { try TensorBinding.describe(b.infos[o], into: outputs.unsafelyUnwrapped + k) }
    }
}

@c @implementation
public func stalwart_model_run(_ model: OpaquePointer?, _ inputs: UnsafePointer<stalwart_tensor>?, _ inputCount: Int,
                               _ outputs: UnsafeMutablePointer<stalwart_tensor>?, _ outputCount: Int) -> stalwart_status {
    guard let model else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_run: model is NULL") }
    return ErrorState.guarded {
        let h = handle(model)
        let b = try TensorBinding.bind(h.model, inputs, inputCount, outputs, outputCount, needData: true)
        let (bound, slots, infos) = (b.inputs, b.slots, b.infos)
        var dst = [UnsafeMutableRawPointer?](repeating: nil, count: infos.count)
        for (k, o) in slots.enumerated() {
            let t = (outputs.unsafelyUnwrapped + k).pointee
            let need = try Shape.byteCount(infos[o].shape, infos[o].dtype)
            guard t.capacity_bytes >= need else {
                throw StalwartError.bufferTooSmall("output '\(h.model.outputs[o].name)' needs \(need) bytes (shape \(infos[o].shape), \(infos[o].dtype)), buffer has \(t.capacity_bytes)")
            }
            guard let p = t.data else { throw StalwartError.invalidArgument("output \(k): data is NULL") }
            dst[o] = p
        }
        try h.model.run(inputs: bound.data, dtypes: bound.dtypes, shapes: bound.shapes, outputs: dst)
        for (k, o) in slots.enumerated() { try TensorBinding.describe(infos[o], into: outputs.unsafelyUnwrapped + k) }
    }
}

// MARK: - Metadata

@c @implementation
public func stalwart_model_metadata_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let model, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_metadata_count: NULL argument") }
    out.pointee = handle(model).metadata.count
    return STALWART_OK
}

@c @implementation
public func stalwart_model_metadata_entry(_ model: OpaquePointer?, _ index: Int, _ key: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                          _ value: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> stalwart_status {
    guard let model else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_metadata_entry: model is NULL") }
    let md = handle(model).metadata
    guard index >= 0, index < md.count else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_metadata_entry: index \(index) out of range (model has \(md.count))")
    }
    key?.pointee = UnsafePointer(md[index].key)
    value?.pointee = UnsafePointer(md[index].value)
    return STALWART_OK
}

@c @implementation
public func stalwart_model_metadata_get(_ model: OpaquePointer?, _ key: UnsafePointer<CChar>?,
                                        _ value: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> stalwart_status {
    guard let model, let key, let value else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_model_metadata_get: NULL argument") }
    value.pointee = handle(model).metadata.last { strcmp($0.key, key) == 0 }.map { UnsafePointer($0.value) }
    return STALWART_OK
}
