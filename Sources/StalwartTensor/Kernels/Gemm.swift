#if canImport(Glibc)
import Glibc
#endif

/// Single-precision GEMM entry point for Gemm/MatMul operators.
///
/// Packs op(A) into MR-row panels (in parallel), then splits C into tasks of up to
/// `GemmBlocking.ncMax` columns (and M blocks when there are too few column blocks); each task
/// packs its k×n B blocks and runs the ISA macro kernel of `KernelSet.current`.
public enum Sgemm {
    /// Row-major C[m×n] = alpha · op(A) · op(B) + beta · C. op(A) is m×k (A is k×m when
    /// transA), op(B) is k×n (B is n×k when transB). When beta == 0, C is not read.
    /// Spreads work over `pool`. Thread-safe for distinct C.
    public static func run(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool) {
        run(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, pool: pool, kernels: .current)
    }

    /// Same, with an explicit kernel set (tests run every ISA the CPU supports).
    static func run(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool,
                    kernels ks: KernelSet) {
        guard m > 0, n > 0, k >= 0 else { return }
        let mr = ks.mr, nr = ks.nr
        let panels = ceilDiv(m, mr)
        let kk = Swift.max(k, 1)
        // Small problems stay on the calling thread.
        let (work, o1) = m.multipliedReportingOverflow(by: n)
        let (work2, o2) = work.multipliedReportingOverflow(by: kk)
        let threads = (!o1 && !o2 && work2 < 48 * 48 * 48) ? 1 : pool.threadCount
        let tiling = GemmTiling(m: m, n: n, mr: mr, nr: nr, units: 1, threads: threads)
        let slotFloats = GemmTiling.scratchFloats(n: n, k: k, nr: nr)

        let (aFloats, o3) = (panels * mr).multipliedReportingOverflow(by: kk)
        let (sFloats, o4) = slotFloats.multipliedReportingOverflow(by: threads)
        guard !o3, !o4, aFloats < Int.max / 8, sFloats < Int.max / 8,
              let aRaw = alignedAllocate(aFloats * 4),
              let sRaw = alignedAllocate(sFloats * 4)
        else {
            // Out of memory: the slow loop still gives the right answer.
            return Reference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        defer { free(aRaw) }
        defer { free(sRaw) }
        let ap = aRaw.bindMemory(to: Float.self, capacity: aFloats)
        let sp = sRaw.bindMemory(to: Float.self, capacity: sFloats)

        // Pack A (k = 0 packs nothing; the kernels then see an empty sum).
        let packChunk = Swift.max(1, 16_384 / Swift.max(mr * kk, 1))
        let packTasks = ceilDiv(panels, packChunk)
        let packBody: (Int) -> Void = { t in
            let lo = t * packChunk, hi = Swift.min(panels, lo + packChunk)
            GemmDriver.packA(mr: mr, trans: transA, m: m, k: k, a: a, lda: lda, dst: ap, panels: lo..<hi)
        }
        if threads > 1 { pool.parallelFor(packTasks, packBody) } else { for t in 0..<packTasks { packBody(t) } }

        var e = KernelEpilogue(alpha: alpha, beta: beta)
        e.act = 0
        let problem = GemmProblem(m: m, n: n, k: k, a: UnsafePointer(ap),
                                  b: .matrix(b, ld: ldb, trans: transB), c: c, ldc: ldc,
                                  bias: nil, residual: nil, epilogue: e)
        let body: (Int, Int) -> Void = { t, slot in
            let mi = t / tiling.nTasks, ni = t % tiling.nTasks
            let m0 = mi * tiling.mBlock, n0 = ni * tiling.nBlock
            GemmDriver.runTile(ks, problem, m0: m0, mCount: Swift.min(tiling.mBlock, m - m0),
                               n0: n0, nCount: Swift.min(tiling.nBlock, n - n0),
                               scratch: sp + slot * slotFloats)
        }
        if threads > 1 {
            pool.parallelForSlotted(tiling.tasks, body)
        } else {
            for t in 0..<tiling.tasks { body(t, 0) }
        }
    }
}
