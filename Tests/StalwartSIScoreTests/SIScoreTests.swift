import Foundation
import XCTest
import StalwartImageIO
import StalwartTensor
@testable import StalwartSIScore

// Expected values below were produced by Python 3 / Pillow 13.0.0 / NumPy 2.4
// (Tests/python/siscore_oracle.py): `round`, `repr`, `Image.rotate(expand=True).size`, and two
// composites of a random 6×5 RGBA object (alpha in {0, 40, 128, 255}) on a random 12×10
// background (np.random.default_rng(3)).
private let fgHex = "f8c2beff931aedfff5d3efff059d9f2836ec6d28c752208024078680399208800e0f16ff90d0182807290bff3b68e100e2c908001a1ba3ff2129c9ff46a6e42832b30000893f0d28ff405e00089c19ff9d92be80db872780ed7f4800a815492810998c0050a33dff2fe59428616e38004ac13e28eeefe280"
private let bgHex = "27370b85a171ce5f5ee1ee40991f4217376dcd9b4c8816a9b8a62c85496a74ee26728dedfa7a0a35d502b09b61974da19dd8773f936a544cf94bc07c0ac4e3bd5fe6e14af9cadfb85a875da7ebbbfd37ec2b4963587773d43b94b9d731e55ba87d723501c3e8cbae1d1da139ff7bf0d1e7c9e3e92ff4b66d045efcf466853ac2b19f5a53cf13e4e09a0c74626ea3311a2c86ea97f26a8ad95a6409a8f26bd86461b2f5e6cb90cc7a4fcbbc62af2e762586c76b36a611ccb29df095cc4e1cbf4a0e2cf3a0aef902df3b6dfb2567ef7e4687772d8600c3d28f49fef265bfde4f66f2170321efa2e79c4fa27beefff2563242aa1fcc0353272e95b5430b033e32bffe686e2ec5b691c0a5bfb25444762591c342bff0b2e0cbebfb35f9796eacad34451f3240f6a7d4d9bff8bb969fc0422b8caad2e2c825e0f60f900cf89d53aa9f4b9dc1f965bc5c9bf4673680028a76f895bbda9ad6f97ac93702d6561e0838ca6dd339f9a816d90d"
private let out1Hex = "27370b85a171ce5f5ee1ee40991f4217376dcd9b4c8816a9b8a62c85496afa7a0a35d502b09b61974da19dd8773f936a544cf94bc07c0ac4e3bd5fe65a875da7ebbbfd37ec2b4963587773d43b94b9d731e55ba87d723501c3e8ff7bf0d1e7c9e3e92fe9a75a5059b5f466853ac2b19f5a53cf13e4e09a0c2c86eae2fbd582d2551c2f2fd260bb6461b2f5e6cb90cc7a4fcbbc62af2ea214ffa985a677983c1e9f34112ae99693d202df3b6dfb2567ef7e468777719ab427724a0712933d2e4af0a6daa05ea7b8ebf0f2563242aa1fcc0353033539485d8a285ba6d393b4aeb395575f6f2591c342bff0b2e0cbebfb35451f3236e69123b014b8bc859fc0422b8caad2e2c825e0f60f900cf89d5365bc5c9bf4674a91248a76f895bbda9ad6f97ac93702d6561e0838ca6dd3"
private let out2Hex = "27370b5065388a9d70b77464d48c55e0e542b97a4181244a2f336567635fc2814c9e3b81984382af9b379378596f517f83540b75802368b443a38d56c18863c1a56aab8861856d5d3e6368596a7f946c837c628368727e528c616a7272895c8ef07b0fa2a30f44d21390a94da97f7a93519a95988789c575589a6e5075a55a5be5589092318f6f0c5e51355b609068ac8c834389ae5e89db85c782adb553a9564b7b5f7575788a789b6283a07c7d9ba872a98687786b6a2f53332666573194b28e838b9fb0a2b8e2bee095b6c96e99726b6b516e855c689bc05092bc847895c95cc3796eb555657f544f5a8b763db599f57ce7e4abd9d0e7bfdde067e5cf4ae7b2696a83b83561dfc6639aa58d9548bda4857b71b84c53bc3894bd766bb9a92a8881ed9ab0c6b0ec8fb1e45facb45da45d8a955ec08e65da9f64aca395ada2d3ba9bad84ad7051887cc792936c99a61f4370e46aa2ba9be18091da657ba16b5a36929648beb662d8806dc596a3b9c4e3ac9dda8079d48057d2ac59ba6f5da83c8f27d29c61d4abafcf9bc47b72bf5430a05b3264ae4a4bed848cec69bcaa34e2545fec3f6eef5063e98455b6774b8f697d79dd858fe28fabe37fa3b05a907920703e4b659e7966e9967ed871afb63ee38b84c34b8ebc385ccf526e875f814d6745f2e655dddf69bdd85981e84247b2241137936193da93d7a75fac8992c87ce0efc48979b6763853a92b945640ce1351197a6e55ab7c9fe0917875bd6f4bbd836292a492acada1b77a5c8f5875a843add467a4bf80adab8ecc97bdbc65e1ae3e1834324f8b5297f2809193ada176bec79bb4b4b19f92ac8e586d88507ea259acc844c0e44fc8d37bc795bed462efde3e412132447e6350f4a5a4dbb7d9c8b3f2ba9bc4bd6c8ab55b43929671adb5bdddcb59dee822c7b01a9a26969d38f7a35157774a64af6374f08179bf648fa17ab696c6a8abaf90bca473b7cb82c3ac98d5793ed99013ab77174d2c876767de829b65bc5c7dd56195ed6156a422507d4f8577e9909de796c0e099d1f38cd0a473ca3928d24c0b964d1c153a7f418fca6dd3"

private func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
    return out
}

final class PyMathTests: XCTestCase {
    func testRoundMatchesPython() {
        let cases: [(Double, Int, Double)] = [
            (0.125, 2, 0.12), (0.375, 2, 0.38), (2.675, 2, 2.67), (0.95125, 4, 0.9513),
            (0.8660254037844387, 15, 0.866025403784439), (-0.35836794954530027, 15, -0.3583679495453),
            (0.99995, 4, 1.0), (0.3333333333333333, 4, 0.3333),
        ]
        for (x, d, want) in cases { XCTAssertEqual(PyMath.round(x, d), want, "round(\(x), \(d))") }
    }

    func testReprMatchesPython() {
        let cases: [(Double, String)] = [
            (0.15000000000000002, "0.15000000000000002"), (1.0, "1.0"), (0.05, "0.05"), (1e-05, "1e-05"), (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"), (1e16, "1e+16"), (2.5e-7, "2.5e-07"), (0.1 + 0.2, "0.30000000000000004"),
            (5e-324, "5e-324"), (0, "0.0"), (-0.5, "-0.5"), (21, "21.0"),
        ]
        for (x, want) in cases { XCTAssertEqual(PyMath.repr(x), want) }
    }

    func testPythonModulo() {
        XCTAssertEqual(PyMath.mod(-30, 360), 330)
        XCTAssertEqual(PyMath.mod(375, 360), 15)
        XCTAssertEqual(PyMath.mod(720, 360), 0)
    }
}

final class RotationTests: XCTestCase {
    func testExpandedSizesMatchPillow() {
        let cases: [(Int, Int, Double, Int, Int)] = [
            (30, 20, 45, 36, 36), (7, 13, 1, 9, 15), (100, 37, 341, 108, 69), (64, 64, 90, 64, 64), (5, 9, 270, 9, 5),
            (33, 21, 180, 33, 21), (12, 12, -30, 18, 18),
        ]
        for (w, h, a, ew, eh) in cases {
            let r = PillowRotation(width: w, height: h, degrees: a)
            XCTAssertEqual(r.width, ew, "\(w)×\(h) @\(a)")
            XCTAssertEqual(r.height, eh, "\(w)×\(h) @\(a)")
        }
        XCTAssertEqual(PillowRotation(width: 5, height: 9, degrees: 90).kind, .rotate90)
        XCTAssertEqual(PillowRotation(width: 5, height: 9, degrees: 360).kind, .copy)
    }

    func testQuarterTurnsAreExactTransposes() throws {
        let img = try Image(width: 3, height: 2, channels: 4, pixels: (0..<24).map { UInt8($0 * 10) })
        let r90 = try PillowOps.rotate(img, degrees: 90)
        XCTAssertEqual(r90.width, 2); XCTAssertEqual(r90.height, 3)
        // Counter-clockwise: the top-right pixel (x 2, y 0) becomes the top-left.
        XCTAssertEqual(Array(r90.pixels[0..<4]), Array(img.pixels[8..<12]))
        let back = try PillowOps.rotate(try PillowOps.rotate(r90, degrees: 180), degrees: 90)
        XCTAssertEqual(back, img)
    }
}

final class CompositeTests: XCTestCase {
    func testCompositeMatchesPillow() throws {
        let fg = try Image(width: 6, height: 5, channels: 4, pixels: bytes(fgHex))
        let bg = try Image(width: 12, height: 10, channels: 3, pixels: bytes(bgHex))
        let b1 = try SIScoreCompositor.prepareBackground(bg, resolution: nil)
        XCTAssertEqual(b1.width, 10)
        let c1 = try SIScoreCompositor.composite(foreground: fg, background: b1, area: 0.3, x: 0.3, y: 0.7, angle: 33)
        XCTAssertEqual(c1.image.pixels, bytes(out1Hex))
        XCTAssertEqual(c1.pctInside, 0.7777777777777778)
        let b2 = try SIScoreCompositor.prepareBackground(bg, resolution: 16)
        let c2 = try SIScoreCompositor.composite(foreground: fg, background: b2, area: 0.5, x: 1.0, y: 0.0, angle: 200)
        XCTAssertEqual(c2.image.pixels, bytes(out2Hex))
        XCTAssertEqual(c2.pctInside, 0.25)
    }

    func testBadArgumentsThrow() throws {
        let fg = try Image(width: 6, height: 5, channels: 4)
        let bg = try Image(width: 10, height: 10, channels: 3)
        for (a, x, y, angle) in [(0.0, 0.5, 0.5, 0.0), (1.01, 0.5, 0.5, 0.0), (.nan, 0.5, 0.5, 0.0), (0.5, -0.1, 0.5, 0.0),
                                 (0.5, 0.5, 2.0, 0.0), (0.5, 0.5, 0.5, .infinity), (1e-9, 0.5, 0.5, 0.0)] {
            XCTAssertThrowsError(try SIScoreCompositor.composite(foreground: fg, background: bg, area: a, x: x, y: y, angle: angle),
                                 "\(a) \(x) \(y) \(angle)")
        }
        XCTAssertThrowsError(try SIScoreCompositor.prepareBackground(bg, resolution: 0))
    }
}

final class ConfigTests: XCTestCase {
    func testPresets() throws {
        let size = try SIScoreConfig.preset("size")
        XCTAssertEqual(size.areas.count, 100)
        XCTAssertEqual(size.areas.first, 0.01); XCTAssertEqual(size.areas.last, 1.0); XCTAssertEqual(size.areas[6], 0.07)
        XCTAssertEqual(size.resolution, 512)
        let rot = try SIScoreConfig.preset("rotation")
        XCTAssertEqual(rot.angles, stride(from: 1.0, to: 361, by: 20).map { $0 })
        XCTAssertEqual(rot.angles.count, 18); XCTAssertEqual(rot.areas, [0.2, 0.5, 0.8, 1.0])
        let loc = try SIScoreConfig.preset("location")
        XCTAssertEqual(loc.centres.count, 441)
        XCTAssertEqual(loc.centres[3].y, 0.15000000000000002)   // np.arange(0, 1.05, 0.05)[3]
        XCTAssertEqual(loc.centres[440], SIMD2(1.0, 1.0))
        XCTAssertEqual(loc.minPctInside, 0); XCTAssertEqual(loc.resolution, 500)
        XCTAssertEqual(try SIScoreConfig.grid(21), loc.centres)
        XCTAssertThrowsError(try SIScoreConfig.preset("diagonal"))
    }

    func testSetRejectsBadValuesAndKeepsConfig() throws {
        var c = try SIScoreConfig.preset("size")
        for (k, v) in [("areas", "0.5,0"), ("areas", "x"), ("angles", ""), ("centres", "0.5"), ("centres", "2:0.5"),
                       ("grid", "1"), ("resolution", "4"), ("min_pct_inside", "1.5"), ("seed", "-1"), ("colour", "red")] {
            XCTAssertThrowsError(try c.set(k, v), "\(k)=\(v)")
        }
        XCTAssertEqual(c, try SIScoreConfig.preset("size"))
        try c.set("centres", "0.25:0.75, 1:0")
        XCTAssertEqual(c.centres, [SIMD2(0.25, 0.75), SIMD2(1, 0)])
    }

    func testSplitMix64ReferenceOutputs() {
        var r = SIScorePairing(seed: 0)
        XCTAssertEqual([r.next(), r.next(), r.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        var d = SIScorePairing(seed: 7)
        XCTAssertEqual(d.draw(2, of: 8), [7, 4])
        XCTAssertEqual(d.draw(3, of: 5), [1, 4, 3])
        XCTAssertEqual(d.draw(2, of: 2), [1, 0])
    }
}

final class ScoresTests: XCTestCase {
    func testGroupsAndAverages() {
        func r(_ area: Double, _ x: Double, _ c1: Bool, _ c5: Bool) -> SIScoreResult {
            SIScoreResult(factors: ["area": area, "rotation": 0, "x_coord": x, "y_coord": 0.5], correct1: c1, correct5: c5)
        }
        let s = SIScoreScores.compute([r(0.1, 0.5, false, true), r(0.1, 0.5, true, true), r(0.1, 0.5, false, false),
                                       r(0.5, 0.251, true, true), r(0.5, 0.249, false, true)])
        XCTAssertEqual(s.area.map(\.x), [0.1, 0.5])
        XCTAssertEqual(s.area[0].top1, 1.0 / 3); XCTAssertEqual(s.area[0].top5, 2.0 / 3); XCTAssertEqual(s.area[1].top1, 0.5)
        XCTAssertEqual(s.average("size"), (1.0 / 3 + 0.5) / 2)
        XCTAssertTrue(s.rotation.isEmpty)                       // one angle only: not a swept factor
        XCTAssertEqual(s.location.count, 2)                    // 0.251 and 0.249 both format as 0.25 → one cell, plus 0.50
        XCTAssertEqual(s.location.map(\.x), [0.25, 0.5])
        XCTAssertEqual(s.location[0].count, 2)
        XCTAssertEqual(SIScoreScores.groupName("location", s.location[0]), "location(0.25,0.50)")
        XCTAssertEqual(SIScoreScores.groupName("rotation", SIScorePoint(x: 121, y: nil, top1: 0, top5: 0, count: 1)), "rotation(121)")
        XCTAssertEqual(s.factors, ["size", "location"])
    }
}

final class GeneratorTests: XCTestCase {
    func testGeneratesAndPlots() throws {
        let root = NSTemporaryDirectory() + "siscore-gen-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for cls in ["koala", "n01440764", "7"] {
            try FileManager.default.createDirectory(atPath: "\(root)/fg/\(cls)", withIntermediateDirectories: true)
            let obj = try Image(width: 8, height: 6, channels: 4, pixels: [UInt8](repeating: 200, count: 8 * 6 * 4))
            try ImageCodec.write(obj, path: "\(root)/fg/\(cls)/a.png")
        }
        try FileManager.default.createDirectory(atPath: "\(root)/bg", withIntermediateDirectories: true)
        for i in 0..<3 { try ImageCodec.write(try Image(width: 40 + i, height: 30, channels: 3), path: "\(root)/bg/b\(i).jpg") }
        var c = try SIScoreConfig.preset("size")
        try c.set("areas", "0.1,0.5")
        try c.set("resolution", "32")
        let g = try SIScoreGenerator(config: c, foregrounds: "\(root)/fg", backgrounds: "\(root)/bg")
        XCTAssertEqual(g.classes, ["7", "koala", "n01440764"])
        XCTAssertEqual(g.labels, [7, 105, 0])
        XCTAssertEqual(g.items.count, 2 * 3 * 2)
        for k in stride(from: 0, to: 6, by: 2) { XCTAssertNotEqual(g.items[k].background, g.items[k + 1].background) }
        let csv = g.metadataCSV(g.items)
        XCTAssertTrue(csv.hasPrefix("image_id,x_coord,y_coord,area,rotation,foreground_class,foreground_instance,background,"
                                    + "bg_resolution_width,bg_resolution_height,pct_inside_image\r\n0,0.5,0.5,0.1,0,0,0,"))
        let s = try g.write(to: "\(root)/out", threads: 2)
        XCTAssertEqual(s.written, 12)
        let img = try ImageCodec.decode(path: "\(root)/out/" + g.items[4].key(classes: g.classes))
        XCTAssertEqual(img.width, 32)
        let ds = g.dataset(root: root)
        XCTAssertEqual(ds.samples.count, 12)
        XCTAssertEqual(ds.labelSpace, "imagenet")
        let png = try SIScorePlots.curvePNG([SIScorePoint(x: 0.1, y: nil, top1: 0.2, top5: 0.5, count: 3),
                                             SIScorePoint(x: 0.5, y: nil, top1: 0.8, top5: 0.9, count: 3)], title: "T", xLabel: "area")
        let decoded = try png.withUnsafeBytes { try ImageCodec.decode($0) }
        XCTAssertEqual(decoded.width, 640); XCTAssertEqual(decoded.height, 420)
        XCTAssertThrowsError(try SIScoreGenerator(config: c, foregrounds: "\(root)/missing", backgrounds: "\(root)/bg"))
        try FileManager.default.createDirectory(atPath: "\(root)/fg/spaceship", withIntermediateDirectories: true)
        try ImageCodec.write(try Image(width: 4, height: 4, channels: 4), path: "\(root)/fg/spaceship/s.png")
        XCTAssertThrowsError(try SIScoreGenerator(config: c, foregrounds: "\(root)/fg", backgrounds: "\(root)/bg"))
    }
}
