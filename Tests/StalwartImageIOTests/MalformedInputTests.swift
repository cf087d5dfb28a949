import Foundation
import XCTest
@testable import StalwartImageIO
import StalwartTensor

/// Damaged inputs must throw a `StalwartError` or decode; never trap, hang or crash.
final class MalformedInputTests: XCTestCase {
    func fixture(_ name: String) throws -> [UInt8] { try readBytes(Paths.fixtures.appendingPathComponent(name)) }

    /// Recomputes every chunk CRC, so that damage reaches zlib and the unfiltering code instead
    /// of stopping at the checksum.
    func repairCRCs(_ png: [UInt8]) -> [UInt8] {
        var out = png
        var p = 8
        while p + 12 <= out.count {
            let len = Int(out[p]) << 24 | Int(out[p + 1]) << 16 | Int(out[p + 2]) << 8 | Int(out[p + 3])
            guard len >= 0, len <= out.count - p - 12 else { break }
            let crc = out.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[(p + 4)..<(p + 8 + len)])) }
            out[p + 8 + len] = UInt8(crc >> 24); out[p + 9 + len] = UInt8(crc >> 16 & 255)
            out[p + 10 + len] = UInt8(crc >> 8 & 255); out[p + 11 + len] = UInt8(crc & 255)
            p += 12 + len
        }
        return out
    }

    func testTruncatedPNGAtEveryByte() throws {
        let smooth = try ImageCodec.encodePNG(try Image(width: 24, height: 9, channels: 3,
                                                        pixels: (0..<(24 * 9 * 3)).map { UInt8($0 % 251) }))
        for name in ["small", "png/rgba16_random_interlaced.png", "png/pal_short.png", "png/ga16_random.png"] {
            let png = name == "small" ? smooth : try fixture(name)
            let full = try decode(png, mode: .rgba)
            var decoded = 0
            for n in 0..<png.count {
                let cut = Array(png[0..<n])
                if let im = try? decode(cut, mode: .rgba) {
                    // Only a file missing (part of) its IEND can decode, and then completely.
                    XCTAssertEqual(im, full, "\(name) cut at \(n)")
                    XCTAssertGreaterThanOrEqual(n, png.count - 12, "\(name) cut at \(n)")
                    decoded += 1
                } else {
                    decodesOrThrows(cut, mode: .rgba)
                }
            }
            XCTAssertEqual(decoded, 12, name)  // cuts inside the 12-byte IEND chunk
        }
    }

    func testTruncatedJPEGAtEveryByte() throws {
        for name in ["jpeg/q75_420.jpg", "jpeg/progressive_420.jpg", "jpeg/cmyk.jpg", "jpeg/gray.jpg", "jpeg/orient6.jpg"] {
            let jpg = try fixture(name)
            for n in 0..<jpg.count {
                // Like Pillow ("image file is truncated"), any cut is an error, even of the EOI.
                XCTAssertThrowsError(try decode(Array(jpg[0..<n]), mode: .rgb, exif: true), "\(name) cut at \(n)") { e in
                    XCTAssertTrue(e is StalwartError)
                }
            }
            XCTAssertNoThrow(try decode(jpg))
        }
    }

    func testRandomDamageNeverCrashes() throws {
        var rng = SplitMix64(state: 0x5EED)
        var files: [(String, [UInt8])] = []
        for n in ["png/rgba16_random.png", "png/rgba16_random_interlaced.png", "png/ga16_random_interlaced.png",
                  "png/gray16_random.png", "png/pal_trns_long.png", "png/exif6.png",
                  "jpeg/q50_420.jpg", "jpeg/progressive_420.jpg", "jpeg/cmyk.jpg", "jpeg/restart_420.jpg",
                  "jpeg/orient6.jpg", "jpeg/xmp_orient6.jpg"] {
            files.append((n, try fixture(n)))
        }
        if let shared = Paths.shared {
            for n in ["basi0g01", "basi3p02", "basn3p04", "basi2c08", "basn4a08", "tbbn0g04", "s09i3p02"] {
                files.append((n, try readBytes(shared.appendingPathComponent("pngsuite/suite/\(n).png"))))
            }
        }
        var outcomes = [0, 0]
        for (name, original) in files {
            let isPNG = name.hasSuffix(".png") || !name.contains(".")
            for trial in 0..<150 {
                var b = original
                for _ in 0..<(1 + rng.below(4)) {
                    let i = rng.below(b.count)
                    switch rng.below(3) {
                    case 0: b[i] ^= UInt8(1 << rng.below(8))
                    case 1: b[i] = UInt8(truncatingIfNeeded: rng.next())
                    default: b[i] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)]
                    }
                }
                if isPNG && trial % 2 == 0 { b = repairCRCs(b) }
                for mode in [ColorMode.rgb, .rgba, .gray] {
                    var o = DecodeOptions(mode: mode, applyEXIFOrientation: trial % 3 == 0)
                    o.maxPixels = 1 << 22
                    do {
                        let im = try decode(b, o)
                        XCTAssertEqual(im.pixels.count, im.width * im.height * mode.channels)
                        outcomes[0] += 1
                    } catch let e as StalwartError {
                        XCTAssertFalse(e.message.isEmpty)
                        outcomes[1] += 1
                    }
                }
            }
        }
        print("random damage: \(outcomes[0]) decodes, \(outcomes[1]) clean errors")
        XCTAssertGreaterThan(outcomes[0], 0)
        XCTAssertGreaterThan(outcomes[1], 0)
    }

    func testGarbageAfterIENDAndMissingIEND() throws {
        let s = try Paths.requireShared()
        let png = try readBytes(s.appendingPathComponent("pngsuite/suite/basn2c08.png"))
        let full = try decode(png)
        XCTAssertEqual(try decode(png + Array("trailing garbage".utf8)), full)
        XCTAssertEqual(try decode(Array(png.dropLast(12))), full)  // no IEND at all, as Pillow allows
    }

    func testUnknownCriticalChunkIsRejected() throws {
        let png = try ImageCodec.encodePNG(try Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6]))
        // Insert a "ZZZZ" critical chunk after IHDR.
        let body: [UInt8] = [1, 2, 3]
        let t = Array("ZZZZ".utf8)
        let crc = (t + body).withUnsafeBytes { CRC32.update(0, $0) }
        let chunk: [UInt8] = [0, 0, 0, 3] + t + body + [UInt8(crc >> 24), UInt8(crc >> 16 & 255), UInt8(crc >> 8 & 255), UInt8(crc & 255)]
        let bad = Array(png[0..<33]) + chunk + Array(png[33...])
        XCTAssertThrowsError(try decode(bad)) { e in XCTAssertTrue("\(e)".contains("PNG"), "\(e)") }
        // The same as an ancillary chunk ("zZZZ") is skipped.
        var anc = bad
        anc[37] = UInt8(ascii: "z")
        anc = repairCRCs(anc)
        XCTAssertEqual(try decode(anc, mode: .gray).pixels, [1, 2, 3, 4, 5, 6])
    }
}
