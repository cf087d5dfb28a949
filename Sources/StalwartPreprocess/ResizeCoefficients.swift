import StalwartTensor

/// The resampling table of one axis: for each output index, the first input index used, how
/// many inputs are used, and their normalized weights (double, for float images) and
/// fixed-point weights (for 8-bit images).
///
/// Built exactly as Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` (Resample.c):
/// - `scale = (in1 − in0) / outSize`, with `in1 − in0` evaluated in `float` (Pillow passes the
///   box as `float[4]`); `filterscale = max(scale, 1)` when antialiasing, else 1;
///   `support = filter.support × filterscale`; row length `taps = 2·⌈support⌉ + 1`.
/// - Output sample `i` is centred at `in0 + (i + 0.5)·scale` (half-pixel centres); inputs
///   `first = trunc(centre − support + 0.5)` (≥ 0) up to `trunc(centre + support + 0.5)` (≤ inSize),
///   input `j` weighted `w((j − centre + 0.5) / filterscale)`, weights divided by their sum.
/// - Fixed point: `trunc(w·2²² ± 0.5)` (round half away from zero), `PRECISION_BITS = 22`.
///
/// Immutable and `Sendable`; shared between threads through `ResampleAxis.cached`.
struct ResampleAxis: Sendable {
    static let precisionBits: Int32 = 22
    static let splitBits: Int32 = 11

    let inSize: Int
    let outSize: Int
    /// Length of each output's row in `weights` / `fixed` (Pillow's `ksize`); entries past
    /// `count[i]` are zero.
    let taps: Int
    let first: [Int32]
    let count: [Int32]
    let weights: [Double]
    let fixed: [Int32]
    /// `fixed` split as `hi·2¹¹ + lo` with `lo` in 0..<2048, both exact `Int16`, so the 8-bit
    /// kernels multiply 16-bit operands (SSE2 `pmaddwd`) and still sum exactly the same 32-bit
    /// integers. `nil` if some coefficient does not fit (|weight| ≥ 16; never for real tables),
    /// in which case the kernels fall back to the plain 32-bit reference loops.
    let split: (hi: [Int16], lo: [Int16])?

    /// First input index any output reads (Pillow's `ybox_first`).
    var firstUsed: Int { Int(first[0]) }
    /// One past the last input index the last output reads (Pillow's `ybox_last`).
    var endUsed: Int { Int(first[outSize - 1]) + Int(count[outSize - 1]) }

    /// Builds the table. Callers validate: 1 ≤ inSize, outSize ≤ `Resize.maxSide`,
    /// 0 ≤ in0 ≤ in1 ≤ inSize, all finite.
    init(inSize: Int, in0: Float, in1: Float, outSize: Int, filter: ResizeFilter, antialias: Bool) {
        self.inSize = inSize
        self.outSize = outSize
        let scale = Double(in1 - in0) / Double(outSize)
        var filterscale = scale
        if filterscale < 1.0 || !antialias { filterscale = 1.0 }
        let support = filter.support * filterscale
        let taps = Int(support.rounded(.up)) * 2 + 1
        self.taps = taps

        var first = [Int32](repeating: 0, count: outSize)
        var count = [Int32](repeating: 0, count: outSize)
        var weights = [Double](repeating: 0, count: outSize * taps)
        let ss = 1.0 / filterscale
        let origin = Double(in0)
        for i in 0..<outSize {
            let centre = origin + (Double(i) + 0.5) * scale
            var lo = Int(centre - support + 0.5)
            if lo < 0 { lo = 0 }
            var hi = Int(centre + support + 0.5)
            if hi > inSize { hi = inSize }
            let n = max(0, min(hi - lo, taps))
            let row = i * taps
            var sum = 0.0
            for t in 0..<n {
                let w = filter.weight((Double(t + lo) - centre + 0.5) * ss)
                weights[row + t] = w
                sum += w
            }
            if sum != 0.0 {
                for t in 0..<n { weights[row + t] /= sum }
            }
            first[i] = Int32(lo)
            count[i] = Int32(n)
        }
        let one = Double(1 << ResampleAxis.precisionBits)
        let fixed = weights.map { w in
            ResampleAxis.truncatedInt32(w < 0 ? -0.5 + w * one : 0.5 + w * one)
        }
        self.fixed = fixed
        if fixed.allSatisfy({ ($0 >> ResampleAxis.splitBits) >= Int32(Int16.min) && ($0 >> ResampleAxis.splitBits) <= Int32(Int16.max) }) {
            split = (fixed.map { Int16(truncatingIfNeeded: $0 >> ResampleAxis.splitBits) },
                     fixed.map { Int16(truncatingIfNeeded: $0 & ((1 << ResampleAxis.splitBits) - 1)) })
        } else {
            split = nil
        }
        self.first = first
        self.count = count
        self.weights = weights
    }

    /// The rows `outputs` of `base` as a table of `outputs.count` outputs: output `i` of the
    /// result is output `outputs.lowerBound + i` of `base`, with the same `first`, `count` and
    /// weights (the table of each output depends only on its own index and the full output
    /// size, so computing a sub-range of outputs is exactly a crop of the full result).
    /// `outputs` must be non-empty and lie in `0..<base.outSize`.
    init(_ base: ResampleAxis, outputs: Range<Int>) {
        inSize = base.inSize
        outSize = outputs.count
        taps = base.taps
        first = Array(base.first[outputs])
        count = Array(base.count[outputs])
        let w = (outputs.lowerBound * base.taps)..<(outputs.upperBound * base.taps)
        weights = Array(base.weights[w])
        fixed = Array(base.fixed[w])
        split = base.split.map { (Array($0.hi[w]), Array($0.lo[w])) }
    }

    /// `fixed` laid out for the 4-taps-per-vector RGBA kernel (`CompositeRowKernels.horizontalRGBA`):
    /// per output, `quads = ⌈taps / 4⌉` groups of 16 values, tap 4q + i's coefficient repeated
    /// at lanes 4i…4i+3, zero past the output's `count`.
    func quadWeights() -> (quads: Int, weights: [Int32]) {
        let quads = (taps + 3) / 4
        var w = [Int32](repeating: 0, count: outSize * quads * 16)
        w.withUnsafeMutableBufferPointer { wb in
            fixed.withUnsafeBufferPointer { fb in
                guard let wp = wb.baseAddress, let fp = fb.baseAddress else { return }
                for x in 0..<outSize {
                    let n = Int(count[x])
                    let row = wp + x * quads * 16
                    for t in 0..<n {
                        let c = fp[x * taps + t]
                        row[4 * t] = c; row[4 * t + 1] = c; row[4 * t + 2] = c; row[4 * t + 3] = c
                    }
                }
            }
        }
        return (quads, w)
    }

    /// C's `(int)x` for the values that occur here, saturating instead of trapping.
    @inline(__always)
    static func truncatedInt32(_ x: Double) -> Int32 {
        if !(x > -2147483648.0) { return Int32.min }
        if !(x < 2147483647.0) { return Int32.max }
        return Int32(x)
    }

    // MARK: Cache

    struct Key: Hashable {
        let inSize: Int
        let in0: UInt32
        let in1: UInt32
        let outSize: Int
        let filter: ResizeFilter
        let antialias: Bool
    }

    private static let lock = Lock()
    nonisolated(unsafe) private static var cache: [Key: ResampleAxis] = [:]
    private static let cacheCapacity = 64

    /// The table for these arguments, computed once and then reused (evaluation resizes
    /// millions of images between a handful of sizes). Thread-safe.
    static func cached(inSize: Int, in0: Float, in1: Float, outSize: Int, filter: ResizeFilter,
                       antialias: Bool) -> ResampleAxis {
        let key = Key(inSize: inSize, in0: in0.bitPattern, in1: in1.bitPattern, outSize: outSize,
                      filter: filter, antialias: antialias)
        if let hit = lock.withLock({ cache[key] }) { return hit }
        let axis = ResampleAxis(inSize: inSize, in0: in0, in1: in1, outSize: outSize,
                                filter: filter, antialias: antialias)
        lock.withLock {
            if cache.count >= cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = axis
        }
        return axis
    }
}
