import XCTest
import StalwartTensor
@testable import StalwartShift

/// The fog / snow / frost blend rows and the motion-blur / plasma helpers of every supported ISA
/// against the scalar reference formulas (byte- and bit-identical).
final class WeatherRowsTests: XCTestCase {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
        mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    }

    static func trunc(_ v: Double) -> UInt8 { Corruptions.truncU8(v) }

    func testFogRow() {
        var rng = Rng(s: 1)
        for n in [1, 7, 8, 9, 23, 64, 101] {
            let s = (0..<(3 * n)).map { _ in rng.byte() }
            let pl = (0..<n).map { _ in rng.unit() * 400 - 200 }
            let lo = -210.5, hi = 415.25, c0 = 2.5, maxVal = Double(s.max() ?? 0) / 255, den = maxVal + c0
            var want = [UInt8](repeating: 0, count: 3 * n)
            for x in 0..<n {
                let add = c0 * ((pl[x] - lo) / hi)
                for k in 0..<3 {
                    want[3 * x + k] = Self.trunc(min(max((Double(s[3 * x + k]) / 255 + add) * maxVal / den, 0), 1) * 255)
                }
            }
            for kern in WeatherRowKernels.supported {
                var got = [UInt8](repeating: 0, count: 3 * n)
                got.withUnsafeMutableBufferPointer { o in s.withUnsafeBufferPointer { sp in pl.withUnsafeBufferPointer { pp in
                    if let ob = o.baseAddress, let sb = sp.baseAddress, let pb = pp.baseAddress {
                        kern.fogRow(ob, sb, pb, lo, hi, c0, maxVal, den, n)
                    }
                } } }
                XCTAssertEqual(got, want, "fog \(kern.isa) n=\(n)")
            }
        }
    }

    func testFrostRow() {
        var rng = Rng(s: 2)
        for n in [1, 5, 8, 17, 99, 300] {
            let s = (0..<n).map { _ in rng.byte() }, t = (0..<n).map { _ in rng.byte() }
            for (c0, c1) in [(1.0, 0.4), (0.7, 0.7), (0.6, 0.75)] {
                let want = (0..<n).map { i in Self.trunc(min(max(c0 * Double(s[i]) + c1 * Double(t[i]), 0), 255)) }
                for kern in WeatherRowKernels.supported {
                    var got = [UInt8](repeating: 0, count: n)
                    got.withUnsafeMutableBufferPointer { o in s.withUnsafeBufferPointer { sp in t.withUnsafeBufferPointer { tp in
                        if let ob = o.baseAddress, let sb = sp.baseAddress, let tb = tp.baseAddress {
                            kern.frostRow(ob, sb, tb, c0, c1, n)
                        }
                    } } }
                    XCTAssertEqual(got, want, "frost \(kern.isa) n=\(n)")
                }
            }
        }
    }

    func testSnowRow() {
        var rng = Rng(s: 3)
        for n in [1, 8, 9, 31, 64, 77] {
            let s = (0..<(3 * n)).map { _ in rng.byte() }
            let add = (0..<n).map { _ in (rng.unit() * 300).rounded() / 255 - 0.2 }
            let rot = (0..<n).map { _ in (rng.unit() * 300).rounded() / 255 - 0.2 }
            for cc in [0.8, 0.55] {
                let a = Float(cc), b = Float(1 - cc)
                var want = [UInt8](repeating: 0, count: 3 * n)
                for x in 0..<n {
                    let r = Float(s[3 * x]) / 255, g = Float(s[3 * x + 1]) / 255, bl = Float(s[3 * x + 2]) / 255
                    let gray = r * 0.299 + g * 0.587 + bl * 0.114
                    let lift = gray * 1.5 + 0.5
                    let ad = add[x], rv = rot[n - 1 - x]
                    let m = [a * r + b * max(r, lift), a * g + b * max(g, lift), a * bl + b * max(bl, lift)]
                    for k in 0..<3 { want[3 * x + k] = Self.trunc(min(max(Double(m[k]) + ad + rv, 0), 1) * 255) }
                }
                for kern in WeatherRowKernels.supported {
                    var got = [UInt8](repeating: 0, count: 3 * n)
                    got.withUnsafeMutableBufferPointer { o in s.withUnsafeBufferPointer { sp in
                        add.withUnsafeBufferPointer { ap in rot.withUnsafeBufferPointer { rp in
                            if let ob = o.baseAddress, let sb = sp.baseAddress, let ab = ap.baseAddress, let rb = rp.baseAddress {
                                kern.snowRow(ob, sb, ab, rb, a, b, n)
                            }
                        } }
                    } }
                    XCTAssertEqual(got, want, "snow \(kern.isa) n=\(n)")
                }
            }
        }
    }

    func testAxpyAndMinMax() {
        var rng = Rng(s: 4)
        for n in [1, 15, 16, 33, 250] {
            let o0 = (0..<n).map { _ in rng.unit() - 0.5 }, s = (0..<n).map { _ in rng.unit() * 3 }
            let k = 0.123456789
            let want = (0..<n).map { i in o0[i] + k * s[i] }
            let lo = o0.min() ?? 0, hi = o0.max() ?? 0
            for kern in WeatherRowKernels.supported {
                var got = o0
                var mm = (0.0, 0.0)
                got.withUnsafeMutableBufferPointer { o in s.withUnsafeBufferPointer { sp in
                    if let ob = o.baseAddress, let sb = sp.baseAddress { kern.axpyRow(ob, sb, k, n) }
                } }
                o0.withUnsafeBufferPointer { p in if let b = p.baseAddress { mm = kern.minMax(b, n) } }
                XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "axpy \(kern.isa) n=\(n)")
                XCTAssertEqual(mm.0, lo, "min \(kern.isa) n=\(n)")
                XCTAssertEqual(mm.1, hi, "max \(kern.isa) n=\(n)")
            }
        }
    }
}
