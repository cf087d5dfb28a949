/// Single-precision GEMM entry point for Gemm/MatMul operators.
/// PLACEHOLDER (kernels to be supplied): calls the reference loop.
public enum Sgemm {
    /// Row-major C[m×n] = alpha · op(A) · op(B) + beta · C. op(A) is m×k (A is k×m when
    /// transA), op(B) is k×n (B is n×k when transB). When beta == 0, C is not read.
    /// Spreads work over `pool`. Thread-safe for distinct C.
    public static func run(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool) {
        Reference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}
