import Foundation
import StalwartPreprocess
import StalwartTensor
import XCTest

/// Fixture plumbing shared by ResizeTests and GeometryTests: the JSON schemas written by
/// `gen_resize_cases.py`, its SplitMix64 source generator, FNV-1a hashing and |Δ| statistics.
enum ResizeFixtures {
    /// `Fixtures/` beside this file, or `STALWART_RESIZE_FIXTURES` (a directory written by
    /// `gen_resize_cases.py --full DIR`: every expected output whole, for statistics over every
    /// pixel).
    static let directory: URL = {
        if let d = ProcessInfo.processInfo.environment["STALWART_RESIZE_FIXTURES"], !d.isEmpty {
            return URL(fileURLWithPath: d)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }()

    /// The shared photos: `<package root>/../shared/fixtures/images`, else `/work/shared/…`;
    /// nil when neither exists.
    static let sharedImages: URL? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for dir in [root.deletingLastPathComponent().appendingPathComponent("shared/fixtures/images"),
                    URL(fileURLWithPath: "/work/shared/fixtures/images")] {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("chelsea.png").path) { return dir }
        }
        return nil
    }()

    struct Blob: Decodable {
        let offset: Int
        let length: Int
    }

    struct SourceSpec: Decodable {
        let kind: String
        let w: Int, h: Int, c: Int
        let seed: UInt64?
        let block: Int?
        let dtype: String?
        let offset: Int?
        let length: Int?
        let of: String?
    }

    struct Expect: Decodable {
        let kind: String          // "full" or "rows"
        let offset: Int
        let length: Int
        let stride: Int?
        let hash: String?
    }

    struct Case: Decodable {
        let name: String
        let src: String
        let mode: String          // L, RGB, RGBA, F
        let w: Int, h: Int
        let filter: String
        let box: [Double]?
        let expect: Expect
    }

    struct Photo: Decodable {
        let file: String
        let srcW: Int, srcH: Int
        let w: Int, h: Int
        let filter: String
        let expect: Expect
    }

    struct CropPct: Decodable {
        let size: Int
        let cropPct: Double
        let scaleSize: Int
    }

    struct Pillow: Decodable {
        let pillow: String
        let sources: [String: SourceSpec]
        let cases: [Case]
        let photos: [Photo]
        let cropPct: [CropPct]
    }

    struct SizeCase: Decodable {
        let w: Int, h: Int, size: Int
        let maxSize: Int?
        let outW: Int, outH: Int
    }

    struct CenterCropCase: Decodable {
        let src: String
        let w: Int, h: Int
        let data: String
    }

    struct Pipeline: Decodable {
        let src: String
        let short: Int
        let crop: Int
        let filter: String
        let hash: String
        let stride: Int
        let rows: String
    }

    struct Interpolation: Decodable {
        let src: String
        let w: Int, h: Int
        let filter: String
        let antialias: Bool
        let stride: Int
        let rows: String
    }

    struct Torch: Decodable {
        let torch: String
        let torchvision: String
        let resizeSizes: [SizeCase]
        let centerCrops: [CenterCropCase]
        let pipelines: [Pipeline]
        let interpolate: [Interpolation]
        let sources: [String: SourceSpec]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ file: String) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return try d.decode(type, from: data)
    }

    static let pillow: Result<Pillow, Error> = Result { try decode(Pillow.self, "resize_cases.json") }
    static let torch: Result<Torch, Error> = Result { try decode(Torch.self, "torch_cases.json") }
    static let blob: Result<[UInt8], Error> = Result {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent("resize_data.bin")))
    }

    static func bytes(_ offset: Int, _ length: Int) throws -> [UInt8] {
        let b = try blob.get()
        guard offset >= 0, length >= 0, offset + length <= b.count else {
            throw StalwartError.invalidArgument("fixture blob range \(offset)+\(length) outside \(b.count) bytes")
        }
        return Array(b[offset..<offset + length])
    }

    static func floats(_ bytes: [UInt8]) -> [Float] {
        var out = [Float](repeating: 0, count: bytes.count / 4)
        for i in 0..<out.count {
            let u = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24
            out[i] = Float(bitPattern: u)
        }
        return out
    }

    static func floatBytes(_ v: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(v.count * 4)
        for f in v {
            let u = f.bitPattern
            out += [UInt8(u & 0xFF), UInt8((u >> 8) & 0xFF), UInt8((u >> 16) & 0xFF), UInt8(u >> 24)]
        }
        return out
    }

    static func base64(_ s: String) -> [UInt8] { [UInt8](Data(base64Encoded: s) ?? Data()) }

    // MARK: Sources

    /// SplitMix64, as `Rng` in the generator.
    struct SplitMix64 {
        var s: UInt64
        init(_ seed: UInt64) { s = seed }
        mutating func next() -> UInt64 {
            s = s &+ 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    enum Pixels {
        case u8([UInt8])
        case f32([Float])

        var asFloats: [Float] {
            switch self {
            case .u8(let b): return b.map { Float($0) }
            case .f32(let f): return f
            }
        }
    }

    /// A source image's pixels (HWC), generated like `gen_source` or read from the blob.
    static func source(_ spec: SourceSpec, in all: [String: SourceSpec]) throws -> Pixels {
        let n = spec.w * spec.h * spec.c
        var rng = SplitMix64(spec.seed ?? 0)
        switch spec.kind {
        case "noise":
            return .u8((0..<n).map { _ in UInt8(rng.next() >> 56) })
        case "blocks":
            let b = spec.block ?? 1
            let nbx = (spec.w + b - 1) / b, nby = (spec.h + b - 1) / b
            let table: [UInt8] = (0..<(nbx * nby * spec.c)).map { _ in
                let r = rng.next()
                switch r & 3 {
                case 0: return 0
                case 1: return 255
                default: return UInt8(r >> 56)
                }
            }
            var px = [UInt8](repeating: 0, count: n)
            for y in 0..<spec.h {
                for x in 0..<spec.w {
                    for k in 0..<spec.c {
                        px[(y * spec.w + x) * spec.c + k] = table[((y / b) * nbx + x / b) * spec.c + k]
                    }
                }
            }
            return .u8(px)
        case "fnoise":
            return .f32((0..<n).map { _ in Float(Double((rng.next() >> 40) & 0xFFFF) / 256.0 - 32.0) })
        case "data":
            let raw = try bytes(spec.offset ?? 0, spec.length ?? 0)
            return spec.dtype == "f32" ? .f32(floats(raw)) : .u8(raw)
        case "fromsource":
            guard let of = spec.of, let base = all[of] else { throw StalwartError.invalidArgument("source 'of' missing") }
            return .f32(try source(base, in: all).asFloats)
        default:
            throw StalwartError.invalidArgument("unknown source kind \(spec.kind)")
        }
    }

    static func fnv1a64(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Rows 0, stride, 2·stride, … of an HWC buffer with `rowLength` elements per row.
    static func sampledRows<T>(_ v: [T], rowLength: Int, stride: Int) -> [T] {
        guard rowLength > 0, stride >= 1 else { return [] }
        var out = [T]()
        var r = 0
        while (r + 1) * rowLength <= v.count {
            out += v[r * rowLength..<(r + 1) * rowLength]
            r += stride
        }
        return out
    }
}

/// max |Δ|, mean |Δ| and exact-match counts, accumulated per key (filter name).
struct DeltaStats {
    var maxAbs = 0.0
    var sumAbs = 0.0
    var count = 0
    var cases = 0
    var exactCases = 0

    mutating func add(_ got: [Double], _ want: [Double]) {
        for (g, w) in zip(got, want) {
            let d = abs(g - w)
            maxAbs = max(maxAbs, d.isNaN ? .infinity : d)
            sumAbs += d
        }
        count += min(got.count, want.count)
    }

    var mean: Double { count == 0 ? 0 : sumAbs / Double(count) }
}
