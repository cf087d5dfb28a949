import Foundation
import XCTest
@testable import StalwartImageIO
import StalwartTensor

/// Paths of the committed fixtures and of the shared PngSuite.
enum Paths {
    /// Tests/StalwartImageIOTests
    static let testDir: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let packageRoot: URL = testDir.deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures: URL = testDir.appendingPathComponent("Fixtures")

    /// `<package root>/../shared/fixtures`, else `/work/shared/fixtures`, else nil.
    static let shared: URL? = {
        let candidates = [packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures"),
                          URL(fileURLWithPath: "/work/shared/fixtures")]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("pngsuite").path) }
    }()

    static func requireShared() throws -> URL {
        guard let s = shared else { throw XCTSkip("shared fixtures (../shared/fixtures) not found") }
        return s
    }

    /// Resolves a reference key: "fixtures/..." (committed) or "shared/..." (nil when absent).
    static func resolve(_ key: String) -> URL? {
        if key.hasPrefix("fixtures/") { return fixtures.appendingPathComponent(String(key.dropFirst("fixtures/".count))) }
        if key.hasPrefix("shared/") { return shared?.appendingPathComponent(String(key.dropFirst("shared/".count))) }
        return nil
    }
}

func readBytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

func decode(_ bytes: [UInt8], _ options: DecodeOptions = .init()) throws -> Image {
    try bytes.withUnsafeBytes { try ImageCodec.decode($0, options: options) }
}

func decode(_ bytes: [UInt8], mode: ColorMode, exif: Bool = false) throws -> Image {
    var o = DecodeOptions()
    o.mode = mode
    o.applyEXIFOrientation = exif
    return try decode(bytes, o)
}

/// Decoding must throw a `StalwartError` or succeed with a consistent image; anything else fails.
/// Returns true when it decoded.
@discardableResult
func decodesOrThrows(_ bytes: [UInt8], mode: ColorMode = .rgb, file: StaticString = #filePath, line: UInt = #line) -> Bool {
    do {
        let im = try decode(bytes, mode: mode)
        XCTAssertEqual(im.pixels.count, im.width * im.height * mode.channels, file: file, line: line)
        return true
    } catch let e as StalwartError {
        XCTAssertFalse(e.message.isEmpty, "empty error message", file: file, line: line)
        return false
    } catch {
        XCTFail("non-Stalwart error \(error)", file: file, line: line)
        return false
    }
}

/// A small SHA-256 (FIPS 180-4) for comparing decoded pixels with Pillow's hashes.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var m = message
        let bitLength = UInt64(message.count) * 8
        m.append(0x80)
        while m.count % 64 != 56 { m.append(0) }
        for i in (0..<8).reversed() { m.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        var w = [UInt32](repeating: 0, count: 64)
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        for chunk in stride(from: 0, to: m.count, by: 64) {
            for i in 0..<16 {
                w[i] = UInt32(m[chunk + 4 * i]) << 24 | UInt32(m[chunk + 4 * i + 1]) << 16 | UInt32(m[chunk + 4 * i + 2]) << 8 | UInt32(m[chunk + 4 * i + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
            for i in 0..<64 {
                let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
            h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
        }
        return h.map { v in
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }
}

/// A tiny deterministic PRNG (SplitMix64) for the fuzz-style tests.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
