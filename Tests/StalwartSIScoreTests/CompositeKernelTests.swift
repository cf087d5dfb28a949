import XCTest
import StalwartTensor
@testable import StalwartPreprocess
@testable import StalwartSIScore

/// The compositing row kernels (`CompositeRowKernels`, scripts/isa_templates/siscore_rows.swift)
/// of every instruction set this CPU runs (AVX-512, AVX2, portable) against plain scalar
/// references written from Pillow's C: `rgbA2rgba` / `rgba2rgbA` (exhaustive over value × alpha),
/// the bicubic affine transform (`PillowOps.bicubicAffine`, the scalar loop the kernel replaced,
/// on premultiplied pixels), the paste blend and the 8-bit horizontal resampling pass. All
/// integer or identically ordered IEEE arithmetic, so every comparison is exact (tolerance 0).
final class CompositeKernelTests: XCTestCase {
    private var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
    private func next() -> UInt64 {
        rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return rng >> 33
    }

    private func premulRef(_ p: UInt32) -> UInt32 {
        let a = p >> 24
        var r = p & 0xFF00_0000
        for k: UInt32 in [0, 8, 16] {
            let t = ((p >> k) & 255) * a + 128
            r |= (((t >> 8) + t) >> 8) << k
        }
        return r
    }

    private func unpremulRef(_ p: UInt32) -> UInt32 {
        let a = p >> 24
        if a == 0 || a == 255 { return p }
        var r = p & 0xFF00_0000
        for k: UInt32 in [0, 8, 16] { r |= min(255, (((p >> k) & 255) * 255) / a) << k }
        return r
    }

    func testPremultiplyAndUnpremultiplyExhaustive() {
        // Every (value, alpha) pair in each colour channel; 65536 pixels (not a multiple of 16
        // after the offset below, so the scalar tail runs too).
        var px = [UInt32](repeating: 0, count: 65536 + 7)
        for a in 0..<256 {
            for v in 0..<256 {
                px[a * 256 + v] = UInt32(a) << 24 | UInt32(v) | UInt32(255 - v) << 8 | UInt32((v * 7) & 255) << 16
            }
        }
        for i in 65536..<px.count { px[i] = UInt32(truncatingIfNeeded: next()) }
        for k in CompositeRowKernels.supported {
            var out = [UInt32](repeating: 0, count: px.count)
            px.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { d in
                    guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                    k.premultiply(dp.assumingMemoryBound(to: UInt8.self), sp.assumingMemoryBound(to: UInt8.self), px.count)
                }
            }
            XCTAssertEqual(out, px.map(premulRef), "premultiply \(k.isa)")
            px.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { d in
                    guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                    k.unpremultiply(dp.assumingMemoryBound(to: UInt8.self), sp.assumingMemoryBound(to: UInt8.self), px.count)
                }
            }
            XCTAssertEqual(out, px.map(unpremulRef), "unpremultiply \(k.isa)")
        }
    }

    /// A random RGBA object: alpha 0 (a third), 255 (a third) or any, colour any.
    private func object(_ w: Int, _ h: Int) throws -> Image {
        var px = [UInt8](repeating: 0, count: w * h * 4)
        for i in 0..<(w * h) {
            let r = next() % 3
            let a: UInt8 = r == 0 ? 0 : (r == 1 ? 255 : UInt8(next() % 256))
            for c in 0..<3 { px[i * 4 + c] = UInt8(next() % 256) }
            px[i * 4 + 3] = a
        }
        return try Image(width: w, height: h, channels: 4, pixels: px)
    }

    /// Pillow's rotation through the scalar reference: premultiply, `bicubicAffine`, unpremultiply.
    private func rotateReference(_ img: Image, _ degrees: Double) throws -> Image {
        let r = PillowRotation(width: img.width, height: img.height, degrees: degrees)
        var src = img.pixels
        for i in stride(from: 0, to: src.count, by: 4) {
            let p = premulRef(UInt32(src[i]) | UInt32(src[i + 1]) << 8 | UInt32(src[i + 2]) << 16 | UInt32(src[i + 3]) << 24)
            for c in 0..<4 { src[i + c] = UInt8(truncatingIfNeeded: p >> (8 * UInt32(c))) }
        }
        var out = try Image(width: r.width, height: r.height, channels: 4)
        src.withUnsafeBufferPointer { s in
            out.pixels.withUnsafeMutableBufferPointer { d in
                guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                PillowOps.bicubicAffine(sp, width: img.width, height: img.height, channels: 4, into: dp,
                                        outWidth: r.width, outHeight: r.height, matrix: r.matrix)
            }
        }
        for i in stride(from: 0, to: out.pixels.count, by: 4) {
            let p = UInt32(out.pixels[i]) | UInt32(out.pixels[i + 1]) << 8 | UInt32(out.pixels[i + 2]) << 16
                | UInt32(out.pixels[i + 3]) << 24
            let u = unpremulRef(p)
            for c in 0..<4 { out.pixels[i + c] = UInt8(truncatingIfNeeded: u >> (8 * UInt32(c))) }
        }
        return out
    }

    func testBicubicRotationMatchesScalarReference() throws {
        let pool = ThreadPool(threads: 2)
        let sizes = [(1, 1), (1, 7), (7, 1), (2, 3), (5, 5), (17, 9), (33, 64), (90, 41)]
        let angles = [0.5, 1e-3, 30, 45, 89.999, 135, 200, 271, 315.25, -17]
        for (w, h) in sizes {
            let img = try object(w, h)
            for angle in angles {
                let r = PillowRotation(width: w, height: h, degrees: angle)
                guard r.kind == .affine else { continue }
                let want = try rotateReference(img, angle)
                for k in CompositeRowKernels.supported {
                    for p in [nil, pool] {
                        let got = try PillowOps.bicubicAffineRGBA(img, outWidth: r.width, outHeight: r.height,
                                                                  matrix: r.matrix, kernels: k, pool: p)
                        XCTAssertEqual(got.pixels, want.pixels, "\(w)×\(h) at \(angle)° \(k.isa) pool \(p != nil)")
                    }
                }
            }
        }
    }

    func testPasteRowMatchesBlend() throws {
        for n in [1, 15, 16, 17, 40, 123] {
            var fg = [UInt8](repeating: 0, count: n * 4)
            for i in 0..<n {
                let r = next() % 4
                // Runs of transparent pixels exercise the 16-pixel skip.
                let a: UInt8 = i < 20 || r == 0 ? 0 : (r == 1 ? 255 : UInt8(next() % 256))
                for c in 0..<3 { fg[i * 4 + c] = UInt8(next() % 256) }
                fg[i * 4 + 3] = a
            }
            let bg = (0..<(n * 3)).map { _ in UInt8(next() % 256) }
            var want = bg
            for i in 0..<n {
                let a = UInt32(fg[i * 4 + 3])
                for c in 0..<3 {
                    let t = UInt32(bg[i * 3 + c]) * (255 - a) + UInt32(fg[i * 4 + c]) * a + 128
                    want[i * 3 + c] = UInt8(((t >> 8) + t) >> 8)
                }
            }
            for k in CompositeRowKernels.supported {
                var got = bg
                got.withUnsafeMutableBufferPointer { b in
                    fg.withUnsafeBufferPointer { f in
                        guard let bp = b.baseAddress, let fp = f.baseAddress else { return }
                        k.pasteRow(bp, fp, n)
                    }
                }
                XCTAssertEqual(got, want, "paste \(n) \(k.isa)")
            }
        }
    }

    func testHorizontalRGBAMatchesReferencePass() throws {
        for (w, outW) in [(1, 1), (3, 7), (16, 5), (97, 13), (300, 31), (40, 40 * 3 + 1), (1555, 260)] {
            let rows = 3
            let src = (0..<(w * rows * 4)).map { _ in UInt8(next() % 256) }
            let axis = ResampleAxis(inSize: w, in0: 0, in1: Float(w), outSize: outW, filter: .bilinear, antialias: true)
            var want = [UInt8](repeating: 0, count: outW * rows * 4)
            src.withUnsafeBufferPointer { s in
                want.withUnsafeMutableBufferPointer { d in
                    guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                    ResampleKernels.horizontal8Reference(src: sp, srcStride: w * 4, channels: 4, rowStart: 0, rows: rows,
                                                         columnOffset: 0, axis: axis, dst: dp)
                }
            }
            let (quads, weights) = axis.quadWeights()
            for k in CompositeRowKernels.supported {
                var got = [UInt8](repeating: 0, count: want.count)
                src.withUnsafeBufferPointer { s in
                    got.withUnsafeMutableBufferPointer { d in
                        guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                        // The buffer ends right after the last row: its last outputs take the
                        // pixel-by-pixel path.
                        k.horizontalRGBA(sp, w * 4, sp + src.count, 0, rows, 0, outW, quads, axis.first, axis.count,
                                         weights, dp)
                    }
                }
                XCTAssertEqual(got, want, "horizontal \(w)→\(outW) \(k.isa)")
            }
        }
    }

    func testRGBAResizeWithAndWithoutPool() throws {
        let img = try object(123, 77)
        let pool = ThreadPool(threads: 2)
        for (ow, oh) in [(40, 30), (123, 20), (200, 160), (61, 77), (7, 300)] {
            let a = try Resize.resize(img, width: ow, height: oh, filter: .bilinear)
            let b = try Resize.resize(img, width: ow, height: oh, filter: .bilinear, pool: pool)
            // The premultiplied-copy path (what the row-by-row premultiplication replaces).
            let pre = AlphaPremultiplication.premultipliedReference(img.pixels)
            var c = Resize.resample8(pre, width: img.width, height: img.height, channels: 4, to: ow, oh, filter: .bilinear,
                                     box: Resize.FloatBox(x0: 0, y0: 0, x1: Float(img.width), y1: Float(img.height)))
            AlphaPremultiplication.unpremultiplyReference(&c)
            XCTAssertEqual(a.pixels, b.pixels, "\(ow)×\(oh) pool")
            XCTAssertEqual(a.pixels, c, "\(ow)×\(oh) reference order")
        }
    }

    func testCompositeParallelMatchesSerial() throws {
        let fg = try object(150, 110)
        let bg = try Image(width: 128, height: 128, channels: 3,
                           pixels: (0..<(128 * 128 * 3)).map { _ in UInt8(next() % 256) })
        for (area, angle) in [(0.3, 33.0), (0.8, 271.5), (0.05, 90.0), (1.0, 0.0), (0.5, 180.0)] {
            let a = try SIScoreCompositor.composite(foreground: fg, background: bg, area: area, x: 0.4, y: 0.6, angle: angle)
            let b = try SIScoreCompositor.composite(foreground: fg, background: bg, area: area, x: 0.4, y: 0.6, angle: angle,
                                                    parallel: false)
            XCTAssertEqual(a.image.pixels, b.image.pixels, "area \(area) angle \(angle)")
        }
    }
}
