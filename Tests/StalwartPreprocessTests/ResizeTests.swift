import Dispatch
import Foundation
import StalwartPreprocess
import StalwartTensor
import XCTest

/// `Resize` against Pillow (the oracle: `Fixtures/resize_cases.json`, written by
/// `gen_resize_cases.py` with the Pillow version it records) and PyTorch
/// (`Fixtures/torch_cases.json`), plus invariants no fixture expresses.
///
/// Tolerances: 8-bit and mode-"F" resizes must be bit-identical to Pillow (same coefficient
/// arithmetic, same fixed-point rounding, same pass order; the issue's bound is max |Δ| ≤ 1,
/// mean |Δ| ≤ 0.05, and is checked too). PyTorch's float interpolate computes sample positions
/// and weights in float32 (position error ≈ ulp(100 px) ≈ 1e-5 px, times neighbour differences up
/// to 256), so it is compared with |Δ| ≤ 5e-3 on values in [−32, 224) (2e-5 of the range; the
/// measured worst case is 3.4e-3).
final class ResizeTests: XCTestCase {
    typealias F = ResizeFixtures

    func filter(_ name: String) throws -> ResizeFilter {
        guard let f = ResizeFilter(rawValue: name) else { throw StalwartError.invalidArgument("filter \(name)") }
        return f
    }

    // MARK: Pillow

    func testMatchesPillowExactly() throws {
        let fx = try F.pillow.get()
        var stats: [String: DeltaStats] = [:]
        var floatStats: [String: DeltaStats] = [:]
        for c in fx.cases {
            guard let spec = fx.sources[c.src] else { XCTFail("\(c.name): no source \(c.src)"); continue }
            let src = try F.source(spec, in: fx.sources)
            let f = try filter(c.filter)
            let box = c.box.map { (x0: $0[0], y0: $0[1], x1: $0[2], y1: $0[3]) }
            let want = try F.bytes(c.expect.offset, c.expect.length)
            if c.mode == "F" {
                let img = try FloatImage(width: spec.w, height: spec.h, channels: spec.c, pixels: src.asFloats)
                XCTAssertNil(box, "\(c.name): float cases take no box")
                let out = try Resize.resize(img, width: c.w, height: c.h, filter: f)
                XCTAssertEqual(out.width, c.w); XCTAssertEqual(out.height, c.h)
                let got = F.floatBytes(out.pixels)
                let (g, w, exact) = compare(got, want, c.expect, rowLength: c.w * spec.c * 4)
                floatStats[c.filter, default: DeltaStats()].add(F.floats(g).map(Double.init), F.floats(w).map(Double.init))
                floatStats[c.filter, default: DeltaStats()].cases += 1
                if exact { floatStats[c.filter, default: DeltaStats()].exactCases += 1 }
                XCTAssertTrue(exact, "\(c.name): differs from Pillow")
            } else {
                guard case .u8(let px) = src else { XCTFail("\(c.name): 8-bit source expected"); continue }
                let img = try Image(width: spec.w, height: spec.h, channels: spec.c, pixels: px)
                let out = try Resize.resize(img, width: c.w, height: c.h, filter: f, box: box)
                XCTAssertEqual(out.width, c.w); XCTAssertEqual(out.height, c.h); XCTAssertEqual(out.channels, spec.c)
                let (g, w, exact) = compare(out.pixels, want, c.expect, rowLength: c.w * spec.c)
                stats[c.filter, default: DeltaStats()].add(g.map(Double.init), w.map(Double.init))
                stats[c.filter, default: DeltaStats()].cases += 1
                if exact { stats[c.filter, default: DeltaStats()].exactCases += 1 }
                XCTAssertTrue(exact, "\(c.name): differs from Pillow (max |Δ| \(maxDelta(g, w)))")
            }
        }
        report("uint8", stats, pillow: fx.pillow)
        report("float", floatStats, pillow: fx.pillow)
        for (name, s) in stats {
            XCTAssertLessThanOrEqual(s.maxAbs, 1, "\(name): max |Δ|")
            XCTAssertLessThanOrEqual(s.mean, 0.05, "\(name): mean |Δ|")
        }
        XCTAssertEqual(Set(stats.keys), Set(ResizeFilter.allCases.map(\.rawValue)), "every filter covered")
    }

    /// (compared got, compared want, exact): whole buffers for "full" expectations; for "rows",
    /// the sampled rows, exactness from the hash of the whole output.
    func compare(_ got: [UInt8], _ want: [UInt8], _ e: F.Expect, rowLength: Int) -> ([UInt8], [UInt8], Bool) {
        if e.kind == "full" { return (got, want, got == want) }
        let rows = F.sampledRows(got, rowLength: rowLength, stride: e.stride ?? 1)
        return (rows, want, rows == want && F.fnv1a64(got) == e.hash)
    }

    func maxDelta(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard a.count == b.count else { return -1 }
        return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func report(_ what: String, _ stats: [String: DeltaStats], pillow: String) {
        for name in stats.keys.sorted() {
            let s = stats[name]!
            print(String(format: "RESIZE vs Pillow %@ %@ %-8@ cases %3d exact %3d  max|Δ| %.3g  mean|Δ| %.3g over %d values",
                         pillow, what, name, s.cases, s.exactCases, s.maxAbs, s.mean, s.count))
        }
    }

    /// The shared photos at their torchvision `Resize(short)` size, hashed against Pillow.
    func testPhotosMatchPillowExactly() throws {
        let fx = try F.pillow.get()
        guard let dir = F.sharedImages else { throw XCTSkip("shared/fixtures/images not found") }
        for p in fx.photos {
            let file = try Data(contentsOf: dir.appendingPathComponent(p.file))
            let img = try TestPNG.decode([UInt8](file))
            XCTAssertEqual(img.width, p.srcW); XCTAssertEqual(img.height, p.srcH)
            let short = min(p.w, p.h)
            let size = try Geometry.shorterSideSize(width: img.width, height: img.height, to: short)
            XCTAssertEqual(size.width, p.w, p.file); XCTAssertEqual(size.height, p.h, p.file)
            let out = try Resize.resize(img, width: size.width, height: size.height, filter: filter(p.filter))
            let want = try F.bytes(p.expect.offset, p.expect.length)
            let (g, w, exact) = compare(out.pixels, want, p.expect, rowLength: out.width * 3)
            XCTAssertTrue(exact, "\(p.file) \(p.filter): differs from Pillow (sampled max |Δ| \(maxDelta(g, w)))")
            print("RESIZE photo \(p.file) \(img.width)×\(img.height) → \(out.width)×\(out.height) \(p.filter): \(exact ? "identical to Pillow" : "DIFFERS")")
        }
    }

    // MARK: PyTorch (float interpolate)

    func testFloatResizeMatchesTorchInterpolate() throws {
        let fx = try F.torch.get()
        var worst: [String: Double] = [:]
        for c in fx.interpolate {
            guard let spec = fx.sources[c.src] else { XCTFail("no source \(c.src)"); continue }
            let img = try FloatImage(width: spec.w, height: spec.h, channels: spec.c,
                                     pixels: try F.source(spec, in: fx.sources).asFloats)
            let out = try Resize.resize(img, width: c.w, height: c.h, filter: filter(c.filter), antialias: c.antialias)
            let got = F.sampledRows(out.pixels, rowLength: c.w * spec.c, stride: c.stride)
            let want = F.floats(F.base64(c.rows))
            XCTAssertEqual(got.count, want.count)
            let d = zip(got, want).map { Double(abs($0 - $1)) }.max() ?? 0
            let key = "\(c.filter) antialias=\(c.antialias)"
            worst[key] = max(worst[key] ?? 0, d)
            XCTAssertLessThanOrEqual(d, 5e-3, "\(c.src) → \(c.w)×\(c.h) \(key)")
        }
        for (k, v) in worst.sorted(by: { $0.key < $1.key }) {
            print(String(format: "RESIZE vs torch %@ interpolate %@: max |Δ| %.3g", fx.torch, k, v))
        }
    }

    // MARK: Invariants

    /// Upscaling does not depend on `antialias`; bilinear ×½ without antialiasing averages 2×2.
    func testAntialiasOff() throws {
        var rng = F.SplitMix64(7)
        let px = (0..<(20 * 14 * 3)).map { _ in Float(rng.next() >> 40) / 65536 }
        let img = try FloatImage(width: 20, height: 14, channels: 3, pixels: px)
        for f in ResizeFilter.allCases {
            let a = try Resize.resize(img, width: 33, height: 29, filter: f, antialias: true)
            let b = try Resize.resize(img, width: 33, height: 29, filter: f, antialias: false)
            XCTAssertEqual(a, b, "\(f) upscale")
        }
        let half = try Resize.resize(img, width: 10, height: 7, filter: .bilinear, antialias: false)
        for y in 0..<7 {
            for x in 0..<10 {
                for k in 0..<3 {
                    func p(_ yy: Int, _ xx: Int) -> Float { px[(yy * 20 + xx) * 3 + k] }
                    let want = (p(2 * y, 2 * x) + p(2 * y, 2 * x + 1) + p(2 * y + 1, 2 * x) + p(2 * y + 1, 2 * x + 1)) / 4
                    // Values < 256: float32 ulp ≤ 1.5e-5; two roundings on each side.
                    XCTAssertEqual(half.pixels[(y * 10 + x) * 3 + k], want, accuracy: 4e-5)
                }
            }
        }
        // With antialiasing, bilinear ×½ reads 4 taps per axis, so it differs.
        XCTAssertNotEqual(try Resize.resize(img, width: 10, height: 7, filter: .bilinear, antialias: true), half)
    }

    /// Same size without a box is the identity; the whole-image integer box too.
    func testIdentity() throws {
        var rng = F.SplitMix64(3)
        for c in [1, 3, 4] {
            let img = try Image(width: 13, height: 9, channels: c, pixels: (0..<(13 * 9 * c)).map { _ in UInt8(rng.next() >> 56) })
            for f in ResizeFilter.allCases {
                XCTAssertEqual(try Resize.resize(img, width: 13, height: 9, filter: f), img)
                XCTAssertEqual(try Resize.resize(img, width: 13, height: 9, filter: f, box: (0, 0, 13, 9)), img)
            }
        }
    }

    func testRejectsBadArguments() throws {
        let img = try Image(width: 8, height: 6, channels: 3)
        let fimg = try FloatImage(width: 8, height: 6, channels: 2, pixels: [Float](repeating: 1, count: 96))
        func rejects(_ what: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), what) { e in
                guard case StalwartError.invalidArgument = e else { return XCTFail("\(what): \(e)") }
            }
        }
        for (w, h) in [(0, 5), (5, 0), (-1, 5), (65536, 5), (5, Int.max), (Int.min, 1)] {
            rejects("\(w)×\(h)") { _ = try Resize.resize(img, width: w, height: h, filter: .bilinear) }
            rejects("float \(w)×\(h)") { _ = try Resize.resize(fimg, width: w, height: h, filter: .bicubic) }
        }
        for box in [(-0.5, 0.0, 4.0, 4.0), (0, -1, 4, 4), (0, 0, 8.5, 6), (0, 0, 8, 6.01), (5, 0, 4, 6), (0, 4, 8, 3),
                    (.nan, 0, 4, 4), (0, 0, .infinity, 6), (0, 0, 4, -.infinity)] as [(Double, Double, Double, Double)] {
            rejects("box \(box)") { _ = try Resize.resize(img, width: 4, height: 4, filter: .lanczos, box: box) }
            rejects("nearest box \(box)") { _ = try Resize.resize(img, width: 4, height: 4, filter: .nearest, box: box) }
        }
        let wide = try Image(width: 65536, height: 1, channels: 1)
        rejects("input wider than 65535") { _ = try Resize.resize(wide, width: 10, height: 1, filter: .box) }
    }

    /// Random sizes, boxes (valid or not) and filters: every call returns a correctly sized
    /// image or throws; none traps.
    func testRandomArgumentsNeverTrap() throws {
        var rng = F.SplitMix64(11)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        for _ in 0..<300 {
            let c = [1, 3, 4][r(3)]
            let w = 1 + r(40), h = 1 + r(40)
            let img = try Image(width: w, height: h, channels: c, pixels: (0..<(w * h * c)).map { _ in UInt8(rng.next() >> 56) })
            let ow = r(5) == 0 ? r(3) - 1 : 1 + r(90), oh = r(5) == 0 ? r(3) - 1 : 1 + r(90)
            let f = ResizeFilter.allCases[r(6)]
            var box: (Double, Double, Double, Double)? = nil
            if r(2) == 0 {
                let x0 = Double(r(w * 4 + 4)) / 4 - 0.5, y0 = Double(r(h * 4 + 4)) / 4 - 0.5
                box = (x0, y0, x0 + Double(r(w * 4 + 4)) / 4, y0 + Double(r(h * 4 + 4)) / 4)
            }
            do {
                let out = try Resize.resize(img, width: ow, height: oh, filter: f, box: box)
                XCTAssertEqual(out.pixels.count, ow * oh * c)
            } catch {
                guard case .invalidArgument = error else { return XCTFail("\(error)") }
            }
            let fimg = FloatImage(img)
            if let out = try? Resize.resize(fimg, width: ow, height: oh, filter: f, antialias: r(2) == 0) {
                XCTAssertEqual(out.pixels.count, ow * oh * c)
            }
        }
    }

    /// The coefficient cache is shared between threads: concurrent resizes between many sizes
    /// equal the serial results.
    func testConcurrentResizesMatchSerial() throws {
        var rng = F.SplitMix64(5)
        let img = try Image(width: 97, height: 61, channels: 3, pixels: (0..<(97 * 61 * 3)).map { _ in UInt8(rng.next() >> 56) })
        let jobs: [(Int, Int, ResizeFilter)] = (0..<120).map { i in (5 + (i * 37) % 150, 3 + (i * 53) % 120, ResizeFilter.allCases[i % 6]) }
        let serial = try jobs.map { try Resize.resize(img, width: $0.0, height: $0.1, filter: $0.2) }
        let results = UnsafeMutableBufferPointer<Image?>.allocate(capacity: jobs.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
            results[i] = try? Resize.resize(img, width: jobs[i].0, height: jobs[i].1, filter: jobs[i].2)
        }
        for i in 0..<jobs.count { XCTAssertEqual(results[i], serial[i], "job \(i)") }
    }

    // MARK: Timing (STALWART_BENCH=1, release: `swift test -c release --filter ResizeTests/testSpeed`)

    func testSpeed() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["STALWART_BENCH"] == "1",
                          "set STALWART_BENCH=1 to time resizing")
        var img: Image
        if let dir = F.sharedImages, let data = try? Data(contentsOf: dir.appendingPathComponent("chelsea.png")) {
            img = try TestPNG.decode([UInt8](data))
        } else {
            var rng = F.SplitMix64(1)
            img = try Image(width: 451, height: 300, channels: 3, pixels: (0..<(451 * 300 * 3)).map { _ in UInt8(rng.next() >> 56) })
        }
        let size = try Geometry.shorterSideSize(width: img.width, height: img.height, to: 256)
        for c in [3, 4, 1] {
            if c != img.channels {
                var rng = F.SplitMix64(2)
                img = try Image(width: 451, height: 300, channels: c, pixels: (0..<(451 * 300 * c)).map { _ in UInt8(rng.next() >> 56) })
            }
            for f in [ResizeFilter.bilinear, .bicubic, .lanczos, .nearest] {
                _ = try Resize.resize(img, width: size.width, height: size.height, filter: f)
                var best = Double.infinity
                for _ in 0..<5 {
                    let reps = 50
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<reps { _ = try Resize.resize(img, width: size.width, height: size.height, filter: f) }
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-6 / Double(reps))
                }
                print(String(format: "BENCH resize %d×%d×%d → %d×%d %-8@ %.3f ms/image", img.width, img.height, c,
                             size.width, size.height, f.rawValue as NSString, best))
            }
        }
        let fimg = FloatImage(img)
        for aa in [true, false] {
            var best = Double.infinity
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<20 { _ = try Resize.resize(fimg, width: size.width, height: size.height, filter: .bilinear, antialias: aa) }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-6 / 20)
            }
            print(String(format: "BENCH resize float %d×%d×%d → %d×%d bilinear antialias=%@ %.3f ms/image", img.width, img.height,
                         img.channels, size.width, size.height, aa ? "true" : "false", best))
        }
    }
}
