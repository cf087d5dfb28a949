// The decoders' intermediate: pixels in the layout of the source (the mode Pillow opens the file
// in), and the conversions to the requested `ColorMode`, written to match Pillow's
// src/libImaging/Convert.c bit for bit.
import StalwartTensor

/// A decoded image in its source layout, before conversion to a `ColorMode`.
struct NativeImage {
    enum Layout {
        /// 1 byte per pixel (Pillow "1", "L", or "I;16" already clipped to 0...255).
        case gray
        /// 2 bytes: gray, alpha (Pillow "LA").
        case grayAlpha
        /// 3 bytes (Pillow "RGB").
        case rgb
        /// 4 bytes (Pillow "RGBA", and "P" expanded through its palette).
        case rgba
        /// 4 bytes of Pillow's "CMYK" (Adobe polarity already undone: 0 = no ink).
        case cmyk

        var channels: Int {
            switch self {
            case .gray: return 1
            case .grayAlpha: return 2
            case .rgb: return 3
            case .rgba, .cmyk: return 4
            }
        }
    }

    var width: Int
    var height: Int
    var layout: Layout
    /// `height` rows of `width × layout.channels` bytes, no padding.
    var pixels: [UInt8]
    /// For `.gray` and `.rgb` sources with a PNG `tRNS` colour: the 8-bit key Pillow compares
    /// converted pixels against when converting to RGBA (each sample of the chunk masked with
    /// 0xFF, as Pillow's `rgbT2a` does). Gray keys repeat the value three times.
    var key: (UInt8, UInt8, UInt8)? = nil

    /// Converts to `mode` like Pillow's `Image.convert`.
    func converted(to mode: ColorMode) throws -> Image {
        let n = width * height
        let outChannels = mode.channels
        let count = try Image.byteCount(width: width, height: height, channels: outChannels)
        if layout.channels == outChannels, layout != .cmyk, layout != .grayAlpha, !(mode == .rgba && key != nil) {
            return try Image(width: width, height: height, channels: outChannels, pixels: pixels)
        }
        let out = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            pixels.withUnsafeBufferPointer { src in
                Self.convert(src, layout: layout, key: key, to: mode, pixels: n, into: buf)
            }
            initialized = count
        }
        return try Image(width: width, height: height, channels: outChannels, pixels: out)
    }

    /// Pillow's RGB → L (one definition, in `Image.luma`).
    @inline(__always)
    static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 { Image.luma(r, g, b) }

    /// Pillow's `MULDIV255(a, b)`: `a·b/255` rounded, without a division.
    @inline(__always)
    static func mulDiv255(_ a: Int, _ b: Int) -> Int {
        let t = a * b + 128
        return ((t >> 8) + t) >> 8
    }

    /// Pillow's `cmyk2rgb`: `R = (255 − K) − MULDIV255(C, 255 − K)`, likewise G, B.
    @inline(__always)
    static func cmykToRGB(_ p: UnsafePointer<UInt8>) -> (UInt8, UInt8, UInt8) {
        let nk = 255 - Int(p[3])
        @inline(__always) func ch(_ c: UInt8) -> UInt8 { UInt8(clamping: nk - mulDiv255(Int(c), nk)) }
        return (ch(p[0]), ch(p[1]), ch(p[2]))
    }

    private static func convert(_ src: UnsafeBufferPointer<UInt8>, layout: Layout, key: (UInt8, UInt8, UInt8)?,
                                to mode: ColorMode, pixels n: Int, into dst: UnsafeMutableBufferPointer<UInt8>) {
        guard let s = src.baseAddress, let d = dst.baseAddress, n > 0 else { return }
        switch (layout, mode) {
        case (.gray, .gray):
            d.update(from: s, count: n)
        case (.gray, .rgb):
            for i in 0..<n { let v = s[i]; d[3 * i] = v; d[3 * i + 1] = v; d[3 * i + 2] = v }
        case (.gray, .rgba):
            let k = key.map { Int($0.0) } ?? -1
            for i in 0..<n {
                let v = s[i]
                d[4 * i] = v; d[4 * i + 1] = v; d[4 * i + 2] = v; d[4 * i + 3] = Int(v) == k ? 0 : 255
            }
        case (.grayAlpha, .gray):
            for i in 0..<n { d[i] = s[2 * i] }
        case (.grayAlpha, .rgb):
            for i in 0..<n { let v = s[2 * i]; d[3 * i] = v; d[3 * i + 1] = v; d[3 * i + 2] = v }
        case (.grayAlpha, .rgba):
            for i in 0..<n {
                let v = s[2 * i]
                d[4 * i] = v; d[4 * i + 1] = v; d[4 * i + 2] = v; d[4 * i + 3] = s[2 * i + 1]
            }
        case (.rgb, .gray):
            for i in 0..<n { d[i] = luma(s[3 * i], s[3 * i + 1], s[3 * i + 2]) }
        case (.rgb, .rgb):
            d.update(from: s, count: 3 * n)
        case (.rgb, .rgba):
            for i in 0..<n {
                let r = s[3 * i], g = s[3 * i + 1], b = s[3 * i + 2]
                d[4 * i] = r; d[4 * i + 1] = g; d[4 * i + 2] = b
                if let k = key, r == k.0, g == k.1, b == k.2 { d[4 * i + 3] = 0 } else { d[4 * i + 3] = 255 }
            }
        case (.rgba, .gray):
            for i in 0..<n { d[i] = luma(s[4 * i], s[4 * i + 1], s[4 * i + 2]) }
        case (.rgba, .rgb):
            for i in 0..<n { d[3 * i] = s[4 * i]; d[3 * i + 1] = s[4 * i + 1]; d[3 * i + 2] = s[4 * i + 2] }
        case (.rgba, .rgba):
            d.update(from: s, count: 4 * n)
        case (.cmyk, .gray):
            // Pillow has no CMYK→L converter; it goes through RGB.
            for i in 0..<n { let (r, g, b) = cmykToRGB(s + 4 * i); d[i] = luma(r, g, b) }
        case (.cmyk, .rgb):
            for i in 0..<n { let (r, g, b) = cmykToRGB(s + 4 * i); d[3 * i] = r; d[3 * i + 1] = g; d[3 * i + 2] = b }
        case (.cmyk, .rgba):
            for i in 0..<n {
                let (r, g, b) = cmykToRGB(s + 4 * i)
                d[4 * i] = r; d[4 * i + 1] = g; d[4 * i + 2] = b; d[4 * i + 3] = 255
            }
        }
    }
}

/// A decoded file: its pixels and, when present, the EXIF orientation (1...8 or any other value
/// found; only 2...8 transform).
struct DecodedFile {
    var image: NativeImage
    var orientation: Int?
}
