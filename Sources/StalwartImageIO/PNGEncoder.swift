// PNG encoding through libpng's simplified writer (`png_image_write_to_memory`).
import CPNG
import StalwartTensor

enum PNGEncoder {
    static let flagFast: UInt32 = 0x02  // PNG_IMAGE_FLAG_FAST

    static func encode(_ image: Image, compressionLevel: Int) throws -> [UInt8] {
        guard (0...9).contains(compressionLevel) else {
            throw StalwartError.invalidArgument("PNG compression level must be in 0...9, got \(compressionLevel)")
        }
        let (stride, o) = image.width.multipliedReportingOverflow(by: image.channels)
        guard !o, stride <= Int(Int32.max), image.width <= 0x7FFF_FFFF, image.height <= 0x7FFF_FFFF else {
            throw StalwartError.invalidArgument("image of \(image.width)×\(image.height) is too large for PNG")
        }
        guard image.pixels.count == (try Image.byteCount(width: image.width, height: image.height, channels: image.channels)) else {
            throw StalwartError.invalidArgument("image of \(image.width)×\(image.height)×\(image.channels) has \(image.pixels.count) bytes of pixels")
        }
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(image.width)
        img.height = UInt32(image.height)
        switch image.channels {
        case 1: img.format = 0
        case 3: img.format = PNGDecoder.formatColor
        case 4: img.format = PNGDecoder.formatColor | PNGDecoder.formatAlpha
        default: throw StalwartError.invalidArgument("cannot encode an image with \(image.channels) channels as PNG")
        }
        img.flags = compressionLevel <= 3 ? flagFast : 0
        // Worst case (libpng's PNG_IMAGE_PNG_SIZE_MAX): stored zlib blocks plus chunk overhead.
        let data = image.pixels.count + image.height
        var capacity = data + (data + 7) / 8 + (data + 63) / 64 + 11 + 12 * (data / 8192 + 1) + 256
        for _ in 0..<2 {
            var out = [UInt8](repeating: 0, count: capacity)
            var size = png_alloc_size_t(capacity)
            let ok = out.withUnsafeMutableBytes { dst in
                image.pixels.withUnsafeBytes { src in
                    png_image_write_to_memory(&img, dst.baseAddress, &size, 0, src.baseAddress, Int32(stride), nil)
                }
            }
            if ok != 0 {
                png_image_free(&img)
                out.removeSubrange(Int(size)...)
                return out
            }
            let message = PNGDecoder.message(&img)
            png_image_free(&img)
            img.warning_or_error = 0
            guard Int(size) > capacity else { throw StalwartError.internal("PNG encoding failed: \(message)") }
            capacity = Int(size)
        }
        throw StalwartError.internal("PNG encoding failed: the output buffer could not be sized")
    }
}
