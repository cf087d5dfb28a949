#if canImport(Glibc)
import Glibc
#else
import Glibc
#endif

/// Numeric tensor routines the ONNX operator layer calls on contiguous row-major buffers.
///
/// Every routine takes already-validated, normalized arguments (axes non-negative, pads
/// resolved, output shapes computed by the caller) and writes a caller-owned output buffer that
/// must not alias any input. Routines are total: an argument combination outside their
/// documented domain (mismatched ranks, negative sizes, out-of-range indices, overflowing
/// sizes) makes them return without writing instead of trapping. They keep no state, so any
/// routine may run on many threads at once. Split across `Ops/` by concern: data movement,
/// pooling, reductions and softmax, normalization, resize.
public enum TensorOps {}

// MARK: - Shared helpers (internal)

extension TensorOps {
    /// Element count of `shape`, or nil when a dimension is negative or the product overflows.
    @inline(__always)
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            if d < 0 { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// Product of `shape[range]`; only for shapes already checked by `elementCount`.
    @inline(__always)
    static func product(_ shape: [Int], _ range: Range<Int>) -> Int {
        var n = 1
        for i in range { n &*= shape[i] }
        return n
    }

    /// `a * b`, or nil on overflow or when the result exceeds half the address space.
    @inline(__always)
    static func checkedMul(_ a: Int, _ b: Int) -> Int? {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o || p > Int.max / 2 ? nil : p
    }

    /// Calls `body(src, dst)` for every multi-index of `dims` (row-major order), where `src` and
    /// `dst` are the dot products of the index with `srcStrides` / `dstStrides`, offset by the
    /// given bases. Zero dims → one call with the bases; any zero-sized dim → no call.
    @inline(__always)
    static func forEachIndex(_ dims: [Int], srcStrides: [Int], dstStrides: [Int],
                             srcBase: Int = 0, dstBase: Int = 0, _ body: (Int, Int) -> Void) {
        let r = dims.count
        for d in dims where d <= 0 { return }
        if r == 0 { body(srcBase, dstBase); return }
        var idx = [Int](repeating: 0, count: r)
        var s = srcBase, t = dstBase
        let lastN = dims[r - 1], lastS = srcStrides[r - 1], lastD = dstStrides[r - 1]
        while true {
            // Innermost dimension as a plain loop.
            var si = s, ti = t
            for _ in 0..<lastN {
                body(si, ti)
                si &+= lastS
                ti &+= lastD
            }
            // Carry into the outer dimensions.
            var a = r - 2
            while a >= 0 {
                idx[a] += 1
                s &+= srcStrides[a]
                t &+= dstStrides[a]
                if idx[a] < dims[a] { break }
                s &-= srcStrides[a] &* dims[a]
                t &-= dstStrides[a] &* dims[a]
                idx[a] = 0
                a -= 1
            }
            if a < 0 { return }
        }
    }

    /// Splits `count` items into contiguous ranges and runs them on `pool`; runs inline when the
    /// whole job is below `minWork` (items × `workPerItem`) so tiny loops skip the dispatch.
    @inline(__always)
    static func parallelRanges(_ pool: ThreadPool, count: Int, workPerItem: Int,
                               minWork: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let total = count.multipliedReportingOverflow(by: Swift.max(workPerItem, 1))
        if pool.threadCount <= 1 || count == 1 || (!total.overflow && total.partialValue < minWork) {
            body(0..<count)
            return
        }
        // A few chunks per thread balance uneven work without paying per-item dispatch.
        var chunks = Swift.min(count, pool.threadCount * 4)
        if !total.overflow {
            chunks = Swift.min(chunks, Swift.max(1, total.partialValue / (minWork / 2)))
        }
        if chunks <= 1 { body(0..<count); return }
        let per = count / chunks, extra = count % chunks
        pool.parallelFor(chunks) { c in
            let lo = c * per + Swift.min(c, extra)
            let hi = lo + per + (c < extra ? 1 : 0)
            body(lo..<hi)
        }
    }

    /// Copies `count` elements of `elementSize` bytes from `src` (stepping `srcStride`
    /// elements, may be negative or zero) to contiguous `dst`.
    @inline(__always)
    static func copyStrided(_ src: UnsafeRawPointer, srcStride: Int, count: Int,
                            elementSize: Int, to dst: UnsafeMutableRawPointer) {
        if count <= 0 { return }
        if srcStride == 1 { memcpy(dst, src, count &* elementSize); return }
        switch elementSize {
        case 4: stridedCopy(src, srcStride, count, dst, UInt32.self)
        case 8: stridedCopy(src, srcStride, count, dst, UInt64.self)
        case 1: stridedCopy(src, srcStride, count, dst, UInt8.self)
        case 2: stridedCopy(src, srcStride, count, dst, UInt16.self)
        default:
            for i in 0..<count {
                memcpy(dst + i &* elementSize, src + (i &* srcStride) &* elementSize, elementSize)
            }
        }
    }

    @inline(__always)
    static func stridedCopy<T>(_ src: UnsafeRawPointer, _ stride: Int, _ count: Int,
                               _ dst: UnsafeMutableRawPointer, _: T.Type) {
        let s = src.assumingMemoryBound(to: T.self)
        let d = dst.assumingMemoryBound(to: T.self)
        var j = 0
        for i in 0..<count {
            d[i] = s[j]
            j &+= stride
        }
    }

    /// Fills `count` elements at `dst` with the element at `value` (nil → all-zero bytes).
    @inline(__always)
    static func fillElements(_ dst: UnsafeMutableRawPointer, count: Int, elementSize: Int,
                             value: UnsafeRawPointer?) {
        if count <= 0 { return }
        guard let v = value else { memset(dst, 0, count &* elementSize); return }
        switch elementSize {
        case 4: fillTyped(dst, count, v, UInt32.self)
        case 8: fillTyped(dst, count, v, UInt64.self)
        case 1: memset(dst, Int32(v.load(as: UInt8.self)), count)
        case 2: fillTyped(dst, count, v, UInt16.self)
        default:
            for i in 0..<count { memcpy(dst + i &* elementSize, v, elementSize) }
        }
    }

    @inline(__always)
    static func fillTyped<T: FixedWidthInteger>(_ dst: UnsafeMutableRawPointer, _ count: Int,
                                                _ value: UnsafeRawPointer, _: T.Type) {
        var x: T = 0
        withUnsafeMutableBytes(of: &x) { b in
            if let base = b.baseAddress { memcpy(base, value, MemoryLayout<T>.size) }
        }
        let d = dst.assumingMemoryBound(to: T.self)
        for i in 0..<count { d[i] = x }
    }

    /// Float → Int that never traps: NaN → `lo`, values outside [lo, hi] are clamped.
    @inline(__always)
    static func clampToInt(_ x: Float, _ lo: Int, _ hi: Int) -> Int {
        if !(x >= Float(lo)) { return lo }
        if x >= Float(hi) { return hi }
        return Swift.min(Swift.max(Int(x), lo), hi)
    }

    /// Double → Int that never traps: NaN → `lo`, values outside [lo, hi] are clamped.
    @inline(__always)
    static func clampToInt(_ x: Double, _ lo: Int, _ hi: Int) -> Int {
        if !(x >= Double(lo)) { return lo }
        if x >= Double(hi) { return hi }
        return Swift.min(Swift.max(Int(x), lo), hi)
    }

    /// e^x, branch-free so loops over it auto-vectorize on baseline x86-64: Cephes range
    /// reduction (round-to-nearest through the 1.5·2²³ trick, 2ⁿ through exponent bits) and a
    /// degree-6 polynomial; relative error ≤ 2.5e-7 on [−87.3, 88.7]. Below −87.3 gives 0,
    /// above 88.7 gives +inf, NaN stays NaN.
    @inline(__always)
    static func fastExp(_ x: Float) -> Float {
        let lo: Float = -87.33654, hi: Float = 88.72283
        let xc = x < lo ? lo : (x > hi ? hi : x)
        let magic: Float = 12_582_912  // 1.5 · 2^23
        let t = xc * 1.442695041 + magic
        let n = t - magic
        let ni = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: magic.bitPattern)
        var r = xc - n * 0.693359375
        r = r + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * (r * r) + r + 1
        let scale = Float(bitPattern: UInt32(bitPattern: (ni &+ 127) &<< 23))
        let e = y * scale
        return x < lo ? 0 : (x > hi ? .infinity : (x != x ? x : e))
    }
}
