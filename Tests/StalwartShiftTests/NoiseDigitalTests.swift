import XCTest
import StalwartTensor
@testable import StalwartShift

/// Determinism and invariants of the noise and digital corruptions (gaussian, shot, impulse,
/// speckle noise; brightness, contrast, saturate, pixelate, jpeg_compression), and of the
/// CounterRandom fast paths they rely on. Pixel parity with imagecorruptions is tested in
/// Tests/python/test_corruptions_noise_digital.py.
final class NoiseDigitalTests: XCTestCase {
    static let random: [Corruption] = [.gaussianNoise, .shotNoise, .impulseNoise, .speckleNoise]
    static let fixed: [Corruption] = [.brightness, .contrast, .saturate, .pixelate, .jpegCompression]

    func gradient(_ w: Int, _ h: Int) throws -> Image {
        var img = try Image(width: w, height: h, channels: 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { img.pixels[(y * w + x) * 3 + c] = UInt8((x * 7 + y * 3 + c * 50) & 255) } } }
        return img
    }

    func flat(_ v: UInt8, _ w: Int = 48, _ h: Int = 40) throws -> Image {
        try Image(width: w, height: h, channels: 3, pixels: [UInt8](repeating: v, count: w * h * 3))
    }

    func testDeterministicAndKeyed() throws {
        let img = try gradient(64, 48)
        for c in Self.random {
            let a = try Corruptions.apply(img, c, severity: 3, seed: 1, key: 2)
            XCTAssertEqual(a, try Corruptions.apply(img, c, severity: 3, seed: 1, key: 2), c.rawValue)
            XCTAssertNotEqual(a, try Corruptions.apply(img, c, severity: 3, seed: 2, key: 2), c.rawValue)
            XCTAssertNotEqual(a, try Corruptions.apply(img, c, severity: 3, seed: 1, key: 3), c.rawValue)
        }
        for c in Self.fixed {
            XCTAssertEqual(try Corruptions.apply(img, c, severity: 3, seed: 1, key: 2),
                           try Corruptions.apply(img, c, severity: 3, seed: 9, key: 7), c.rawValue)
        }
    }

    func testShapeAnySizeAllSeverities() throws {
        for (w, h) in [(32, 32), (97, 33), (41, 130)] {
            let img = try gradient(w, h)
            for c in Self.random + Self.fixed {
                for s in 1...5 {
                    let out = try Corruptions.apply(img, c, severity: s)
                    XCTAssertEqual([out.width, out.height, out.channels], [w, h, 3], "\(c.rawValue) \(s)")
                }
            }
        }
    }

    /// A gray pixel has S = 0, so brightness gives trunc(min(1, v/255 + c)·255) in every channel.
    func testBrightnessOfGray() throws {
        for (s, c) in zip(1...5, [0.1, 0.2, 0.3, 0.4, 0.5]) {
            for v: UInt8 in [0, 100, 200, 255] {
                let out = try Corruptions.apply(try flat(v), .brightness, severity: s)
                let want = UInt8(min(1, Double(v) / 255 + c) * 255)
                XCTAssertEqual(Set(out.pixels), [want], "severity \(s) value \(v)")
            }
        }
    }

    /// Contrast, pixelate, JPEG and the multiplicative saturate severities leave a flat gray
    /// image gray (within 1: v/255·255 may truncate down).
    func testFlatImagesStayFlat() throws {
        for c: Corruption in [.contrast, .saturate, .pixelate, .jpegCompression] {
            for s in 1...(c == .saturate ? 3 : 5) {
                let out = try Corruptions.apply(try flat(128), c, severity: s)
                XCTAssertTrue(out.pixels.allSatisfy { abs(Int($0) - 128) <= 1 }, "\(c.rawValue) \(s)")
            }
        }
    }

    /// Saturate severities 4–5 add 0.1 / 0.2 to S; gray has hue 0, so it turns red:
    /// R = V, G = B = V·(1 − S).
    func testSaturateTintsGrayRed() throws {
        for (s, b) in [(4, 0.1), (5, 0.2)] {
            let out = try Corruptions.apply(try flat(128), .saturate, severity: s)
            let gb = Int(128.0 * (1 - b))
            for p in stride(from: 0, to: out.pixels.count, by: 3) {
                XCTAssertLessThanOrEqual(abs(Int(out.pixels[p]) - 128), 1)
                XCTAssertLessThanOrEqual(abs(Int(out.pixels[p + 1]) - gb), 1)
                XCTAssertEqual(out.pixels[p + 1], out.pixels[p + 2])
            }
        }
    }

    /// About `amount` of the samples are flipped to 0 or 255, half each.
    func testImpulseFraction() throws {
        let img = try flat(128, 200, 200)
        for (s, amount) in zip(1...5, [0.03, 0.06, 0.09, 0.17, 0.27]) {
            let out = try Corruptions.apply(img, .impulseNoise, severity: s, seed: 3)
            let n = Double(out.pixels.count)
            let salt = Double(out.pixels.filter { $0 == 255 }.count) / n, pepper = Double(out.pixels.filter { $0 == 0 }.count) / n
            XCTAssertEqual(salt, amount / 2, accuracy: 0.01, "severity \(s)")
            XCTAssertEqual(pepper, amount / 2, accuracy: 0.01, "severity \(s)")
        }
    }

    /// Replayed zero noise leaves x/255 unchanged: output = trunc(v/255·255).
    func testReplayZeroGaussianNoise() throws {
        let img = try gradient(40, 40)
        let out = try Corruptions.apply(img, .gaussianNoise, severity: 2, replay: [Double](repeating: 0, count: img.pixels.count))
        XCTAssertEqual(out.pixels, img.pixels.map { UInt8(Double($0) / 255 * 255) })
        XCTAssertThrowsError(try Corruptions.apply(img, .gaussianNoise, severity: 2, replay: [0]))
    }

    /// The tabulated Poisson inversion gives exactly the sequential search's values, on the
    /// same stream (few distinct rates, more than the table cap, zero and huge rates).
    func testPoissonTablesMatchSequentialSearch() throws {
        let few = (0..<20_000).map { Double($0 % 256) / 255 * 60 }
        let many = (0..<6_000).map { Double($0) * 0.01 + 0.003 }
        let odd: [Double] = [0, 1e-300, 999.5, 1500, 3, -1]
        for lambdas in [few, many, few + many + odd] {
            let fast = CounterRandom(seed: 5, key: 6, corruption: .shotNoise, severity: 1)
            let slow = CounterRandom(seed: 5, key: 6, corruption: .shotNoise, severity: 1)
            let got = try fast.poisson(lambdas)
            // poisson draws one bulk uniform per rate, then one bulk group per normal for λ > 1000.
            let units = try slow.uniform(lambdas.count, low: 0, high: 1)
            var want: [Double] = []
            for (lam, u) in zip(lambdas, units) {
                guard lam > 0, lam.isFinite else { want.append(0); continue }
                if lam > 1000 { want.append(max(0, (lam + lam.squareRoot() * slow.standardNormal() + 0.5).rounded(.down))); continue }
                var k = 0.0, p = exp(-lam), s = p
                while u > s && k < lam * 10 + 50 { k += 1; p *= lam / k; s += p }
                want.append(k)
            }
            XCTAssertEqual(got, want)
        }
    }
}
