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
        // Few rows: no packing. With B transposed (a dense layer's [out, in] weights) up to 16
        // rows: each weight row is read once for all rows of A, where the packed path would
        // first copy all of B (ResNet-50's classifier at batch 8: 8 MB per call).
        if k > 0 && (m <= 4 || (transB && m <= 16)) {
            return runSmallM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, pool: pool, kernels: ks)
        }
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
        let aRounded = roundUp(aFloats, 16)
        let (total, o5) = aRounded.addingReportingOverflow(sFloats)
        let ok = !o3 && !o4 && !o5 && total < Int.max / 8 && ScratchCache.with(bytes: total * 4) { raw in
            let ap = raw.bindMemory(to: Float.self, capacity: total)
            let sp = ap + aRounded

            // Pack A (k = 0 packs nothing; the kernels then see an empty sum).
            let packChunk = Swift.max(1, 16_384 / Swift.max(mr * kk, 1))
            let packTasks = ceilDiv(panels, packChunk)
            let packBody: (Int) -> Void = { t in
                let lo = t * packChunk, hi = Swift.min(panels, lo + packChunk)
                GemmDriver.packA(mr: mr, trans: transA, m: m, k: k, a: a, lda: lda, dst: ap, panels: lo..<hi)
            }
            if threads > 1 { pool.parallelFor(packTasks, packBody) } else { for t in 0..<packTasks { packBody(t) } }

            let problem = GemmProblem(m: m, n: n, k: k, a: UnsafePointer(ap),
                                      b: .matrix(b, ld: ldb, trans: transB), c: c, ldc: ldc,
                                      bias: nil, residual: nil, epilogue: KernelEpilogue(alpha: alpha, beta: beta))
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
        if !ok {
            // Out of memory: the slow loop still gives the right answer.
            Reference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    /// Few rows (a batch of vectors through a dense layer): no packing, since packing B would
    /// cost as much as the product. transB: dot products of A rows with B rows; otherwise
    /// C rows accumulate alpha·A[i][p]·B[p][:] (axpy). Parallel over column chunks.
    static func runSmallM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool,
                          kernels ks: KernelSet) {
        // Rows of op(A), contiguous: A itself, or a gathered copy when transA.
        if transA {
            let (count, o) = m.multipliedReportingOverflow(by: k)
            let ok = !o && count < Int.max / 8 && ScratchCache.with(bytes: count * 4) { raw in
                let t = raw.bindMemory(to: Float.self, capacity: count)
                for i in 0..<m { for p in 0..<k { t[i * k + p] = a[p * lda + i] } }
                runSmallM(transA: false, transB: transB, m: m, n: n, k: k, alpha: alpha, a: UnsafePointer(t),
                          lda: k, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, pool: pool, kernels: ks)
            }
            if !ok {
                Reference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
            return
        }
        let rows = a, rowStride = lda
        let chunk = Swift.max(256, roundUp(ceilDiv(n, 4 * pool.threadCount), 64))
        let tasks = ceilDiv(n, chunk)
        let body: (Int) -> Void = { t in
            let j0 = t * chunk, j1 = Swift.min(n, j0 + chunk)
            if transB {
                // Rows of B once for every row of A (from L1), not once per row of A (a dense
                // layer's weights, batch 8: 8 MB read eight times); four at a time, so each
                // vector of A serves four rows of B.
                let d4 = UnsafeMutablePointer<Float>.allocate(capacity: 4)
                defer { d4.deallocate() }
                var j = j0
                while j < j1 {
                    let four = j + 4 <= j1
                    for i in 0..<m {
                        let arow = rows + i * rowStride
                        if four {
                            ks.dot4(arow, b + j * ldb, ldb, k, d4)
                        } else {
                            d4[0] = ks.dot(arow, b + j * ldb, k)
                        }
                        for r in 0..<(four ? 4 : 1) {
                            let d = alpha * d4[r]
                            let cp = c + (i * ldc + j + r)
                            cp.pointee = beta == 0 ? d : d + beta * cp.pointee
                        }
                    }
                    j += four ? 4 : 1
                }
                return
            }
            for i in 0..<m {
                let crow = c + i * ldc
                let arow = rows + i * rowStride
                if beta == 0 {
                    (crow + j0).update(repeating: 0, count: j1 - j0)
                } else if beta != 1 {
                    for j in j0..<j1 { crow[j] *= beta }
                }
                for p in 0..<k { ks.axpy(alpha * arow[p], b + (p * ldb + j0), crow + j0, j1 - j0) }
            }
        }
        let (work, o) = (m * k).multipliedReportingOverflow(by: n)
        if tasks > 1 && pool.threadCount > 1 && (o || work >= 65_536) {
            pool.parallelFor(tasks, body)
        } else {
            for t in 0..<tasks { body(t) }
        }
    }
}
