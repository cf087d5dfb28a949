import XCTest
import StalwartTensor
@testable import StalwartShift

/// Determinism and invariants of snow, frost, fog, spatter and elastic_transform. Pixel parity
/// with imagecorruptions is tested in Tests/python/test_corruptions_weather.py.
final class WeatherTests: XCTestCase {
    static let names: [Corruption] = [.snow, .frost, .fog, .spatter, .elasticTransform]

    func gradient(_ w: Int, _ h: Int) throws -> Image {
        var img = try Image(width: w, height: h, channels: 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { img.pixels[(y * w + x) * 3 + c] = UInt8((x * 7 + y * 3 + c * 50) & 255) } } }
        return img
    }

    func testDeterministicAndKeyed() throws {
        let img = try gradient(64, 48)
        for c in Self.names {
            let a = try Corruptions.apply(img, c, severity: 3, seed: 1, key: 2)
            XCTAssertEqual(a, try Corruptions.apply(img, c, severity: 3, seed: 1, key: 2), c.rawValue)
            XCTAssertNotEqual(a, try Corruptions.apply(img, c, severity: 3, seed: 2, key: 2), c.rawValue)
            XCTAssertNotEqual(a, try Corruptions.apply(img, c, severity: 3, seed: 1, key: 3), c.rawValue)
        }
    }

    func testShapeAnySizeAllSeverities() throws {
        for (w, h) in [(32, 32), (97, 33), (41, 130)] {
            let img = try gradient(w, h)
            for c in Self.names {
                for s in 1...5 {
                    let out = try Corruptions.apply(img, c, severity: s, seed: 7)
                    XCTAssertEqual([out.width, out.height, out.channels], [w, h, 3], "\(c.rawValue) s\(s)")
                }
            }
        }
    }

    func testGrayInputIsStacked() throws {
        let rgb = try gradient(40, 40)
        let gray = try Image(width: 40, height: 40, channels: 1, pixels: stride(from: 0, to: rgb.pixels.count, by: 3).map { rgb.pixels[$0] })
        let stacked = try gray.converted(channels: 3)
        for c in Self.names {
            XCTAssertEqual(try Corruptions.apply(gray, c, severity: 2, seed: 3), try Corruptions.apply(stacked, c, severity: 2, seed: 3))
        }
    }

    func testReplayCountsMustLineUp() throws {
        let img = try gradient(32, 32)
        // fog at 32×32 draws 3·(1 + 4 + … + 256) = 1023 uniforms; one more is refused.
        XCTAssertNoThrow(try Corruptions.apply(img, .fog, severity: 1, replay: [Double](repeating: 0.5, count: 1023)))
        XCTAssertThrowsError(try Corruptions.apply(img, .fog, severity: 1, replay: [Double](repeating: 0.5, count: 1024)))
        XCTAssertThrowsError(try Corruptions.apply(img, .fog, severity: 1, replay: [Double](repeating: 0.5, count: 1022)))
    }

    func testFrostTexturesDecode() throws {
        let sizes = try (0..<5).map { i -> [Int] in let t = try FrostTextures.texture(i); return [t.width, t.height, t.channels] }
        XCTAssertEqual(sizes, [[900, 600, 3], [560, 315, 3], [560, 315, 3], [527, 350, 3], [660, 495, 3]])
    }

    /// make_imagenet_c.py's elastic transform (pixel parity with OpenCV/SciPy is in
    /// Tests/python/test_corruptions_hendrycks.py): draws 6 + 2·h·w uniforms, differs from the
    /// imagecorruptions variant, and is a pure function of the seed.
    func testHendrycksElasticDrawsAndDeterminism() throws {
        let img = try gradient(40, 36)
        let a = try Corruptions.apply(img, .elasticTransform, severity: 3, seed: 1, mode: .hendrycks)
        XCTAssertEqual(a.pixels, try Corruptions.apply(img, .elasticTransform, severity: 3, seed: 1, mode: .hendrycks).pixels)
        XCTAssertNotEqual(a.pixels, try Corruptions.apply(img, .elasticTransform, severity: 3, seed: 1).pixels)
        XCTAssertNoThrow(try Corruptions.apply(img, .elasticTransform, severity: 3, mode: .hendrycks, replay: [Double](repeating: 0, count: 6 + 2 * 40 * 36)))
        XCTAssertThrowsError(try Corruptions.apply(img, .elasticTransform, severity: 3, mode: .hendrycks, replay: [Double](repeating: 0, count: 6 + 2 * 40 * 36 - 1)))
    }
}
