import XCTest
import StalwartTensor
@testable import StalwartShift

/// defocus_blur's decomposed disk filter (DefocusKernels) against the direct (2r+1)² float64
/// correlation it replaces (`BlurKernels.correlate2DReflect101ToBytes`), and the decomposition
/// K = (g gᵀ) ⊛ D + E rebuilt tap by tap. Parity with OpenCV itself lives in
/// Tests/python/test_corruptions_blur.py.
final class DefocusTests: XCTestCase {
    static let severities: [(radius: Int, alias: Double)] = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)]
    /// (width, height).
    static let sizes: [(Int, Int)] = [(32, 32), (33, 97), (224, 224), (130, 41)]

    /// Uniform random bytes (SplitMix64).
    func randomImage(width: Int, height: Int, seed: UInt64) throws -> Image {
        var s = seed
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in px.indices {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            px[i] = UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        return try Image(width: width, height: height, channels: 3, pixels: px)
    }

    /// Flat areas (0, 255, mid grey) with sharp edges and a smooth ramp: outputs that land on
    /// or near integers, where a rounding difference would show.
    func blockyImage(width: Int, height: Int) throws -> Image {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            let v: Int
            switch (x * 4 / width, y * 3 / height) {
            case (0, _): v = 255
            case (1, 0): v = 0
            case (1, _): v = 128 + c
            case (2, _): v = (x * 255 / max(1, width - 1) + y) % 256
            default: v = ((x / 5 + y / 7) % 2) * 255
            }
            px[(y * width + x) * 3 + c] = UInt8(v)
        } } }
        return try Image(width: width, height: height, channels: 3, pixels: px)
    }

    func direct(_ x: Image, radius: Int, alias: Double) -> [UInt8] {
        BlurKernels.correlate2DReflect101ToBytes(x, kernel: BlurKernels.disk(radius: radius, aliasBlur: alias)) {
            min(max($0, 0), 1) * 255
        }
    }

    /// Max |Δ| ≤ 1 everywhere and at most 1e-5 of all values different, on random and blocky
    /// images of every size and severity; every ISA instance and strip split gives the same bytes.
    func testMatchesDirectCorrelation() throws {
        var compared = 0, differing = 0, worst = 0
        for (w, h) in Self.sizes {
            let images = [try randomImage(width: w, height: h, seed: UInt64(w * 1000 + h)), try blockyImage(width: w, height: h)]
            for img in images {
                for (si, sev) in Self.severities.enumerated() {
                    let ref = direct(img, radius: sev.radius, alias: sev.alias)
                    let plan = DefocusKernels.plan(radius: sev.radius, aliasBlur: sev.alias)
                    let fast = DefocusKernels.defocus(img, radius: sev.radius, aliasBlur: sev.alias)
                    XCTAssertEqual(fast.count, ref.count)
                    var diff = 0, maxD = 0
                    for (a, b) in zip(fast, ref) where a != b {
                        diff += 1; maxD = max(maxD, abs(Int(a) - Int(b)))
                    }
                    XCTAssertLessThanOrEqual(maxD, 1, "\(w)×\(h) severity \(si + 1)")
                    compared += ref.count; differing += diff; worst = max(worst, maxD)
                    // Same bytes on every kernel instance (AVX-512 / AVX2 / portable) and with
                    // narrow column strips (strip edges, reflection inside a strip's padding).
                    for k in DefocusRowKernels.supported {
                        XCTAssertEqual(DefocusKernels.apply(img, plan, kernels: k), fast, "\(k.isa) \(w)×\(h) severity \(si + 1)")
                    }
                    for strip in [8, 23] {
                        XCTAssertEqual(DefocusKernels.apply(img, plan, stripWidth: strip), fast, "strips of \(strip), \(w)×\(h)")
                    }
                }
            }
        }
        print("defocus fast vs direct: \(differing) of \(compared) values differ, max |Δ| \(worst)")
        XCTAssertLessThanOrEqual(Double(differing), 1e-5 * Double(compared))
    }

    /// Flat images come out exactly as with the direct sum (the model's mass equals ΣK, whose
    /// distance from 1 decides 255 → 254).
    func testFlatImages() throws {
        for v: UInt8 in [0, 1, 77, 254, 255] {
            let img = try Image(width: 40, height: 35, channels: 3, pixels: [UInt8](repeating: v, count: 40 * 35 * 3))
            for sev in Self.severities {
                XCTAssertEqual(DefocusKernels.defocus(img, radius: sev.radius, aliasBlur: sev.alias),
                               direct(img, radius: sev.radius, alias: sev.alias), "flat \(v), radius \(sev.radius)")
            }
        }
    }

    /// K = (g gᵀ) ⊛ D + E: (g gᵀ) ⊛ D rebuilt here by a direct 2-D full convolution of the float32
    /// disk array, plus the kept E taps, equals the reference kernel within 1e-9 per tap (the
    /// dropped taps are ≤ 1e-9 by construction); with the mass-corrected disk value the model is
    /// within 1.5e-9 per tap and has ΣK's mass; h(dx) reproduces the disk mask.
    func testDecompositionIdentity() {
        for sev in Self.severities {
            let r = sev.radius
            let p = DefocusKernels.plan(radius: r, aliasBlur: sev.alias)
            let kernel = BlurKernels.disk(radius: r, aliasBlur: sev.alias)
            let half = kernel.side / 2, kg = p.gaussian.count / 2
            let win = max(half, r + kg), n = 2 * win + 1
            // The flat float32 disk on the reference's grid and the float32 Gaussian.
            let diskSide = 2 * half + 1
            var mask = [Bool](repeating: false, count: diskSide * diskSide)
            var count = 0
            for y in -half...half { for x in -half...half where y * y + x * x <= r * r {
                mask[(y + half) * diskSide + x + half] = true; count += 1
            } }
            XCTAssertEqual(count, p.count)
            XCTAssertEqual(p.diskValue, Double(Float(1) / Float(count)))
            let g = BlurKernels.cvGaussian(2 * kg + 1, sigma: sev.alias).map { Double($0) }
            XCTAssertEqual(g, p.gaussian)
            func model(_ value: Double) -> [Double] {
                var c = [Double](repeating: 0, count: n * n)
                for y in -win...win { for x in -win...win {
                    var s = 0.0
                    for i in -kg...kg { for j in -kg...kg {
                        let (u, v) = (y - i, x - j)
                        if abs(u) <= half && abs(v) <= half && mask[(u + half) * diskSide + v + half] {
                            s += g[kg + i] * g[kg + j] * value
                        }
                    } }
                    c[(y + win) * n + x + win] = s
                } }
                for e in p.residual { c[(e.dy + win) * n + e.dx + win] += e.weight }
                return c
            }
            let exact = model(p.diskValue), corrected = model(p.diskScale)
            var worst = 0.0, worstCorrected = 0.0, mass = 0.0, modelMass = 0.0
            for y in -win...win { for x in -win...win {
                let k = abs(y) <= half && abs(x) <= half ? kernel.weights[(y + half) * kernel.side + x + half] : 0
                worst = max(worst, abs(exact[(y + win) * n + x + win] - k))
                worstCorrected = max(worstCorrected, abs(corrected[(y + win) * n + x + win] - k))
                mass += k; modelMass += corrected[(y + win) * n + x + win]
            } }
            XCTAssertLessThanOrEqual(worst, 1e-9, "radius \(r)")
            XCTAssertLessThanOrEqual(worstCorrected, 1.5e-9, "radius \(r)")
            XCTAssertEqual(modelMass, mass, accuracy: 1e-14, "radius \(r)")
            XCTAssertLessThanOrEqual(abs(p.diskScale / p.diskValue - 1), 1e-6, "radius \(r)")
            // E: only where the disk meets the kernel border (radius 8 and 10) are taps large.
            let largest = p.residual.map { abs($0.weight) }.max() ?? 0
            XCTAssertEqual(largest > 1e-6, r >= 8, "radius \(r): largest E tap \(largest)")
            XCTAssert(p.residual.allSatisfy { abs($0.dy) <= p.pad && abs($0.dx) <= p.pad })
            // h(dx) is the disk's half-height in column dx.
            XCTAssertEqual(p.halfHeights.count, 2 * r + 1)
            for dx in -r...r {
                let column = (-half...half).filter { mask[($0 + half) * diskSide + dx + half] }
                XCTAssertEqual(column, Array(-p.halfHeights[dx + r]...p.halfHeights[dx + r]), "radius \(r), dx \(dx)")
            }
        }
    }
}
