#if canImport(Glibc)
import Glibc
#else
import Glibc
#endif

// Data movement for any dtype: elements are opaque `elementSize`-byte values (1, 2, 4 or 8 get
// typed loops; other sizes fall back to per-element memcpy). All buffers are contiguous
// row-major; outputs must not alias inputs.

extension TensorOps {
    // MARK: Transpose

    /// Transpose: `output[i_0, …, i_{r-1}] = input[j]` with `j[perm[k]] = i_k`, i.e. output axis
    /// k is input axis `perm[k]` (ONNX/NumPy convention); output shape `shape[perm[k]]`.
    /// Size-1 axes are dropped and axes that stay adjacent are merged first, so e.g.
    /// NCHW→NHWC runs as a batched 2-D transpose (cache-tiled 32×32) and permutations that keep
    /// the last axis last run as block memcpys. `perm` must be a permutation of 0..<rank.
    public static func transpose(_ input: UnsafeRawPointer, shape: [Int], perm: [Int],
                                 elementSize: Int, output: UnsafeMutableRawPointer) {
        let r = shape.count
        guard perm.count == r, elementSize > 0, let n = elementCount(shape),
              checkedMul(n, elementSize) != nil else { return }
        var seen = [Bool](repeating: false, count: r)
        for p in perm {
            guard p >= 0, p < r, !seen[p] else { return }
            seen[p] = true
        }
        if n == 0 { return }

        // Drop size-1 axes (renumbering the rest), then merge runs of consecutive input axes.
        var newIndex = [Int](repeating: -1, count: r)
        var kept = 0
        for a in 0..<r where shape[a] != 1 { newIndex[a] = kept; kept += 1 }
        var reducedShape = [Int]()
        for a in 0..<r where shape[a] != 1 { reducedShape.append(shape[a]) }
        var reducedPerm = [Int]()
        for p in perm where newIndex[p] >= 0 { reducedPerm.append(newIndex[p]) }
        // Groups of output-adjacent axes that are also input-adjacent.
        var groups = [[Int]]()
        for p in reducedPerm {
            if let last = groups.last?.last, last + 1 == p {
                groups[groups.count - 1].append(p)
            } else {
                groups.append([p])
            }
        }
        if groups.count <= 1 {
            memcpy(output, input, n &* elementSize)
            return
        }
        // Coalesced input: groups in input order.
        let byInput = groups.indices.sorted { groups[$0][0] < groups[$1][0] }
        var inShape = [Int](repeating: 1, count: groups.count)
        var groupToInAxis = [Int](repeating: 0, count: groups.count)
        for (k, g) in byInput.enumerated() {
            inShape[k] = groups[g].reduce(1) { $0 &* reducedShape[$1] }
            groupToInAxis[g] = k
        }
        let rank = inShape.count
        let cperm = (0..<rank).map { groupToInAxis[$0] }
        let inStrides = Shape.strides(inShape)
        let outShape = cperm.map { inShape[$0] }
        let outStrides = Shape.strides(outShape)
        let srcStrides = cperm.map { inStrides[$0] }

        if cperm[rank - 1] == rank - 1 {
            // Last axis stays last: contiguous rows.
            let row = outShape[rank - 1] &* elementSize
            let dims = Array(outShape[0..<(rank - 1)])
            forEachIndex(dims, srcStrides: Array(srcStrides[0..<(rank - 1)]),
                         dstStrides: Array(outStrides[0..<(rank - 1)])) { s, d in
                memcpy(output + d &* elementSize, input + s &* elementSize, row)
            }
            return
        }
        // Batched 2-D transpose: output axis q reads input-contiguous data (stride 1), the
        // output's last axis reads with stride srcStrides[rank-1].
        guard let q = cperm.firstIndex(of: rank - 1) else { return }
        var dims = [Int](), ss = [Int](), ds = [Int]()
        for k in 0..<(rank - 1) where k != q {
            dims.append(outShape[k]); ss.append(srcStrides[k]); ds.append(outStrides[k])
        }
        let rows = outShape[q], cols = outShape[rank - 1]
        let dstRowStride = outStrides[q], srcColStride = srcStrides[rank - 1]
        forEachIndex(dims, srcStrides: ss, dstStrides: ds) { s, d in
            switch elementSize {
            case 4:
                transpose2D(input, s, output, d, rows, cols, dstRowStride, srcColStride, UInt32.self)
            case 8:
                transpose2D(input, s, output, d, rows, cols, dstRowStride, srcColStride, UInt64.self)
            case 1:
                transpose2D(input, s, output, d, rows, cols, dstRowStride, srcColStride, UInt8.self)
            case 2:
                transpose2D(input, s, output, d, rows, cols, dstRowStride, srcColStride, UInt16.self)
            default:
                for i in 0..<rows {
                    for j in 0..<cols {
                        memcpy(output + (d &+ i &* dstRowStride &+ j) &* elementSize,
                               input + (s &+ i &+ j &* srcColStride) &* elementSize, elementSize)
                    }
                }
            }
        }
    }

    /// dst[d + i*dstRowStride + j] = src[s + i + j*srcColStride] for i < rows, j < cols, in
    /// 32×32 tiles so both sides stay in cache.
    @inline(__always)
    static func transpose2D<T>(_ input: UnsafeRawPointer, _ s: Int, _ output: UnsafeMutableRawPointer,
                               _ d: Int, _ rows: Int, _ cols: Int, _ dstRowStride: Int,
                               _ srcColStride: Int, _: T.Type) {
        let src = input.assumingMemoryBound(to: T.self) + s
        let dst = output.assumingMemoryBound(to: T.self) + d
        let tile = 32
        var i0 = 0
        while i0 < rows {
            let i1 = Swift.min(i0 + tile, rows)
            var j0 = 0
            while j0 < cols {
                let j1 = Swift.min(j0 + tile, cols)
                for i in i0..<i1 {
                    let drow = dst + i &* dstRowStride
                    let scol = src + i
                    for j in j0..<j1 { drow[j] = scol[j &* srcColStride] }
                }
                j0 = j1
            }
            i0 = i1
        }
    }

    // MARK: Concat / Split

    /// Concatenation along `axis`: every input is `(pointer, shape)` with the same rank and the
    /// same dimensions except along `axis`; output shape is that shape with `axis` set to the
    /// sum. Copies one contiguous chunk per input per outer index (outer = product of the
    /// dimensions before `axis`).
    public static func concat(_ inputs: [(UnsafeRawPointer, [Int])], axis: Int, elementSize: Int,
                              output: UnsafeMutableRawPointer) {
        guard let first = inputs.first?.1, axis >= 0, axis < first.count, elementSize > 0 else { return }
        var chunks = [Int]()
        chunks.reserveCapacity(inputs.count)
        var row = 0
        for (_, s) in inputs {
            guard s.count == first.count, let n = elementCount(s), checkedMul(n, elementSize) != nil
            else { return }
            for a in 0..<s.count where a != axis && s[a] != first[a] { return }
            let c = product(s, axis..<s.count) &* elementSize
            chunks.append(c)
            let (t, o) = row.addingReportingOverflow(c)
            guard !o else { return }
            row = t
        }
        let outer = product(first, 0..<axis)
        guard checkedMul(outer, row) != nil else { return }
        var off = 0
        for (k, (p, _)) in inputs.enumerated() {
            let c = chunks[k]
            if c > 0 {
                for o in 0..<outer { memcpy(output + (o &* row &+ off), p + o &* c, c) }
            }
            off &+= c
        }
    }

    /// Split along `axis` into `sizes.count` outputs; output k has `shape` with `axis` set to
    /// `sizes[k]`. `sizes` must be non-negative and sum to `shape[axis]`; `outputs.count` must
    /// equal `sizes.count`. The exact inverse of `concat`.
    public static func split(_ input: UnsafeRawPointer, shape: [Int], axis: Int, sizes: [Int],
                             elementSize: Int, outputs: [UnsafeMutableRawPointer]) {
        guard axis >= 0, axis < shape.count, elementSize > 0, sizes.count == outputs.count,
              let n = elementCount(shape), checkedMul(n, elementSize) != nil else { return }
        var total = 0
        for s in sizes {
            guard s >= 0 else { return }
            total += s
            guard total <= shape[axis] else { return }
        }
        guard total == shape[axis] else { return }
        let inner = product(shape, (axis + 1)..<shape.count) &* elementSize
        let outer = product(shape, 0..<axis)
        let row = shape[axis] &* inner
        var off = 0
        for (k, s) in sizes.enumerated() {
            let c = s &* inner
            if c > 0 {
                let dst = outputs[k]
                for o in 0..<outer { memcpy(dst + o &* c, input + (o &* row &+ off), c) }
            }
            off &+= c
        }
    }

    // MARK: Slice

    /// Strided slice: `output[i] = input[starts + i * steps]` per axis, for `i` in
    /// `0..<outShape[axis]`. `shape`, `starts`, `steps`, `outShape` all have full rank; steps
    /// are non-zero (negative walks backwards) and every selected index must lie inside
    /// `0..<shape[axis]` (ONNX Slice clamping done by the caller). Trailing fully-selected axes
    /// are copied as contiguous blocks.
    public static func slice(_ input: UnsafeRawPointer, shape: [Int], starts: [Int], steps: [Int],
                             outShape: [Int], elementSize: Int, output: UnsafeMutableRawPointer) {
        let r = shape.count
        guard starts.count == r, steps.count == r, outShape.count == r, elementSize > 0,
              let n = elementCount(shape), checkedMul(n, elementSize) != nil,
              let m = elementCount(outShape), checkedMul(m, elementSize) != nil else { return }
        if m == 0 { return }
        for a in 0..<r {
            guard steps[a] != 0, starts[a] >= 0, starts[a] < shape[a] else { return }
            let (span, o1) = (outShape[a] - 1).multipliedReportingOverflow(by: steps[a])
            let (last, o2) = starts[a].addingReportingOverflow(span)
            guard !o1, !o2, last >= 0, last < shape[a] else { return }
        }
        if r == 0 { memcpy(output, input, elementSize); return }
        let inStrides = Shape.strides(shape)
        let outStrides = Shape.strides(outShape)
        // Trailing axes copied whole form one contiguous block of `block` elements.
        var k = r
        while k > 0, starts[k - 1] == 0, steps[k - 1] == 1, outShape[k - 1] == shape[k - 1] { k -= 1 }
        let block = product(shape, k..<r)
        var base = 0
        for a in 0..<r { base &+= starts[a] &* inStrides[a] }
        if k == 0 { memcpy(output, input, block &* elementSize); return }
        let a = k - 1  // innermost partially-selected axis
        let dims = Array(outShape[0..<a])
        let ss = (0..<a).map { steps[$0] &* inStrides[$0] }
        let ds = Array(outStrides[0..<a])
        let len = outShape[a], step = steps[a], stepStride = steps[a] &* inStrides[a]
        forEachIndex(dims, srcStrides: ss, dstStrides: ds, srcBase: base) { s, d in
            if step == 1 {
                memcpy(output + d &* elementSize, input + s &* elementSize, len &* block &* elementSize)
            } else if block == 1 {
                copyStrided(input + s &* elementSize, srcStride: step, count: len,
                            elementSize: elementSize, to: output + d &* elementSize)
            } else {
                let bytes = block &* elementSize
                for i in 0..<len {
                    memcpy(output + (d &+ i &* block) &* elementSize,
                           input + (s &+ i &* stepStride) &* elementSize, bytes)
                }
            }
        }
    }

    // MARK: Pad

    /// How `pad` fills positions outside the input.
    public enum PadMode: Sendable, Hashable {
        /// The constant value.
        case constant
        /// Mirror without repeating the edge (NumPy "reflect"); repeats periodically when the
        /// pad exceeds the dimension; a length-1 axis repeats its element.
        case reflect
        /// Repeat the edge element.
        case edge
        /// Wrap around (ONNX opset 19 "wrap", NumPy "wrap").
        case wrap
    }

    /// ONNX Pad for any rank. `pads = [begin_0 … begin_{r-1}, end_0 … end_{r-1}]`; output shape
    /// `shape[a] + begin_a + end_a`. Negative pads crop first, then the positive pads extend the
    /// cropped axis, so reflect/edge/wrap read the cropped data (ONNX Runtime's semantics); a
    /// crop larger than the axis is invalid. `constantValue` points to one element of the dtype
    /// (nil → zero bytes) and is read only in `.constant` mode; where a cropped axis of length
    /// 0 must supply reflect/edge/wrap values the constant (zero) is used. Output rows are built
    /// as [prefix | memcpy of the input row | suffix].
    public static func pad(_ input: UnsafeRawPointer, shape: [Int], pads: [Int], mode: PadMode,
                           constantValue: UnsafeRawPointer?, elementSize: Int,
                           output: UnsafeMutableRawPointer) {
        let r = shape.count
        guard pads.count == 2 * r, elementSize > 0, let n = elementCount(shape),
              checkedMul(n, elementSize) != nil else { return }
        var outShape = [Int](repeating: 0, count: r)
        var cropStart = [Int](repeating: 0, count: r)
        var keptLen = [Int](repeating: 0, count: r)
        for a in 0..<r {
            let pb = pads[a], pe = pads[a + r]
            guard pb > Int.min / 4, pe > Int.min / 4, pb < Int.max / 4, pe < Int.max / 4 else { return }
            let kept = shape[a] - Swift.max(0, -pb) - Swift.max(0, -pe)
            guard kept >= 0 else { return }
            cropStart[a] = Swift.max(0, -pb)
            keptLen[a] = kept
            outShape[a] = kept + Swift.max(0, pb) + Swift.max(0, pe)
        }
        guard let m = elementCount(outShape), checkedMul(m, elementSize) != nil else { return }
        if m == 0 { return }
        let value = mode == .constant ? constantValue : nil
        if r == 0 { memcpy(output, input, elementSize); return }

        // Per-axis source index (into the uncropped input) for every output index; -1 = constant.
        let maps: [[Int]] = (0..<r).map { a in
            let len = keptLen[a], pb = Swift.max(0, pads[a]), c0 = cropStart[a]
            return (0..<outShape[a]).map { o in
                let s = padSource(o &- pb, len, mode)
                return s < 0 ? -1 : s + c0
            }
        }
        let inStrides = Shape.strides(shape)
        let last = r - 1
        let w = outShape[last], inW = keptLen[last], pb = Swift.max(0, pads[last])
        let lastMap = maps[last]
        // Output columns [lo, hi) copy input columns [lo - pb + crop, hi - pb + crop) directly.
        let lo = Swift.min(pb, w)
        let hi = Swift.max(lo, Swift.min(w, pb &+ inW))
        let copyFrom = cropStart[last] &- pb
        let rows = m / w
        var idx = [Int](repeating: 0, count: last)
        for rowIndex in 0..<rows {
            let dst = output + rowIndex &* w &* elementSize
            var src = 0
            var constantRow = false
            for a in 0..<last {
                let s = maps[a][idx[a]]
                if s < 0 { constantRow = true; break }
                src &+= s &* inStrides[a]
            }
            if constantRow {
                fillElements(dst, count: w, elementSize: elementSize, value: value)
            } else {
                let srcRow = input + src &* elementSize
                for j in 0..<lo { copyOrFill(lastMap[j], srcRow, dst + j &* elementSize, elementSize, value) }
                if hi > lo {
                    memcpy(dst + lo &* elementSize, srcRow + (lo &+ copyFrom) &* elementSize,
                           (hi &- lo) &* elementSize)
                }
                for j in hi..<w { copyOrFill(lastMap[j], srcRow, dst + j &* elementSize, elementSize, value) }
            }
            // Advance the row odometer.
            var a = last - 1
            while a >= 0 {
                idx[a] += 1
                if idx[a] < outShape[a] { break }
                idx[a] = 0
                a -= 1
            }
        }
    }

    @inline(__always)
    static func copyOrFill(_ s: Int, _ srcRow: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer,
                           _ elementSize: Int, _ value: UnsafeRawPointer?) {
        if s >= 0 {
            memcpy(dst, srcRow + s &* elementSize, elementSize)
        } else if let v = value {
            memcpy(dst, v, elementSize)
        } else {
            memset(dst, 0, elementSize)
        }
    }

    /// Source index along an axis of length `len` for the (possibly out-of-range) index `i`,
    /// or -1 when the constant is used.
    @inline(__always)
    static func padSource(_ i: Int, _ len: Int, _ mode: PadMode) -> Int {
        if i >= 0 && i < len { return i }
        if len <= 0 { return -1 }
        switch mode {
        case .constant:
            return -1
        case .edge:
            return i < 0 ? 0 : len - 1
        case .wrap:
            let m = i % len
            return m < 0 ? m + len : m
        case .reflect:
            if len == 1 { return 0 }
            let period = 2 * (len - 1)
            var m = i % period
            if m < 0 { m += period }
            return m < len ? m : period - m
        }
    }

    // MARK: Gather

    /// ONNX Gather along `axis`: output shape `shape[..<axis] + indicesShape + shape[(axis+1)...]`.
    /// `indices` holds `product(indicesShape)` values already normalized to `0..<shape[axis]`
    /// (scalar indices: `indicesShape == []`, one value); an index outside that range yields
    /// zero bytes for its slice rather than reading out of bounds.
    public static func gather(_ input: UnsafeRawPointer, shape: [Int], axis: Int, indices: [Int],
                              indicesShape: [Int], elementSize: Int, output: UnsafeMutableRawPointer) {
        guard axis >= 0, axis < shape.count, elementSize > 0, let n = elementCount(shape),
              checkedMul(n, elementSize) != nil, let k = elementCount(indicesShape),
              k == indices.count else { return }
        let outer = product(shape, 0..<axis)
        let axisLen = shape[axis]
        let inner = product(shape, (axis + 1)..<shape.count)
        guard let ok = checkedMul(outer, k), let total = checkedMul(ok, inner),
              checkedMul(total, elementSize) != nil, total > 0 else { return }
        let bytes = inner &* elementSize
        indices.withUnsafeBufferPointer { ib in
            if inner == 1 && elementSize == 4 {
                let src = input.assumingMemoryBound(to: UInt32.self)
                let dst = output.assumingMemoryBound(to: UInt32.self)
                for o in 0..<outer {
                    let s = src + o &* axisLen, d = dst + o &* k
                    for j in 0..<k {
                        let i = ib[j]
                        d[j] = i >= 0 && i < axisLen ? s[i] : 0
                    }
                }
                return
            }
            for o in 0..<outer {
                let s = input + o &* axisLen &* bytes
                let d = output + o &* k &* bytes
                for j in 0..<k {
                    let i = ib[j]
                    if i >= 0 && i < axisLen {
                        memcpy(d + j &* bytes, s + i &* bytes, bytes)
                    } else {
                        memset(d + j &* bytes, 0, bytes)
                    }
                }
            }
        }
    }

    // MARK: Broadcast (Expand)

    /// NumPy-style broadcast copy (ONNX Expand with the final shape resolved): `input` of
    /// `shape` is right-aligned against `outShape`; each input axis must be 1 or equal to the
    /// output axis, and `shape.count <= outShape.count`. Axes are coalesced so the inner loop
    /// is either a memcpy (contiguous) or a fill of one repeated element (broadcast).
    public static func broadcast(_ input: UnsafeRawPointer, shape: [Int], to outShape: [Int],
                                 elementSize: Int, output: UnsafeMutableRawPointer) {
        let r = outShape.count
        guard shape.count <= r, elementSize > 0, let n = elementCount(shape),
              checkedMul(n, elementSize) != nil, let m = elementCount(outShape),
              checkedMul(m, elementSize) != nil else { return }
        if m == 0 { return }
        let off = r - shape.count
        let inStridesRaw = Shape.strides(shape)
        // Aligned (out dim, in stride) pairs, size-1 output axes dropped.
        var dims = [Int](), strides = [Int]()
        for a in 0..<r {
            let od = outShape[a]
            let id = a >= off ? shape[a - off] : 1
            guard id == od || id == 1 else { return }
            if od == 1 { continue }
            let st = id == 1 ? 0 : inStridesRaw[a - off]
            // Merge with the previous axis when both broadcast or both contiguous together.
            if let pd = dims.last, let ps = strides.last,
               (ps == 0 && st == 0) || (st != 0 && ps == st &* od) {
                dims[dims.count - 1] = pd &* od
                strides[strides.count - 1] = st
                continue
            }
            dims.append(od)
            strides.append(st)
        }
        if dims.isEmpty { memcpy(output, input, elementSize); return }
        let last = dims.count - 1
        let w = dims[last], wStride = strides[last]
        let outer = Array(dims[0..<last])
        let outStrides = Shape.strides(dims)
        forEachIndex(outer, srcStrides: Array(strides[0..<last]),
                     dstStrides: Array(outStrides[0..<last])) { s, d in
            let dst = output + d &* elementSize
            let src = input + s &* elementSize
            if wStride == 0 {
                fillElements(dst, count: w, elementSize: elementSize, value: src)
            } else {
                memcpy(dst, src, w &* elementSize)
            }
        }
    }
}
