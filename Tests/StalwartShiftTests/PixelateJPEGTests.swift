import XCTest
import StalwartImageIO
import StalwartPreprocess
import StalwartTensor
@testable import StalwartShift

/// The row-parallel `pixelate` and strip-wise `jpeg_compression` give exactly the bytes of the
/// plain whole-image paths (Pillow-exact `Resize`, `ImageCodec.encodeJPEG` + `decode`), on
/// random and smooth images of awkward sizes, every severity and both modes.
final class PixelateJPEGTests: XCTestCase {
    static let sizes = [(32, 32), (33, 97), (224, 224), (130, 41), (300, 451)]

    /// Noise (`smooth` false) or a noisy gradient, deterministic per seed.
    func image(_ w: Int, _ h: Int, seed: UInt64, smooth: Bool) throws -> Image {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    s ^= s << 13; s ^= s >> 7; s ^= s << 17
                    let r = Int(s >> 56)
                    px[(y * w + x) * 3 + c] = smooth ? UInt8(truncatingIfNeeded: (x * 3 + y * 2 + c * 60 + r / 16) & 255)
                                                     : UInt8(truncatingIfNeeded: r)
                }
            }
        }
        return try Image(width: w, height: h, channels: 3, pixels: px)
    }

    func plainPixelate(_ x: Image, _ severity: Int, _ mode: CorruptionMode) throws -> Image {
        let c = [0.6, 0.5, 0.4, 0.3, 0.25][severity - 1]
        let w = max(1, Int(Double(x.width) * c)), h = max(1, Int(Double(x.height) * c))
        let small = try Resize.resize(x, width: w, height: h, filter: .box)
        return try Resize.resize(small, width: x.width, height: x.height, filter: mode == .hendrycks ? .box : .nearest)
    }

    func plainJPEG(_ x: Image, _ severity: Int) throws -> Image {
        let q = [25, 18, 15, 10, 7][severity - 1]
        let bytes = try ImageCodec.encodeJPEG(x, quality: q, subsampling: .s420)
        return try bytes.withUnsafeBytes { try ImageCodec.decode($0) }
    }

    func testPixelateMatchesPlainPath() throws {
        for (i, (w, h)) in Self.sizes.enumerated() {
            for smooth in [false, true] {
                let img = try image(w, h, seed: UInt64(i + 1), smooth: smooth)
                for severity in 1...5 {
                    for mode in CorruptionMode.allCases {
                        let fast = try Corruptions.apply(img, .pixelate, severity: severity, mode: mode)
                        XCTAssertEqual(fast, try plainPixelate(img, severity, mode), "\(w)×\(h) s\(severity) \(mode)")
                    }
                }
            }
        }
    }

    func testJPEGMatchesPlainPath() throws {
        for (i, (w, h)) in Self.sizes.enumerated() {
            for smooth in [false, true] {
                let img = try image(w, h, seed: UInt64(i + 11), smooth: smooth)
                for severity in 1...5 {
                    let fast = try Corruptions.apply(img, .jpegCompression, severity: severity)
                    XCTAssertEqual(fast, try plainJPEG(img, severity), "\(w)×\(h) s\(severity)")
                }
            }
        }
    }

    /// Every strip split of many heights (including ones that are not multiples of 16) and odd
    /// widths, checked directly on `jpegRoundTripRows`.
    func testJPEGStripsAnySplit() throws {
        for (w, h) in [(33, 64), (17, 79), (64, 95), (45, 128), (31, 143), (50, 161)] {
            let img = try image(w, h, seed: UInt64(w * h), smooth: true)
            let whole = try plainJPEG(img, 3)
            let a = ImageCodec.jpegStripAlignment
            for cut in stride(from: a, to: h, by: a) {
                var px = [UInt8](repeating: 0, count: w * h * 3)
                try px.withUnsafeMutableBufferPointer { b in
                    guard let p = b.baseAddress else { return }
                    try ImageCodec.jpegRoundTripRows(img, quality: 15, rows: 0..<cut, into: p)
                    try ImageCodec.jpegRoundTripRows(img, quality: 15, rows: cut..<h, into: p + cut * w * 3)
                }
                XCTAssertEqual(px, whole.pixels, "\(w)×\(h) cut at \(cut)")
            }
        }
    }

    func testJPEGStripsRejectMisalignedRows() throws {
        let img = try image(40, 40, seed: 3, smooth: false)
        func fails(_ rows: Range<Int>, quality: Int) -> Bool {
            var px = [UInt8](repeating: 0, count: 40 * 40 * 3)
            return px.withUnsafeMutableBufferPointer { b -> Bool in
                guard let p = b.baseAddress else { return false }
                do { try ImageCodec.jpegRoundTripRows(img, quality: quality, rows: rows, into: p); return false } catch { return true }
            }
        }
        XCTAssertTrue(fails(8..<40, quality: 15))
        XCTAssertTrue(fails(0..<20, quality: 15))
        XCTAssertTrue(fails(0..<40, quality: 0))
        XCTAssertFalse(fails(0..<40, quality: 15))
    }
}
