#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The operator layer of the GEMM: packing, cache blocking and task splitting. It only plans
/// and calls the ISA macro kernels (`KernelSet.gemmBlock`); shared by `Sgemm` and
/// `PackedConv2D`.
///
/// Layouts (MR, NR from the kernel set):
/// - packed A: panels of MR rows; panel i holds, for each p in 0..<k, MR floats (rows ≥ m are
///   zero); panel stride k·MR, so a k-block [p0, p0+kc) of panel i starts at `i·k·MR + p0·MR`.
/// - packed B: panels of NR columns; panel j holds, for each p of the k-block, NR floats
///   (columns ≥ n are zero); panel stride kc·NR. A row-major (non-transposed) B is not packed:
///   the kernels read its full panels in place, and only a ragged last panel is packed.
enum GemmBlocking {
    /// k-block: a 14×256 A micro-panel (14 KB) stays in L1 while B panels stream from L2.
    static let kc = 256
    /// Largest column block of one task: a kc×512 packed B block is 512 KB (L2).
    static let ncMax = 512
}

/// Geometry of an im2col view of one image (and group) of an NCHW input: row p = (ci, ky, kx),
/// column j = (oy, ox); element = input[ci][oy·sh − pt + ky·dh][ox·sw − pl + kx·dw] or 0.
struct Im2ColView {
    var input: UnsafePointer<Float>
    var h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int, pt: Int, pl: Int
    var ow: Int
}

/// Where a GEMM's B operand (k × n) comes from.
enum GemmBSource {
    /// Element (p, j) = trans ? b[j·ld + p] : b[p·ld + j].
    case matrix(UnsafePointer<Float>, ld: Int, trans: Bool)
    case im2col(Im2ColView)
}

/// One C = epilogue(A·B) problem with A already packed.
struct GemmProblem {
    var m: Int, n: Int, k: Int
    /// Packed A covering all m rows (panel stride k·MR).
    var a: UnsafePointer<Float>
    var b: GemmBSource
    var c: UnsafeMutablePointer<Float>
    var ldc: Int
    /// Per-row bias (rows of C) or nil; added at the last k-block.
    var bias: UnsafePointer<Float>?
    /// Laid out like C, or nil; added at the last k-block.
    var residual: UnsafePointer<Float>?
    /// alpha, beta (beta is used by the first k-block only; later blocks accumulate), activation.
    var epilogue: KernelEpilogue
}

/// How a problem is cut into tasks: `mTasks × nTasks` blocks of `mBlock × nBlock`.
struct GemmTiling {
    var mBlock: Int, nBlock: Int, mTasks: Int, nTasks: Int
    var tasks: Int { mTasks * nTasks }

    /// `units`: independent problems run side by side (images × groups) with this tiling.
    /// Below ~4 tasks per thread the problem is split further, first along the side whose
    /// split re-reads less: cutting rows makes every task read all of B's k × n, cutting
    /// columns all of A's m × k, so rows are cut first when n < m (ResNet's 14×14 layers on
    /// the columns path: 256 output channels × 196 pixels; cutting the pixels had each of 7
    /// tasks stream all the weights, and two threads ran those layers only 1.55× faster).
    init(m: Int, n: Int, mr: Int, nr: Int, units: Int, threads: Int) {
        let target = threads <= 1 ? 1 : 4 * threads
        let u = Swift.max(units, 1)
        var nb = Swift.min(roundUp(n, nr), GemmBlocking.ncMax)
        var nt = ceilDiv(n, nb)
        var mb = roundUp(m, mr)
        var mt = 1
        func splitRows() {
            guard u * nt * mt < target else { return }
            let want = Swift.min(ceilDiv(m, mr), ceilDiv(target, u * nt))
            mb = roundUp(ceilDiv(m, want), mr)
            mt = ceilDiv(m, mb)
        }
        func splitColumns() {
            guard u * nt * mt < target else { return }
            let want = ceilDiv(target, u * mt)
            nb = Swift.max(nr, roundUp(ceilDiv(n, want), nr))
            nt = ceilDiv(n, nb)
        }
        if n < m {
            splitRows(); splitColumns()
        } else {
            splitColumns(); splitRows()
        }
        mBlock = Swift.max(mb, mr); nBlock = Swift.max(nb, nr); mTasks = Swift.max(mt, 1); nTasks = Swift.max(nt, 1)
    }

    /// Floats of packed-B scratch one task needs, for any thread count (for a row-major B,
    /// `kc · nr` would do: only the ragged panel is packed).
    static func scratchFloats(n: Int, k: Int, nr: Int) -> Int {
        Swift.min(GemmBlocking.kc, Swift.max(k, 1)) * Swift.min(roundUp(Swift.max(n, 1), nr), GemmBlocking.ncMax)
    }
}

@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
@inline(__always) func roundUp(_ a: Int, _ b: Int) -> Int { ceilDiv(a, b) * b }

enum GemmDriver {
    /// Packs op(A) rows [0, m) × [0, k) panels `panels` into `dst` (layout above).
    /// Element (i, p) = trans ? a[p·lda + i] : a[i·lda + p].
    static func packA(mr: Int, trans: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                      dst: UnsafeMutablePointer<Float>, panels: Range<Int>) {
        for panel in panels {
            let base = dst + panel * k * mr
            for r in 0..<mr {
                let i = panel * mr + r
                if i >= m {
                    for p in 0..<k { base[p * mr + r] = 0 }
                } else if trans {
                    for p in 0..<k { base[p * mr + r] = a[p * lda + i] }
                } else {
                    let row = a + i * lda
                    for p in 0..<k { base[p * mr + r] = row[p] }
                }
            }
        }
    }

    /// Packs B rows [p0, p0+kc), columns [j0, j0+nc) into NR-column panels at `dst`.
    static func packB(_ src: GemmBSource, p0: Int, kc: Int, j0: Int, nc: Int, nr: Int,
                      dst: UnsafeMutablePointer<Float>) {
        let panels = ceilDiv(nc, nr)
        switch src {
        case .matrix(let b, let ld, let trans):
            if !trans {
                for jp in 0..<panels {
                    let cols = Swift.min(nr, nc - jp * nr)
                    let pd = dst + jp * kc * nr
                    let ps = b + p0 * ld + j0 + jp * nr
                    for p in 0..<kc {
                        let d = pd + p * nr
                        d.update(from: ps + p * ld, count: cols)
                        if cols < nr { (d + cols).update(repeating: 0, count: nr - cols) }
                    }
                }
            } else {
                for jp in 0..<panels {
                    let cols = Swift.min(nr, nc - jp * nr)
                    let pd = dst + jp * kc * nr
                    for jj in 0..<nr {
                        if jj < cols {
                            let row = b + (j0 + jp * nr + jj) * ld + p0
                            for p in 0..<kc { pd[p * nr + jj] = row[p] }
                        } else {
                            for p in 0..<kc { pd[p * nr + jj] = 0 }
                        }
                    }
                }
            }
        case .im2col(let v):
            packIm2Col(v, p0: p0, kc: kc, j0: j0, nc: nc, nr: nr, dst: dst)
        }
    }

    /// im2col straight into packed B panels (see `Im2ColView`). Works in runs: a run is a
    /// stretch of columns inside one output row and one B panel, so each is a contiguous
    /// destination filled by a copy (stride 1), a strided gather, or zeros.
    static func packIm2Col(_ v: Im2ColView, p0: Int, kc: Int, j0: Int, nc: Int, nr: Int,
                           dst: UnsafeMutablePointer<Float>) {
        let padded = roundUp(nc, nr)
        let panelStride = kc * nr
        // (ci, ky, kx) of row p, advanced incrementally (no divisions per row).
        let khw = v.kh * v.kw
        var ci = p0 / khw, ky = (p0 % khw) / v.kw, kx = (p0 % khw) % v.kw
        let oyFirst = j0 / v.ow, oxFirst = j0 % v.ow
        for pp in 0..<kc {
            let chan = v.input + ci * v.h * v.w
            let xoff = kx * v.dw - v.pl
            let yoff = ky * v.dh - v.pt
            // Output columns ox whose input column ix = ox·sw + xoff lies in [0, w).
            let oxLo = xoff >= 0 ? 0 : ceilDiv(-xoff, v.sw)
            let oxHi = v.w - xoff <= 0 ? 0 : ceilDiv(v.w - xoff, v.sw)  // exclusive
            let rowBase = dst + pp * nr
            var panel = 0, lane = 0
            /// Appends `count` columns: src[i·stride] when src != nil, else 0.
            @inline(__always) func put(_ count: Int, _ src: UnsafePointer<Float>?, _ stride: Int) {
                var left = count, s = src
                while left > 0 {
                    let run = Swift.min(nr - lane, left)
                    let d = rowBase + (panel * panelStride + lane)
                    if let sp = s {
                        if stride == 1 {
                            for t in 0..<run { d[t] = sp[t] }
                        } else {
                            for t in 0..<run { d[t] = sp[t * stride] }
                        }
                        s = sp + run * stride
                    } else {
                        for t in 0..<run { d[t] = 0 }
                    }
                    lane += run
                    if lane == nr { lane = 0; panel += 1 }
                    left -= run
                }
            }
            var c = 0
            var oy = oyFirst, ox = oxFirst
            while c < nc {
                let seg = Swift.min(v.ow - ox, nc - c)
                let iy = oy * v.sh + yoff
                if iy < 0 || iy >= v.h {
                    put(seg, nil, 0)
                } else {
                    let lo = Swift.min(Swift.max(oxLo - ox, 0), seg)
                    let hi = Swift.max(Swift.min(oxHi - ox, seg), lo)
                    put(lo, nil, 0)
                    if hi > lo { put(hi - lo, chan + (iy * v.w + (ox + lo) * v.sw + xoff), v.sw) }
                    put(seg - hi, nil, 0)
                }
                c += seg
                ox = 0
                oy += 1
            }
            put(padded - nc, nil, 0)
            kx += 1
            if kx == v.kw {
                kx = 0
                ky += 1
                if ky == v.kh { ky = 0; ci += 1 }
            }
        }
    }

    /// Computes rows [m0, m0+mCount) × columns [n0, n0+nCount) of `p`; m0 is a multiple of MR.
    /// `scratch` holds `GemmTiling.scratchFloats(...)` floats (nCount ≤ ncMax).
    /// `prepacked`, when given, holds this tile's B already packed for every kc block (block
    /// at `pc` starts at `prepacked + pc · roundUp(nCount, nr)`, `packB`'s layout): tiles that
    /// share columns then pack them once (see `PackedConv2D.runGemm`).
    static func runTile(_ ks: KernelSet, _ p: GemmProblem, m0: Int, mCount: Int, n0: Int, nCount: Int,
                        scratch: UnsafeMutablePointer<Float>, prepacked: UnsafePointer<Float>? = nil) {
        let mr = ks.mr, nr = ks.nr
        let aPanelStride = p.k * mr
        let aBase = p.a + (m0 / mr) * aPanelStride
        let c = p.c + m0 * p.ldc + n0
        var pc = 0
        repeat {
            let kc = Swift.min(GemmBlocking.kc, p.k - pc)
            let last = pc + kc >= p.k
            var e = p.epilogue
            if pc > 0 { e.beta = 1 }
            if !last { e.act = 0 }
            let bias = last ? p.bias.map { $0 + m0 } : nil
            let res = last ? p.residual.map { $0 + (m0 * p.ldc + n0) } : nil
            if case .matrix(let b, let ld, false) = p.b {
                // Row-major B: whole panels are read in place (row p at b + p·ld; measured as
                // fast as packed, and faster for small M where packing does not amortize);
                // only the ragged last panel is packed (the kernels read NR floats per row).
                let full = (nCount / nr) * nr
                if full > 0 {
                    ks.gemmBlock(mCount, full, kc, aBase + pc * mr, aPanelStride,
                                 b + (pc * ld + n0), nr, ld, c, p.ldc, bias, res, e)
                }
                if full < nCount {
                    if kc > 0 { packB(p.b, p0: pc, kc: kc, j0: n0 + full, nc: nCount - full, nr: nr, dst: scratch) }
                    ks.gemmBlock(mCount, nCount - full, kc, aBase + pc * mr, aPanelStride,
                                 UnsafePointer(scratch), kc * nr, nr, c + full, p.ldc, bias,
                                 res.map { $0 + full }, e)
                }
            } else if let pre = prepacked {
                ks.gemmBlock(mCount, nCount, kc, aBase + pc * mr, aPanelStride,
                             pre + pc * roundUp(nCount, nr), kc * nr, nr, c, p.ldc, bias, res, e)
            } else {
                if kc > 0 {
                    packB(p.b, p0: pc, kc: kc, j0: n0, nc: nCount, nr: nr, dst: scratch)
                }
                ks.gemmBlock(mCount, nCount, kc, aBase + pc * mr, aPanelStride,
                             UnsafePointer(scratch), kc * nr, nr, c, p.ldc, bias, res, e)
            }
            pc += kc
        } while pc < p.k
    }
}

/// Reusable 64-byte aligned buffers for kernels that have no caller-provided scratch (`Sgemm`).
/// Allocating a few hundred KB per call goes through mmap/munmap in glibc, and the page faults
/// cost as much as a 256³ GEMM; buffers are therefore kept (at most `maxCached`, grow-only) and
/// handed to one caller at a time.
enum ScratchCache {
    private struct Entry { var pointer: UnsafeMutableRawPointer; var bytes: Int }
    private static let cache = Mutex<[Entry]>([])
    static let maxCached = 8
    /// Buffers above this size are not kept.
    static let maxCachedBytes = 64 << 20

    /// Runs `body` with a buffer of at least `bytes` bytes; returns false (without calling it)
    /// when memory is exhausted.
    static func with(bytes: Int, _ body: (UnsafeMutableRawPointer) -> Void) -> Bool {
        let need = Swift.max(bytes, 64)
        var entry: Entry? = cache.withLock { list in
            if let i = list.firstIndex(where: { $0.bytes >= need }) { return list.remove(at: i) }
            return nil
        }
        if entry == nil {
            guard let p = alignedAllocate(need) else { return false }
            entry = Entry(pointer: p, bytes: need)
        }
        guard let e = entry else { return false }
        body(e.pointer)
        let evicted: Entry? = cache.withLock { list in
            if e.bytes > maxCachedBytes { return e }
            list.append(e)
            if list.count > maxCached {
                // Drop the smallest.
                if let i = list.indices.min(by: { list[$0].bytes < list[$1].bytes }) { return list.remove(at: i) }
            }
            return nil
        }
        if let ev = evicted { free(ev.pointer) }
        return true
    }
}
