import XCTest
@testable import StalwartTensor

/// The max-pool fast path (`TensorOps.maxPoolRowsFast`) against the generic scalar loop
/// (`TensorOps.pool(..., fastPaths: false)`) and against a naive in-test loop, on randomized
/// geometries (1-D, 2-D and 3-D; kernel 1...5, stride 1...3, asymmetric pads, ceil-mode-like extra
/// outputs, widths and heights down to 1, several planes, 1 and 3 threads) with inputs full of
/// NaN, ±inf, ±0 and ±greatestFiniteMagnitude.
///
/// Tolerance: none. Max pooling only selects values, so every output must have the same bit
/// pattern as the reference (two NaNs count as equal, although max pooling never outputs NaN:
/// NaN taps are skipped). The naive oracle folds each window in row-major tap order with
/// `x > acc ? x : acc` from -inf, so it also pins the sign of a zero result (the first zero wins)
/// and the -Float.greatestFiniteMagnitude of a window without valid taps.
final class PoolingFastPathTests: XCTestCase {
    struct Geometry: CustomStringConvertible {
        var shape: [Int], kernel: [Int], strides: [Int], dilations: [Int]
        var padsBegin: [Int], padsEnd: [Int], outSpatial: [Int]
        var description: String {
            "shape \(shape) k \(kernel) s \(strides) d \(dilations) pads \(padsBegin)/\(padsEnd) out \(outSpatial)"
        }
        var outCount: Int { shape[0] * shape[1] * outSpatial.reduce(1, *) }
    }

    typealias Rng = KernelTestSupport.Rng

    let serial = ThreadPool(threads: 1)
    let parallel = ThreadPool(threads: 3)

    /// Output bit pattern written before a run; any output left unwritten shows up as a mismatch
    /// against the naive oracle. The guard after the output must survive.
    static let sentinel = Float(bitPattern: 0x7FC0_DEAD)
    static let guardCount = 64

    func run(_ g: Geometry, _ x: [Float], fast: Bool, pool: ThreadPool) -> [Float] {
        var out = [Float](repeating: Self.sentinel, count: g.outCount + Self.guardCount)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                guard let xp = xb.baseAddress, let op = ob.baseAddress else { return }
                TensorOps.pool(xp, shape: g.shape, kind: .max, kernel: g.kernel, strides: g.strides,
                               dilations: g.dilations, padsBegin: g.padsBegin, padsEnd: g.padsEnd,
                               outSpatial: g.outSpatial, output: op, pool: pool, fastPaths: fast)
            }
        }
        let tail = out[g.outCount...]
        XCTAssertTrue(tail.allSatisfy { $0.bitPattern == Self.sentinel.bitPattern },
                      "write past the output: \(g)")
        return Array(out[..<g.outCount])
    }

    /// Row-major fold of every window over taps inside the input; no valid tap gives
    /// -greatestFiniteMagnitude. Any spatial rank (1...3).
    static func naive(_ g: Geometry, _ x: [Float]) -> [Float] {
        let s = g.shape.count - 2
        let inSp = Array(g.shape[2...]), planes = g.shape[0] * g.shape[1]
        let inPlane = inSp.reduce(1, *), outPlane = g.outSpatial.reduce(1, *)
        var out = [Float](repeating: 0, count: g.outCount)
        for p in 0..<planes {
            for o in 0..<outPlane {
                var oIdx = [Int](repeating: 0, count: s), r = o
                for a in stride(from: s - 1, through: 0, by: -1) { oIdx[a] = r % g.outSpatial[a]; r /= g.outSpatial[a] }
                var acc = -Float.infinity, valid = 0
                let taps = g.kernel.reduce(1, *)
                for tap in 0..<taps {
                    var kIdx = [Int](repeating: 0, count: s), q = tap
                    for a in stride(from: s - 1, through: 0, by: -1) { kIdx[a] = q % g.kernel[a]; q /= g.kernel[a] }
                    var off = 0, inside = true
                    for a in 0..<s {
                        let i = oIdx[a] * g.strides[a] - g.padsBegin[a] + kIdx[a] * g.dilations[a]
                        if i < 0 || i >= inSp[a] { inside = false; break }
                        off = off * inSp[a] + i
                    }
                    if !inside { continue }
                    valid += 1
                    let v = x[p * inPlane + off]
                    acc = v > acc ? v : acc
                }
                out[p * outPlane + o] = valid > 0 ? acc : -Float.greatestFiniteMagnitude
            }
        }
        return out
    }

    func assertSameBits(_ got: [Float], _ want: [Float], _ what: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what(), file: file, line: line)
        var bad = 0, first = -1
        for i in 0..<min(got.count, want.count) {
            let same = got[i].bitPattern == want[i].bitPattern || (got[i].isNaN && want[i].isNaN)
            if !same { bad += 1; if first < 0 { first = i } }
        }
        if bad > 0 {
            XCTFail("\(what()): \(bad) of \(got.count) differ; first [\(first)] got \(got[first]) "
                    + "(0x\(String(got[first].bitPattern, radix: 16))) want \(want[first]) "
                    + "(0x\(String(want[first].bitPattern, radix: 16)))", file: file, line: line)
        }
    }

    /// Values that stress the fold: NaN (quiet, with payload, negative), ±inf, ±0,
    /// ±greatestFiniteMagnitude, small integers (frequent ties), and ordinary floats.
    static func value(_ rng: inout Rng, special: Double) -> Float {
        if rng.chance(special) {
            let specials: [Float] = [.nan, Float(bitPattern: 0x7FC1_2345), Float(bitPattern: 0xFFC0_0000),
                                     .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude,
                                     -.greatestFiniteMagnitude, 0, -0.0]
            return specials[rng.int(0...(specials.count - 1))]
        }
        if rng.chance(0.3) { return Float(rng.int(-3...3)) }
        return rng.float() * 8
    }

    static func input(_ g: Geometry, _ rng: inout Rng) -> [Float] {
        let count = g.shape.reduce(1, *)
        let mode = rng.int(0...4)
        var x = [Float](repeating: 0, count: count)
        for i in 0..<count {
            switch mode {
            case 0: x[i] = value(&rng, special: 0.05)
            case 1: x[i] = value(&rng, special: 0.4)
            case 2: x[i] = rng.chance(0.7) ? .nan : value(&rng, special: 0.2)  // many all-NaN windows
            case 3: x[i] = [Float(0), -0.0, -1, .nan][rng.int(0...3)]          // signed-zero ties
            default: x[i] = max(value(&rng, special: 0.02), 0)                 // post-ReLU-like
            }
        }
        return x
    }

    /// One random geometry with `s` spatial dims. `wide` favours widths that give ≥ 8 interior
    /// columns (the vector kernels); `dilated` puts dilation 2 on a random axis.
    static func geometry(_ rng: inout Rng, spatial s: Int, wide: Bool, dilated: Bool) -> Geometry {
        var shape = [rng.int(1...2), rng.int(1...3)]
        var kernel = [Int](), strides = [Int](), dil = [Int](), pb = [Int](), pe = [Int](), out = [Int]()
        for a in 0..<s {
            let last = a == s - 1
            let k = s == 3 && a == 0 && rng.chance(0.5) ? 1 : rng.int(1...5)
            let st = rng.int(1...3)
            let d = dilated && rng.chance(0.6) ? 2 : 1
            let len: Int
            if last && wide { len = rng.int(1...4) == 1 ? rng.int(1...8) : rng.int(16...70) } else { len = rng.int(1...9) }
            let b = rng.int(0...(k - 1)), e = rng.int(0...(k - 1))
            let span = (k - 1) * d + 1
            var o = max(len + b + e - span, -1) / st + 1
            if o < 1 { o = 1 }
            if rng.chance(0.3) { o += 1 }  // ceil_mode-like overhang output
            shape.append(len); kernel.append(k); strides.append(st); dil.append(d)
            pb.append(b); pe.append(e); out.append(o)
        }
        return Geometry(shape: shape, kernel: kernel, strides: strides, dilations: dil, padsBegin: pb,
                        padsEnd: pe, outSpatial: out)
    }

    /// Whether the geometry reaches the 8-wide kernels: width dilation 1, width stride 1 or 2,
    /// and ≥ 8 output columns whose loads stay inside the row (see `maxPoolVectorColumns`).
    static func usesVectorKernels(_ g: Geometry) -> Bool {
        let w = g.shape.last ?? 0, k = g.kernel.last ?? 1, st = g.strides.last ?? 1
        let b = g.padsBegin.last ?? 0, d = g.dilations.last ?? 1
        guard d == 1, st == 1 || st == 2 else { return false }
        let span = st == 2 ? max(k, 2) : k
        return (0..<(g.outSpatial.last ?? 0)).filter { o in
            let start = o * st - b
            return start >= 0 && start + span <= w
        }.count >= 8
    }

    func check(_ g: Geometry, _ x: [Float], file: StaticString = #filePath, line: UInt = #line) {
        let want = Self.naive(g, x)
        let generic = run(g, x, fast: false, pool: serial)
        assertSameBits(generic, want, "generic vs naive: \(g)", file: file, line: line)
        for pool in [serial, parallel] {
            let fast = run(g, x, fast: true, pool: pool)
            assertSameBits(fast, generic, "fast (\(pool.threadCount) threads) vs generic: \(g)", file: file, line: line)
        }
    }

    func testRandom2D() {
        var rng = Rng(1)
        var vectorCases = 0
        for _ in 0..<600 {
            let g = Self.geometry(&rng, spatial: 2, wide: rng.chance(0.8), dilated: false)
            if Self.usesVectorKernels(g) { vectorCases += 1 }
            check(g, Self.input(g, &rng))
        }
        // The vector kernels must actually have been exercised by a good share of the cases.
        XCTAssertGreaterThan(vectorCases, 150)
    }

    /// Dilation 2 on the width axis takes the generic loop; on the height axis the fast path.
    func testRandomDilated() {
        var rng = Rng(2)
        for _ in 0..<250 {
            let g = Self.geometry(&rng, spatial: 2, wide: true, dilated: true)
            check(g, Self.input(g, &rng))
        }
    }

    func testRandom1DAnd3D() {
        var rng = Rng(3)
        for i in 0..<300 {
            let g = Self.geometry(&rng, spatial: i % 2 == 0 ? 1 : 3, wide: rng.chance(0.7), dilated: rng.chance(0.2))
            check(g, Self.input(g, &rng))
        }
    }

    /// The ResNet stem pool (3×3, stride 2, pads 1) on odd and even sizes, and the
    /// ceil_mode variant with one more output per axis.
    func testResNetStemShapes() {
        var rng = Rng(4)
        for (h, w) in [(112, 112), (17, 33), (1, 40), (40, 1), (9, 16), (10, 17)] {
            for extra in [0, 1] {
                let oh = (h + 2 - 3) / 2 + 1 + extra, ow = (w + 2 - 3) / 2 + 1 + extra
                let g = Geometry(shape: [1, 5, h, w], kernel: [3, 3], strides: [2, 2], dilations: [1, 1],
                                 padsBegin: [1, 1], padsEnd: [1, 1], outSpatial: [oh, ow])
                check(g, Self.input(g, &rng))
            }
        }
    }

    /// Pools big enough for `parallelRanges` to split them (≥ 2^15 work units), so row ranges
    /// start in the middle of a plane and, for 3-D, in the middle of a depth slice.
    func testParallelRangesStartMidPlane() {
        var rng = Rng(5)
        let cases = [
            Geometry(shape: [1, 3, 9, 40, 64], kernel: [2, 3, 3], strides: [1, 2, 2], dilations: [1, 1, 1],
                     padsBegin: [0, 1, 1], padsEnd: [1, 1, 0], outSpatial: [9, 20, 32]),
            Geometry(shape: [2, 3, 61, 77], kernel: [3, 3], strides: [1, 1], dilations: [2, 1],
                     padsBegin: [2, 1], padsEnd: [1, 2], outSpatial: [60, 78]),
            Geometry(shape: [1, 25, 45, 130], kernel: [2, 2], strides: [2, 2], dilations: [1, 1],
                     padsBegin: [0, 0], padsEnd: [1, 1], outSpatial: [23, 66]),
        ]
        for g in cases { check(g, Self.input(g, &rng)) }
    }

    /// Windows holding -0 and +0 with a zero maximum: the first zero in row-major tap order
    /// wins. A column-first (vertical-then-horizontal) split would return +0 here.
    func testSignedZeroTieFollowsRowMajorOrder() {
        // 2×2 windows, stride 2, over rows [-1, -0, -1, -0, ...] and [+0, -1, +0, -1, ...]:
        // row-major order meets -0 (row 0, column 1) before +0 (row 1, column 0).
        let w = 40
        var x = [Float](repeating: 0, count: 2 * w)
        for c in 0..<w {
            x[c] = c % 2 == 0 ? -1 : -0.0
            x[w + c] = c % 2 == 0 ? 0 : -1
        }
        for stride in [1, 2] {
            let ow = (w - 2) / stride + 1
            let g = Geometry(shape: [1, 1, 2, w], kernel: [2, 2], strides: [stride, stride], dilations: [1, 1],
                             padsBegin: [0, 0], padsEnd: [0, 0], outSpatial: [1, ow])
            check(g, x)
            let fast = run(g, x, fast: true, pool: serial)
            // Windows at even columns are [-1, -0; +0, -1], at odd ones [-0, -1; -1, +0]: -0 first.
            XCTAssertTrue(fast.allSatisfy { $0 == 0 && $0.sign == .minus }, "stride \(stride): \(fast)")
        }
    }

    /// Windows with no valid tap (outputs entirely in the padding or the ceil_mode overhang)
    /// give -greatestFiniteMagnitude; windows whose taps are all NaN give -inf.
    func testEmptyAndAllNaNWindows() {
        let w = 24
        let x = [Float](repeating: .nan, count: 3 * w)
        // Pads larger than the kernel are not ONNX-legal but the kernel must still clip them.
        let g = Geometry(shape: [1, 1, 3, w], kernel: [2, 2], strides: [2, 1], dilations: [1, 1],
                         padsBegin: [0, 3], padsEnd: [0, 0], outSpatial: [3, w + 4])
        check(g, x)
        let out = run(g, x, fast: true, pool: serial)
        let ow = w + 4
        for r in 0..<3 {
            for c in 0..<ow {
                let v = out[r * ow + c]
                // Row 2 starts at input row 4 (past the 3 rows); columns 0...1 lie in the pad.
                let empty = r == 2 || c < 2 || c - 3 >= w
                XCTAssertEqual(v, empty ? -Float.greatestFiniteMagnitude : -Float.infinity, "row \(r) col \(c)")
            }
        }
    }
}
