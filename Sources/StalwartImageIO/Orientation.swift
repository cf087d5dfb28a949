// EXIF orientation: a small bounds-checked TIFF reader for the Orientation tag (0x0112), the XMP
// `tiff:Orientation` fallback Pillow uses, and the 8 transforms of PIL.ImageOps.exif_transpose.

enum Orientation {
    /// The Orientation value in EXIF data (a TIFF stream, optionally preceded by "Exif\0\0"),
    /// or nil when absent or unreadable. Like Pillow, a tag whose count is not 1 is ignored.
    static func fromEXIF(_ data: UnsafeRawBufferPointer) -> Int? {
        var base = 0
        if data.count >= 6, data[0] == 0x45, data[1] == 0x78, data[2] == 0x69, data[3] == 0x66, data[4] == 0, data[5] == 0 {
            base = 6  // "Exif\0\0"
        }
        guard data.count - base >= 8 else { return nil }
        let little: Bool
        switch (data[base], data[base + 1]) {
        case (0x49, 0x49): little = true   // "II"
        case (0x4D, 0x4D): little = false  // "MM"
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o <= data.count - base - 2 else { return nil }
            let a = Int(data[base + o]), b = Int(data[base + o + 1])
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ o: Int) -> Int? {
            guard let lo = u16(little ? o : o + 2), let hi = u16(little ? o + 2 : o) else { return nil }
            return lo | hi << 16
        }
        guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for i in 0..<entries {
            let e = ifd + 2 + 12 * i
            guard let tag = u16(e), let type = u16(e + 2), let count = u32(e + 4) else { return nil }
            guard tag == 0x0112 else { continue }
            guard count == 1 else { return nil }
            switch type {
            case 1, 7: return e + 8 < data.count - base ? Int(data[base + e + 8]) : nil  // BYTE, UNDEFINED
            case 6: return e + 8 < data.count - base ? Int(Int8(bitPattern: data[base + e + 8])) : nil  // SBYTE
            case 3: return u16(e + 8)  // SHORT
            case 8: return u16(e + 8).map { Int(Int16(truncatingIfNeeded: $0)) }  // SSHORT
            case 4: return u32(e + 8)  // LONG
            case 9: return u32(e + 8).map { Int(Int32(truncatingIfNeeded: $0)) }  // SLONG
            default: return nil
            }
        }
        return nil
    }

    /// Pillow's XMP fallback: the digit after `tiff:Orientation="` or `tiff:Orientation>`.
    static func fromXMP(_ data: UnsafeRawBufferPointer) -> Int? {
        let needle = Array("tiff:Orientation".utf8)
        let n = data.count, m = needle.count
        guard n > m + 1 else { return nil }
        var i = 0
        while i + m + 1 < n {
            if data[i] == needle[0] {
                var j = 1
                while j < m, data[i + j] == needle[j] { j += 1 }
                if j == m {
                    var p = i + m
                    if data[p] == UInt8(ascii: "=") {
                        p += 1
                        guard p < n, data[p] == UInt8(ascii: "\"") else { i += 1; continue }
                        p += 1
                    } else if data[p] == UInt8(ascii: ">") {
                        p += 1
                    } else { i += 1; continue }
                    if p < n, data[p] >= 0x30, data[p] <= 0x39 { return Int(data[p] - 0x30) }
                }
            }
            i += 1
        }
        return nil
    }

    /// Applies orientation `o` like `PIL.ImageOps.exif_transpose` (2: mirror, 3: rotate 180°,
    /// 4: flip, 5: transpose, 6: rotate 90° clockwise, 7: transverse, 8: rotate 90°
    /// counter-clockwise); other values leave the image unchanged.
    static func apply(_ o: Int, to im: NativeImage) throws -> NativeImage {
        guard (2...8).contains(o) else { return im }
        let w = im.width, h = im.height, c = im.layout.channels
        let swaps = o >= 5
        let ow = swaps ? h : w, oh = swaps ? w : h
        var out = im
        out.pixels = im.pixels.withUnsafeBufferPointer { srcBuf -> [UInt8] in
            [UInt8](unsafeUninitializedCapacity: im.pixels.count) { dstBuf, initialized in
                guard let s = srcBuf.baseAddress, let d = dstBuf.baseAddress else { initialized = 0; return }
                for y in 0..<oh {
                    for x in 0..<ow {
                        let sx: Int, sy: Int
                        switch o {
                        case 2: sx = w - 1 - x; sy = y
                        case 3: sx = w - 1 - x; sy = h - 1 - y
                        case 4: sx = x; sy = h - 1 - y
                        case 5: sx = y; sy = x
                        case 6: sx = y; sy = h - 1 - x
                        case 7: sx = w - 1 - y; sy = h - 1 - x
                        default: sx = w - 1 - y; sy = x  // 8
                        }
                        let si = (sy * w + sx) * c, di = (y * ow + x) * c
                        for k in 0..<c { d[di + k] = s[si + k] }
                    }
                }
                initialized = im.pixels.count
            }
        }
        out.width = ow
        out.height = oh
        return out
    }
}
