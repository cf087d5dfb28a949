// StalwartImageIO: PNG (libpng's simplified `png_image` API) and JPEG (TurboJPEG) decoding and
// encoding into `Image` (8-bit, HWC, 1/3/4 channels).
//
// Both codecs are used only through their no-longjmp APIs (STYLE rule 11); every C error comes
// back as a `StalwartError`. Decoded pixels match Pillow 13's `Image.open(f).convert(mode)`
// (see `ColorMode`), with the documented exceptions in `PNGDecoder.swift`.
//
// Thread-safety: every function here is reentrant and may be called from many threads at once.
// Codec state (TurboJPEG handles, `png_image` structs) is created and destroyed inside each call;
// nothing is shared or cached between calls.
import StalwartTensor

/// The channel layout `ImageCodec.decode` produces.
public enum ColorMode: Sendable, Equatable {
    /// 1 channel. Color sources become ITU-R 601-2 luma with Pillow's fixed-point rounding,
    /// `L = (19595·R + 38470·G + 7471·B + 32768) >> 16`; alpha is dropped.
    case gray
    /// 3 channels. Alpha and transparency are dropped, not composited (Pillow's `convert("RGB")`).
    case rgb
    /// 4 channels. Sources without alpha get 255, except pixels matching a PNG `tRNS` colour,
    /// which get 0 (Pillow's `convert("RGBA")`, including its 8-bit comparison of the key).
    case rgba

    /// Channels of an image in this mode: 1, 3 or 4.
    public var channels: Int {
        switch self { case .gray: return 1; case .rgb: return 3; case .rgba: return 4 }
    }
}

/// Options of `ImageCodec.decode`. A plain value; safe to share.
public struct DecodeOptions: Sendable, Equatable {
    /// Output channels (default RGB).
    public var mode: ColorMode = .rgb
    /// Apply the EXIF Orientation tag (JPEG APP1 Exif, PNG eXIf, or an XMP `tiff:Orientation`)
    /// like `PIL.ImageOps.exif_transpose`. Off by default, as in Pillow's `Image.open`.
    public var applyEXIFOrientation = false
    /// Largest accepted `width × height`; larger images fail before any pixel memory is
    /// allocated (decompression-bomb guard). The default is Pillow's `MAX_IMAGE_PIXELS`
    /// (Pillow only warns between 1× and 2× this value; Stalwart refuses).
    public var maxPixels = 89_478_485

    public init() {}

    /// Convenience: `DecodeOptions(mode: .gray)`.
    public init(mode: ColorMode, applyEXIFOrientation: Bool = false, maxPixels: Int = 89_478_485) {
        self.mode = mode
        self.applyEXIFOrientation = applyEXIFOrientation
        self.maxPixels = maxPixels
    }
}

/// JPEG chroma subsampling for `ImageCodec.encodeJPEG`.
public enum ChromaSubsampling: Sendable, Equatable {
    /// Full-resolution chroma (4:4:4).
    case s444
    /// Chroma halved horizontally (4:2:2).
    case s422
    /// Chroma halved in both directions (4:2:0), the usual camera and Pillow default.
    case s420
    /// A single-channel (grayscale) JPEG; color input is converted to luma by libjpeg.
    case gray
}

/// PNG and JPEG decoding and encoding. All functions are thread-safe and reentrant.
public enum ImageCodec {
    /// Decodes PNG or JPEG bytes, recognised by their signatures.
    ///
    /// - Parameter bytes: the encoded file; borrowed for the duration of the call only.
    /// - Returns: an `Image` of `options.mode.channels` channels, rows top to bottom.
    /// - Throws: `StalwartError.unsupported` for other formats (naming what the bytes look
    ///   like), `.decode` for empty, corrupt or truncated data and for images above
    ///   `options.maxPixels`, `.outOfMemory` for sizes that cannot be allocated.
    public static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions = .init()) throws -> Image {
        guard options.maxPixels >= 1 else {
            throw StalwartError.invalidArgument("maxPixels must be at least 1, got \(options.maxPixels)")
        }
        switch try Sniff.format(bytes) {
        case .png:
            var native = try PNGDecoder.decode(bytes, maxPixels: options.maxPixels)
            if options.applyEXIFOrientation, let o = native.orientation { native.image = try Orientation.apply(o, to: native.image) }
            return try native.image.converted(to: options.mode)
        case .jpeg:
            var native = try JPEGCodec.decode(bytes, maxPixels: options.maxPixels)
            if options.applyEXIFOrientation, let o = native.orientation { native.image = try Orientation.apply(o, to: native.image) }
            return try native.image.converted(to: options.mode)
        }
    }

    /// Reads and decodes the file at `path` (see `decode(_:options:)`).
    /// - Throws: `StalwartError.io` when the file cannot be opened or read; every error message
    ///   names the path.
    public static func decode(path: String, options: DecodeOptions = .init()) throws -> Image {
        let bytes = try FileIO.read(path)
        do {
            return try bytes.withUnsafeBytes { try decode($0, options: options) }
        } catch let e as StalwartError {
            throw e.context("'\(path)'")
        }
    }

    /// `decode(_:options:)` into memory the caller provides: `allocate(width, height, channels)`
    /// is called exactly once on success (at most once on failure), after the size checks, and
    /// must return a buffer of exactly `width · height · channels` bytes, which the caller owns
    /// (also when this throws afterwards). Same pixels and errors as `decode(_:options:)`; JPEGs
    /// that need no conversion (the usual RGB → `.rgb`) are decompressed straight into the
    /// buffer, other inputs are decoded and then copied into it.
    public static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions = .init(),
                              into allocate: (_ width: Int, _ height: Int, _ channels: Int) throws -> UnsafeMutableBufferPointer<UInt8>) throws {
        guard options.maxPixels >= 1 else {
            throw StalwartError.invalidArgument("maxPixels must be at least 1, got \(options.maxPixels)")
        }
        if case .jpeg = try Sniff.format(bytes), try JPEGCodec.decodeDirect(bytes, options: options, allocate: allocate) {
            return
        }
        let img = try decode(bytes, options: options)
        let dst = try allocate(img.width, img.height, img.channels)
        guard dst.count == img.pixels.count, let d = dst.baseAddress else {
            throw StalwartError.internal("decode buffer holds \(dst.count) bytes, the image needs \(img.pixels.count)")
        }
        img.pixels.withUnsafeBufferPointer { s in if let sp = s.baseAddress { d.initialize(from: sp, count: s.count) } }
    }

    /// `decode(path:options:)` into caller memory (see `decode(_:options:into:)`).
    public static func decode(path: String, options: DecodeOptions = .init(),
                              into allocate: (_ width: Int, _ height: Int, _ channels: Int) throws -> UnsafeMutableBufferPointer<UInt8>) throws {
        let bytes = try FileIO.read(path)
        do {
            try bytes.withUnsafeBytes { try decode($0, options: options, into: allocate) }
        } catch let e as StalwartError {
            throw e.context("'\(path)'")
        }
    }

    /// Reads only the header: the format (`"PNG"` or `"JPEG"`), the stored size (before any
    /// EXIF orientation) and the source channels: 1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha
    /// or CMYK; PNG palettes count 4 when they have a `tRNS` chunk, else 3 (a `tRNS` colour key
    /// of a gray or RGB PNG does not count). Does not decode pixels or apply the pixel limit.
    public static func info(_ bytes: UnsafeRawBufferPointer) throws -> (format: String, width: Int, height: Int, channels: Int) {
        switch try Sniff.format(bytes) {
        case .png:
            let h = try PNGDecoder.header(bytes)
            return ("PNG", h.width, h.height, PNGDecoder.sourceChannels(bytes, h))
        case .jpeg:
            let h = try JPEGCodec.header(bytes)
            return ("JPEG", h.width, h.height, h.channels)
        }
    }

    /// Encodes a PNG (8-bit gray, RGB or RGBA as `image.channels`; no gamma or colour chunks
    /// beyond libpng's `sRGB`).
    ///
    /// - Parameter compressionLevel: 0...9. libpng's simplified writer offers two settings:
    ///   levels 0–3 use its fast mode (zlib level 3, no filtering), 4–9 its default (zlib's
    ///   default level 6 with adaptive filtering).
    public static func encodePNG(_ image: Image, compressionLevel: Int = 6) throws -> [UInt8] {
        try PNGEncoder.encode(image, compressionLevel: compressionLevel)
    }

    /// Encodes a baseline JPEG with TurboJPEG (accurate DCT).
    ///
    /// - Parameters:
    ///   - quality: 1...100.
    ///   - subsampling: chroma subsampling; ignored for 1-channel images, which always give a
    ///     grayscale JPEG. The alpha channel of 4-channel images is dropped.
    public static func encodeJPEG(_ image: Image, quality: Int = 75, subsampling: ChromaSubsampling = .s420) throws -> [UInt8] {
        try JPEGCodec.encode(image, quality: quality, subsampling: subsampling)
    }

    /// Encodes by the path's extension (`.png`, `.jpg`, `.jpeg`, any case) and writes the file,
    /// replacing an existing one. `quality` applies to JPEG (4:2:0) only.
    public static func write(_ image: Image, path: String, quality: Int = 75) throws {
        let ext = path.split(separator: "/").last.flatMap { name -> String? in
            guard let dot = name.lastIndex(of: ".") else { return nil }
            return String(name[name.index(after: dot)...]).lowercased()
        }
        let bytes: [UInt8]
        switch ext {
        case "png": bytes = try encodePNG(image)
        case "jpg", "jpeg": bytes = try encodeJPEG(image, quality: quality)
        default:
            throw StalwartError.unsupported("cannot write '\(path)': unknown image extension (use .png, .jpg or .jpeg)")
        }
        try FileIO.write(bytes, to: path)
    }
}
