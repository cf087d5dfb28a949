#if canImport(Glibc)
import Glibc
#endif

/// The direct path of `PackedConv2D`: a convolution as a GEMM whose B operand is read in place
/// from the input (no im2col matrix).
///
/// Each image is first laid out as *phase planes* of its zero-padded frame: with strides
/// (sh, sw), phase (py, px) holds padded pixel (py + sh·y, px + sw·x) at y·wq + x (stride 1: one
/// plane, the padded image). Output pixel (oy, ox) is GEMM column q = oy·wq + ox, and B row
/// p = (ci, ky, kx) is the phase plane of tap (ky·dh mod sh, kx·dw mod sw) shifted by
/// ⌊ky·dh/sh⌋·wq + ⌊kx·dw/sw⌋ — one offset per row, which the indirect microkernels take
/// (`gemmBlockIndirect`). The wq − ow columns past each output row are computed and dropped
/// when a task copies its tile out (3.6% more columns at 56×56 for a 3×3 kernel, 7% at 28×28).
/// Bias and activation run in the kernel store; a residual is added (then the activation)
/// in the copy-out.
///
/// Compared with the columns path it saves writing and re-reading kH·kW copies of the input.
struct DirectConvLayout {
    /// Phase-plane rows and columns.
    let hq: Int, wq: Int
    /// Plane index of phase (py, px) at `py·sw + px`, or −1 when no tap reads that phase.
    let phaseIndex: [Int]
    let phaseCount: Int
    /// Floats per phase plane: hq·wq plus the zeroed slack the last panel's overhang reads.
    let planeStride: Int
    /// GEMM columns: oh·wq.
    let columns: Int
    var channelStride: Int { phaseCount * planeStride }

    /// Largest phase-plane copy of one image (floats) the path takes; beyond it the columns
    /// path (which packs bounded tiles) runs.
    static let maxImageFloats = 1 << 24

    /// Nil when the sizes overflow or the copy would exceed `maxImageFloats`.
    init?(_ g: Conv2DGeometry, oh: Int, ow: Int, nr: Int) {
        let sh = g.strideH, sw = g.strideW
        let spanH = (g.kernelH - 1) * g.dilationH, spanW = (g.kernelW - 1) * g.dilationW
        guard oh > 0, ow > 0, oh < Int.max / 64 / sh, ow < Int.max / 64 / sw,
              spanH < Int.max / 64, spanW < Int.max / 64 else { return nil }
        hq = ceilDiv((oh - 1) * sh + spanH + 1, sh)
        wq = ceilDiv((ow - 1) * sw + spanW + 1, sw)
        var index = [Int](repeating: -1, count: sh * sw)
        var count = 0
        for ky in 0..<g.kernelH {
            for kx in 0..<g.kernelW {
                let phase = (ky * g.dilationH % sh) * sw + kx * g.dilationW % sw
                if index[phase] < 0 { index[phase] = count; count += 1 }
            }
        }
        phaseIndex = index
        phaseCount = count
        let (cols, o1) = oh.multipliedReportingOverflow(by: wq)
        let (area, o2) = hq.multipliedReportingOverflow(by: wq)
        guard !o1, !o2, cols < Int.max / 64, area < Int.max / 64 else { return nil }
        columns = cols
        let maxShift = (spanH / sh) * wq + spanW / sw
        planeStride = roundUp(Swift.max(area, roundUp(cols, nr) + maxShift), 16)
        let (image, o3) = (count * planeStride).multipliedReportingOverflow(by: g.groupInChannels)
        guard !o3, image <= Self.maxImageFloats else { return nil }
    }

    /// B row offsets (floats from the image's phase planes) for p = (ci, ky, kx), `depth` rows;
    /// every offset × `pixelFloats` (16 for `BlockedConv`'s blocks, whose "channels" are blocks).
    func offsets(_ g: Conv2DGeometry, into dst: UnsafeMutablePointer<Int>, pixelFloats pf: Int = 1) {
        var p = 0
        for ci in 0..<g.groupInChannels {
            for ky in 0..<g.kernelH {
                let dy = ky * g.dilationH
                for kx in 0..<g.kernelW {
                    let dx = kx * g.dilationW
                    let plane = phaseIndex[(dy % g.strideH) * g.strideW + dx % g.strideW]
                    dst[p] = (ci * channelStride + plane * planeStride + (dy / g.strideH) * wq + dx / g.strideW) * pf
                    p += 1
                }
            }
        }
    }

    /// Writes the phase planes of channels `channels` of one image (`src`: [Cin, h, w], each
    /// pixel `pixelFloats` floats, 1 or 16: 1 for NCHW planes, 16 for the channel blocks of
    /// `BlockedConv`, whose "channels" are then blocks and every offset here is × 16).
    /// `phase`: only the phase planes of phase `py·sw + px` (nil: all), and `rows`: only those
    /// rows of each phase plane (nil: all), so that a few channels can still be split over
    /// threads.
    func pack(_ g: Conv2DGeometry, src: UnsafePointer<Float>, h: Int, w: Int, channels: Range<Int>,
              dst: UnsafeMutablePointer<Float>, phase: Int? = nil, rows: Range<Int>? = nil, pixelFloats pf: Int = 1) {
        let sh = g.strideH, sw = g.strideW, pt = g.padTop, pl = g.padLeft
        let ys = rows.map { $0.clamped(to: 0..<hq) } ?? 0..<hq
        for ci in channels {
            let chan = src + ci * h * w * pf
            for py in 0..<sh {
                for px in 0..<sw {
                    let idx = phaseIndex[py * sw + px]
                    if idx < 0 || (phase != nil && phase != py * sw + px) { continue }
                    let plane = dst + (ci * channelStride + idx * planeStride) * pf
                    // Columns x whose input column ix = px + sw·x − pl lies in [0, w).
                    let xlo = Swift.min(pl - px <= 0 ? 0 : ceilDiv(pl - px, sw), wq)
                    let xhi = Swift.max(Swift.min(w + pl - px <= 0 ? 0 : ceilDiv(w + pl - px, sw), wq), xlo)
                    for y in ys {
                        let iy = py + sh * y - pt
                        let row = plane + y * wq * pf
                        guard iy >= 0 && iy < h else {
                            row.update(repeating: 0, count: wq * pf)
                            continue
                        }
                        if xlo > 0 { row.update(repeating: 0, count: xlo * pf) }
                        if xhi > xlo {
                            let s = chan + (iy * w + px + sw * xlo - pl) * pf
                            if sw == 1 {
                                (row + xlo * pf).update(from: s, count: (xhi - xlo) * pf)
                            } else if pf == 16 {
                                // One 64-byte pixel per vector.
                                let d = UnsafeMutableRawPointer(row + xlo * 16), r = UnsafeRawPointer(s)
                                for x in 0..<(xhi - xlo) {
                                    d.storeBytes(of: r.loadUnaligned(fromByteOffset: x * sw * 64, as: SIMD16<Float>.self),
                                                 toByteOffset: x * 64, as: SIMD16<Float>.self)
                                }
                            } else {
                                var x = 0  // pf == 1
                                if sw == 2 {
                                    // Even lanes of 16 floats, while they lie inside the row.
                                    let n = xhi - xlo, avail = w - (px + sw * xlo - pl)
                                    while x + 8 <= n && 2 * x + 16 <= avail {
                                        let v = UnsafeRawPointer(s + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                                        UnsafeMutableRawPointer(row + xlo + x).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                        x += 8
                                    }
                                }
                                while x < xhi - xlo { row[xlo + x] = s[x * sw]; x += 1 }
                            }
                        }
                        if xhi < wq { (row + xhi * pf).update(repeating: 0, count: (wq - xhi) * pf) }
                    }
                    if ys.upperBound == hq {
                        (plane + hq * wq * pf).update(repeating: 0, count: (planeStride - hq * wq) * pf)
                    }
                }
            }
        }
    }
}

extension PackedConv2D {
    /// Runs the direct path (one group); false (nothing written) when its layout does not apply
    /// or memory for its buffers is lacking.
    func runDirect(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                   residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int, oh: Int, ow: Int,
                   pool: ThreadPool) -> Bool {
        let g = geometry, ks = kernels, mr = ks.mr, nr = ks.nr
        guard g.groups == 1, let l = DirectConvLayout(g, oh: oh, ow: ow, nr: nr) else { return false }
        let cin = g.inChannels, cout = g.outChannels, k = depth
        let cols = l.columns
        let (work, o1) = (cout * k).multipliedReportingOverflow(by: cols)
        let threads = (!o1 && work < 32 * 32 * 32) ? 1 : pool.threadCount
        let tiling = GemmTiling(m: cout, n: cols, mr: mr, nr: nr, units: 1, threads: threads)
        let tileFloats = roundUp(tiling.mBlock * tiling.nBlock, 16)
        let imageFloats = roundUp(cin * l.channelStride, 16)
        let offsetFloats = roundUp(2 * k, 16)  // Int = two floats
        let slots = pool.threadCount
        let (bytes, o2) = (offsetFloats + imageFloats + slots * tileFloats).multipliedReportingOverflow(by: 4)
        guard !o2 else { return false }
        let kernelEpilogue = residual == nil ? epilogue : KernelEpilogue()
        let act = activation
        let biasPtr = UnsafePointer(bias), weightsPtr = UnsafePointer(weights)
        return ScratchCache.with(bytes: bytes) { raw in
            let offsets = raw.bindMemory(to: Int.self, capacity: k)
            let planes = (raw + offsetFloats * 4).bindMemory(to: Float.self, capacity: imageFloats + slots * tileFloats)
            let tiles = planes + imageFloats
            l.offsets(g, into: offsets)
            let offs = UnsafePointer(offsets), src = UnsafePointer(planes)
            let chunk = Swift.max(1, ceilDiv(cin, 4 * threads))
            let chunks = ceilDiv(cin, chunk)
            for img in 0..<batch {
                let x = input + img * cin * h * w
                let out = output + img * cout * oh * ow
                let res = residual.map { $0 + img * cout * oh * ow }
                let pack: (Int) -> Void = { c in
                    l.pack(g, src: x, h: h, w: w, channels: (c * chunk)..<Swift.min(cin, (c + 1) * chunk), dst: planes)
                }
                let body: (Int, Int) -> Void = { t, slot in
                    let mi = t / tiling.nTasks, ni = t % tiling.nTasks
                    let m0 = mi * tiling.mBlock, n0 = ni * tiling.nBlock
                    let mCount = Swift.min(tiling.mBlock, cout - m0), nCount = Swift.min(tiling.nBlock, cols - n0)
                    let tile = tiles + slot * tileFloats  // [mCount × nCount], ldc nBlock
                    let ldt = tiling.nBlock
                    var pc = 0
                    while pc < k {
                        let kc = Swift.min(GemmBlocking.kc, k - pc)
                        let last = pc + kc >= k
                        var e = kernelEpilogue
                        if pc > 0 { e.beta = 1 }
                        if !last { e.act = 0 }
                        ks.gemmBlockIndirect(mCount, nCount, kc, weightsPtr + (m0 / mr) * k * mr + pc * mr, k * mr,
                                             src + n0, nr, offs + pc, tile, ldt,
                                             last ? biasPtr + m0 : nil, nil, e)
                        pc += kc
                    }
                    // Copy out the columns of real output pixels (ox < ow) of this tile.
                    for i in 0..<mCount {
                        let row = tile + i * ldt
                        let plane = (m0 + i) * oh * ow
                        var q = n0
                        while q < n0 + nCount {
                            let oy = q / l.wq, ox = q % l.wq
                            let segEnd = Swift.min(n0 + nCount, (oy + 1) * l.wq)
                            let valid = Swift.min(ow, ox + segEnd - q) - ox
                            if valid > 0 {
                                let s = row + (q - n0), d = out + (plane + oy * ow + ox)
                                if let res {
                                    let r = res + (plane + oy * ow + ox)
                                    for t in 0..<valid { d[t] = act.apply(s[t] + r[t]) }
                                } else {
                                    d.update(from: s, count: valid)
                                }
                            }
                            q = segEnd
                        }
                    }
                }
                if threads > 1 {
                    pool.parallelFor(chunks, pack)
                    pool.parallelForSlotted(tiling.tasks, body)
                } else {
                    for c in 0..<chunks { pack(c) }
                    for t in 0..<tiling.tasks { body(t, 0) }
                }
            }
        }
    }
}
