// The Philox streams behind the corruptions: Random123's known-answer vectors (kat_vectors,
// "philox4x32 10" lines), the same bits from every ISA instance, and the float32 helpers of
// Box–Muller against libm.
import Glibc
import XCTest
@testable import StalwartTensor

final class RandomStreamTests: XCTestCase {
    /// Word r of block `lane` in the group starting at `counter`.
    private func block(_ s: RandomStreamKernels, counter: UInt64, high: UInt64, key: (UInt32, UInt32), lane: Int) -> [UInt32] {
        var w = [UInt32](repeating: 0, count: 32)
        s.words(&w, 1, counter, high, key.0, key.1)
        return (0..<4).map { w[8 * $0 + lane] }
    }

    func testKnownAnswerVectors() {
        for s in RandomStreamKernels.supported {
            // counter (c0, c1, c2, c3) = (counter low, counter high, high low, high high).
            XCTAssertEqual(block(s, counter: 0, high: 0, key: (0, 0), lane: 0),
                           [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8], s.isa)
            XCTAssertEqual(block(s, counter: 0xFFFF_FFFF_FFFF_FFF8, high: .max, key: (.max, .max), lane: 7),
                           [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD], s.isa)
            XCTAssertEqual(block(s, counter: 0x85A3_08D3_243F_6A88, high: 0x0370_7344_1319_8A2E, key: (0xA409_3822, 0x299F_31D0), lane: 0),
                           [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1], s.isa)
        }
    }

    /// Every ISA instance returns the same normals, uniforms and words, bit for bit.
    func testInstancesAgreeBitForBit() {
        let groups = 3000
        let all = RandomStreamKernels.supported
        XCTAssertGreaterThanOrEqual(all.count, 1)
        func bits<T>(_ s: RandomStreamKernels, _ f: KeyPath<RandomStreamKernels, RandomStreamKernels.Fill<T>>, _ per: Int, _ zero: T) -> [T] {
            var out = [T](repeating: zero, count: per * groups)
            s[keyPath: f](&out, groups, 0x1234_5678_0000_0008, 0xDEAD_BEEF_CAFE_F00D, 0x9E37_79B9, 0x7F4A_7C15)
            return out
        }
        let n0 = bits(all[0], \.normals, 32, Float(0)).map(\.bitPattern)
        let u0 = bits(all[0], \.units, 32, 0.0).map(\.bitPattern)
        let w0 = bits(all[0], \.words, 32, UInt32(0))
        for s in all.dropFirst() {
            XCTAssertEqual(bits(s, \.normals, 32, Float(0)).map(\.bitPattern), n0, s.isa)
            XCTAssertEqual(bits(s, \.units, 32, 0.0).map(\.bitPattern), u0, s.isa)
            XCTAssertEqual(bits(s, \.words, 32, UInt32(0)), w0, s.isa)
        }
        XCTAssertEqual(RandomStreamKernels.portable.isa, "portable")
        XCTAssertEqual(bits(RandomStreamKernels.portable, \.normals, 32, Float(0)).map(\.bitPattern), n0)
    }

    /// The float32 log and square root inside Box–Muller against libm.
    func testBoxMullerHelpersMatchLibm() {
        var worstLog = 0.0, worstSqrt = 0.0
        for i in 0..<100_000 {
            let u = Float(1 - Double(i) / 100_000 * (1 - 0x1p-23))
            let l = portableLog16(SIMD16<Float>(repeating: u))[0]
            worstLog = max(worstLog, abs(Double(l) - Glibc.log(Double(u))))
            let x = Float(i) * 0.00017
            let r = portableSqrt16(SIMD16<Float>(repeating: x))[0]
            if x > 0 { worstSqrt = max(worstSqrt, abs(Double(r) / Double(x).squareRoot() - 1)) } else { XCTAssertEqual(r, 0) }
        }
        XCTAssertLessThan(worstLog, 2e-6)
        XCTAssertLessThan(worstSqrt, 4e-7)
        // Uniform doubles: w·2⁻³² exactly.
        let (lo, hi) = portableUnits8(SIMD8(0, 1, 2, 3, 0x8000_0000, 5, 6, 0xFFFF_FFFF))
        XCTAssertEqual([lo[0], lo[1], hi[0], hi[3]], [0, 0x1p-32, 0.5, 1 - 0x1p-32])
    }
}
