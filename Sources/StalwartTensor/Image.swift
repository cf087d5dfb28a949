/// An 8-bit image: `height` rows of `width` pixels, each `channels` interleaved bytes
/// (1 = gray, 3 = RGB, 4 = RGBA), rows top to bottom (HWC layout, no padding).
/// A value type (copy-on-write storage); safe to share between threads.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    /// Validates dimensions (≥ 1, channels 1/3/4, no overflow) and the pixel count.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws(StalwartError) {
        let n = try Image.byteCount(width: width, height: height, channels: channels)
        guard pixels.count == n else {
            throw .invalidArgument("image of \(width)×\(height)×\(channels) needs \(n) bytes, got \(pixels.count)")
        }
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// A zero-filled image.
    public init(width: Int, height: Int, channels: Int) throws(StalwartError) {
        let n = try Image.byteCount(width: width, height: height, channels: channels)
        self.width = width; self.height = height; self.channels = channels
        self.pixels = [UInt8](repeating: 0, count: n)
    }

    /// Bytes of a `width`×`height`×`channels` image, or an error for invalid or huge sizes.
    public static func byteCount(width: Int, height: Int, channels: Int) throws(StalwartError) -> Int {
        guard width >= 1, height >= 1 else { throw .invalidArgument("image size \(width)×\(height) must be at least 1×1") }
        guard channels == 1 || channels == 3 || channels == 4 else {
            throw .invalidArgument("images have 1, 3 or 4 channels, got \(channels)")
        }
        let (a, o1) = width.multipliedReportingOverflow(by: height)
        let (b, o2) = a.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, b <= Int(Int32.max) * 4 else { throw .outOfMemory("image of \(width)×\(height)×\(channels) is too large") }
        return b
    }
}

extension Image {
    /// Pillow's RGB → L: ITU-R 601-2 luma in 16.16 fixed point, rounded (`L24(rgb) >> 16`).
    @inline(__always)
    public static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(r) &* 19595 &+ UInt32(g) &* 38470 &+ UInt32(b) &* 7471 &+ 0x8000) >> 16)
    }

    /// This image with `channels` channels, converted the way Pillow's `convert` does: gray
    /// replicated to RGB; alpha dropped (not composited) or set to 255; RGB → gray with
    /// ITU-R 601-2 luma in Pillow's fixed point, `(R·19595 + G·38470 + B·7471 + 2^15) >> 16`.
    public func converted(channels c: Int) throws(StalwartError) -> Image {
        if c == channels { return self }
        var out = try Image(width: width, height: height, channels: c)
        let n = width * height, k = channels
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for p in 0..<n {
                    if k == 1 {
                        for j in 0..<Swift.min(c, 3) { dst[p * c + j] = src[p] }
                        if c == 4 { dst[p * 4 + 3] = 255 }
                    } else if c == 1 {
                        dst[p] = Image.luma(src[p * k], src[p * k + 1], src[p * k + 2])
                    } else {
                        for j in 0..<3 { dst[p * c + j] = src[p * k + j] }
                        if c == 4 { dst[p * 4 + 3] = 255 }
                    }
                }
            }
        }
        return out
    }
}

/// A float32 image with the same layout as `Image` (HWC, interleaved), for float resizing
/// and normalized pipelines.
public struct FloatImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) throws(StalwartError) {
        guard width >= 1, height >= 1, channels >= 1 else {
            throw .invalidArgument("image size \(width)×\(height)×\(channels) must be at least 1×1×1")
        }
        let (a, o1) = width.multipliedReportingOverflow(by: height)
        let (n, o2) = a.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, pixels.count == n else {
            throw .invalidArgument("float image of \(width)×\(height)×\(channels) needs \(n) values, got \(pixels.count)")
        }
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }

    /// The image's values as floats (0...255).
    public init(_ image: Image) {
        width = image.width; height = image.height; channels = image.channels
        pixels = image.pixels.map { Float($0) }
    }
}
