// C ABI for images and preprocessing pipelines (stalwart.h, API version 2).
import CStalwart
import Glibc
import StalwartImageIO
import StalwartONNX
import StalwartPreprocess
import StalwartTensor

/// The object behind `stalwart_image`: owns a plain buffer so that `stalwart_image_pixels`
/// can hand out a pointer that stays valid for the handle's lifetime.
final class ImageHandle {
    let width: Int, height: Int, channels: Int
    let pixels: UnsafeMutableBufferPointer<UInt8>

    init(_ image: Image) {
        width = image.width; height = image.height; channels = image.channels
        pixels = .allocate(capacity: image.pixels.count)
        _ = pixels.initialize(from: image.pixels)
    }

    /// An image whose pixels are not yet written: the decoder that asked for it (`decoded`)
    /// writes every byte, or throws, and then the handle is dropped unread.
    private init(width: Int, height: Int, channels: Int) throws {
        let n = try Image.byteCount(width: width, height: height, channels: channels)
        self.width = width; self.height = height; self.channels = channels
        pixels = .allocate(capacity: n)
    }

    /// Decodes through `decode`, which calls its allocator once with the image's size; the
    /// pixels land directly in the new handle's buffer (JPEG) or are copied there once.
    static func decoded(_ decode: ((Int, Int, Int) throws -> UnsafeMutableBufferPointer<UInt8>) throws -> Void) throws -> ImageHandle {
        var made: ImageHandle? = nil
        try decode { w, h, c in
            let handle = try ImageHandle(width: w, height: h, channels: c)
            made = handle
            return handle.pixels
        }
        guard let made else { throw StalwartError.internal("the decoder returned no image") }
        return made
    }
    deinit { pixels.deallocate() }

    /// A Swift `Image` with a copy of the pixels.
    func image() throws -> Image {
        try Image(width: width, height: height, channels: channels, pixels: Array(pixels))
    }
}

/// The object behind `stalwart_pipeline`: a preset plus overrides, rebuilt on each setter.
final class PipelineHandle {
    var pipeline: Pipeline
    init(_ p: Pipeline) { pipeline = p }
}

func handleOf(_ p: OpaquePointer) -> ImageHandle { Unmanaged<ImageHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue() }
func imageOf(_ p: OpaquePointer) throws -> Image { try handleOf(p).image() }
func pipelineOf(_ p: OpaquePointer) -> PipelineHandle { Unmanaged<PipelineHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue() }

func retainImage(_ img: Image) -> OpaquePointer { OpaquePointer(Unmanaged.passRetained(ImageHandle(img)).toOpaque()) }

func decodeOptions(_ channels: Int32, _ flags: UInt32, _ maxPixels: UInt64) throws -> DecodeOptions {
    var o = DecodeOptions()
    switch channels {
    case 1: o.mode = .gray
    case 3: o.mode = .rgb
    case 4: o.mode = .rgba
    default: throw StalwartError.invalidArgument("channels must be 1, 3 or 4, got \(channels)")
    }
    guard flags & ~STALWART_DECODE_EXIF_ORIENTATION == 0 else { throw StalwartError.invalidArgument("unknown decode flags 0x\(String(flags, radix: 16))") }
    o.applyEXIFOrientation = flags & STALWART_DECODE_EXIF_ORIENTATION != 0
    if maxPixels > 0 { o.maxPixels = Int(clamping: maxPixels) }
    return o
}

func filterOf(_ f: Int32) throws -> ResizeFilter {
    switch f {
    case STALWART_FILTER_NEAREST: return .nearest
    case STALWART_FILTER_BILINEAR: return .bilinear
    case STALWART_FILTER_BICUBIC: return .bicubic
    case STALWART_FILTER_BOX: return .box
    case STALWART_FILTER_LANCZOS: return .lanczos
    case STALWART_FILTER_HAMMING: return .hamming
    default: throw StalwartError.invalidArgument("unknown resize filter \(f)")
    }
}

// MARK: - Images

@c @implementation
public func stalwart_image_decode(_ data: UnsafeRawPointer?, _ size: Int, _ channels: Int32, _ flags: UInt32, _ maxPixels: UInt64,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let data, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_image_decode: NULL argument") }
    return ErrorState.guarded {
        let options = try decodeOptions(channels, flags, maxPixels)
        let handle = try ImageHandle.decoded { try ImageCodec.decode(UnsafeRawBufferPointer(start: data, count: size), options: options, into: $0) }
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@c @implementation
public func stalwart_image_load(_ path: UnsafePointer<CChar>?, _ channels: Int32, _ flags: UInt32, _ maxPixels: UInt64,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let path, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_image_load: NULL argument") }
    return ErrorState.guarded {
        let options = try decodeOptions(channels, flags, maxPixels)
        let handle = try ImageHandle.decoded { try ImageCodec.decode(path: String(cString: path), options: options, into: $0) }
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@c @implementation
public func stalwart_image_create(_ width: Int32, _ height: Int32, _ channels: Int32, _ pixels: UnsafePointer<UInt8>?,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_image_create: out is NULL") }
    return ErrorState.guarded {
        var img = try Image(width: Int(width), height: Int(height), channels: Int(channels))
        if let pixels { img.pixels = Array(UnsafeBufferPointer(start: pixels, count: img.pixels.count)) }
        out.pointee = retainImage(img)
    }
}

@c @implementation
public func stalwart_image_free(_ image: OpaquePointer?) {
    guard let image else { return }
    Unmanaged<ImageHandle>.fromOpaque(UnsafeRawPointer(image)).release()
}

@c @implementation
public func stalwart_image_width(_ image: OpaquePointer?) -> Int32 { image.map { Int32(clamping: handleOf($0).width) } ?? 0 }

@c @implementation
public func stalwart_image_height(_ image: OpaquePointer?) -> Int32 { image.map { Int32(clamping: handleOf($0).height) } ?? 0 }

@c @implementation
public func stalwart_image_channels(_ image: OpaquePointer?) -> Int32 { image.map { Int32(clamping: handleOf($0).channels) } ?? 0 }

@c @implementation
public func stalwart_image_pixels(_ image: OpaquePointer?) -> UnsafePointer<UInt8>? {
    guard let image else { return nil }
    return UnsafePointer(handleOf(image).pixels.baseAddress)
}

@c @implementation
public func stalwart_image_resize(_ image: OpaquePointer?, _ width: Int32, _ height: Int32, _ filter: Int32,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let image, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_image_resize: NULL argument") }
    return ErrorState.guarded {
        let r = try Resize.resize(try imageOf(image), width: Int(width), height: Int(height), filter: filterOf(filter))
        out.pointee = retainImage(r)
    }
}

@c @implementation
public func stalwart_resize_f32(_ src: UnsafePointer<Float>?, _ width: Int32, _ height: Int32, _ channels: Int32,
                                _ dst: UnsafeMutablePointer<Float>?, _ capacity: Int, _ dstWidth: Int32, _ dstHeight: Int32,
                                _ filter: Int32, _ antialias: Bool) -> stalwart_status {
    guard let src, let dst else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_resize_f32: NULL argument") }
    return ErrorState.guarded {
        guard width >= 1, height >= 1, channels >= 1, channels <= 64 else {
            throw StalwartError.invalidArgument("image size \(width)×\(height)×\(channels) is invalid")
        }
        let n = try Shape.elementCount([Int(width), Int(height), Int(channels)])
        let img = try FloatImage(width: Int(width), height: Int(height), channels: Int(channels),
                                 pixels: Array(UnsafeBufferPointer(start: src, count: n)))
        let out = try Resize.resize(img, width: Int(dstWidth), height: Int(dstHeight), filter: filterOf(filter), antialias: antialias)
        guard capacity >= out.pixels.count else {
            throw StalwartError.bufferTooSmall("resized image needs \(out.pixels.count) floats, buffer holds \(capacity)")
        }
        out.pixels.withUnsafeBufferPointer { b in if let base = b.baseAddress { dst.update(from: base, count: b.count) } }
    }
}

@c @implementation
public func stalwart_image_encode(_ image: OpaquePointer?, _ format: Int32, _ quality: Int32,
                                  _ outData: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outSize: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let image, let outData, let outSize else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_image_encode: NULL argument") }
    return ErrorState.guarded {
        let img = try imageOf(image)
        let bytes: [UInt8]
        switch format {
        case STALWART_FORMAT_PNG: bytes = try ImageCodec.encodePNG(img)
        case STALWART_FORMAT_JPEG:
            guard (1...100).contains(quality) else { throw StalwartError.invalidArgument("JPEG quality must be 1...100, got \(quality)") }
            bytes = try ImageCodec.encodeJPEG(img, quality: Int(quality))
        default: throw StalwartError.invalidArgument("unknown format \(format) (STALWART_FORMAT_PNG or STALWART_FORMAT_JPEG)")
        }
        outData.pointee = try mallocCopy(bytes)
        outSize.pointee = bytes.count
    }
}

@c @implementation
public func stalwart_image_save(_ image: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ quality: Int32) -> stalwart_status {
    guard let image, let path else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_image_save: NULL argument") }
    return ErrorState.guarded {
        guard (1...100).contains(quality) else { throw StalwartError.invalidArgument("JPEG quality must be 1...100, got \(quality)") }
        try ImageCodec.write(try imageOf(image), path: String(cString: path), quality: Int(quality))
    }
}

@c @implementation
public func stalwart_free(_ pointer: UnsafeMutableRawPointer?) { free(pointer) }

// MARK: - Pipelines

@c @implementation
public func stalwart_pipeline_create(_ preset: UnsafePointer<CChar>?, _ resolution: Int32,
                                     _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let preset, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pipeline_create: NULL argument") }
    return ErrorState.guarded {
        let p = try Presets.pipeline(String(cString: preset), resolution: Int(resolution))
        out.pointee = OpaquePointer(Unmanaged.passRetained(PipelineHandle(p)).toOpaque())
    }
}

@c @implementation
public func stalwart_pipeline_create_for_model(_ model: OpaquePointer?, _ resolution: Int32,
                                               _ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let model, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pipeline_create_for_model: NULL argument") }
    return ErrorState.guarded {
        guard resolution >= 0 else { throw StalwartError.invalidArgument("resolution must be ≥ 0, got \(resolution)") }
        guard let p = try Presets.pipeline(metadata: handle(model).model.metadata, resolution: resolution == 0 ? nil : Int(resolution)) else {
            throw StalwartError.invalidArgument("the model carries no preprocessing metadata ('\(Presets.Key.preset)'); use stalwart_pipeline_create with a preset")
        }
        out.pointee = OpaquePointer(Unmanaged.passRetained(PipelineHandle(p)).toOpaque())
    }
}

@c @implementation
public func stalwart_pipeline_free(_ pipeline: OpaquePointer?) {
    guard let pipeline else { return }
    Unmanaged<PipelineHandle>.fromOpaque(UnsafeRawPointer(pipeline)).release()
}

@c @implementation
public func stalwart_pipeline_set_layout(_ pipeline: OpaquePointer?, _ layout: Int32) -> stalwart_status {
    guard let pipeline else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pipeline_set_layout: pipeline is NULL") }
    switch layout {
    case STALWART_LAYOUT_NCHW: pipelineOf(pipeline).pipeline.layout = .nchw
    case STALWART_LAYOUT_NHWC: pipelineOf(pipeline).pipeline.layout = .nhwc
    default: return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "unknown layout \(layout)")
    }
    return STALWART_OK
}

@c @implementation
public func stalwart_pipeline_set_normalization(_ pipeline: OpaquePointer?, _ scale: Float, _ mean: UnsafePointer<Float>?,
                                                _ std: UnsafePointer<Float>?, _ channels: Int) -> stalwart_status {
    guard let pipeline, let mean, let std else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pipeline_set_normalization: NULL argument") }
    guard channels == 1 || channels == 3 else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "channels must be 1 or 3, got \(channels)") }
    return ErrorState.guarded {
        pipelineOf(pipeline).pipeline.normalization = try Normalization(
            scale: scale, mean: Array(UnsafeBufferPointer(start: mean, count: channels)),
            std: Array(UnsafeBufferPointer(start: std, count: channels)))
    }
}

@c @implementation
public func stalwart_pipeline_set_filter(_ pipeline: OpaquePointer?, _ filter: Int32) -> stalwart_status {
    guard let pipeline else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pipeline_set_filter: pipeline is NULL") }
    return ErrorState.guarded { pipelineOf(pipeline).pipeline.filter = try filterOf(filter) }
}

@c @implementation
public func stalwart_pipeline_output_shape(_ pipeline: OpaquePointer?, _ width: Int32, _ height: Int32,
                                           _ shape: UnsafeMutablePointer<Int64>?) -> stalwart_status {
    guard let pipeline, let shape else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pipeline_output_shape: NULL argument") }
    return ErrorState.guarded {
        guard width >= 1, height >= 1 else { throw StalwartError.invalidArgument("image size \(width)×\(height) must be at least 1×1") }
        let p = pipelineOf(pipeline).pipeline
        let (w, h) = try p.outputSize(width: Int(width), height: Int(height))
        let dims = p.layout == .nchw ? [p.channels, h, w] : [h, w, p.channels]
        for k in 0..<3 { shape[k] = Int64(dims[k]) }
    }
}

@c @implementation
public func stalwart_pipeline_apply(_ pipeline: OpaquePointer?, _ image: OpaquePointer?, _ out: UnsafeMutablePointer<Float>?,
                                    _ capacity: Int) -> stalwart_status {
    guard let pipeline, let image, let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_pipeline_apply: NULL argument") }
    return ErrorState.guarded {
        let h = handleOf(image)   // read in place: the handle outlives the call
        try pipelineOf(pipeline).pipeline.write(pixels: UnsafeBufferPointer(h.pixels), width: h.width, height: h.height,
                                                channels: h.channels, into: out, capacity: capacity)
    }
}
