import XCTest
import StalwartTensor
@testable import StalwartShift

/// The blocked, fused gaussian filter (GaussianRowKernels) against a direct scalar transcription
/// of SciPy's loops (`x / 255.`, vertical then horizontal symmetric correlation in float64 with
/// edge replication, `np.uint8(np.clip(v, 0, 1) * 255)`): byte-identical on every ISA.
final class GaussianBlurTests: XCTestCase {
    func randomImage(width: Int, height: Int, seed: UInt64) throws -> Image {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in px.indices {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            px[i] = UInt8(truncatingIfNeeded: s >> 24)
        }
        // Some flat and saturated areas too (values landing exactly on integers after ×255).
        for y in 0..<min(height, 9) { for x in 0..<width { for c in 0..<3 { px[(y * width + x) * 3 + c] = c == 0 ? 255 : 128 } } }
        return try Image(width: width, height: height, channels: 3, pixels: px)
    }

    /// The direct computation, operation by operation.
    func direct(_ x: Image, kernel k: [Double]) -> [UInt8] {
        let (w, h) = (x.width, x.height), r = k.count - 1
        let u = x.pixels.map { Double($0) / 255 }
        var v = [Double](repeating: 0, count: u.count)
        for y in 0..<h { for j in 0..<(w * 3) {
            var a = u[y * w * 3 + j] * k[0]
            var d = r
            while d >= 1 {
                a = a + (u[max(y - d, 0) * w * 3 + j] + u[min(y + d, h - 1) * w * 3 + j]) * k[d]
                d -= 1
            }
            v[y * w * 3 + j] = a
        } }
        var out = [UInt8](repeating: 0, count: u.count)
        for y in 0..<h { for xx in 0..<w { for c in 0..<3 {
            let row = y * w * 3
            var a = v[row + xx * 3 + c] * k[0]
            var d = r
            while d >= 1 {
                a = a + (v[row + max(xx - d, 0) * 3 + c] + v[row + min(xx + d, w - 1) * 3 + c]) * k[d]
                d -= 1
            }
            out[row + xx * 3 + c] = BlurKernels.truncU8(min(max(a, 0), 1) * 255)
        } } }
        return out
    }

    func testUnitRowMatchesDivisionOnEveryISA() {
        for kernels in GaussianRowKernels.supported {
            XCTAssert(BlurKernels.unitRowIsExact(kernels), kernels.isa)
        }
        XCTAssert(BlurKernels.currentUnitRowIsExact)
    }

    func testMatchesDirectComputationOnEveryISA() throws {
        let sizes = [(32, 32), (33, 97), (224, 224), (130, 41), (40, 3), (5, 60)]
        for (n, (w, h)) in sizes.enumerated() {
            let img = try randomImage(width: w, height: h, seed: UInt64(n + 1))
            for sigma: Double in [1, 2, 3, 4, 6, 0.7, 1.5] {
                let k = BlurKernels.scipyGaussian(sigma: sigma)
                let want = direct(img, kernel: k)
                for kernels in GaussianRowKernels.supported {
                    let got = BlurKernels.gaussianNearestToBytes(img, kernel: k, kernels: kernels)
                    let diff = zip(got, want).filter { $0 != $1 }.count
                    XCTAssertEqual(diff, 0, "\(w)×\(h) σ=\(sigma) \(kernels.isa): \(diff) bytes differ")
                }
            }
        }
    }

    func testGaussianBlurCorruptionMatchesDirect() throws {
        let img = try randomImage(width: 61, height: 47, seed: 9)
        for s in 1...5 {
            let sigma: Double = [1, 2, 3, 4, 6][s - 1]
            let out = try Corruptions.apply(img, .gaussianBlur, severity: s, seed: 1, key: 0)
            XCTAssertEqual(out.pixels, direct(img, kernel: BlurKernels.scipyGaussian(sigma: sigma)), "severity \(s)")
        }
    }
}
