// PNG decoding through libpng's simplified `png_image` API, tuned to give Pillow's pixels.
//
// libpng's simplified reader converts colours (gamma from gAMA/cHRM/sRGB/iCCP, 16-bit data as
// linear light, premultiplied alpha in 16-bit output); Pillow does none of that. So before the
// bytes reach libpng we rewrite the chunk stream in memory (CRCs recomputed where we change a
// chunk):
//  * every ancillary chunk is dropped except a palette's tRNS: no colour management, and the
//    grayscale/truecolour tRNS key is applied here with Pillow's rules instead;
//  * PLTE is cut or zero-padded to 2^bitDepth entries (Pillow reads missing entries as opaque
//    black) and tRNS cut to match, so out-of-range indices decode like Pillow's;
//  * 16-bit gray+alpha is relabelled as 8-bit RGBA of the same width (identical row bytes and
//    filter unit) so libpng hands back the raw high and low bytes.
// Then each colour type is read in the format that keeps Pillow's values exactly:
//  gray ≤ 8 bit → GRAY (libpng's 1/2/4-bit scaling ×255/×85/×17 equals Pillow's);
//  gray 16 → LINEAR_Y, clipped to 255 like Pillow's I;16 → L/RGB conversion;
//  RGB 16 → LINEAR_RGB, high byte (Pillow's RGB;16B); palette → RGBA (or RGB without tRNS);
//  RGBA 16 → see `readRGBA16`: libpng cannot return unpremultiplied 16-bit samples, so two
//    reads are combined; the result equals Pillow's high byte wherever the two constrain it to
//    one value (always for opaque pixels), else differs by at most 1 — except in interlaced
//    files, where the colour of pixels with 16-bit alpha below 256 cannot be recovered.
// The chunk structure is checked while walking (IHDR first and valid, one PLTE before IDAT,
// consecutive IDATs, CRCs of the chunks we use); libpng checks the rest, including the CRC of
// every critical chunk we pass through unchanged. A missing IEND is tolerated, as in Pillow.
import CPNG
import StalwartTensor

enum PNGDecoder {
    struct Header {
        var width: Int
        var height: Int
        var bitDepth: Int
        var colorType: Int
        var interlaced: Bool
        /// Channels implied by the colour type (palettes: 3; see `sourceChannels`).
        var channels: Int {
            switch colorType {
            case 0: return 1
            case 4: return 2
            case 2, 3: return 3
            default: return 4
            }
        }
    }

    // libpng's png_image constants (macros in png.h).
    static let formatAlpha: UInt32 = 0x01, formatColor: UInt32 = 0x02, formatLinear: UInt32 = 0x04
    static let flag16BitSRGB: UInt32 = 0x04

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    @inline(__always) static func be32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    static func typeName(_ b: UnsafeRawBufferPointer, _ o: Int) -> String {
        var s = ""
        for i in 0..<4 {
            let c = b[o + i]
            s += (c >= 0x20 && c < 0x7F) ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
        }
        return s
    }

    /// Parses and validates IHDR (the first chunk), including its CRC.
    static func header(_ b: UnsafeRawBufferPointer) throws -> Header {
        guard b.count >= 8 + 25 else {
            throw StalwartError.decode("truncated PNG: \(b.count) bytes, too short for the IHDR chunk")
        }
        guard typeName(b, 12) == "IHDR" else {
            throw StalwartError.decode("corrupt PNG: the first chunk is '\(typeName(b, 12))', not IHDR")
        }
        guard be32(b, 8) == 13 else { throw StalwartError.decode("corrupt PNG: IHDR has length \(be32(b, 8)), not 13") }
        let crc = CRC32.update(0, UnsafeRawBufferPointer(rebasing: b[12..<29]))
        guard crc == be32(b, 29) else { throw StalwartError.decode("corrupt PNG: IHDR CRC mismatch") }
        let w = Int(be32(b, 16)), h = Int(be32(b, 20))
        let depth = Int(b[24]), ct = Int(b[25])
        guard w >= 1, h >= 1, w <= 0x7FFF_FFFF, h <= 0x7FFF_FFFF else {
            throw StalwartError.decode("corrupt PNG: invalid image size \(w)×\(h) in IHDR")
        }
        let okDepths: [Int]
        switch ct {
        case 0: okDepths = [1, 2, 4, 8, 16]
        case 3: okDepths = [1, 2, 4, 8]
        case 2, 4, 6: okDepths = [8, 16]
        default: throw StalwartError.decode("corrupt PNG: invalid colour type \(ct) in IHDR")
        }
        guard okDepths.contains(depth) else {
            throw StalwartError.decode("corrupt PNG: bit depth \(depth) is invalid for colour type \(ct)")
        }
        guard b[26] == 0, b[27] == 0, b[28] <= 1 else {
            throw StalwartError.decode("corrupt PNG: invalid compression/filter/interlace method in IHDR")
        }
        return Header(width: w, height: h, bitDepth: depth, colorType: ct, interlaced: b[28] == 1)
    }

    /// `ImageCodec.info`'s channels: the IHDR colour type, and for palettes whether a tRNS
    /// chunk precedes the image data (chunk headers only; nothing is decoded).
    static func sourceChannels(_ b: UnsafeRawBufferPointer, _ h: Header) -> Int {
        guard h.colorType == 3 else { return h.channels }
        var pos = 8
        while b.count - pos >= 12 {
            let len = Int(be32(b, pos)), type = be32(b, pos + 4)
            if type == IDAT || type == IEND { break }
            if type == tRNS { return 4 }
            guard len <= b.count - pos - 12 else { break }
            pos += 12 + len
        }
        return 3
    }

    static func checkLimit(width: Int, height: Int, maxPixels: Int) throws {
        let (n, o) = width.multipliedReportingOverflow(by: height)
        if o || n > maxPixels {
            let count = o ? "more than \(Int.max)" : "\(n)"
            throw StalwartError.decode(
                "image is \(width)×\(height) = \(count) pixels, above the limit of \(maxPixels) (decompression-bomb guard); raise maxPixels to allow it")
        }
    }

    /// The result of walking the chunks: the stream libpng will read, plus what we handle here.
    struct Walk {
        var header: Header
        var stream: [UInt8]
        /// Raw tRNS payload for gray / truecolour images (applied by us, never by libpng).
        var colorKey: [UInt8]?
        var paletteHasAlpha = false
        var exif: Range<Int>?
        var xmp: Range<Int>?
    }

    // Chunk types as big-endian UInt32s.
    static let IHDR: UInt32 = 0x4948_4452, PLTE: UInt32 = 0x504C_5445, IDAT: UInt32 = 0x4944_4154
    static let IEND: UInt32 = 0x4945_4E44, tRNS: UInt32 = 0x7452_4E53, eXIf: UInt32 = 0x6558_4966
    static let iTXt: UInt32 = 0x6954_5874

    static func walk(_ b: UnsafeRawBufferPointer) throws -> Walk {
        let hdr = try header(b)
        var out: [UInt8] = []
        out.reserveCapacity(b.count + 1024)
        out += signature
        func appendChunk(_ type: UInt32, _ body: UnsafeRawBufferPointer) {
            func be(_ v: UInt32) -> [UInt8] {
                [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
            }
            out += be(UInt32(body.count))
            let start = out.count
            out += be(type)
            out.append(contentsOf: body)
            out += be(out.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[start...])) })
        }
        func crcOK(_ pos: Int, _ len: Int) -> Bool {
            CRC32.update(0, UnsafeRawBufferPointer(rebasing: b[pos + 4 ..< pos + 8 + len])) == be32(b, pos + 8 + len)
        }
        var walk = Walk(header: hdr, stream: [])
        var palette: Range<Int>?, paletteAlpha: Range<Int>?
        var idat = 0  // 0 none yet, 1 inside the IDAT run, 2 after it
        var idatBytes = 0
        var sawEnd = false
        var pos = 8
        while pos < b.count {
            guard b.count - pos >= 12 else { break }  // truncated: let libpng judge the data so far
            let len = Int(be32(b, pos))
            guard len <= 0x7FFF_FFFF else {
                throw StalwartError.decode("corrupt PNG: chunk at offset \(pos) has invalid length \(len)")
            }
            guard b.count - pos - 12 >= len else { break }  // truncated chunk
            let type = be32(b, pos + 4)
            let body = pos + 8 ..< pos + 8 + len
            let whole = UnsafeRawBufferPointer(rebasing: b[pos ..< pos + 12 + len])
            if idat == 1 && type != IDAT { idat = 2 }
            switch type {
            case IHDR:
                guard pos == 8 else { throw StalwartError.decode("corrupt PNG: more than one IHDR chunk") }
                if hdr.bitDepth == 16 && hdr.colorType == 4 {
                    // 16-bit gray+alpha → 8-bit RGBA of the same width (same row bytes, same
                    // 4-byte filter unit): libpng then returns the raw big-endian samples.
                    var ihdr = Array(UnsafeRawBufferPointer(rebasing: b[body]))
                    ihdr[8] = 8; ihdr[9] = 6
                    ihdr.withUnsafeBytes { appendChunk(IHDR, $0) }
                } else {
                    out.append(contentsOf: whole)
                }
            case PLTE:
                guard crcOK(pos, len) else { throw StalwartError.decode("corrupt PNG: PLTE CRC mismatch") }
                guard palette == nil else { throw StalwartError.decode("corrupt PNG: more than one PLTE chunk") }
                guard idat == 0 else { throw StalwartError.decode("corrupt PNG: PLTE after the image data") }
                if hdr.colorType == 3 { palette = body }  // a suggested palette of truecolour images is ignored, as in Pillow
            case tRNS:
                guard idat == 0, len > 0, crcOK(pos, len) else { break }  // libpng and Pillow ignore misplaced or damaged ones
                if hdr.colorType == 3 {
                    paletteAlpha = body
                } else if hdr.colorType == 0 && len >= 2 || hdr.colorType == 2 && len >= 6 {
                    walk.colorKey = Array(UnsafeRawBufferPointer(rebasing: b[body]))
                }
            case IDAT:
                guard idat != 2 else {
                    throw StalwartError.decode("corrupt PNG: IDAT chunks are not consecutive (another chunk at offset \(pos) interrupts the image data)")
                }
                if idat == 0 {
                    idat = 1
                    if hdr.colorType == 3 {
                        guard let p = palette, p.count >= 3 else {
                            throw StalwartError.decode("corrupt PNG: palette image without a PLTE chunk before its image data")
                        }
                        let entries = 1 << hdr.bitDepth
                        var plte = [UInt8](repeating: 0, count: 3 * entries)
                        let have = min(p.count / 3, entries)
                        for i in 0 ..< 3 * have { plte[i] = b[p.lowerBound + i] }
                        plte.withUnsafeBytes { appendChunk(PLTE, $0) }
                        if let a = paletteAlpha {
                            let n = min(a.count, entries)
                            appendChunk(tRNS, UnsafeRawBufferPointer(rebasing: b[a.lowerBound ..< a.lowerBound + n]))
                            for i in 0..<n where b[a.lowerBound + i] != 255 { walk.paletteHasAlpha = true }
                        }
                    }
                }
                idatBytes += len
                out.append(contentsOf: whole)
            case IEND:
                out.append(contentsOf: whole)
                sawEnd = true
            case eXIf:
                if crcOK(pos, len) { walk.exif = body }
            case iTXt:
                if walk.xmp == nil, crcOK(pos, len) { walk.xmp = xmpRange(b, body) }
            default:
                // Unknown critical chunks go to libpng, which rejects them; ancillary ones
                // (colour management, text, ...) never reach it.
                if b[pos + 4] & 0x20 == 0 { out.append(contentsOf: whole) }
            }
            pos += 12 + len
            if sawEnd { break }
        }
        guard idat != 0 else { throw StalwartError.decode("corrupt PNG: no image data (IDAT chunk)") }
        // Deflate expands at most ~1032:1; refuse before allocating when the compressed data
        // cannot possibly hold the rows IHDR announces (a truncated or forged file).
        let bitsPerPixel = hdr.bitDepth * [1, 0, 3, 1, 2, 0, 4][hdr.colorType]
        let (rowBits, o1) = hdr.width.multipliedReportingOverflow(by: bitsPerPixel)
        let (raw, o2) = ((rowBits + 7) / 8 + 1).multipliedReportingOverflow(by: hdr.height)
        if o1 || o2 || raw / 1100 > idatBytes + 64 {
            throw StalwartError.decode(
                "truncated PNG: \(idatBytes) bytes of image data cannot hold a \(hdr.width)×\(hdr.height) image")
        }
        if !sawEnd { out += [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82] }
        walk.stream = out
        return walk
    }

    /// The text of an uncompressed iTXt chunk with keyword "XML:com.adobe.xmp".
    static func xmpRange(_ b: UnsafeRawBufferPointer, _ body: Range<Int>) -> Range<Int>? {
        let key = Array("XML:com.adobe.xmp".utf8)
        guard body.count > key.count + 3 else { return nil }
        for (i, c) in key.enumerated() where b[body.lowerBound + i] != c { return nil }
        var p = body.lowerBound + key.count
        guard b[p] == 0, b[p + 1] == 0 else { return nil }  // NUL, compression flag 0
        p += 3  // flag, method
        for _ in 0..<2 {  // language tag, translated keyword
            while p < body.upperBound, b[p] != 0 { p += 1 }
            p += 1
        }
        return p <= body.upperBound ? p ..< body.upperBound : nil
    }

    static func decode(_ b: UnsafeRawBufferPointer, maxPixels: Int) throws -> DecodedFile {
        let announced = try header(b)
        try checkLimit(width: announced.width, height: announced.height, maxPixels: maxPixels)
        let walk = try walk(b)
        let h = walk.header
        var orientation: Int? = nil
        if let r = walk.exif { orientation = Orientation.fromEXIF(UnsafeRawBufferPointer(rebasing: b[r])) }
        if orientation == nil, let r = walk.xmp { orientation = Orientation.fromXMP(UnsafeRawBufferPointer(rebasing: b[r])) }
        let n = h.width * h.height
        var image: NativeImage
        switch (h.colorType, h.bitDepth) {
        case (0, 16):
            let v = try read16(walk.stream, h, format: formatLinear, channels: 1)
            let px = [UInt8](unsafeUninitializedCapacity: n) { d, c in
                for i in 0..<n { d[i] = v[i] > 255 ? 255 : UInt8(v[i]) }
                c = n
            }
            image = NativeImage(width: h.width, height: h.height, layout: .gray, pixels: px)
        case (0, _):
            image = NativeImage(width: h.width, height: h.height, layout: .gray,
                                pixels: try read8(walk.stream, h, format: 0, channels: 1))
        case (2, 16):
            let v = try read16(walk.stream, h, format: formatLinear | formatColor, channels: 3)
            let px = [UInt8](unsafeUninitializedCapacity: 3 * n) { d, c in
                for i in 0 ..< 3 * n { d[i] = UInt8(v[i] >> 8) }
                c = 3 * n
            }
            image = NativeImage(width: h.width, height: h.height, layout: .rgb, pixels: px)
        case (2, _):
            image = NativeImage(width: h.width, height: h.height, layout: .rgb,
                                pixels: try read8(walk.stream, h, format: formatColor, channels: 3))
        case (3, _):
            if walk.paletteHasAlpha {
                image = NativeImage(width: h.width, height: h.height, layout: .rgba,
                                    pixels: try read8(walk.stream, h, format: formatColor | formatAlpha, channels: 4))
            } else {
                image = NativeImage(width: h.width, height: h.height, layout: .rgb,
                                    pixels: try read8(walk.stream, h, format: formatColor, channels: 3))
            }
        case (4, 16):
            // Relabelled as 8-bit RGBA: bytes are gray-high, gray-low, alpha-high, alpha-low.
            let raw = try read8(walk.stream, h, format: formatColor | formatAlpha, channels: 4)
            let px = [UInt8](unsafeUninitializedCapacity: 2 * n) { d, c in
                for i in 0..<n { d[2 * i] = raw[4 * i]; d[2 * i + 1] = raw[4 * i + 2] }
                c = 2 * n
            }
            image = NativeImage(width: h.width, height: h.height, layout: .grayAlpha, pixels: px)
        case (4, _):
            image = NativeImage(width: h.width, height: h.height, layout: .grayAlpha,
                                pixels: try read8(walk.stream, h, format: formatAlpha, channels: 2))
        case (6, 16):
            image = NativeImage(width: h.width, height: h.height, layout: .rgba, pixels: try readRGBA16(walk.stream, h))
        default:
            image = NativeImage(width: h.width, height: h.height, layout: .rgba,
                                pixels: try read8(walk.stream, h, format: formatColor | formatAlpha, channels: 4))
        }
        if let k = walk.colorKey {
            // Pillow keeps the chunk's 16-bit samples and its rgbT2a compares their low bytes
            // with the converted 8-bit pixels; for 1-bit images the key is 255 if non-zero.
            if h.colorType == 0 {
                let raw = Int(k[0]) << 8 | Int(k[1])
                let v = h.bitDepth == 1 ? (raw != 0 ? 255 : 0) : UInt8(raw & 0xFF)
                image.key = (UInt8(v), UInt8(v), UInt8(v))
            } else {
                image.key = (k[1], k[3], k[5])
            }
        }
        return DecodedFile(image: image, orientation: orientation)
    }

    // MARK: - libpng

    /// Runs begin_read + finish_read into `buffer` (which must hold width×height×channels
    /// components of the format's size); always frees the png_image.
    private static func run(_ stream: [UInt8], _ h: Header, format: UInt32, flags: UInt32,
                            into buffer: UnsafeMutableRawPointer) throws {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&img) }
        let ok: Bool = stream.withUnsafeBytes { s in
            guard png_image_begin_read_from_memory(&img, s.baseAddress, s.count) != 0 else { return false }
            guard Int(img.width) == h.width, Int(img.height) == h.height else { return false }
            img.format = format
            img.flags = flags
            return png_image_finish_read(&img, nil, buffer, 0, nil) != 0
        }
        if !ok || img.warning_or_error & 2 != 0 {
            let msg = message(&img)
            throw StalwartError.decode("corrupt PNG: \(msg.isEmpty ? "libpng could not read the image" : msg)")
        }
    }

    static func message(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw -> String in
            var bytes = Array(raw.prefix { $0 != 0 })
            bytes.append(0)
            return String(decoding: bytes.dropLast(), as: UTF8.self)
        }
    }

    /// Samples of a width×height×channels image, or `.outOfMemory` for absurd sizes.
    static func sampleCount(_ h: Header, _ channels: Int) throws -> Int {
        let (a, o1) = h.width.multipliedReportingOverflow(by: h.height)
        let (b, o2) = a.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, b <= Int(Int32.max) * 4 else {
            throw StalwartError.outOfMemory("image of \(h.width)×\(h.height)×\(channels) is too large")
        }
        return b
    }

    /// Reads the image as `format` into a new array of `T` (UInt8, or UInt16 for linear formats).
    static func read<T>(_ stream: [UInt8], _ h: Header, format: UInt32, channels: Int, flags: UInt32 = 0,
                        as: T.Type) throws -> [T] {
        let count = try sampleCount(h, channels)
        var failure: Error? = nil
        let px = [T](unsafeUninitializedCapacity: count) { buf, initialized in
            initialized = 0
            guard let base = buf.baseAddress else { return }
            do {
                try run(stream, h, format: format, flags: flags, into: UnsafeMutableRawPointer(base))
                initialized = count
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return px
    }

    static func read8(_ stream: [UInt8], _ h: Header, format: UInt32, channels: Int, flags: UInt32 = 0) throws -> [UInt8] {
        try read(stream, h, format: format, channels: channels, flags: flags, as: UInt8.self)
    }

    static func read16(_ stream: [UInt8], _ h: Header, format: UInt32, channels: Int) throws -> [UInt16] {
        try read(stream, h, format: format, channels: channels, as: UInt16.self)
    }

    /// First 16-bit value `v` with libpng's `png_do_scale_16_to_8(v) == s`, for s in 0...256.
    static let scaleStarts: [Int] = {
        var starts = [Int](repeating: 65536, count: 257)
        var last = -1
        for v in 0...65535 {
            let s = scale16(v)
            if s != last { starts[s] = v; last = s }
        }
        return starts
    }()

    /// libpng's png_do_scale_16_to_8 (rounded v·255/65535).
    @inline(__always) static func scale16(_ v: Int) -> Int {
        let hi = v >> 8, lo = v & 0xFF
        return hi + (((lo - hi + 128) * 65535) >> 24)
    }

    /// libpng's premultiplication of a 16-bit sample (png_composite_16 on black, NODIV form).
    @inline(__always) static func premultiply(_ c: Int, _ a: Int) -> Int {
        let t = c * a + 32768
        return ((t + (t >> 16)) >> 16) & 0xFFFF
    }

    /// 16-bit RGBA → Pillow's 8-bit high bytes. libpng gives either 8-bit samples rounded
    /// (v·255/65535) or 16-bit samples premultiplied by alpha; neither is the high byte. Both are
    /// read; for each sample the 16-bit values consistent with both are intersected, and their
    /// high byte taken (exact when unique — always for opaque pixels; else off by at most 1).
    ///
    /// Interlaced files skip the rounded read: libpng's interlaced 16→8-bit path is
    /// CVE-2025-65018 (a heap overflow) in unpatched libpng and returns wrong rows in Debian's
    /// patched 1.6.39. Their colours come from the premultiplied samples alone: exact when
    /// opaque, within 1 when the 16-bit alpha is ≥ 256, and black when alpha is 0 (Pillow keeps
    /// the stored colour of fully transparent pixels).
    static func readRGBA16(_ stream: [UInt8], _ h: Header) throws -> [UInt8] {
        let rounded = h.interlaced ? nil : try read8(stream, h, format: formatColor | formatAlpha, channels: 4, flags: flag16BitSRGB)
        let linear = try read16(stream, h, format: formatLinear | formatColor | formatAlpha, channels: 4)
        let n = h.width * h.height
        let starts = scaleStarts
        return [UInt8](unsafeUninitializedCapacity: 4 * n) { d, c in
            for i in 0..<n {
                let a = Int(linear[4 * i + 3])
                d[4 * i + 3] = UInt8(a >> 8)
                for k in 0..<3 {
                    let p = Int(linear[4 * i + k])
                    if a == 65535 { d[4 * i + k] = UInt8(p >> 8); continue }
                    var lo = 0, hi = 65535
                    if let rounded {
                        let s = Int(rounded[4 * i + k])
                        lo = starts[s]; hi = starts[s + 1] - 1
                    } else if a == 0 {
                        d[4 * i + k] = 0; continue
                    }
                    if a != 0 {
                        // Narrow [lo, hi] to the values whose premultiplied sample is p
                        // (premultiply is monotonic in c).
                        var l = lo, r = hi + 1
                        while l < r { let m = (l + r) >> 1; if premultiply(m, a) < p { l = m + 1 } else { r = m } }
                        let first = l
                        l = first; r = hi + 1
                        while l < r { let m = (l + r) >> 1; if premultiply(m, a) <= p { l = m + 1 } else { r = m } }
                        if first < l { lo = first; hi = l - 1 }
                    }
                    d[4 * i + k] = UInt8((lo + (hi - lo) / 2) >> 8)
                }
            }
            c = 4 * n
        }
    }
}
