import Foundation
import XCTest
@testable import StalwartImageIO
import StalwartTensor

/// Round trips, API contracts, limits, orientation and error messages.
final class CodecTests: XCTestCase {
    func fixture(_ name: String) throws -> [UInt8] { try readBytes(Paths.fixtures.appendingPathComponent(name)) }

    func randomImage(width: Int, height: Int, channels: Int, seed: UInt64) throws -> Image {
        var rng = SplitMix64(state: seed)
        return try Image(width: width, height: height, channels: channels,
                         pixels: (0 ..< width * height * channels).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    }

    // MARK: - Round trips

    func testPNGRoundTripIsLossless() throws {
        for channels in [1, 3, 4] {
            for level in [0, 3, 6, 9] {
                let im = try randomImage(width: 37, height: 11, channels: channels, seed: UInt64(channels * 10 + level))
                let png = try ImageCodec.encodePNG(im, compressionLevel: level)
                let mode: ColorMode = channels == 1 ? .gray : channels == 3 ? .rgb : .rgba
                XCTAssertEqual(try decode(png, mode: mode), im, "channels \(channels) level \(level)")
                let info = try png.withUnsafeBytes { try ImageCodec.info($0) }
                XCTAssertEqual(info.format, "PNG")
                XCTAssertEqual(info.width, 37); XCTAssertEqual(info.height, 11); XCTAssertEqual(info.channels, channels)
            }
        }
        // 1×1 and a wide strip.
        for (w, h) in [(1, 1), (1000, 2)] {
            let im = try randomImage(width: w, height: h, channels: 3, seed: 7)
            XCTAssertEqual(try decode(try ImageCodec.encodePNG(im)), im)
        }
    }

    func testPNGCompressionLevelsDiffer() throws {
        // A smooth image compresses better with filtering (default) than with the fast mode.
        let w = 128, h = 64
        var px = [UInt8]()
        for y in 0..<h { for x in 0..<w { px += [UInt8(x * 2), UInt8(y * 4), UInt8((x + y) & 255)] } }
        let im = try Image(width: w, height: h, channels: 3, pixels: px)
        let fast = try ImageCodec.encodePNG(im, compressionLevel: 1)
        let best = try ImageCodec.encodePNG(im, compressionLevel: 9)
        XCTAssertLessThan(best.count, fast.count)
        XCTAssertThrowsError(try ImageCodec.encodePNG(im, compressionLevel: 10))
        XCTAssertThrowsError(try ImageCodec.encodePNG(im, compressionLevel: -1))
    }

    /// JPEG is lossy; at quality 100 with 4:4:4 the error on a photo crop stays small. Tolerance:
    /// mean |Δ| < 1 and max |Δ| ≤ 12 (8×8 DCT quantisation at q100 plus YCbCr rounding on
    /// sharp edges).
    func testJPEGRoundTripQ100Is444Close() throws {
        let src = try decode(fixture("jpeg/q95_444.jpg"), mode: .rgb)
        let jpg = try ImageCodec.encodeJPEG(src, quality: 100, subsampling: .s444)
        let back = try decode(jpg, mode: .rgb)
        XCTAssertEqual([back.width, back.height], [src.width, src.height])
        var sum = 0, maxD = 0
        for (a, b) in zip(src.pixels, back.pixels) { let d = abs(Int(a) - Int(b)); sum += d; maxD = max(maxD, d) }
        XCTAssertLessThan(Double(sum) / Double(src.pixels.count), 1.0)
        XCTAssertLessThanOrEqual(maxD, 12)
        let info = try jpg.withUnsafeBytes { try ImageCodec.info($0) }
        XCTAssertEqual(info.format, "JPEG"); XCTAssertEqual(info.channels, 3)
        XCTAssertEqual(info.width, src.width); XCTAssertEqual(info.height, src.height)
    }

    func testJPEGEncodeOptions() throws {
        let src = try decode(fixture("jpeg/q95_444.jpg"), mode: .rgba)
        var sizes: [ChromaSubsampling: Int] = [:]
        for sub in [ChromaSubsampling.s444, .s422, .s420, .gray] {
            let jpg = try ImageCodec.encodeJPEG(src, quality: 90, subsampling: sub)
            sizes[sub] = jpg.count
            let info = try jpg.withUnsafeBytes { try ImageCodec.info($0) }
            XCTAssertEqual(info.channels, sub == .gray ? 1 : 3, "\(sub)")
        }
        XCTAssertLessThan(sizes[.s420]!, sizes[.s444]!)
        // Gray input always gives a grayscale JPEG; it decodes back to 1 channel closely.
        let gray = try decode(fixture("jpeg/gray.jpg"), mode: .gray)
        let g = try ImageCodec.encodeJPEG(gray, quality: 100, subsampling: .s420)
        XCTAssertEqual(try g.withUnsafeBytes { try ImageCodec.info($0) }.channels, 1)
        let back = try decode(g, mode: .gray)
        XCTAssertLessThanOrEqual(zip(gray.pixels, back.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0, 4)
        for q in [0, 101, -5] { XCTAssertThrowsError(try ImageCodec.encodeJPEG(src, quality: q)) }
    }

    func testEncodersRejectInconsistentImages() throws {
        var im = try randomImage(width: 4, height: 4, channels: 3, seed: 1)
        im.pixels.removeLast()  // `pixels` is public and mutable
        XCTAssertThrowsError(try ImageCodec.encodePNG(im))
        XCTAssertThrowsError(try ImageCodec.encodeJPEG(im))
    }

    func testWriteByExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stalwart-io-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let im = try randomImage(width: 9, height: 5, channels: 3, seed: 3)
        try ImageCodec.write(im, path: dir.appendingPathComponent("a.PNG").path)
        XCTAssertEqual(try ImageCodec.decode(path: dir.appendingPathComponent("a.PNG").path), im)
        for name in ["b.jpg", "c.JPEG"] {
            try ImageCodec.write(im, path: dir.appendingPathComponent(name).path, quality: 95)
            let back = try ImageCodec.decode(path: dir.appendingPathComponent(name).path)
            XCTAssertEqual([back.width, back.height, back.channels], [9, 5, 3])
        }
        for bad in ["d.gif", "noext", "e.png/"] {
            XCTAssertThrowsError(try ImageCodec.write(im, path: dir.path + "/" + bad)) { e in
                XCTAssertTrue("\(e)".contains(bad.replacingOccurrences(of: "/", with: "")), "\(e)")
            }
        }
        XCTAssertThrowsError(try ImageCodec.write(im, path: "/nonexistent-dir/x.png")) { e in
            guard case .io(let m)? = e as? StalwartError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("/nonexistent-dir/x.png"), m)
        }
    }

    // MARK: - Errors name what went wrong

    func testPathErrorsNameTheFile() throws {
        XCTAssertThrowsError(try ImageCodec.decode(path: "/nonexistent/img.png")) { e in
            guard case .io(let m)? = e as? StalwartError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("/nonexistent/img.png") && m.contains("No such file"), m)
        }
        XCTAssertThrowsError(try ImageCodec.decode(path: NSTemporaryDirectory())) { e in
            guard case .io(let m)? = e as? StalwartError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("not a regular file"), m)
        }
        let bad = Paths.fixtures.appendingPathComponent("reference.json").path
        XCTAssertThrowsError(try ImageCodec.decode(path: bad)) { e in
            guard case .unsupported(let m)? = e as? StalwartError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains(bad) && m.contains("text"), m)
        }
        // A corrupt PNG read from a path: the message has the path and the reason.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stalwart-io-err-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var png = try ImageCodec.encodePNG(try randomImage(width: 8, height: 8, channels: 3, seed: 2))
        png[png.count - 20] ^= 0xFF  // inside IDAT: CRC error
        let path = dir.appendingPathComponent("broken image.png").path
        try Data(png).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ImageCodec.decode(path: path)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("PNG"), "\(e)")
        }
    }

    func testFormatSniffing() throws {
        let cases: [([UInt8], String)] = [
            ([], "0 bytes"),
            (Array("hello, this is text\n".utf8), "text"),
            (Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0], "GIF"),
            (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8), "WebP"),
            (Array("BM".utf8) + [UInt8](repeating: 0, count: 40), "BMP"),
            ([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0], "TIFF"),
            ([0, 0, 0, 0x1C] + Array("ftypavif".utf8) + [0, 0, 0, 0], "AVIF"),
            ([0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0, 0, 0], "HEIF"),
            ([0x09, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "damaged signature"),
            ([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0xFE], "no known image signature"),
        ]
        for (bytes, want) in cases {
            XCTAssertThrowsError(try decode(bytes)) { e in
                XCTAssertTrue("\(e)".contains(want), "\(want): \(e)")
            }
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try ImageCodec.info($0) })
        }
    }

    // MARK: - Pixel limit and huge headers

    /// A PNG whose IHDR announces `width`×`height` (valid CRCs) with a tiny IDAT.
    func forgedPNG(width: UInt32, height: UInt32) -> [UInt8] {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let t = Array(type.utf8)
            let crc = (t + body).withUnsafeBytes { CRC32.update(0, $0) }
            func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
            return be(UInt32(body.count)) + t + body + be(crc)
        }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        let ihdr = be(width) + be(height) + [8, 2, 0, 0, 0]
        return PNGDecoder.signature + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    }

    func testPixelLimitRefusesBeforeAllocating() throws {
        let png = forgedPNG(width: 100_000, height: 100_000)
        XCTAssertThrowsError(try decode(png)) { e in
            guard case .decode(let m)? = e as? StalwartError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("100000×100000 = 10000000000 pixels"), m)
            XCTAssertTrue(m.contains("above the limit of 89478485") && m.contains("decompression-bomb") && m.contains("maxPixels"), m)
        }
        // Raising the limit: still refused cleanly (the tiny IDAT cannot hold the image), no
        // multi-gigabyte allocation.
        var o = DecodeOptions(); o.maxPixels = .max
        XCTAssertThrowsError(try decode(png, o)) { e in XCTAssertTrue("\(e)".contains("truncated PNG"), "\(e)") }
        let huge = forgedPNG(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF)
        XCTAssertThrowsError(try decode(huge, o))
        XCTAssertEqual(try huge.withUnsafeBytes { try ImageCodec.info($0) }.width, 0x7FFF_FFFF)  // header only

        // A real 32×32 file against small limits.
        let s = try readBytes(try XCTUnwrap(Paths.resolve("fixtures/jpeg/q75_444.jpg")))
        var small = DecodeOptions(); small.maxPixels = 67 * 45 - 1
        XCTAssertThrowsError(try decode(s, small)) { e in XCTAssertTrue("\(e)".contains("67×45 = 3015 pixels, above the limit of 3014"), "\(e)") }
        small.maxPixels = 67 * 45
        XCTAssertNoThrow(try decode(s, small))
        small.maxPixels = 0
        XCTAssertThrowsError(try decode(s, small))
    }

    func testJPEGHugeHeaderIsRefused() throws {
        // Patch the SOF0 size of a real JPEG to 65000×65000.
        var jpg = try fixture("jpeg/q75_420.jpg")
        var p = 2
        while p + 9 < jpg.count, !(jpg[p] == 0xFF && jpg[p + 1] == 0xC0) {
            p += 2 + Int(jpg[p + 2]) << 8 + Int(jpg[p + 3])
        }
        XCTAssertTrue(p + 9 < jpg.count)
        jpg[p + 5] = 0xFD; jpg[p + 6] = 0xE8; jpg[p + 7] = 0xFD; jpg[p + 8] = 0xE8
        XCTAssertThrowsError(try decode(jpg)) { e in
            XCTAssertTrue("\(e)".contains("65000×65000 = 4225000000 pixels"), "\(e)")
        }
        let info = try jpg.withUnsafeBytes { try ImageCodec.info($0) }
        XCTAssertEqual([info.width, info.height], [65000, 65000])
    }

    func testInfoReadsHeadersOnly() throws {
        let cases: [(String, String, [Int])] = [
            ("jpeg/gray.jpg", "JPEG", [67, 45, 1]), ("jpeg/cmyk.jpg", "JPEG", [67, 45, 4]),
            ("jpeg/cjpeg_mixed.jpg", "JPEG", [67, 45, 3]),  // sampling TurboJPEG 2.x has no constant for
            ("jpeg/orient6.jpg", "JPEG", [13, 7, 3]),  // stored size, orientation not applied
            ("png/pal_trns_long.png", "PNG", [5, 2, 4]), ("png/pal_short.png", "PNG", [9, 3, 3]),
            ("png/ga16_random.png", "PNG", [23, 19, 2]), ("png/gray8_trns.png", "PNG", [7, 6, 1]),
            ("png/rgba16_random.png", "PNG", [23, 19, 4]),
        ]
        for (name, format, want) in cases {
            let bytes = try fixture(name)
            let info = try bytes.withUnsafeBytes { try ImageCodec.info($0) }
            XCTAssertEqual(info.format, format, name)
            XCTAssertEqual([info.width, info.height, info.channels], want, name)
            // The header of a file cut after its first 100 bytes is still readable.
            if bytes.count > 200 { XCTAssertNoThrow(try Array(bytes[0..<(name.hasSuffix("png") ? 33 : bytes.count - 50)]).withUnsafeBytes { try ImageCodec.info($0) }, name) }
        }
    }

    // MARK: - EXIF orientation

    func testOrientationIsOffByDefault() throws {
        let im = try decode(fixture("jpeg/orient6.jpg"), mode: .rgb)
        XCTAssertEqual([im.width, im.height], [13, 7])
        let t = try decode(fixture("jpeg/orient6.jpg"), mode: .rgb, exif: true)
        XCTAssertEqual([t.width, t.height], [7, 13])
        // 6 = rotate 90° clockwise: the top-left output pixel is the stored bottom-left one.
        XCTAssertEqual(Array(t.pixels[0..<3]), Array(im.pixels[(6 * 13) * 3 ..< (6 * 13) * 3 + 3]))
    }

    func testOrientationTransformsAreConsistent() throws {
        // Orientation k then its inverse gives the original (dimensions and pixels).
        let base = NativeImage(width: 5, height: 3, layout: .grayAlpha, pixels: (0..<30).map { UInt8($0) })
        let inverse = [2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6]
        for (o, inv) in inverse {
            let t = try Orientation.apply(o, to: base)
            XCTAssertEqual([t.width, t.height], o >= 5 ? [3, 5] : [5, 3])
            XCTAssertEqual(try Orientation.apply(inv, to: t).pixels, base.pixels, "orientation \(o)")
        }
        for o in [0, 1, 9, -3, 1000] { XCTAssertEqual(try Orientation.apply(o, to: base).pixels, base.pixels) }
    }

    func testEXIFParserIsBoundsChecked() throws {
        func orient(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBytes { Orientation.fromEXIF($0) } }
        let le: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(orient(le), 6)
        let be: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0]
        XCTAssertEqual(orient(Array("Exif".utf8) + [0, 0] + be), 3)
        var twoValues = le; twoValues[14] = 2
        XCTAssertNil(orient(twoValues))  // Pillow ignores a count ≠ 1
        for n in 0..<le.count { _ = orient(Array(le[0..<n])) }  // every truncation: no trap
        var ifdFar = le; ifdFar[4] = 0xFF; ifdFar[5] = 0xFF; ifdFar[6] = 0xFF; ifdFar[7] = 0x7F
        XCTAssertNil(orient(ifdFar))
        var manyEntries = le; manyEntries[8] = 0xFF; manyEntries[9] = 0xFF
        XCTAssertEqual(orient(manyEntries), 6)
        XCTAssertEqual(Array("<x tiff:Orientation=\"7\"/>".utf8).withUnsafeBytes { Orientation.fromXMP($0) }, 7)
        XCTAssertEqual(Array("<tiff:Orientation>2</tiff:Orientation>".utf8).withUnsafeBytes { Orientation.fromXMP($0) }, 2)
        XCTAssertNil(Array("tiff:Orientation=".utf8).withUnsafeBytes { Orientation.fromXMP($0) })
    }

    // MARK: - Conversions

    func testLumaIsPillowsFixedPoint() {
        // Pillow: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
        XCTAssertEqual(NativeImage.luma(255, 255, 255), 255)
        XCTAssertEqual(NativeImage.luma(255, 0, 0), 76)
        XCTAssertEqual(NativeImage.luma(0, 255, 0), 150)
        XCTAssertEqual(NativeImage.luma(0, 0, 255), 29)
        for v in 0...255 { XCTAssertEqual(NativeImage.luma(UInt8(v), UInt8(v), UInt8(v)), UInt8(v)) }
    }

    // MARK: - Thread safety

    func testConcurrentDecodesAgree() throws {
        let names = ["jpeg/q75_420.jpg", "jpeg/cmyk.jpg", "jpeg/progressive_420.jpg", "png/rgba16_random.png",
                     "png/ga16_random_interlaced.png", "png/pal_short.png"]
        let files = try names.map { try fixture($0) }
        let expected = try files.map { try decode($0, mode: .rgba) }
        let lock = NSLock()
        var mismatches = 0
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let k = i % files.count
            let ok = (try? decode(files[k], mode: .rgba)) == expected[k]
            if !ok { lock.lock(); mismatches += 1; lock.unlock() }
        }
        XCTAssertEqual(mismatches, 0)
    }
}
