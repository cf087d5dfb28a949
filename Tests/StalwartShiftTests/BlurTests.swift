import XCTest
import StalwartTensor
@testable import StalwartShift

/// Light checks of the five blur corruptions; pixel parity with `imagecorruptions` lives in
/// Tests/python/test_corruptions_blur.py.
final class BlurTests: XCTestCase {
    static let blurs: [Corruption] = [.defocusBlur, .glassBlur, .motionBlur, .zoomBlur, .gaussianBlur]

    /// A deterministic RGB test pattern (gradients plus a hashed texture).
    func pattern(width: Int, height: Int) throws -> Image {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            let h = (x &* 73_856_093) ^ (y &* 19_349_663) ^ (c &* 83_492_791)
            px[(y * width + x) * 3 + c] = UInt8(truncatingIfNeeded: (x * 4 + y * 2 + c * 50) / 3 + (h & 31))
        } } }
        return try Image(width: width, height: height, channels: 3, pixels: px)
    }

    /// A flat image stays flat: every output pixel is within 1 level of the input value
    /// (the reference truncates a float sum that equals the value only up to rounding, so
    /// v − 1 is possible; glass blur truncates twice, so v − 2 there; nothing else is).
    func testFlatImageStaysFlat() throws {
        for value: UInt8 in [0, 77, 255] {
            let flat = try Image(width: 45, height: 37, channels: 3, pixels: [UInt8](repeating: value, count: 45 * 37 * 3))
            for c in Self.blurs {
                for s in 1...5 {
                    let out = try Corruptions.apply(flat, c, severity: s, seed: 3, key: 4)
                    XCTAssertEqual(out.width, 45); XCTAssertEqual(out.height, 37); XCTAssertEqual(out.channels, 3)
                    let lo = out.pixels.min()!, hi = out.pixels.max()!
                    let drop = c == .glassBlur ? 2 : 1
                    XCTAssert(Int(lo) >= Int(value) - drop && hi <= value, "\(c.rawValue)/\(s) on flat \(value): \(lo)...\(hi)")
                }
            }
        }
    }

    func testDeterministicAndSeeded() throws {
        let img = try pattern(width: 51, height: 40)
        for c in Self.blurs {
            let a = try Corruptions.apply(img, c, severity: 3, seed: 1, key: 2)
            let b = try Corruptions.apply(img, c, severity: 3, seed: 1, key: 2)
            XCTAssertEqual(a, b, c.rawValue)
            let other = try Corruptions.apply(img, c, severity: 3, seed: 2, key: 2)
            if c == .glassBlur || c == .motionBlur {
                XCTAssertNotEqual(a, other, c.rawValue)
            } else {
                XCTAssertEqual(a, other, "\(c.rawValue) draws no random numbers")
            }
            XCTAssertNotEqual(a, img, "\(c.rawValue) changes a textured image")
        }
    }

    /// Replayed draws must line up exactly: motion blur takes one uniform, glass blur two
    /// integers per visited pixel per iteration.
    func testReplayCounts() throws {
        let img = try pattern(width: 34, height: 32)
        XCTAssertNoThrow(try Corruptions.apply(img, .motionBlur, severity: 1, replay: [10]))
        XCTAssertThrowsError(try Corruptions.apply(img, .motionBlur, severity: 1, replay: [10, 1]))
        // Severity 1: δ = 1, 2 iterations over rows 31…2 and columns 33…2 → 2·30·32 per pass.
        let n = 2 * 2 * (32 - 2) * (34 - 2)
        XCTAssertNoThrow(try Corruptions.apply(img, .glassBlur, severity: 1, replay: [Double](repeating: 0, count: n)))
        XCTAssertThrowsError(try Corruptions.apply(img, .glassBlur, severity: 1, replay: [Double](repeating: 0, count: n - 1)))
        // Out-of-range replayed offsets are refused, not used as indices.
        XCTAssertThrowsError(try Corruptions.apply(img, .glassBlur, severity: 1, replay: [Double](repeating: 1e6, count: n)))
    }

    /// `np.arange(1, 1.11, 0.01)` has 12 values (float rounding), the others as expected.
    func testZoomFactors() {
        XCTAssertEqual(BlurKernels.numpyArange(start: 1, stop: 1.11, step: 0.01).count, 12)
        XCTAssertEqual(BlurKernels.numpyArange(start: 1, stop: 1.16, step: 0.01).count, 16)
        XCTAssertEqual(BlurKernels.numpyArange(start: 1, stop: 1.21, step: 0.02).count, 11)
        XCTAssertEqual(BlurKernels.numpyArange(start: 1, stop: 1.26, step: 0.02).count, 13)
        XCTAssertEqual(BlurKernels.numpyArange(start: 1, stop: 1.31, step: 0.03).count, 11)
    }
}
