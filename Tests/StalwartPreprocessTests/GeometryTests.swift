import Foundation
import StalwartPreprocess
import StalwartTensor
import XCTest

/// `Geometry` against torchvision (`Fixtures/torch_cases.json`: `_compute_resized_output_size`,
/// `Resize` and `CenterCrop` on PIL images, whole `Resize + CenterCrop` eval pipelines) and timm's
/// `crop_pct` arithmetic (`Fixtures/resize_cases.json`), plus hand-checked crops, borders and
/// padding. Everything here is integer arithmetic or byte copies: compared exactly.
final class GeometryTests: XCTestCase {
    typealias F = ResizeFixtures

    func image(_ spec: F.SourceSpec, _ all: [String: F.SourceSpec]) throws -> Image {
        guard case .u8(let px) = try F.source(spec, in: all) else { throw StalwartError.invalidArgument("8-bit source expected") }
        return try Image(width: spec.w, height: spec.h, channels: spec.c, pixels: px)
    }

    func testShorterSideSizeMatchesTorchvision() throws {
        let fx = try F.torch.get()
        XCTAssertGreaterThan(fx.resizeSizes.count, 100)
        for c in fx.resizeSizes {
            let got = try Geometry.shorterSideSize(width: c.w, height: c.h, to: c.size, maxSize: c.maxSize)
            XCTAssertEqual(got.width, c.outW, "\(c)")
            XCTAssertEqual(got.height, c.outH, "\(c)")
        }
    }

    func testCenterCropMatchesTorchvision() throws {
        let fx = try F.torch.get()
        for c in fx.centerCrops {
            guard let spec = fx.sources[c.src] else { XCTFail("no source \(c.src)"); continue }
            let img = try image(spec, fx.sources)
            let out = try Geometry.centerCrop(img, width: c.w, height: c.h)
            XCTAssertEqual(out.width, c.w); XCTAssertEqual(out.height, c.h)
            XCTAssertEqual(out.pixels, F.base64(c.data), "\(c.src) → \(c.w)×\(c.h)")
            // The float variant crops and pads the same way.
            let fout = try Geometry.centerCrop(FloatImage(img), width: c.w, height: c.h)
            XCTAssertEqual(fout, FloatImage(out))
        }
    }

    /// torchvision `Compose([Resize(short, interpolation), CenterCrop(crop)])` on PIL images.
    func testEvalPipelinesMatchTorchvision() throws {
        let fx = try F.torch.get()
        for p in fx.pipelines {
            guard let spec = fx.sources[p.src], let f = ResizeFilter(rawValue: p.filter) else { XCTFail("\(p.src)"); continue }
            let img = try image(spec, fx.sources)
            let size = try Geometry.shorterSideSize(width: img.width, height: img.height, to: p.short)
            let resized = try Resize.resize(img, width: size.width, height: size.height, filter: f)
            let out = try Geometry.centerCrop(resized, width: p.crop, height: p.crop)
            let rows = F.sampledRows(out.pixels, rowLength: p.crop * 3, stride: p.stride)
            XCTAssertEqual(rows, F.base64(p.rows), "\(p.src) \(p.filter) \(p.short)/\(p.crop)")
            XCTAssertEqual(F.fnv1a64(out.pixels), p.hash, "\(p.src) \(p.filter) \(p.short)/\(p.crop)")
        }
    }

    func testCropPctMatchesTimm() throws {
        let fx = try F.pillow.get()
        XCTAssertFalse(fx.cropPct.isEmpty)
        for c in fx.cropPct {
            XCTAssertEqual(Geometry.cropPctResizeSize(size: c.size, cropPct: c.cropPct), c.scaleSize, "\(c)")
        }
        XCTAssertEqual(Geometry.cropPctResizeSize(size: 224, cropPct: 0.875), 256)
        // Never traps: nonsense crop_pct falls back to timm's default, results are clamped.
        for p in [0, -1, .nan, .infinity] as [Double] {
            XCTAssertEqual(Geometry.cropPctResizeSize(size: 224, cropPct: p), 256)
        }
        XCTAssertEqual(Geometry.cropPctResizeSize(size: 224, cropPct: 1e-300), Resize.maxSide)
        XCTAssertEqual(Geometry.cropPctResizeSize(size: Int.min, cropPct: 0.9), 1)
    }

    /// Python's `round` is half-to-even: torchvision's crop offsets follow it.
    func testCenterCropOffsetsRoundHalfToEven() throws {
        func origin(_ w: Int, _ h: Int, _ cw: Int, _ ch: Int) throws -> (Int, Int) {
            let p = try Geometry.centerCropPlan(width: w, height: h, cropWidth: cw, cropHeight: ch)
            return (p.left, p.top)
        }
        XCTAssertTrue(try origin(451, 300, 224, 224) == (114, 38))   // 113.5 → 114
        XCTAssertTrue(try origin(7, 9, 2, 2) == (2, 4))             // 2.5 → 2, 3.5 → 4
        XCTAssertTrue(try origin(385, 256, 224, 224) == (80, 16))   // 80.5 → 80
        XCTAssertTrue(try origin(10, 10, 10, 10) == (0, 0))
        let p = try Geometry.centerCropPlan(width: 3, height: 10, cropWidth: 6, cropHeight: 5)
        XCTAssertEqual(p, Geometry.CenterCropPlan(padLeft: 1, padTop: 0, padRight: 2, padBottom: 0, left: 0, top: 2))
    }

    func testCropBorderCropAndPad() throws {
        // 4×3 RGB with pixel value 10·y + x in every channel.
        var px = [UInt8]()
        for y in 0..<3 { for x in 0..<4 { px += [UInt8(10 * y + x), UInt8(10 * y + x), UInt8(10 * y + x)] } }
        let img = try Image(width: 4, height: 3, channels: 3, pixels: px)
        let c = try Geometry.crop(img, x: 1, y: 1, width: 2, height: 2)
        XCTAssertEqual(c.pixels, [11, 11, 11, 12, 12, 12, 21, 21, 21, 22, 22, 22])
        XCTAssertEqual(try Geometry.crop(img, x: 0, y: 0, width: 4, height: 3), img)
        XCTAssertEqual(try Geometry.borderCrop(img, pixels: 1).pixels, [11, 11, 11, 12, 12, 12])
        XCTAssertEqual(try Geometry.borderCrop(img, pixels: 0), img)
        let padded = try Geometry.pad(c, top: 1, left: 0, bottom: 0, right: 1, value: 7)
        XCTAssertEqual(padded.width, 3); XCTAssertEqual(padded.height, 3)
        XCTAssertEqual(padded.pixels, [7, 7, 7, 7, 7, 7, 7, 7, 7,
                                       11, 11, 11, 12, 12, 12, 7, 7, 7,
                                       21, 21, 21, 22, 22, 22, 7, 7, 7])
        // Float variants agree with the 8-bit ones.
        let f = FloatImage(img)
        XCTAssertEqual(try Geometry.crop(f, x: 1, y: 1, width: 2, height: 2), FloatImage(c))
        XCTAssertEqual(try Geometry.borderCrop(f, pixels: 1), FloatImage(try Geometry.borderCrop(img, pixels: 1)))
        XCTAssertEqual(try Geometry.pad(FloatImage(c), top: 1, left: 0, bottom: 0, right: 1, value: 7), FloatImage(padded))
    }

    func testRejectsBadArguments() throws {
        let img = try Image(width: 4, height: 3, channels: 1)
        func rejects(_ what: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), what) { e in
                guard case StalwartError.invalidArgument = e else { return XCTFail("\(what): \(e)") }
            }
        }
        for (x, y, w, h) in [(-1, 0, 2, 2), (0, -1, 2, 2), (3, 0, 2, 2), (0, 2, 2, 2), (0, 0, 0, 1), (0, 0, 1, 0),
                             (0, 0, 5, 1), (Int.max, 0, 1, 1), (1, 0, Int.max, 1), (0, 1, 1, Int.max), (Int.min, Int.min, 1, 1)] {
            rejects("crop \(x),\(y) \(w)×\(h)") { _ = try Geometry.crop(img, x: x, y: y, width: w, height: h) }
            rejects("float crop \(x),\(y) \(w)×\(h)") { _ = try Geometry.crop(FloatImage(img), x: x, y: y, width: w, height: h) }
        }
        for p in [-1, 2, 3, Int.max, Int.min] {
            rejects("borderCrop \(p)") { _ = try Geometry.borderCrop(img, pixels: p) }
        }
        for (t, l, b, r) in [(-1, 0, 0, 0), (0, 0, 0, -1), (Int.max, 0, 0, 0), (0, 65535, 0, 1), (0, 0, Int.max, Int.max)] {
            rejects("pad \(t) \(l) \(b) \(r)") { _ = try Geometry.pad(img, top: t, left: l, bottom: b, right: r) }
        }
        for (w, h) in [(0, 1), (1, 0), (-5, 3), (65536, 1), (Int.max, Int.max)] {
            rejects("centerCrop \(w)×\(h)") { _ = try Geometry.centerCrop(img, width: w, height: h) }
        }
        for (w, h, s, m) in [(0, 5, 3, nil), (5, 5, 0, nil), (5, 5, 65536, nil), (5, 5, 10, 10), (5, 5, 10, 9),
                             (65536, 5, 3, nil), (1, 65535, 2, nil), (Int.max, 1, 1, nil)] as [(Int, Int, Int, Int?)] {
            rejects("shorterSideSize \(w)×\(h) → \(s) max \(String(describing: m))") {
                _ = try Geometry.shorterSideSize(width: w, height: h, to: s, maxSize: m)
            }
        }
    }
}
