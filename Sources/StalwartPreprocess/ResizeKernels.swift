import StalwartTensor

/// The separable resampling passes (Pillow's `ImagingResample{Horizontal,Vertical}_{8bpc,32bpc}`
/// semantics), on raw HWC buffers. Callers validate sizes and own every buffer; nothing here
/// allocates or traps.
///
/// 8-bit passes: each output is `clamp((2²¹ + Σ pixel·fixed) >> 22, 0, 255)` in 32-bit integer
/// arithmetic (wrapping, as C's `int`; the sum stays within ±2³¹ for any valid table because
/// Σ|fixed| ≤ 1.3·2²² and pixels ≤ 255). Integer sums are exact in any order, so the passes
/// are free to vectorize: the vertical pass runs 16 bytes at a time along the row, the
/// horizontal pass one pixel (all channels) per vector.
///
/// The vector kernels split each coefficient as `hi·2¹¹ + lo` (both 16-bit) so every product
/// is 16×16-bit (one SSE2 `pmaddwd` per 4 lanes at the baseline x86-64 target, instead of an
/// emulated 32-bit multiply), summing `Σ p·hi` and `Σ p·lo` separately and combining them as
/// `(Σ p·hi)·2¹¹ + Σ p·lo`: the same 32-bit integer. Plain scalar reference loops are kept
/// (`…Reference`) and used where the split does not apply.
///
/// Float passes: each output is `Float(Σ Double(pixel)·weight)`, summed in tap order in double
/// precision like Pillow's mode "F"; vectors only run across independent outputs, never across
/// taps, so results are bit-identical to the scalar order.
enum ResampleKernels {
    // MARK: 8-bit

    @inline(__always)
    static func narrow(_ acc: Int32) -> UInt8 {
        let v = acc >> ResampleAxis.precisionBits
        return UInt8(truncatingIfNeeded: v < 0 ? 0 : (v > 255 ? 255 : v))
    }

    /// `clamp(acc >> 22, 0, 255)` per lane, in shifts and masks only (comparisons of Swift
    /// SIMD values compile to per-lane branches).
    @inline(__always)
    static func narrow<V: SIMD>(_ acc: V) -> V where V.Scalar == Int32 {
        var v = acc &>> ResampleAxis.precisionBits
        v = v & ~(v &>> 31)
        let over = (V(repeating: 255) &- v) &>> 31
        return (v & ~over) | (V(repeating: 255) & over)
    }

    /// Horizontal pass over rows `rowStart ..< rowStart + rows` of `src` (rows `srcStride`
    /// bytes apart, pixels of `channels` bytes; pixel `axis.first[i] − columnOffset` is the
    /// first one read for output `i`; the buffer ends after `srcHeight` rows) into `dst`
    /// (`rows` rows of `axis.outSize` pixels, contiguous).
    ///
    /// Runs the ISA kernel of `Resample8Kernels.current` for 3 and 4 channels when there is
    /// one (AVX2 / AVX-512), else `horizontal8Portable`; both give the same bytes.
    static func horizontal8(src: UnsafePointer<UInt8>, srcStride: Int, srcHeight: Int, channels: Int,
                            rowStart: Int, rows: Int, columnOffset: Int, axis: ResampleAxis,
                            dst: UnsafeMutablePointer<UInt8>) {
        if channels == 4, Resample8Kernels.current != nil {
            return horizontalRGBA(CompositeRowKernels.current, src: src, srcStride: srcStride, srcHeight: srcHeight,
                                  rowStart: rowStart, rows: rows, columnOffset: columnOffset, axis: axis, dst: dst)
        }
        if channels == 3 || channels == 4, let k = Resample8Kernels.current {
            return horizontal8(k, src: src, srcStride: srcStride, srcHeight: srcHeight, channels: channels,
                               rowStart: rowStart, rows: rows, columnOffset: columnOffset, axis: axis, dst: dst)
        }
        horizontal8Portable(src: src, srcStride: srcStride, srcHeight: srcHeight, channels: channels,
                            rowStart: rowStart, rows: rows, columnOffset: columnOffset, axis: axis, dst: dst)
    }

    /// `horizontal8` for 4 channels through `CompositeRowKernels.horizontalRGBA` (four taps per
    /// 16-lane vector; same integer sums, so the same bytes).
    static func horizontalRGBA(_ k: CompositeRowKernels, src: UnsafePointer<UInt8>, srcStride: Int, srcHeight: Int,
                               rowStart: Int, rows: Int, columnOffset: Int, axis: ResampleAxis,
                               dst: UnsafeMutablePointer<UInt8>) {
        let (quads, weights) = axis.quadWeights()
        axis.first.withUnsafeBufferPointer { f in
        axis.count.withUnsafeBufferPointer { n in
        weights.withUnsafeBufferPointer { w in
            guard let fp = f.baseAddress, let np = n.baseAddress, let wp = w.baseAddress else { return }
            k.horizontalRGBA(src, srcStride, src + srcHeight &* srcStride, rowStart, rows, columnOffset, axis.outSize,
                             quads, fp, np, wp, dst)
        }}}
    }

    /// `horizontal8` of RGBA rows `rowStart ..< rowStart + rows` (`width` pixels, whole rows,
    /// column offset 0) of an *un*-premultiplied source, each row premultiplied (`rgbA2rgba`)
    /// into a scratch row just before it is resampled: the bytes of `horizontal8` on the
    /// premultiplied image, without a premultiplied copy of it.
    static func horizontalPremultiplying(src: UnsafePointer<UInt8>, srcStride: Int, width w: Int,
                                         rowStart: Int, rows: Int, axis: ResampleAxis, dst: UnsafeMutablePointer<UInt8>) {
        let k = CompositeRowKernels.current
        // 64 zero bytes of slack after the row for the vector loads past its last taps.
        let scratchBytes = w * 4 + 64
        let row = UnsafeMutablePointer<UInt8>.allocate(capacity: scratchBytes)
        defer { row.deallocate() }
        (row + w * 4).initialize(repeating: 0, count: 64)
        let outRow = axis.outSize * 4
        guard Resample8Kernels.current != nil else {
            for r in 0..<rows {
                k.premultiply(row, src + (rowStart + r) * srcStride, w)
                horizontal8Portable(src: row, srcStride: scratchBytes, srcHeight: 1, channels: 4, rowStart: 0, rows: 1,
                                    columnOffset: 0, axis: axis, dst: dst + r * outRow)
            }
            return
        }
        let (quads, weights) = axis.quadWeights()
        axis.first.withUnsafeBufferPointer { f in
        axis.count.withUnsafeBufferPointer { n in
        weights.withUnsafeBufferPointer { wq in
            guard let fp = f.baseAddress, let np = n.baseAddress, let wp = wq.baseAddress else { return }
            for r in 0..<rows {
                k.premultiply(row, src + (rowStart + r) * srcStride, w)
                k.horizontalRGBA(row, scratchBytes, row + scratchBytes, 0, 1, 0, axis.outSize, quads, fp, np, wp, dst + r * outRow)
            }
        }}}
    }

    /// `horizontal8` through the ISA kernels `k` (3 or 4 channels).
    static func horizontal8(_ k: Resample8Kernels, src: UnsafePointer<UInt8>, srcStride: Int, srcHeight: Int, channels: Int,
                            rowStart: Int, rows: Int, columnOffset: Int, axis: ResampleAxis,
                            dst: UnsafeMutablePointer<UInt8>) {
        axis.first.withUnsafeBufferPointer { f in
        axis.count.withUnsafeBufferPointer { n in
        axis.fixed.withUnsafeBufferPointer { w in
            guard let fp = f.baseAddress, let np = n.baseAddress, let wp = w.baseAddress else { return }
            k.horizontal(src, srcStride, srcHeight, channels, rowStart, rows, columnOffset, axis.outSize, axis.taps,
                         fp, np, wp, dst)
        }}}
    }

    /// The portable (baseline x86-64 / any CPU) horizontal pass.
    static func horizontal8Portable(src: UnsafePointer<UInt8>, srcStride: Int, srcHeight: Int, channels: Int,
                                    rowStart: Int, rows: Int, columnOffset: Int, axis: ResampleAxis,
                                    dst: UnsafeMutablePointer<UInt8>) {
        guard let split = axis.split, channels == 3 || channels == 4 else {
            return horizontal8Reference(src: src, srcStride: srcStride, channels: channels, rowStart: rowStart,
                                        rows: rows, columnOffset: columnOffset, axis: axis, dst: dst)
        }
        let outW = axis.outSize
        let taps = axis.taps
        let step = channels
        let dstStride = outW &* channels
        let bias = SIMD8<Int32>(repeating: 1 << (ResampleAxis.precisionBits - 1))
        let endOfSource = src + srcHeight &* srcStride
        axis.first.withUnsafeBufferPointer { firstBuf in
        axis.count.withUnsafeBufferPointer { countBuf in
        split.hi.withUnsafeBufferPointer { hiBuf in
        split.lo.withUnsafeBufferPointer { loBuf in
            guard let firstP = firstBuf.baseAddress, let countP = countBuf.baseAddress,
                  let hiP = hiBuf.baseAddress, let loP = loBuf.baseAddress else { return }
            // Two rows at a time (lanes 0–3 and 4–7, one lane per channel) share each
            // coefficient broadcast. With 3 channels the 4th lane reads the next pixel's first
            // byte (ignored), which must lie inside the buffer; otherwise lanes load bytewise.
            var r = 0
            while r < rows {
                let pair = r + 1 < rows
                let s0 = src + (rowStart &+ r) &* srcStride - columnOffset &* step
                let s1 = pair ? s0 + srcStride : s0
                let d0 = dst + r &* dstStride
                for x in 0..<outW {
                    let p0 = s0 + Int(firstP[x]) &* step
                    let p1 = s1 + Int(firstP[x]) &* step
                    let kh = hiP + x &* taps, kl = loP + x &* taps
                    let n = Int(countP[x])
                    var h = SIMD8<Int32>(repeating: 0), l = SIMD8<Int32>(repeating: 0)
                    if step == 4 || p1 + n &* 3 + 1 <= endOfSource {
                        var q0 = UnsafeRawPointer(p0), q1 = UnsafeRawPointer(p1)
                        for t in 0..<n {
                            let v = SIMD8<Int32>(truncatingIfNeeded: SIMD8<UInt8>(
                                lowHalf: q0.loadUnaligned(as: SIMD4<UInt8>.self),
                                highHalf: q1.loadUnaligned(as: SIMD4<UInt8>.self)))
                            h = h &+ v &* SIMD8<Int32>(repeating: Int32(kh[t]))
                            l = l &+ v &* SIMD8<Int32>(repeating: Int32(kl[t]))
                            q0 += step
                            q1 += step
                        }
                    } else {
                        for t in 0..<n {
                            let a = p0 + t &* 3, b = p1 + t &* 3
                            let v = SIMD8<Int32>(Int32(a[0]), Int32(a[1]), Int32(a[2]), 0,
                                                 Int32(b[0]), Int32(b[1]), Int32(b[2]), 0)
                            h = h &+ v &* SIMD8<Int32>(repeating: Int32(kh[t]))
                            l = l &+ v &* SIMD8<Int32>(repeating: Int32(kl[t]))
                        }
                    }
                    let v = SIMD8<UInt8>(truncatingIfNeeded: narrow((h &<< ResampleAxis.splitBits) &+ l &+ bias))
                    let o0 = d0 + x &* step
                    o0[0] = v[0]; o0[1] = v[1]; o0[2] = v[2]
                    if step == 4 { o0[3] = v[3] }
                    if pair {
                        let o1 = o0 + dstStride
                        o1[0] = v[4]; o1[1] = v[5]; o1[2] = v[6]
                        if step == 4 { o1[3] = v[7] }
                    }
                }
                r += 2
            }
        }}}}
    }

    /// Vertical pass: output row `y` (of `axis.outSize`) is the weighted sum of `src` rows
    /// `first[y] − rowOffset …` (`srcStride` bytes apart), over `rowBytes` bytes of each; writes
    /// `axis.outSize` rows of `rowBytes` bytes, `dstStride` apart, to `dst` (which must not
    /// overlap `src`).
    ///
    /// Runs the ISA kernel of `Resample8Kernels.current` when there is one and `rowBytes ≥ 16`,
    /// else `vertical8Portable`; both give the same bytes.
    static func vertical8(src: UnsafePointer<UInt8>, srcStride: Int, rowOffset: Int, rowBytes: Int,
                          axis: ResampleAxis, dst: UnsafeMutablePointer<UInt8>, dstStride: Int) {
        if rowBytes >= 16, let k = Resample8Kernels.current {
            return vertical8(k, src: src, srcStride: srcStride, rowOffset: rowOffset, rowBytes: rowBytes,
                             axis: axis, dst: dst, dstStride: dstStride)
        }
        vertical8Portable(src: src, srcStride: srcStride, rowOffset: rowOffset, rowBytes: rowBytes,
                          axis: axis, dst: dst, dstStride: dstStride)
    }

    /// `vertical8` through the ISA kernels `k` (`rowBytes ≥ 16`).
    static func vertical8(_ k: Resample8Kernels, src: UnsafePointer<UInt8>, srcStride: Int, rowOffset: Int, rowBytes: Int,
                          axis: ResampleAxis, dst: UnsafeMutablePointer<UInt8>, dstStride: Int) {
        axis.first.withUnsafeBufferPointer { f in
        axis.count.withUnsafeBufferPointer { n in
        axis.fixed.withUnsafeBufferPointer { w in
            guard let fp = f.baseAddress, let np = n.baseAddress, let wp = w.baseAddress else { return }
            k.vertical(src, srcStride, rowOffset, rowBytes, axis.outSize, axis.taps, fp, np, wp, dst, dstStride)
        }}}
    }

    /// The portable (baseline x86-64 / any CPU) vertical pass.
    static func vertical8Portable(src: UnsafePointer<UInt8>, srcStride: Int, rowOffset: Int, rowBytes: Int,
                                  axis: ResampleAxis, dst: UnsafeMutablePointer<UInt8>, dstStride: Int) {
        guard let split = axis.split, rowBytes >= 16 else {
            return vertical8Reference(src: src, srcStride: srcStride, rowOffset: rowOffset, rowBytes: rowBytes,
                                      axis: axis, dst: dst, dstStride: dstStride)
        }
        let taps = axis.taps
        let bias = SIMD16<Int32>(repeating: 1 << (ResampleAxis.precisionBits - 1))
        axis.first.withUnsafeBufferPointer { firstBuf in
        axis.count.withUnsafeBufferPointer { countBuf in
        split.hi.withUnsafeBufferPointer { hiBuf in
        split.lo.withUnsafeBufferPointer { loBuf in
            guard let firstP = firstBuf.baseAddress, let countP = countBuf.baseAddress,
                  let hiP = hiBuf.baseAddress, let loP = loBuf.baseAddress else { return }
            for y in 0..<axis.outSize {
                let n = Int(countP[y])
                let kh = hiP + y &* taps, kl = loP + y &* taps
                let base = src + (Int(firstP[y]) &- rowOffset) &* srcStride
                let d = dst + y &* dstStride
                var i = 0
                while true {
                    // The last block overlaps the previous one instead of a scalar tail.
                    if i + 16 > rowBytes { i = rowBytes - 16 }
                    var h = SIMD16<Int32>(repeating: 0), l = SIMD16<Int32>(repeating: 0)
                    var p = UnsafeRawPointer(base + i)
                    for t in 0..<n {
                        let v = SIMD16<Int32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD16<UInt8>.self))
                        h = h &+ v &* SIMD16<Int32>(repeating: Int32(kh[t]))
                        l = l &+ v &* SIMD16<Int32>(repeating: Int32(kl[t]))
                        p += srcStride
                    }
                    let v = narrow((h &<< ResampleAxis.splitBits) &+ l &+ bias)
                    UnsafeMutableRawPointer(d + i).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v), as: SIMD16<UInt8>.self)
                    i += 16
                    if i >= rowBytes { break }
                }
            }
        }}}}
    }

    /// Plain scalar horizontal pass with the 32-bit table (Pillow's loop): the reference for
    /// the vector kernel, and the path for 1-channel images and tables `split` cannot hold.
    static func horizontal8Reference(src: UnsafePointer<UInt8>, srcStride: Int, channels: Int,
                                     rowStart: Int, rows: Int, columnOffset: Int, axis: ResampleAxis,
                                     dst: UnsafeMutablePointer<UInt8>) {
        let outW = axis.outSize
        let taps = axis.taps
        let dstStride = outW &* channels
        let bias = Int32(1) << (ResampleAxis.precisionBits - 1)
        axis.first.withUnsafeBufferPointer { firstBuf in
        axis.count.withUnsafeBufferPointer { countBuf in
        axis.fixed.withUnsafeBufferPointer { fixedBuf in
            guard let firstP = firstBuf.baseAddress, let countP = countBuf.baseAddress,
                  let kk = fixedBuf.baseAddress else { return }
            for r in 0..<rows {
                let s = src + (rowStart &+ r) &* srcStride - columnOffset &* channels
                let d = dst + r &* dstStride
                for x in 0..<outW {
                    let p = s + Int(firstP[x]) &* channels
                    let k = kk + x &* taps
                    let n = Int(countP[x])
                    for c in 0..<channels {
                        var acc = bias
                        for t in 0..<n { acc = acc &+ Int32(p[t &* channels &+ c]) &* k[t] }
                        d[x &* channels &+ c] = narrow(acc)
                    }
                }
            }
        }}}
    }

    /// Plain scalar vertical pass with the 32-bit table (Pillow's loop).
    static func vertical8Reference(src: UnsafePointer<UInt8>, srcStride: Int, rowOffset: Int, rowBytes: Int,
                                   axis: ResampleAxis, dst: UnsafeMutablePointer<UInt8>, dstStride: Int) {
        let taps = axis.taps
        let bias = Int32(1) << (ResampleAxis.precisionBits - 1)
        axis.first.withUnsafeBufferPointer { firstBuf in
        axis.count.withUnsafeBufferPointer { countBuf in
        axis.fixed.withUnsafeBufferPointer { fixedBuf in
            guard let firstP = firstBuf.baseAddress, let countP = countBuf.baseAddress,
                  let kk = fixedBuf.baseAddress else { return }
            for y in 0..<axis.outSize {
                let n = Int(countP[y])
                let k = kk + y &* taps
                let base = src + (Int(firstP[y]) &- rowOffset) &* srcStride
                let d = dst + y &* dstStride
                for i in 0..<rowBytes {
                    var acc = bias
                    var p = base + i
                    for t in 0..<n {
                        acc = acc &+ Int32(p[0]) &* k[t]
                        p += srcStride
                    }
                    d[i] = narrow(acc)
                }
            }
        }}}
    }

    // MARK: Float

    /// Float horizontal pass (same geometry as `horizontal8`, strides in floats).
    static func horizontalF(src: UnsafePointer<Float>, srcStride: Int, channels: Int,
                            rowStart: Int, rows: Int, columnOffset: Int, axis: ResampleAxis,
                            dst: UnsafeMutablePointer<Float>) {
        let outW = axis.outSize
        let taps = axis.taps
        let dstStride = outW &* channels
        axis.first.withUnsafeBufferPointer { firstBuf in
        axis.count.withUnsafeBufferPointer { countBuf in
        axis.weights.withUnsafeBufferPointer { wBuf in
            guard let firstP = firstBuf.baseAddress, let countP = countBuf.baseAddress,
                  let kk = wBuf.baseAddress else { return }
            for r in 0..<rows {
                let s = src + (rowStart &+ r) &* srcStride - columnOffset &* channels
                let d = dst + r &* dstStride
                for x in 0..<outW {
                    let p = s + Int(firstP[x]) &* channels
                    let k = kk + x &* taps
                    let n = Int(countP[x])
                    let o = d + x &* channels
                    var c = 0
                    while c + 4 <= channels {
                        var acc = SIMD4<Double>(repeating: 0)
                        for t in 0..<n {
                            let q = p + (t &* channels &+ c)
                            acc = acc + SIMD4<Double>(Double(q[0]), Double(q[1]), Double(q[2]), Double(q[3])) * SIMD4<Double>(repeating: k[t])
                        }
                        o[c] = Float(acc[0]); o[c + 1] = Float(acc[1]); o[c + 2] = Float(acc[2]); o[c + 3] = Float(acc[3])
                        c += 4
                    }
                    while c < channels {
                        var acc = 0.0
                        for t in 0..<n { acc += Double(p[t &* channels &+ c]) * k[t] }
                        o[c] = Float(acc)
                        c += 1
                    }
                }
            }
        }}}
    }

    /// Float vertical pass (same geometry as `vertical8`; strides and `rowLength` in floats).
    static func verticalF(src: UnsafePointer<Float>, srcStride: Int, rowOffset: Int, rowLength: Int,
                          axis: ResampleAxis, dst: UnsafeMutablePointer<Float>, dstStride: Int) {
        let taps = axis.taps
        axis.first.withUnsafeBufferPointer { firstBuf in
        axis.count.withUnsafeBufferPointer { countBuf in
        axis.weights.withUnsafeBufferPointer { wBuf in
            guard let firstP = firstBuf.baseAddress, let countP = countBuf.baseAddress,
                  let kk = wBuf.baseAddress else { return }
            for y in 0..<axis.outSize {
                let n = Int(countP[y])
                let k = kk + y &* taps
                let base = src + (Int(firstP[y]) &- rowOffset) &* srcStride
                let d = dst + y &* dstStride
                var i = 0
                while i + 8 <= rowLength {
                    var a0 = SIMD4<Double>(repeating: 0)
                    var a1 = SIMD4<Double>(repeating: 0)
                    var p = UnsafeRawPointer(base + i)
                    for t in 0..<n {
                        let kv = SIMD4<Double>(repeating: k[t])
                        let v = p.loadUnaligned(as: SIMD8<Float>.self)
                        a0 = a0 + SIMD4<Double>(v.lowHalf) * kv
                        a1 = a1 + SIMD4<Double>(v.highHalf) * kv
                        p += srcStride &* MemoryLayout<Float>.stride
                    }
                    UnsafeMutableRawPointer(d + i).storeBytes(of: SIMD8<Float>(lowHalf: SIMD4<Float>(a0), highHalf: SIMD4<Float>(a1)), as: SIMD8<Float>.self)
                    i += 8
                }
                while i < rowLength {
                    var acc = 0.0
                    var p = base + i
                    for t in 0..<n {
                        acc += Double(p[0]) * k[t]
                        p += srcStride
                    }
                    d[i] = Float(acc)
                    i += 1
                }
            }
        }}}
    }
}
