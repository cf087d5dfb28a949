// JPEG through TurboJPEG (libjpeg-turbo's thread-safe API: per-handle errors, no exit(), no
// longjmp across our frames). Handles are pooled (`HandlePool`): creating one allocates
// libjpeg's memory manager and tables, which cost as much as decoding a small image.
//
// Decoding uses the accurate integer DCT and fancy upsampling, what Pillow uses, so pixels equal
// Pillow's for the same libjpeg-turbo IDCT. CMYK and YCCK files are decoded as CMYK and, like
// Pillow (which always assumes Adobe's inverted polarity, rawmode "CMYK;I"), inverted and then
// converted with Pillow's `cmyk2rgb`.
import CTurboJPEG
import StalwartTensor

enum JPEGCodec {
    struct Header {
        var width: Int
        var height: Int
        var channels: Int
        /// 1 gray, 3 colour (YCbCr or RGB), 4 CMYK/YCCK.
        var pixelFormat: Int32
    }

    static let accurateDCT: Int32 = 4096  // TJFLAG_ACCURATEDCT
    static let noRealloc: Int32 = 1024  // TJFLAG_NOREALLOC: encode into the handle's buffer

    /// One TurboJPEG handle, used by one thread at a time (TurboJPEG handles are not
    /// thread-safe; a handle is reusable across images, errors included). `buffer` is the
    /// compressor's reusable output buffer (`tjAlloc`ed, for `TJFLAG_NOREALLOC`), `scratch` a
    /// reusable decode target; both live as long as the handle.
    final class Handle {
        let raw: tjhandle
        let compress: Bool
        /// Set after any TurboJPEG failure or warning: such a handle may keep half-read
        /// state (tables of a corrupt stream), so the pool destroys it instead of reusing it.
        var failed = false
        private(set) var buffer: UnsafeMutablePointer<UInt8>? = nil
        private(set) var bufferSize = 0
        private(set) var scratch: UnsafeMutablePointer<UInt8>? = nil
        private(set) var scratchSize = 0
        init(compress: Bool) throws {
            guard let h = compress ? tjInitCompress() : tjInitDecompress() else {
                throw StalwartError.outOfMemory("cannot create a TurboJPEG \(compress ? "compressor" : "decompressor")")
            }
            raw = h
            self.compress = compress
        }
        deinit {
            tjDestroy(raw)
            if let buffer { tjFree(buffer) }
            scratch?.deallocate()
        }
        var message: String {
            guard let m = tjGetErrorStr2(raw) else { return "unknown TurboJPEG error" }
            return String(cString: m)
        }
        /// A `tjAlloc`ed buffer of at least `size` bytes, kept for the next call.
        func outputBuffer(_ size: Int) throws -> UnsafeMutablePointer<UInt8> {
            if let buffer, bufferSize >= size { return buffer }
            if let buffer { tjFree(buffer); self.buffer = nil; bufferSize = 0 }
            guard size > 0, size <= Int(Int32.max), let b = tjAlloc(Int32(size)) else {
                throw StalwartError.outOfMemory("cannot allocate a \(size)-byte JPEG buffer")
            }
            buffer = b
            bufferSize = size
            return b
        }
        /// Scratch memory of at least `count` bytes (contents undefined), kept for the next call.
        func scratchBuffer(_ count: Int) -> UnsafeMutablePointer<UInt8> {
            if let scratch, scratchSize >= count { return scratch }
            scratch?.deallocate()
            let s = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, count))
            scratch = s
            scratchSize = max(1, count)
            return s
        }
    }

    /// Idle handles for reuse, at most `limit` of each kind kept (thread-safe).
    final class HandlePool: @unchecked Sendable {
        private let lock = Lock()
        private var compressors: [Handle] = []
        private var decompressors: [Handle] = []
        private let limit = 16
        /// Runs `body` with a handle no other thread is using, then keeps the handle.
        func with<R>(compress: Bool, _ body: (Handle) throws -> R) throws -> R {
            lock.lock()
            let reused = compress ? compressors.popLast() : decompressors.popLast()
            lock.unlock()
            let handle = try reused ?? Handle(compress: compress)
            let result: R
            do { result = try body(handle) } catch { handle.failed = true; throw error }
            if !handle.failed {
                lock.lock()
                if compress { if compressors.count < limit { compressors.append(handle) } }
                else if decompressors.count < limit { decompressors.append(handle) }
                lock.unlock()
            }
            return result
        }
    }

    static let pool = HandlePool()

    // MARK: - Markers (EXIF/XMP, and SOF as a fallback for the header)

    struct Markers {
        var exif: [UInt8] = []
        var xmp: Range<Int>?
        var sof: (width: Int, height: Int, components: Int)?
    }

    /// Walks the marker segments before the first SOS, bounds-checked; stops quietly at
    /// anything unexpected (TurboJPEG reports real errors).
    static func markers(_ b: UnsafeRawBufferPointer) -> Markers {
        var m = Markers()
        var p = 2
        let exifSig: [UInt8] = Array("Exif".utf8) + [0, 0]
        let xmpSig: [UInt8] = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
        func has(_ sig: [UInt8], at o: Int, within end: Int) -> Bool {
            guard end - o >= sig.count else { return false }
            for (i, c) in sig.enumerated() where b[o + i] != c { return false }
            return true
        }
        while p + 4 <= b.count {
            guard b[p] == 0xFF else { break }
            let code = b[p + 1]
            if code == 0xFF { p += 1; continue }  // fill byte
            if code == 0xD8 || code == 0x01 || (0xD0...0xD7).contains(code) { p += 2; continue }
            if code == 0xDA || code == 0xD9 { break }
            let len = Int(b[p + 2]) << 8 | Int(b[p + 3])
            guard len >= 2, p + 2 + len <= b.count else { break }
            let start = p + 4, end = p + 2 + len
            switch code {
            case 0xE1:
                if has(exifSig, at: start, within: end) {
                    // Pillow concatenates further Exif segments after the first one's header.
                    m.exif += m.exif.isEmpty ? Array(UnsafeRawBufferPointer(rebasing: b[start..<end]))
                                             : Array(UnsafeRawBufferPointer(rebasing: b[(start + 6)..<end]))
                } else if has(xmpSig, at: start, within: end) {
                    m.xmp = (start + xmpSig.count)..<end
                }
            case 0xC0...0xCF where code != 0xC4 && code != 0xC8 && code != 0xCC:
                if m.sof == nil, end - start >= 6 {
                    m.sof = (Int(b[start + 3]) << 8 | Int(b[start + 4]), Int(b[start + 1]) << 8 | Int(b[start + 2]), Int(b[start + 5]))
                }
            default: break
            }
            p = end
        }
        return m
    }

    // MARK: - Decoding

    static func header(_ b: UnsafeRawBufferPointer, handle: Handle? = nil) throws -> Header {
        guard let handle else { return try pool.with(compress: false) { try header(b, handle: $0) } }
        let h = handle
        guard let base = b.baseAddress else { throw StalwartError.decode("no JPEG data") }
        var w: Int32 = 0, ht: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        let status = tjDecompressHeader3(h.raw, base.assumingMemoryBound(to: UInt8.self), UInt(b.count), &w, &ht, &sub, &cs)
        if status != 0 { h.failed = true }
        if status == 0 {
            switch cs {
            case Int32(TJCS_GRAY.rawValue): return Header(width: Int(w), height: Int(ht), channels: 1, pixelFormat: Int32(TJPF_GRAY.rawValue))
            case Int32(TJCS_CMYK.rawValue), Int32(TJCS_YCCK.rawValue):
                return Header(width: Int(w), height: Int(ht), channels: 4, pixelFormat: Int32(TJPF_CMYK.rawValue))
            default: return Header(width: Int(w), height: Int(ht), channels: 3, pixelFormat: Int32(TJPF_RGB.rawValue))
            }
        }
        let msg = h.message
        // TurboJPEG 2.x refuses headers whose chroma subsampling has no TJSAMP constant (e.g.
        // 4:1:1 variants) although it decodes them; take the size from the SOF segment then.
        if msg.contains("subsampling"), let sof = markers(b).sof, sof.width > 0, sof.height > 0 {
            switch sof.components {
            case 1: return Header(width: sof.width, height: sof.height, channels: 1, pixelFormat: Int32(TJPF_GRAY.rawValue))
            case 3: return Header(width: sof.width, height: sof.height, channels: 3, pixelFormat: Int32(TJPF_RGB.rawValue))
            case 4: return Header(width: sof.width, height: sof.height, channels: 4, pixelFormat: Int32(TJPF_CMYK.rawValue))
            default: break
            }
        }
        throw StalwartError.decode("corrupt JPEG: \(msg)")
    }

    /// libjpeg's non-fatal warnings (jerror.h JWRN_*), which leave a complete image that Pillow
    /// accepts, except JWRN_JPEG_EOF ("Premature end of JPEG file"): Pillow raises "image file
    /// is truncated" when the data runs out, and so do we. TurboJPEG 2.x keeps only the last
    /// message and reports a fatal error that follows a warning as a warning, so the text of the
    /// last message decides.
    static func isBenignWarning(_ msg: String) -> Bool {
        ["Corrupt JPEG data:", "Inconsistent progression sequence", "Unknown Adobe color transform",
         "Warning: unknown JFIF revision", "Invalid SOS parameters for sequential JPEG",
         "Application transferred too many scanlines"].contains { msg.hasPrefix($0) }
    }

    /// Whether an EOI marker follows the first SOS marker: a stream cut anywhere before its end
    /// has none (entropy-coded data cannot contain 0xFF 0xD9).
    static func hasEndAfterScan(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 2, sawScan = false
        while i + 1 < b.count {
            if b[i] == 0xFF {
                if b[i + 1] == 0xDA { sawScan = true } else if b[i + 1] == 0xD9 && sawScan { return true }
            }
            i += 1
        }
        return false
    }

    static func decode(_ b: UnsafeRawBufferPointer, maxPixels: Int) throws -> DecodedFile {
        try pool.with(compress: false) { try decode(b, maxPixels: maxPixels, handle: $0) }
    }

    private static func decode(_ b: UnsafeRawBufferPointer, maxPixels: Int, handle: Handle) throws -> DecodedFile {
        let hdr = try header(b, handle: handle)
        try PNGDecoder.checkLimit(width: hdr.width, height: hdr.height, maxPixels: maxPixels)
        guard hdr.width <= Int(Int32.max), hdr.height <= Int(Int32.max), b.baseAddress != nil else {
            throw StalwartError.decode("corrupt JPEG: invalid size \(hdr.width)×\(hdr.height)")
        }
        let count = try Image.byteCount(width: hdr.width, height: hdr.height, channels: hdr.channels)
        var failure: Error? = nil
        var pixels = [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            initialized = count
            guard let dst = buf.baseAddress else { return }
            do { try decompress(b, header: hdr, handle: handle, into: dst, count: count) } catch { failure = error }
        }
        if let failure { throw failure }
        let layout: NativeImage.Layout
        switch hdr.channels {
        case 1: layout = .gray
        case 4:
            layout = .cmyk
            pixels.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = ~p[i] } }  // Adobe polarity
        default: layout = .rgb
        }
        return DecodedFile(image: NativeImage(width: hdr.width, height: hdr.height, layout: layout, pixels: pixels),
                           orientation: orientation(b))
    }

    /// The EXIF orientation (APP1 Exif, else XMP `tiff:Orientation`), if any.
    static func orientation(_ b: UnsafeRawBufferPointer) -> Int? {
        let m = markers(b)
        var orientation: Int? = nil
        if !m.exif.isEmpty { orientation = m.exif.withUnsafeBytes { Orientation.fromEXIF($0) } }
        if orientation == nil, let r = m.xmp { orientation = Orientation.fromXMP(UnsafeRawBufferPointer(rebasing: b[r])) }
        return orientation
    }

    /// Decompresses the whole image in `hdr.pixelFormat` into `dst` (`count` bytes, exactly
    /// width·height·channels). On failure `dst` is zero-filled (kept defined) and the error
    /// thrown; benign libjpeg warnings (`isBenignWarning`) on complete streams are not failures.
    static func decompress(_ b: UnsafeRawBufferPointer, header hdr: Header, handle: Handle,
                           into dst: UnsafeMutablePointer<UInt8>, count: Int) throws {
        guard let base = b.baseAddress else { throw StalwartError.decode("no JPEG data") }
        let r = tjDecompress2(handle.raw, base.assumingMemoryBound(to: UInt8.self), UInt(b.count), dst,
                              Int32(hdr.width), 0, Int32(hdr.height), hdr.pixelFormat, accurateDCT)
        if r != 0 {
            handle.failed = true
            let msg = handle.message
            if !(isBenignWarning(msg) && hasEndAfterScan(b)) {
                dst.initialize(repeating: 0, count: count)  // keep the buffer defined
                throw StalwartError.decode(msg.contains("Premature end") || !hasEndAfterScan(b)
                                           ? "truncated JPEG: \(msg)" : "corrupt JPEG: \(msg)")
            }
        }
    }

    /// Decodes straight into caller memory when no conversion or transform is needed: a gray
    /// or colour (not CMYK) JPEG whose channels equal `options.mode`'s, and no EXIF
    /// orientation to apply. Returns false (having allocated nothing) otherwise; then the
    /// caller takes the general path. `allocate(width, height, channels)` is called at most
    /// once, after the header and pixel limit checks, and must return exactly
    /// width·height·channels bytes; they hold the image when this returns true.
    static func decodeDirect(_ b: UnsafeRawBufferPointer, options: DecodeOptions,
                             allocate: (Int, Int, Int) throws -> UnsafeMutableBufferPointer<UInt8>) throws -> Bool {
        try pool.with(compress: false) { try decodeDirect(b, options: options, handle: $0, allocate: allocate) }
    }

    private static func decodeDirect(_ b: UnsafeRawBufferPointer, options: DecodeOptions, handle: Handle,
                                     allocate: (Int, Int, Int) throws -> UnsafeMutableBufferPointer<UInt8>) throws -> Bool {
        let hdr = try header(b, handle: handle)
        guard hdr.channels == options.mode.channels, hdr.channels == 1 || hdr.channels == 3 else { return false }
        if options.applyEXIFOrientation, let o = orientation(b), (2...8).contains(o) { return false }
        try PNGDecoder.checkLimit(width: hdr.width, height: hdr.height, maxPixels: options.maxPixels)
        guard hdr.width <= Int(Int32.max), hdr.height <= Int(Int32.max), b.baseAddress != nil else {
            throw StalwartError.decode("corrupt JPEG: invalid size \(hdr.width)×\(hdr.height)")
        }
        let count = try Image.byteCount(width: hdr.width, height: hdr.height, channels: hdr.channels)
        let dst = try allocate(hdr.width, hdr.height, hdr.channels)
        guard dst.count == count, let d = dst.baseAddress else {
            throw StalwartError.internal("decode buffer holds \(dst.count) bytes, the image needs \(count)")
        }
        try decompress(b, header: hdr, handle: handle, into: d, count: count)
        return true
    }

    // MARK: - Encoding

    static func encode(_ image: Image, quality: Int, subsampling: ChromaSubsampling) throws -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw StalwartError.invalidArgument("JPEG quality must be in 1...100, got \(quality)")
        }
        guard image.width <= 65_535, image.height <= 65_535 else {
            throw StalwartError.invalidArgument("JPEG images are at most 65535×65535, got \(image.width)×\(image.height)")
        }
        guard image.pixels.count == (try Image.byteCount(width: image.width, height: image.height, channels: image.channels)) else {
            throw StalwartError.invalidArgument("image of \(image.width)×\(image.height)×\(image.channels) has \(image.pixels.count) bytes of pixels")
        }
        let pf: TJPF
        switch image.channels {
        case 1: pf = TJPF_GRAY
        case 3: pf = TJPF_RGB
        case 4: pf = TJPF_RGBA
        default: throw StalwartError.invalidArgument("cannot encode an image with \(image.channels) channels as JPEG")
        }
        let sub: TJSAMP
        switch image.channels == 1 ? .gray : subsampling {
        case .s444: sub = TJSAMP_444
        case .s422: sub = TJSAMP_422
        case .s420: sub = TJSAMP_420
        case .gray: sub = TJSAMP_GRAY
        }
        return try pool.with(compress: true) { handle in
            var out: UnsafeMutablePointer<UInt8>? = try handle.outputBuffer(Int(truncatingIfNeeded: tjBufSize(Int32(image.width), Int32(image.height), Int32(sub.rawValue))))
            var size = UInt(handle.bufferSize)
            let r = image.pixels.withUnsafeBufferPointer { px in
                tjCompress2(handle.raw, px.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(pf.rawValue),
                            &out, &size, Int32(sub.rawValue), Int32(quality), accurateDCT | noRealloc)
            }
            guard r == 0, let out else { throw StalwartError.internal("JPEG encoding failed: \(handle.message)") }
            return Array(UnsafeBufferPointer(start: out, count: Int(size)))
        }
    }
}
