import XCTest
@testable import StalwartTensor

/// Sgemm vs `Reference.sgemm` for every ISA this CPU supports.
/// Tolerance: |x − ref| ≤ 1e-4 · (1 + Σ|alpha·a·b| + |beta·c|) — float sums in another order.
final class SgemmTests: XCTestCase {
    typealias S = KernelTestSupport

    func check(_ ks: KernelSet, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
               beta: Float, pad: Int, pool: ThreadPool, rng: inout S.Rng, file: StaticString = #filePath,
               line: UInt = #line) {
        check([(ks, pool)], transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
              pad: pad, rng: &rng, file: file, line: line)
    }

    /// One problem, one reference, checked with every (kernel set, pool) pair.
    func check(_ runs: [(KernelSet, ThreadPool)], transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
               alpha: Float, beta: Float, pad: Int, rng: inout S.Rng, file: StaticString = #filePath,
               line: UInt = #line) {
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let a = rng.floats(max(1, (transA ? k : m) * lda))
        let b = rng.floats(max(1, (transB ? n : k) * ldb))
        var c0 = rng.floats(max(1, m * ldc))
        if beta == 0 { for i in 0..<c0.count where i % 3 == 0 { c0[i] = .nan } }  // must not be read
        var ref = c0
        var scale = c0.map { beta == 0 ? 0 : abs($0 * beta) }
        let absA = a.map { abs($0) }, absB = b.map { abs($0) }
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            ref.withUnsafeMutableBufferPointer { rp in
                Reference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta,
                                c: rp.baseAddress!, ldc: ldc)
            }
        } }
        absA.withUnsafeBufferPointer { ap in absB.withUnsafeBufferPointer { bp in
            scale.withUnsafeMutableBufferPointer { sp in
                Reference.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: abs(alpha),
                                a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: 1,
                                c: sp.baseAddress!, ldc: ldc)
            }
        } }
        for (ks, pool) in runs {
            var c = c0
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Sgemm.run(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                              a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta,
                              c: cp.baseAddress!, ldc: ldc, pool: pool, kernels: ks)
                }
            } }
            let (w, wi) = S.worst(c, ref, scale: scale, tol: 1e-4)
            var nanInC = false
            for i in 0..<m { for j in 0..<n where c[i * ldc + j].isNaN { nanInC = true } }
            if w > 1 || nanInC {
                XCTFail("\(ks.isa) tA \(transA) tB \(transB) m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta) "
                        + "pad \(pad): worst \(w) at \(wi) got \(wi >= 0 ? c[wi] : 0) want \(wi >= 0 ? ref[wi] : 0)",
                        file: file, line: line)
            }
            // Padding columns (j ≥ n) must be untouched.
            for i in 0..<m { for j in n..<ldc where !(c[i * ldc + j].isNaN && ref[i * ldc + j].isNaN) {
                if c[i * ldc + j] != ref[i * ldc + j] {
                    XCTFail("\(ks.isa): wrote outside C at (\(i), \(j))", file: file, line: line); return
                }
            } }
        }
    }

    func testEdgeSizesAllTransposes() {
        let sizes = [0, 1, 2, 3, 5, 13, 16, 17, 31, 33, 64, 100]
        let pool = ThreadPool(threads: 2)
        for ks in S.kernelSets {
            var rng = S.Rng(42)
            // Every m × n with a few k, then random triples.
            for m in sizes { for n in sizes {
                let k = sizes[rng.int(0...sizes.count - 1)]
                let tA = rng.int(0...1) == 1, tB = rng.int(0...1) == 1
                check(ks, transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1, beta: 0, pad: rng.int(0...3),
                      pool: pool, rng: &rng)
            } }
            for _ in 0..<120 {
                let m = sizes[rng.int(0...11)], n = sizes[rng.int(0...11)], k = sizes[rng.int(0...11)]
                let alpha: Float = [1, -0.5, 2.25][rng.int(0...2)]
                let beta: Float = [0, 1, 0.75][rng.int(0...2)]
                for tA in [false, true] { for tB in [false, true] {
                    check(ks, transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
                          pad: rng.int(0...5), pool: pool, rng: &rng)
                } }
            }
        }
    }

    /// Every tail tile of the macro kernels: each count of valid rows 1…2·MR (the rows of a
    /// last panel pick an R-row tile) against one- and two-vector column tails, with and
    /// without accumulation into C.
    func testEveryTailTile() {
        let pool = ThreadPool(threads: 1)
        for ks in S.kernelSets {
            var rng = S.Rng(3)
            for m in 1...(2 * ks.mr) {
                for n in [1, ks.nr / 2 - 1, ks.nr / 2, ks.nr / 2 + 1, ks.nr, ks.nr + 3] {
                    check(ks, transA: false, transB: false, m: m, n: n, k: 9, alpha: 1, beta: m % 2 == 0 ? 0 : 0.5,
                          pad: 2, pool: pool, rng: &rng)
                }
            }
        }
    }

    /// Sizes that cross the k-block (256), the column block (512) and use several tasks.
    func testLargeBlockedAndThreaded() {
        let pools = [1, 2, 3].map { ThreadPool(threads: $0) }
        let runs = S.kernelSets.flatMap { ks in pools.map { (ks, $0) } }
        var rng = S.Rng(7)
        for (m, n, k) in [(150, 600, 300), (29, 1100, 520), (257, 70, 513)] {
            for tA in [false, true] { for tB in [false, true] {
                check(runs, transA: tA, transB: tB, m: m, n: n, k: k, alpha: 0.5, beta: 0.25,
                      pad: 3, rng: &rng)
            } }
        }
    }

    func testKernelSelection() {
        XCTAssertTrue(["avx512", "avx2", "generic"].contains(KernelInfo.isa))
        XCTAssertEqual(KernelSet.select(request: "generic"), .generic)
        XCTAssertEqual(KernelSet.select(request: "GENERIC"), .generic)
        let best = KernelSet.select(request: nil)
        XCTAssertEqual(KernelSet.select(request: "bogus"), best)
        // Never raised beyond what the CPU supports.
        for isa in KernelISA.allCases {
            XCTAssertTrue(KernelSet.select(request: isa.rawValue).isSupported)
        }
        XCTAssertEqual(KernelSet.supported.first?.isa, best)
    }
}
