import Foundation
import XCTest
@testable import StalwartImageIO
import StalwartTensor

/// Pixel-exactness against Pillow 13 (`Image.open(f).convert(mode)`), through the SHA-256
/// references of Fixtures/reference.json (made by gen_reference.py; no Python needed here).
///
/// Known, bounded exception: 16-bit RGBA PNGs. libpng's simplified API only returns their
/// samples rounded to 8 bits or premultiplied; PNGDecoder combines both, which pins Pillow's
/// high byte for most samples, and is off by at most 1 for the rest (asserted below; the
/// reference stores Pillow's RGBA bytes for these files).
final class PillowReferenceTests: XCTestCase {
    struct Reference {
        let key: String
        let entry: [String: Any]
    }

    static func references() throws -> [Reference] {
        let url = Paths.fixtures.appendingPathComponent("reference.json")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let files = try XCTUnwrap(doc?["files"] as? [String: [String: Any]])
        return files.keys.sorted().map { Reference(key: $0, entry: files[$0]!) }
    }

    static let modes: [(String, ColorMode)] = [("RGB", .rgb), ("RGBA", .rgba), ("L", .gray)]

    /// Pillow's bytes for `mode`, derived from the stored RGBA bytes (RGB drops alpha; L is
    /// Pillow's rgb2l of the colour, which is what it does for RGBA sources).
    static func pillowPixels(fromRGBA rgba: [UInt8], mode: ColorMode) -> [UInt8] {
        let n = rgba.count / 4
        switch mode {
        case .rgba: return rgba
        case .rgb:
            var out: [UInt8] = []
            for i in 0..<n { out += [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]] }
            return out
        case .gray:
            var out: [UInt8] = []
            for i in 0..<n { out.append(NativeImage.luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2])) }
            return out
        }
    }

    func testEveryFileMatchesPillow() throws {
        let refs = try Self.references()
        let sharedPresent = Paths.shared != nil
        var checked = 0, exact = 0, rejected = 0
        var bounded: [String] = []
        for ref in refs {
            guard let url = Paths.resolve(ref.key) else { continue }  // shared absent
            let bytes = try readBytes(url)
            if ref.entry["reject"] as? Bool == true {
                for (_, mode) in Self.modes {
                    XCTAssertThrowsError(try decode(bytes, mode: mode), "\(ref.key) must be rejected") { error in
                        let msg = (error as? StalwartError)?.message ?? ""
                        XCTAssertTrue(msg.contains("PNG") || msg.contains("png"), "\(ref.key): unclear message '\(msg)'")
                    }
                }
                rejected += 1
                continue
            }
            let size = try XCTUnwrap(ref.entry["size"] as? [Int], ref.key)
            let pillowRGBA = (ref.entry["RGBA_b64"] as? String).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
            for (name, mode) in Self.modes {
                let im: Image
                do { im = try decode(bytes, mode: mode) } catch {
                    XCTFail("\(ref.key) \(name): \(error)"); continue
                }
                XCTAssertEqual([im.width, im.height], size, "\(ref.key) \(name) size")
                checked += 1
                if SHA256.hex(im.pixels) == ref.entry[name] as? String { exact += 1; continue }
                guard let rgba = pillowRGBA else {
                    XCTFail("\(ref.key) \(name): pixels differ from Pillow's"); continue
                }
                let want = Self.pillowPixels(fromRGBA: rgba, mode: mode)
                XCTAssertEqual(want.count, im.pixels.count, ref.key)
                // 16-bit RGBA through the simplified API: within 1 of Pillow's high byte, except
                // in interlaced files the colour of pixels whose alpha is below 256/65535 (see
                // PNGDecoder.readRGBA16), which is unconstrained.
                let interlaced = ref.key.contains("interlaced") || ref.key.contains("/basi")
                let c = mode.channels
                var maxDelta = 0, differing = 0, transparentDiffering = 0
                for i in 0..<(want.count / c) {
                    for k in 0..<c where want[c * i + k] != im.pixels[c * i + k] {
                        differing += 1
                        if interlaced && rgba[4 * i + 3] == 0 && (mode != .rgba || k < 3) { transparentDiffering += 1; continue }
                        maxDelta = max(maxDelta, abs(Int(want[c * i + k]) - Int(im.pixels[c * i + k])))
                    }
                }
                XCTAssertLessThanOrEqual(maxDelta, 1, "\(ref.key) \(name)")
                bounded.append("\(ref.key) \(name): \(differing)/\(want.count) samples differ; max |Δ| \(maxDelta)\(interlaced ? " where alpha ≥ 1/255; \(transparentDiffering) colour samples of pixels with alpha < 1/255 unconstrained" : "")")
            }
            // EXIF orientation applied like ImageOps.exif_transpose.
            let t = try decode(bytes, mode: .rgb, exif: true)
            XCTAssertEqual([t.width, t.height], ref.entry["size_exif"] as? [Int], "\(ref.key) exif size")
            if pillowRGBA == nil {
                XCTAssertEqual(SHA256.hex(t.pixels), ref.entry["RGB_exif"] as? String, "\(ref.key) exif_transpose")
            }
        }
        XCTAssertGreaterThan(checked, sharedPresent ? 500 : 90)
        print("Pillow references: \(exact)/\(checked) decodes exact, \(rejected) files rejected as required")
        for b in bounded { print("  bounded: \(b)") }
    }
}
