// BLAS-3 and the symmetric eigensolver through OpenBLAS (CLAPACK), for float32 and float64.
//
// Threads: the serial OpenBLAS build (see Sources/CLAPACK/shim.h): no thread is started, every call
// runs on the caller's thread. Whether that build was compiled with OpenBLAS's USE_LOCKING is a
// packaging detail, so every BLAS/LAPACK call here holds `blasLock`: concurrent callers are safe
// and simply take turns (the transfer solvers spend little time in BLAS).
import CLAPACK
import StalwartTensor

/// Serializes every BLAS/LAPACK call of this module (see above).
let blasLock = Lock()

/// The process-wide OpenBLAS thread count (1 with the serial build Stalwart links).
public enum BLASThreads {
    /// The number of threads OpenBLAS uses for one call.
    public static var current: Int { Int(openblas_get_num_threads()) }
    /// Sets the OpenBLAS thread count for the whole process (1...1024); a no-op for the serial build.
    public static func set(_ n: Int) throws {
        guard n >= 1, n <= 1024 else { throw StalwartError.invalidArgument("BLAS thread count \(n) is outside 1...1024") }
        openblas_set_num_threads(Int32(n))
    }
}

/// A LAPACK/BLAS scalar: the row-major wrappers the transfer solvers call. Dimensions are
/// checked to fit the 32-bit `blasint` before any call.
protocol LapackScalar: BinaryFloatingPoint & Sendable {
    /// `C (m × n) = op(A) · op(B)`, row-major, `op(A)` is `m × k`.
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
                     _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    /// Upper triangle (row-major) of `C (n × n) = Aᵀ·A` (`trans`, A is `k × n`) or `A·Aᵀ` (A is `n × k`).
    static func syrk(_ trans: Bool, _ n: Int, _ k: Int, _ a: UnsafePointer<Self>, _ lda: Int,
                     _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    /// LAPACK `?syevd` (divide and conquer) with jobz "V": `a` is `n × n`; on return `w` holds
    /// the eigenvalues ascending and `a` the eigenvectors. Returns LAPACK's `info`.
    static func syevd(_ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32, _ w: UnsafeMutablePointer<Self>,
                      _ work: UnsafeMutablePointer<Self>, _ lwork: Int32, _ iwork: UnsafeMutablePointer<Int32>,
                      _ liwork: Int32) -> Int32
}

private let rowMajor = CblasRowMajor
private func tr(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: LapackScalar {
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                     _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        blasLock.withLock { cblas_sgemm(rowMajor, tr(transA), tr(transB), Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc)) }
    }
    static func syrk(_ trans: Bool, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        blasLock.withLock { cblas_ssyrk(rowMajor, CblasUpper, tr(trans), Int32(n), Int32(k), 1, a, Int32(lda), 0, c, Int32(ldc)) }
    }
    static func syevd(_ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ w: UnsafeMutablePointer<Float>,
                      _ work: UnsafeMutablePointer<Float>, _ lwork: Int32, _ iwork: UnsafeMutablePointer<Int32>, _ liwork: Int32) -> Int32 {
        var n = n, lda = lda, lwork = lwork, liwork = liwork, info: Int32 = 0
        // Row-major upper = column-major lower.
        blasLock.withLock { ssyevd_("V", "L", &n, a, &lda, w, work, &lwork, iwork, &liwork, &info) }
        return info
    }
}

extension Double: LapackScalar {
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ lda: Int,
                     _ b: UnsafePointer<Double>, _ ldb: Int, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        blasLock.withLock { cblas_dgemm(rowMajor, tr(transA), tr(transB), Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc)) }
    }
    static func syrk(_ trans: Bool, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ lda: Int, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        blasLock.withLock { cblas_dsyrk(rowMajor, CblasUpper, tr(trans), Int32(n), Int32(k), 1, a, Int32(lda), 0, c, Int32(ldc)) }
    }
    static func syevd(_ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ w: UnsafeMutablePointer<Double>,
                      _ work: UnsafeMutablePointer<Double>, _ lwork: Int32, _ iwork: UnsafeMutablePointer<Int32>, _ liwork: Int32) -> Int32 {
        var n = n, lda = lda, lwork = lwork, liwork = liwork, info: Int32 = 0
        blasLock.withLock { dsyevd_("V", "L", &n, a, &lda, w, work, &lwork, iwork, &liwork, &info) }
        return info
    }
}

/// Largest dimension handed to BLAS/LAPACK (32-bit `blasint`, and `n²` elements must fit too).
let maxBLASDimension = 46_340

/// Throws unless every dimension is in `0...maxBLASDimension`-style limits for 32-bit BLAS.
func checkBLAS(_ dims: Int..., what: String) throws {
    for d in dims where d < 0 || d > Int(Int32.max) {
        throw StalwartError.invalidArgument("\(what): dimension \(d) exceeds the 32-bit BLAS limit")
    }
}

/// A row-major dense matrix of `T` (internal scratch of the solvers).
struct Dense<T: LapackScalar> {
    var rows: Int
    var cols: Int
    var a: [T]
    init(rows: Int, cols: Int) throws {
        let (n, o) = rows.multipliedReportingOverflow(by: cols)
        guard !o, n <= 1 << 34 else { throw StalwartError.outOfMemory("a \(rows) × \(cols) matrix is too large") }
        self.rows = rows
        self.cols = cols
        a = [T](repeating: 0, count: n)
    }
}

/// `op(A) · op(B)` as a new matrix.
func matmul<T: LapackScalar>(_ a: Dense<T>, _ transA: Bool, _ b: Dense<T>, _ transB: Bool) throws -> Dense<T> {
    let m = transA ? a.cols : a.rows, k = transA ? a.rows : a.cols
    let kb = transB ? b.cols : b.rows, n = transB ? b.rows : b.cols
    guard k == kb else { throw StalwartError.internal("matmul: inner dimensions \(k) and \(kb) differ") }
    try checkBLAS(m, n, k, a.cols, b.cols, what: "matrix product")
    var c = try Dense<T>(rows: m, cols: n)
    if m == 0 || n == 0 { return c }
    if k == 0 { return c }
    a.a.withUnsafeBufferPointer { pa in
        b.a.withUnsafeBufferPointer { pb in
            c.a.withUnsafeMutableBufferPointer { pc in
                if let x = pa.baseAddress, let y = pb.baseAddress, let z = pc.baseAddress {
                    T.gemm(transA, transB, m, n, k, x, max(a.cols, 1), y, max(b.cols, 1), z, max(n, 1))
                }
            }
        }
    }
    return c
}

/// The Gram matrix `AᵀA` (`transposed`) or `AAᵀ`, both triangles filled.
func gram<T: LapackScalar>(_ a: Dense<T>, transposed: Bool) throws -> Dense<T> {
    let n = transposed ? a.cols : a.rows, k = transposed ? a.rows : a.cols
    try checkBLAS(n, k, what: "Gram matrix")
    var c = try Dense<T>(rows: n, cols: n)
    a.a.withUnsafeBufferPointer { pa in
        c.a.withUnsafeMutableBufferPointer { pc in
            if let x = pa.baseAddress, let z = pc.baseAddress { T.syrk(transposed, n, k, x, a.cols, z, n) }
        }
    }
    for i in 0..<n { for j in 0..<i { c.a[i * n + j] = c.a[j * n + i] } }
    return c
}

/// Eigendecomposition of the symmetric `g` (`n × n`) by `?syevd`: eigenvalues ascending and the
/// eigenvectors as the ROWS of the returned matrix (`E`, so `g = Eᵀ diag(w) E`).
func symmetricEigen<T: LapackScalar>(_ g: Dense<T>) throws -> (values: [T], vectors: Dense<T>) {
    let n = g.rows
    guard n == g.cols, n >= 1 else { throw StalwartError.internal("eigen: \(g.rows) × \(g.cols) is not square") }
    guard n <= maxBLASDimension else { throw StalwartError.invalidArgument("eigen: dimension \(n) is above \(maxBLASDimension)") }
    var a = g
    let n32 = Int32(n)
    let w = UnsafeMutablePointer<T>.allocate(capacity: n)
    defer { w.deallocate() }
    var wq: T = 0
    var iwq: Int32 = 0
    // Workspace query, then the decomposition.
    var info: Int32 = a.a.withUnsafeMutableBufferPointer { pa in
        guard let base = pa.baseAddress else { return -100 }
        return T.syevd(n32, base, n32, w, &wq, -1, &iwq, -1)
    }
    guard info == 0 else { throw StalwartError.internal("?syevd workspace query failed (info \(info))") }
    let lwork = max(Int(wq) + 1, 1 + 6 * n + 2 * n * n)
    let liwork = max(Int(iwq), 3 + 5 * n)
    guard lwork <= Int(Int32.max) else { throw StalwartError.outOfMemory("eigen: workspace for n = \(n) is too large") }
    let work = UnsafeMutablePointer<T>.allocate(capacity: lwork)
    defer { work.deallocate() }
    let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: liwork)
    defer { iwork.deallocate() }
    info = a.a.withUnsafeMutableBufferPointer { pa in
        guard let base = pa.baseAddress else { return -100 }
        return T.syevd(n32, base, n32, w, work, Int32(lwork), iwork, Int32(liwork))
    }
    guard info == 0 else {
        throw StalwartError.internal("?syevd did not converge (info \(info)) on a \(n) × \(n) matrix")
    }
    // Column-major eigenvectors read row-major are the transpose: row j is eigenvector j.
    return (Array(UnsafeBufferPointer(start: w, count: n)), a)
}
