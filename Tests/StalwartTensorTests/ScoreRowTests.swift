// The metrics' row pass (scripts/isa_templates/row_stats.swift): its float64 exp against libm,
// its statistics against direct loops, and the same bits from every ISA instance.
import Glibc
import XCTest
@testable import StalwartTensor

final class ScoreRowTests: XCTestCase {
    func testExpMatchesLibm() {
        var worst = 0.0
        var x = -745.0
        while x <= 0 {
            let e = portableExpNonPositiveF64(SIMD8<Double>(repeating: x))[0]
            let want = Glibc.exp(x)
            if x >= -708 { worst = max(worst, abs(e - want) / want) } else { XCTAssertEqual(e, 0) }
            x += 0.0137
        }
        XCTAssertLessThan(worst, 1e-15)
    }

    func testStatsMatchDirectLoopsOnEveryISA() {
        var seed: UInt64 = 1
        func next() -> Float { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: seed >> 11) % 2000) / 100 - 10 }
        for k in [1, 2, 7, 8, 9, 31, 1000] {
            var row = (0..<k).map { _ in next() }
            if k > 3 { row[2] = row[1] }  // a tie
            let label = k / 2
            let m = row.max()!
            let want = (argmax: row.firstIndex(of: m)!, rank: row.filter { $0 > row[label] }.count,
                        s1: row.map { Glibc.exp(Double($0) - Double(m)) }.reduce(0, +),
                        s2: row.map { Glibc.exp(2 * (Double($0) - Double(m))) }.reduce(0, +))
            var first: (Bool, Int, Int, Float, Double, Double)? = nil
            for kernels in ScoreRowKernels.supported {
                let st = row.withUnsafeBufferPointer { kernels.stats($0.baseAddress!, k, label, true) }
                XCTAssertTrue(st.valid)
                XCTAssertEqual(st.argmax, want.argmax, kernels.isa)
                XCTAssertEqual(st.rank, want.rank, kernels.isa)
                XCTAssertEqual(st.sumExp, want.s1, accuracy: 1e-13 * want.s1)
                XCTAssertEqual(st.sumExp2, want.s2, accuracy: 1e-13 * want.s2)
                if let f = first {
                    XCTAssert(f.1 == st.argmax && f.2 == st.rank && f.4.bitPattern == st.sumExp.bitPattern
                              && f.5.bitPattern == st.sumExp2.bitPattern, "\(kernels.isa) differs")
                } else { first = (st.valid, st.argmax, st.rank, st.max, st.sumExp, st.sumExp2) }
            }
            for bad in [Float.nan, .infinity, -.infinity] {
                var r = row
                r[k - 1] = bad
                for kernels in ScoreRowKernels.supported {
                    XCTAssertFalse(r.withUnsafeBufferPointer { kernels.stats($0.baseAddress!, k, label, true) }.valid)
                }
            }
        }
    }
}
