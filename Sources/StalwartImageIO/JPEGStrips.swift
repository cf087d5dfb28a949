// JPEG round trips (encode, then decode) computed strip by strip, so one image can be spread
// over threads with the same pixels as the whole-image round trip.
//
// Why strips are exact (4:2:0, TurboJPEG with the flags `JPEGCodec` uses):
// - Encoder: colour conversion is per pixel; 2×2 chroma downsampling (libjpeg's alternating
//   bias per column) reads one row pair; DCT and quantization are per 8×8 block. A strip whose
//   first row is a multiple of 16 therefore has exactly the coefficients of the same MCUs of
//   the whole image. Its last rows are padded (bottom row replicated) only when it ends at the
//   image's own bottom, where the whole image is padded the same way; interior strips end on a
//   multiple of 16, so no padding.
// - Decoder: the IDCT is per block; the fancy (triangle) chroma upsampling of a luma row pair
//   reads the chroma rows above and below, which is where a strip's edge (replicated rows)
//   differs from the whole image. One MCU row (16 luma rows = 8 chroma rows) of context on each
//   interior side covers it; only the strip's own rows are kept.
// Verified byte-identical against `encodeJPEG` + `decode` by Tests/StalwartShiftTests/PixelateJPEGTests.swift.
import CTurboJPEG
import StalwartTensor

extension ImageCodec {
    /// Strip boundaries for `jpegRoundTripRows` must be multiples of this many rows.
    public static let jpegStripAlignment = 16

    /// Rows `rows` of `decode(encodeJPEG(image, quality: quality, subsampling: .s420))`, written
    /// to `dst` (`rows.count · width · 3` bytes), encoding and decoding only `rows` plus one MCU
    /// row (16 rows) of context above and below where the image has them. Same pixels as the
    /// whole-image round trip for those rows.
    ///
    /// Requirements (else `.invalidArgument`, nothing written): a 3-channel image of at most
    /// 65535×65535, quality 1…100, `rows` non-empty inside `0..<height`, its lower bound a
    /// multiple of `jpegStripAlignment` and its upper bound one as well or the height.
    /// TurboJPEG failures throw `.internal`; `dst` may then be partly written.
    public static func jpegRoundTripRows(_ image: Image, quality: Int, rows: Range<Int>,
                                         into dst: UnsafeMutablePointer<UInt8>) throws {
        let w = image.width, h = image.height, a = jpegStripAlignment
        guard image.channels == 3, (1...100).contains(quality), w >= 1, h >= 1, w <= 65_535, h <= 65_535,
              image.pixels.count == w * h * 3 else {
            throw StalwartError.invalidArgument("JPEG strips need a 3-channel image up to 65535×65535 and quality 1...100")
        }
        guard !rows.isEmpty, rows.lowerBound >= 0, rows.upperBound <= h, rows.lowerBound % a == 0,
              rows.upperBound % a == 0 || rows.upperBound == h else {
            throw StalwartError.invalidArgument("JPEG strip rows \(rows) are not \(a)-aligned inside 0..<\(h)")
        }
        let top = max(0, rows.lowerBound - a), bottom = min(h, rows.upperBound + a)
        let stripH = bottom - top, rowBytes = w * 3
        try JPEGCodec.pool.with(compress: true) { compressor in
            try JPEGCodec.pool.with(compress: false) { decompressor in
                var out: UnsafeMutablePointer<UInt8>? = try compressor.outputBuffer(
                    Int(truncatingIfNeeded: tjBufSize(Int32(w), Int32(stripH), Int32(TJSAMP_420.rawValue))))
                var size = UInt(compressor.bufferSize)
                let r = image.pixels.withUnsafeBufferPointer { px -> Int32 in
                    guard let base = px.baseAddress else { return -1 }
                    return tjCompress2(compressor.raw, base + top * rowBytes, Int32(w), 0, Int32(stripH), Int32(TJPF_RGB.rawValue),
                                       &out, &size, Int32(TJSAMP_420.rawValue), Int32(quality),
                                       JPEGCodec.accurateDCT | JPEGCodec.noRealloc)
                }
                guard r == 0, let out else { throw StalwartError.internal("JPEG encoding failed: \(compressor.message)") }
                let direct = top == rows.lowerBound && bottom == rows.upperBound
                let target = direct ? dst : decompressor.scratchBuffer(stripH * rowBytes)
                let d = tjDecompress2(decompressor.raw, out, size, target, Int32(w), 0, Int32(stripH),
                                      Int32(TJPF_RGB.rawValue), JPEGCodec.accurateDCT)
                guard d == 0 else { throw StalwartError.internal("JPEG decoding failed: \(decompressor.message)") }
                if !direct {
                    dst.initialize(from: target + (rows.lowerBound - top) * rowBytes, count: rows.count * rowBytes)
                }
            }
        }
    }
}
