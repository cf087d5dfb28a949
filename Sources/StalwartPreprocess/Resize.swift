import StalwartTensor

/// Image resizing with Pillow's exact semantics (`PIL.Image.Image.resize`, `reducing_gap=None`),
/// so preprocessing pipelines written against Pillow / torchvision-on-PIL / timm give the same
/// pixels here.
///
/// Thread-safety: all functions are reentrant; coefficient tables are cached process-wide
/// behind a lock and shared read-only.
public enum Resize {
    /// Largest width or height, in pixels, accepted for inputs and outputs.
    public static let maxSide = 65535

    /// Resizes an 8-bit image exactly as Pillow's `Image.resize(size, resample, box)`.
    ///
    /// - Semantics: separable; horizontal pass first (over the input rows the vertical pass will
    ///   read), then vertical; each 1-D pass uses the table of `ResampleAxis` (Pillow's
    ///   `precompute_coeffs`: half-pixel centres, support stretched by the downscale factor =
    ///   antialiasing, weights normalized) in 22-bit fixed point with rounding and clipping, and
    ///   the intermediate image is rounded to 8 bits.
    /// - `.nearest` uses Pillow's own mapping: output x samples input
    ///   `trunc(x0 + (x + 0.5)·(x1 − x0)/width)`, accumulated in double as Pillow does.
    /// - Channels: 1 = Pillow "L", 3 = "RGB", 4 = "RGBA". Like Pillow, RGBA is premultiplied by
    ///   alpha (`RGBa`, v·a/255 rounded) before resampling and divided back after
    ///   (`min(255, v·255 / a)` truncated, unchanged where a is 0 or 255), except for `.nearest`.
    /// - `box`: the source rectangle in input pixel coordinates (Pillow's `box=`), default the
    ///   whole image. Like Pillow it is rounded to `Float` first, must satisfy
    ///   0 ≤ x0 ≤ x1 ≤ width and 0 ≤ y0 ≤ y1 ≤ height, and an integer box the size of the output
    ///   is a plain crop.
    /// - `pool`: when given, each pass is split into bands of rows run on it (the bytes do not
    ///   depend on the split: every output row depends only on its own table row and input).
    /// - Errors: `.invalidArgument` for sizes outside 1…`maxSide` (input or output), a box that is
    ///   not finite or not inside the image.
    public static func resize(_ image: Image, width: Int, height: Int, filter: ResizeFilter,
                              box: (x0: Double, y0: Double, x1: Double, y1: Double)? = nil,
                              pool: ThreadPool? = nil) throws(StalwartError) -> Image {
        try checkSides(image.width, image.height, what: "input image")
        try checkSides(width, height, what: "resize output")
        let b = box ?? (0, 0, Double(image.width), Double(image.height))
        guard b.x0.isFinite, b.y0.isFinite, b.x1.isFinite, b.y1.isFinite else {
            throw .invalidArgument("resize box (\(b.x0), \(b.y0), \(b.x1), \(b.y1)) must be finite")
        }
        // Image.resize: same size and whole-image box → copy.
        if width == image.width && height == image.height
            && b.x0 == 0 && b.y0 == 0 && b.x1 == Double(image.width) && b.y1 == Double(image.height) {
            return image
        }
        // _imaging.c parses the box as four floats.
        let fb = FloatBox(x0: Float(b.x0), y0: Float(b.y0), x1: Float(b.x1), y1: Float(b.y1))
        guard fb.x0 >= 0, fb.y0 >= 0 else {
            throw .invalidArgument("resize box (\(b.x0), \(b.y0), \(b.x1), \(b.y1)) has a negative offset")
        }
        guard fb.x1 <= Float(image.width), fb.y1 <= Float(image.height) else {
            throw .invalidArgument("resize box (\(b.x0), \(b.y0), \(b.x1), \(b.y1)) exceeds the \(image.width)×\(image.height) image")
        }
        guard fb.x1 - fb.x0 >= 0, fb.y1 - fb.y0 >= 0 else {
            throw .invalidArgument("resize box (\(b.x0), \(b.y0), \(b.x1), \(b.y1)) is empty")
        }

        let c = image.channels
        let premultiply = c == 4 && filter != .nearest
        var out = resample8(image.pixels, width: image.width, height: image.height, channels: c,
                            to: width, height, filter: filter, box: fb, pool: pool, premultiply: premultiply)
        if premultiply { AlphaPremultiplication.unpremultiply(&out) }
        return try Image(width: width, height: height, channels: c, pixels: out)
    }

    /// Resizes a float image with Pillow's mode "F" semantics, channel by channel: the same
    /// tables as the 8-bit path (double weights), each pass summing `Double(pixel)·weight` in
    /// tap order and storing `Float`, no rounding or clipping (the intermediate is `Float`).
    ///
    /// `antialias: false` keeps the kernel support at its scale-1 size when downscaling
    /// (`filterscale = 1`) while sample positions stay at half-pixel centres
    /// (`x_in = (x_out + 0.5)·in/out − 0.5`, weights renormalized where the kernel leaves the
    /// image). For `.bilinear` this is exactly torchvision/PyTorch `antialias=False`
    /// (`interpolate(mode="bilinear", align_corners=False)`) and TensorFlow's
    /// `half_pixel_centers` bilinear, up to float rounding. For `.bicubic` it is Keys' a = −0.5
    /// (TensorFlow `resize_bicubic(half_pixel_centers=True)` except at borders, where TF
    /// replicates edge pixels and this renormalizes); PyTorch's non-antialiased bicubic uses
    /// a = −0.75 instead and is *not* reproduced. Upscaling is unaffected by `antialias`.
    ///
    /// Errors: `.invalidArgument` for sizes outside 1…`maxSide`.
    public static func resize(_ image: FloatImage, width: Int, height: Int, filter: ResizeFilter,
                              antialias: Bool = true) throws(StalwartError) -> FloatImage {
        try checkSides(image.width, image.height, what: "input image")
        try checkSides(width, height, what: "resize output")
        let c = image.channels
        guard c >= 1, c <= 4096 else { throw .invalidArgument("float image has \(c) channels (1…4096 supported)") }
        if width == image.width && height == image.height { return image }
        let (n1, o1) = width.multipliedReportingOverflow(by: height)
        let (n, o2) = n1.multipliedReportingOverflow(by: c)
        guard !o1, !o2, n <= Int(Int32.max) * 4 else { throw .outOfMemory("float image of \(width)×\(height)×\(c) is too large") }
        let fb = FloatBox(x0: 0, y0: 0, x1: Float(image.width), y1: Float(image.height))
        let out: [Float]
        if filter == .nearest {
            out = nearest(image.pixels, width: image.width, height: image.height, channels: c,
                          to: width, height, box: fb, zero: 0)
        } else {
            out = resampleF(image.pixels, width: image.width, height: image.height, channels: c,
                            to: width, height, filter: filter, antialias: antialias)
        }
        return try FloatImage(width: width, height: height, channels: c, pixels: out)
    }

    // MARK: Internals

    struct FloatBox {
        var x0, y0, x1, y1: Float
    }

    static func checkSides(_ w: Int, _ h: Int, what: String) throws(StalwartError) {
        guard w >= 1, h >= 1, w <= maxSide, h <= maxSide else {
            throw .invalidArgument("\(what) size \(w)×\(h) must be within 1…\(maxSide) on each side")
        }
    }

    /// The 8-bit pipeline after argument checks (and premultiplication): crop, nearest or the
    /// two passes, as `_imaging.c` `_resize` / `ImagingResampleInner` choose.
    ///
    /// `premultiply` (4 channels): the source is RGBA and is resampled as RGBa (the caller
    /// un-premultiplies the result). When the horizontal pass runs first, each source row it
    /// reads is premultiplied into a scratch row just before (no premultiplied copy of the whole
    /// source); otherwise the whole source is premultiplied first. Same bytes either way.
    static func resample8(_ srcIn: [UInt8], width w: Int, height h: Int, channels c: Int,
                          to outW: Int, _ outH: Int, filter: ResizeFilter, box: FloatBox,
                          pool: ThreadPool? = nil, premultiply: Bool = false) -> [UInt8] {
        let isCrop = box.x0 - Float(Int(box.x0)) == 0 && box.x1 - box.x0 == Float(outW)
            && box.y0 - Float(Int(box.y0)) == 0 && box.y1 - box.y0 == Float(outH)
        let needH = outW != w || box.x0 != 0 || box.x1 != Float(outW)
        let needV = outH != h || box.y0 != 0 || box.y1 != Float(outH)
        // twoPass's order rule.
        let verticalFirst = needV && outH < h && (h - outH) > 2 * (w - outW)
        let premultiplyRows = premultiply && c == 4 && !isCrop && filter != .nearest && needH && !verticalFirst
        let src = premultiply && !premultiplyRows ? AlphaPremultiplication.premultiplied(srcIn) : srcIn
        // An integer box of the output size is a crop.
        if isCrop {
            return GeometryCopy.crop(src, width: w, channels: c, x: Int(box.x0), y: Int(box.y0),
                                     cropWidth: outW, cropHeight: outH)
        }
        if filter == .nearest {
            return nearest(src, width: w, height: h, channels: c, to: outW, outH, box: box, zero: 0)
        }
        let vAxis = ResampleAxis.cached(inSize: h, in0: box.y0, in1: box.y1, outSize: outH,
                                        filter: filter, antialias: true)
        let hAxis = needH ? ResampleAxis.cached(inSize: w, in0: box.x0, in1: box.x1, outSize: outW,
                                                filter: filter, antialias: true) : nil
        // Bands of about 16 rows, a few per thread, when a pool is given.
        let threads = pool?.threadCount ?? 1
        func bands(_ n: Int) -> Int { threads > 1 ? max(1, min(n / 16, threads * 4)) : 1 }
        return twoPass(src, width: w, height: h, channels: c, hAxis: hAxis, vAxis: needV ? vAxis : nil,
                       rowsAxis: vAxis, zero: 0,
                       horizontal: { s, stride, rows, start, n, col, axis, d in
                           let nb = bands(n)
                           let run = { (b: Int) in
                               let r0 = b * n / nb, r1 = (b + 1) * n / nb
                               guard premultiplyRows else {
                                   return ResampleKernels.horizontal8(src: s, srcStride: stride, srcHeight: rows, channels: c,
                                                                      rowStart: start + r0, rows: r1 - r0, columnOffset: col,
                                                                      axis: axis, dst: d + r0 * axis.outSize * c)
                               }
                               ResampleKernels.horizontalPremultiplying(src: s, srcStride: stride, width: w,
                                                                        rowStart: start + r0, rows: r1 - r0, axis: axis,
                                                                        dst: d + r0 * axis.outSize * c)
                           }
                           if nb > 1, let pool { pool.parallelFor(nb, run) } else { run(0) }
                       },
                       vertical: { s, stride, off, len, axis, d, dstStride in
                           let nb = bands(axis.outSize)
                           if nb > 1, let pool {
                               pool.parallelFor(nb) { b in
                                   let y0 = b * axis.outSize / nb, y1 = (b + 1) * axis.outSize / nb
                                   guard y1 > y0 else { return }
                                   ResampleKernels.vertical8(src: s, srcStride: stride, rowOffset: off, rowBytes: len,
                                                             axis: ResampleAxis(axis, outputs: y0..<y1),
                                                             dst: d + y0 * dstStride, dstStride: dstStride)
                               }
                           } else {
                               ResampleKernels.vertical8(src: s, srcStride: stride, rowOffset: off, rowBytes: len,
                                                         axis: axis, dst: d, dstStride: dstStride)
                           }
                       })
    }

    /// The output rectangle `x0 ..< x0 + cw`, `y0 ..< y0 + ch` of Pillow's 8-bit resize of a
    /// whole `w`×`h` image to `outW`×`outH` (`resize(_:width:height:filter:)` with no box),
    /// written to `dst` (`ch` rows of `cw · c` bytes, contiguous) without computing the rest.
    ///
    /// Bit-identical to cropping the full result: the tables are those of the full output grid
    /// (`ResampleAxis(_:outputs:)` slices them), the pass order is decided on the full sizes
    /// as `twoPass` does, and every pixel of either pass depends only on its own table row and
    /// the pixels the other pass produces for it (rounded to 8 bits in both cases).
    ///
    /// Preconditions (callers check): `outW != w`, `outH != h` (both passes run), a filter
    /// other than `.nearest`, 1 or 3 channels (no alpha premultiplication), sizes within
    /// 1…`maxSide`, the rectangle non-empty and inside `outW`×`outH`, `src` holding `h` rows of
    /// `w · c` bytes.
    static func resizedRegion8(_ src: UnsafePointer<UInt8>, width w: Int, height h: Int, channels c: Int,
                               to outW: Int, _ outH: Int, filter: ResizeFilter,
                               x0: Int, y0: Int, cw: Int, ch: Int, into dst: UnsafeMutablePointer<UInt8>) {
        let fullV = ResampleAxis.cached(inSize: h, in0: 0, in1: Float(h), outSize: outH, filter: filter, antialias: true)
        let fullH = ResampleAxis.cached(inSize: w, in0: 0, in1: Float(w), outSize: outW, filter: filter, antialias: true)
        let vAxis = ResampleAxis(fullV, outputs: y0..<(y0 + ch))
        let hAxis = ResampleAxis(fullH, outputs: x0..<(x0 + cw))
        // twoPass's order rule, on the full sizes.
        let verticalFirst = outH < h && (h - outH) > 2 * (w - outW)
        if verticalFirst {
            let c0 = hAxis.firstUsed, cols = max(0, hAxis.endUsed - c0)
            let tmp = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, ch * cols * c))
            defer { tmp.deallocate() }
            ResampleKernels.vertical8(src: src + c0 * c, srcStride: w * c, rowOffset: 0, rowBytes: cols * c,
                                      axis: vAxis, dst: tmp, dstStride: cols * c)
            ResampleKernels.horizontal8(src: tmp, srcStride: cols * c, srcHeight: ch, channels: c, rowStart: 0,
                                        rows: ch, columnOffset: c0, axis: hAxis, dst: dst)
        } else {
            let first = vAxis.firstUsed, rows = max(0, vAxis.endUsed - first)
            let tmp = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, rows * cw * c))
            defer { tmp.deallocate() }
            ResampleKernels.horizontal8(src: src, srcStride: w * c, srcHeight: h, channels: c, rowStart: first,
                                        rows: rows, columnOffset: 0, axis: hAxis, dst: tmp)
            ResampleKernels.vertical8(src: tmp, srcStride: cw * c, rowOffset: first, rowBytes: cw * c,
                                      axis: vAxis, dst: dst, dstStride: cw * c)
        }
    }

    /// Float pipeline (Pillow mode "F" per channel), whole-image box.
    static func resampleF(_ src: [Float], width w: Int, height h: Int, channels c: Int,
                          to outW: Int, _ outH: Int, filter: ResizeFilter, antialias: Bool) -> [Float] {
        let vAxis = ResampleAxis.cached(inSize: h, in0: 0, in1: Float(h), outSize: outH,
                                        filter: filter, antialias: antialias)
        let hAxis = outW != w ? ResampleAxis.cached(inSize: w, in0: 0, in1: Float(w), outSize: outW,
                                                    filter: filter, antialias: antialias) : nil
        return twoPass(src, width: w, height: h, channels: c, hAxis: hAxis, vAxis: outH != h ? vAxis : nil,
                       rowsAxis: vAxis, zero: 0,
                       horizontal: { s, stride, rows, start, n, col, axis, d in
                           ResampleKernels.horizontalF(src: s, srcStride: stride, channels: c, rowStart: start,
                                                       rows: n, columnOffset: col, axis: axis, dst: d)
                       },
                       vertical: { s, stride, off, len, axis, d, dstStride in
                           ResampleKernels.verticalF(src: s, srcStride: stride, rowOffset: off, rowLength: len,
                                                     axis: axis, dst: d, dstStride: dstStride)
                       })
    }

    /// Runs the needed 1-D passes (`hAxis`/`vAxis` nil = pass skipped) in Pillow 13's order:
    /// vertical first when the height shrinks by more than twice as many pixels as the width
    /// (`outH < h && h − outH > 2·(w − outW)`, Pillow PR #9549), else horizontal first. Each
    /// first pass only covers the rows/columns its second pass reads (`rowsAxis` gives the
    /// rows for horizontal-first). The order matters: the intermediate is rounded (8-bit) or
    /// stored as float.
    static func twoPass<T>(
        _ src: [T], width w: Int, height h: Int, channels c: Int,
        hAxis: ResampleAxis?, vAxis: ResampleAxis?, rowsAxis: ResampleAxis, zero: T,
        horizontal: (UnsafePointer<T>, Int, Int, Int, Int, Int, ResampleAxis, UnsafeMutablePointer<T>) -> Void,
        vertical: (UnsafePointer<T>, Int, Int, Int, ResampleAxis, UnsafeMutablePointer<T>, Int) -> Void
    ) -> [T] {
        let outW = hAxis?.outSize ?? w
        let outH = vAxis?.outSize ?? h
        let verticalFirst = vAxis != nil && outH < h && (h - outH) > 2 * (w - outW)
        if let vAxis, verticalFirst {
            let (c0, c1) = hAxis.map { ($0.firstUsed, $0.endUsed) } ?? (0, w)
            let cols = max(0, c1 - c0)
            let tmp = filled(outH * cols * c, zero: zero, from: src) { sp, dp in
                vertical(sp + c0 * c, w * c, 0, cols * c, vAxis, dp, cols * c)
            }
            guard let hAxis else { return tmp }
            return filled(outH * outW * c, zero: zero, from: tmp) { sp, dp in
                horizontal(sp, cols * c, outH, 0, outH, c0, hAxis, dp)
            }
        }
        var current = src
        var rowOffset = 0
        if let hAxis {
            let first = rowsAxis.firstUsed
            let rows = max(0, rowsAxis.endUsed - first)
            current = filled(rows * outW * c, zero: zero, from: src) { sp, dp in
                horizontal(sp, w * c, h, first, rows, 0, hAxis, dp)
            }
            rowOffset = first
        }
        if let vAxis {
            current = filled(outH * outW * c, zero: zero, from: current) { sp, dp in
                vertical(sp, outW * c, rowOffset, outW * c, vAxis, dp, outW * c)
            }
        }
        return current
    }

    /// A new `count`-element buffer written by `body(source, destination)`, which must write
    /// every element (the passes do); when either buffer is empty (degenerate zero-width boxes)
    /// it is `zero`-filled instead, which is what Pillow's empty sums round to.
    @inline(__always)
    static func filled<T>(_ count: Int, zero: T, from src: [T],
                          _ body: (UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) -> [T] {
        guard count > 0 else { return [] }
        return src.withUnsafeBufferPointer { s in
            guard let sp = s.baseAddress else { return [T](repeating: zero, count: count) }
            return [T](unsafeUninitializedCapacity: count) { d, initialized in
                if let dp = d.baseAddress { body(sp, dp) }
                initialized = count
            }
        }
    }

    /// Pillow's nearest-neighbour resize (`ImagingScaleAffine` with `a = [(x1−x0)/outW, 0, x0,
    /// 0, (y1−y0)/outH, y0]`): sample positions start at `x0 + a/2` and advance by `a`
    /// (accumulated in double, as Pillow does), truncated; positions outside the image give
    /// `zero`.
    static func nearest<T>(_ src: [T], width w: Int, height h: Int, channels c: Int,
                           to outW: Int, _ outH: Int, box: FloatBox, zero: T) -> [T] {
        let ax = Double(box.x1 - box.x0) / Double(outW)
        let ay = Double(box.y1 - box.y0) / Double(outH)
        var xin = [Int](repeating: 0, count: outW)
        var xmin = outW, xmax = 0
        var xo = Double(box.x0) + ax * 0.5
        for x in 0..<outW {
            let xi = nearestCoord(xo)
            if xi >= 0 && xi < w {
                xmax = x + 1
                if x < xmin { xmin = x }
                xin[x] = xi
            }
            xo += ax
        }
        for x in 0..<outW { xin[x] &*= c }   // element offsets
        var out = [T](repeating: zero, count: outW * outH * c)
        var yo = Double(box.y0) + ay * 0.5
        let x1 = max(xmin, xmax)
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                xin.withUnsafeBufferPointer { xb in
                    guard let sp = s.baseAddress, let dp = d.baseAddress, let xo = xb.baseAddress else { return }
                    for y in 0..<outH {
                        let yi = nearestCoord(yo)
                        yo += ay
                        guard yi >= 0 && yi < h else { continue }
                        let srow = sp + yi &* w &* c
                        var o = dp + (y &* outW &+ xmin) &* c
                        switch c {
                        case 1:
                            for x in xmin..<x1 { o.pointee = srow[xo[x]]; o += 1 }
                        case 3:
                            for x in xmin..<x1 {
                                let q = srow + xo[x]
                                o[0] = q[0]; o[1] = q[1]; o[2] = q[2]
                                o += 3
                            }
                        case 4:
                            for x in xmin..<x1 {
                                let q = srow + xo[x]
                                o[0] = q[0]; o[1] = q[1]; o[2] = q[2]; o[3] = q[3]
                                o += 4
                            }
                        default:
                            for x in xmin..<x1 {
                                let q = srow + xo[x]
                                for k in 0..<c { o[k] = q[k] }
                                o += c
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Pillow's `COORD(v)`: −1 below zero, else truncation (saturated instead of trapping).
    @inline(__always)
    static func nearestCoord(_ v: Double) -> Int {
        if v < 0 { return -1 }
        if !(v < 1e15) { return Int.max }
        return Int(v)
    }
}

/// Pillow's RGBA ⇄ RGBa conversions (`Convert.c` `rgbA2rgba` / `rgba2rgbA`), used around
/// resampling of 4-channel images. Both run `CompositeRowKernels` (16 pixels per vector on every
/// ISA, exact integer results); `…Reference` are the plain loops they are tested against.
enum AlphaPremultiplication {
    /// v·a/255 rounded: `t = v·a + 128; ((t >> 8) + t) >> 8` (Pillow's `MULDIV255`).
    static func premultiplied(_ px: [UInt8], kernels k: CompositeRowKernels = .current) -> [UInt8] {
        let n = px.count
        return [UInt8](unsafeUninitializedCapacity: n) { d, initialized in
            px.withUnsafeBufferPointer { s in
                guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                k.premultiply(dp, sp, n / 4)
                // A partial trailing pixel (never for valid images) is copied unchanged.
                for i in (n / 4 * 4)..<n { dp[i] = sp[i] }
            }
            initialized = n
        }
    }

    /// Undoes premultiplication: unchanged where a is 0 or 255, else `min(255, 255·v / a)`
    /// (integer division, as Pillow).
    static func unpremultiply(_ px: inout [UInt8], kernels k: CompositeRowKernels = .current) {
        px.withUnsafeMutableBufferPointer { b in
            guard let p = b.baseAddress else { return }
            k.unpremultiply(p, p, b.count / 4)
        }
    }

    /// Plain loop of `premultiplied` (the reference of the kernels' tests).
    static func premultipliedReference(_ px: [UInt8]) -> [UInt8] {
        var out = px
        var i = 0
        while i + 4 <= out.count {
            let a = UInt32(out[i + 3])
            for k in 0..<3 {
                let t = UInt32(out[i + k]) * a + 128
                out[i + k] = UInt8(truncatingIfNeeded: ((t >> 8) + t) >> 8)
            }
            i += 4
        }
        return out
    }

    /// Plain loop of `unpremultiply` (the reference of the kernels' tests).
    static func unpremultiplyReference(_ px: inout [UInt8]) {
        var i = 0
        while i + 4 <= px.count {
            let a = UInt32(px[i + 3])
            if a != 0 && a != 255 {
                for k in 0..<3 { px[i + k] = UInt8(min(255, (255 * UInt32(px[i + k])) / a)) }
            }
            i += 4
        }
    }
}
