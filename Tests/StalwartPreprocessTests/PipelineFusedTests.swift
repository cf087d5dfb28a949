import StalwartPreprocess
import StalwartTensor
import XCTest

/// `Pipeline.write`'s fused path (only the centre-cropped rectangle is resampled, normalized
/// straight from 8-bit pixels) against the step-by-step reference: full Pillow resize, centre
/// crop, `FloatImage`, normalization (`Pipeline.transform` + `Normalization.write`). Both are
/// the same integer resampling and the same float expression per value, so they are compared
/// bit for bit.
final class PipelineFusedTests: XCTestCase {
    typealias F = ResizeFixtures

    func reference(_ p: Pipeline, _ img: Image) throws -> [Float] {
        let t = try p.transform(img)
        var out = [Float](repeating: .nan, count: t.pixels.count)
        out.withUnsafeMutableBufferPointer { p.normalization.write(t, layout: p.layout, into: $0.baseAddress!) }
        return out
    }

    func fused(_ p: Pipeline, _ img: Image) throws -> [Float] {
        let (w, h) = try p.outputSize(width: img.width, height: img.height)
        var out = [Float](repeating: .nan, count: w * h * p.channels)
        let n = out.count
        try out.withUnsafeMutableBufferPointer { o in
            _ = try p.write(img, into: o.baseAddress!, capacity: n)
        }
        // The borrowed-pixel entry point (the C API's) gives the same values.
        var out2 = [Float](repeating: .nan, count: n)
        try img.pixels.withUnsafeBufferPointer { px in
            try out2.withUnsafeMutableBufferPointer { o in
                _ = try p.write(pixels: px, width: img.width, height: img.height, channels: img.channels,
                                into: o.baseAddress!, capacity: n)
            }
        }
        XCTAssertTrue(zip(out, out2).allSatisfy { $0.0.bitPattern == $0.1.bitPattern }, "write(pixels:) differs from write(_:)")
        return out
    }

    func testFusedMatchesStepwise() throws {
        var rng = F.SplitMix64(23)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let filters: [ResizeFilter] = [.bilinear, .bicubic, .lanczos, .box, .hamming, .nearest]
        var fusable = 0
        for i in 0..<160 {
            let c = [1, 3, 3, 4][r(4)]
            // Wide, tall (vertical-first order) and near-square sources, down- and upscaled.
            let w = 2 + r(i % 3 == 0 ? 200 : 60), h = 2 + r(i % 3 == 1 ? 200 : 60)
            let img = try Image(width: w, height: h, channels: c, pixels: (0..<(w * h * c)).map { _ in UInt8(rng.next() >> 56) })
            let resize: Pipeline.ResizeStrategy = r(3) == 0
                ? .squash(width: 1 + r(70), height: 1 + r(70)) : .shorterSide(1 + r(70))
            // Mostly crops inside the resized image (the fused case), some larger (padding).
            let cw = 1 + r(r(4) == 0 ? 80 : 40), ch = r(2) == 0 ? cw : 1 + r(40)
            var p = Pipeline(resize: resize, filter: filters[r(filters.count)], crop: (cw, ch),
                             normalization: [Normalization.imagenet, .edge, .signed][r(3)],
                             layout: r(2) == 0 ? .nchw : .nhwc)
            if c == 1 { p.normalization = try Normalization(scale: 1 / 255, mean: [0.5], std: [0.25]) }
            let ref: [Float], got: [Float]
            do { ref = try reference(p, img) } catch {
                XCTAssertThrowsError(try fused(p, img), "case \(i): reference threw \(error)")
                continue
            }
            got = try fused(p, img)
            let (rw, rh) = try { () throws -> (Int, Int) in
                switch p.resize {
                case .squash(let a, let b): return (a, b)
                case .shorterSide(let s): return try Geometry.shorterSideSize(width: w, height: h, to: s)
                default: return (0, 0)
                }
            }()
            if c != 4, p.filter != .nearest, rw != w, rh != h, cw <= rw, ch <= rh { fusable += 1 }
            let bad = got.indices.first { $0 < ref.count && got[$0].bitPattern != ref[$0].bitPattern }
            XCTAssertEqual(got.count, ref.count, "case \(i)")
            XCTAssertNil(bad, "case \(i): \(w)×\(h)×\(c) \(p.resize) \(p.filter) crop \(cw)×\(ch): first difference at \(bad ?? -1)")
        }
        XCTAssertGreaterThan(fusable, 40, "too few cases exercise the fused path")
    }

    func testFusedChecksCapacity() throws {
        let p = Pipeline(resize: .shorterSide(32), filter: .bilinear, crop: (28, 28), normalization: .imagenet)
        let img = try Image(width: 64, height: 48, channels: 3)
        var out = [Float](repeating: 0, count: 28 * 28 * 3 - 1)
        let n = out.count
        XCTAssertThrowsError(try out.withUnsafeMutableBufferPointer { _ = try p.write(img, into: $0.baseAddress!, capacity: n) }) { e in
            guard case StalwartError.bufferTooSmall = e else { return XCTFail("\(e)") }
        }
    }
}
