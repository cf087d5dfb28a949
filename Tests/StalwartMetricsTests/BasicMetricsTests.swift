// Accuracy, NLL, Brier and agreement against direct float64 computations written here, the
// accumulator contract (shards merged = one pass; serialize → deserialize is lossless) and bad
// input. The NumPy/scikit-learn oracles are in Tests/python/test_metrics*.py.
import Glibc
import XCTest
@testable import StalwartMetrics

final class BasicMetricsTests: XCTestCase {
    struct Rng { var s: UInt64; mutating func next() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) * 0x1p-53 } }

    func randomBatch(n: Int, k: Int, seed: UInt64) -> ([Float], [Int64]) {
        var r = Rng(s: seed)
        let scores = (0..<(n * k)).map { _ in Float(r.next() * 8 - 4) }
        let labels = (0..<n).map { _ in Int64(r.next() * Double(k)) }
        return (scores, labels)
    }

    func add(_ m: MetricBox, _ scores: [Float], _ labels: [Int64], k: Int, kind: ScoreKind = .logits) throws {
        try scores.withUnsafeBufferPointer { s in
            try labels.withUnsafeBufferPointer { l in
                try m.add(try ScoreBatch(scores: s, labels: l, n: labels.count, k: k, kind: kind))
            }
        }
    }

    func value(_ m: MetricBox, _ key: String) -> Double { m.result().first { $0.0 == key }?.1 ?? .nan }

    func testAgainstDirectComputation() throws {
        let n = 500, k = 7
        let (scores, labels) = randomBatch(n: n, k: k, seed: 1)
        var top1 = 0, top3 = 0, nll = 0.0, brier = 0.0
        for i in 0..<n {
            let row = (0..<k).map { Double(scores[i * k + $0]) }
            let m = row.max()!
            let z = row.map { exp($0 - m) }.reduce(0, +)
            let p = row.map { exp($0 - m) / z }
            let y = Int(labels[i])
            if row.firstIndex(of: m)! == y { top1 += 1 }
            if row.filter({ $0 > row[y] }).count < 3 { top3 += 1 }
            nll -= log(p[y])
            brier += (0..<k).map { ($0 == y ? p[$0] - 1 : p[$0]) * ($0 == y ? p[$0] - 1 : p[$0]) }.reduce(0, +)
        }
        let acc = try MetricBox.create("accuracy:k=3"), nl = try MetricBox.create("nll"), br = try MetricBox.create("brier")
        for m in [acc, nl, br] { try add(m, scores, labels, k: k) }
        XCTAssertEqual(value(acc, "top1"), Double(top1) / Double(n))
        XCTAssertEqual(value(acc, "top3"), Double(top3) / Double(n))
        XCTAssertEqual(value(nl, "nll"), nll / Double(n), accuracy: 1e-12)
        XCTAssertEqual(value(br, "brier"), brier / Double(n), accuracy: 1e-12)
    }

    /// Shards merged equal one pass; serialize → deserialize → merge is lossless.
    func testMergeAndSerializationContract() throws {
        let n = 3000, k = 11
        let (scores, labels) = randomBatch(n: n, k: k, seed: 2)
        for spec in ["accuracy:k=2", "nll", "brier", "agreement"] {
            let whole = try MetricBox.create(spec)
            try add(whole, scores, labels, k: k)
            let cuts = [0, 1, 700, 701, 2500, n]
            var merged = try MetricBox.create(spec)
            for c in 0..<(cuts.count - 1) {
                let part = try MetricBox.create(spec)
                let a = cuts[c], b = cuts[c + 1]
                if b > a { try add(part, Array(scores[(a * k)..<(b * k)]), Array(labels[a..<b]), k: k) }
                let copy = try MetricBox.deserialize(part.serialize())
                try merged.merge(copy)
                merged = try MetricBox.deserialize(merged.serialize())
            }
            for ((ka, va), (kb, vb)) in zip(whole.result(), merged.result()) {
                XCTAssertEqual(ka, kb)
                XCTAssertEqual(va, vb, accuracy: 1e-12 * max(1, abs(va)), "\(spec) \(ka)")
            }
        }
    }

    func testBadInput() throws {
        XCTAssertThrowsError(try MetricBox.create("nope"))
        XCTAssertThrowsError(try MetricBox.create("accuracy:k=0"))
        XCTAssertThrowsError(try MetricBox.create("accuracy:kk=2"))
        let m = try MetricBox.create("accuracy")
        XCTAssertThrowsError(try add(m, [1, 2, .nan], [0], k: 3))
        XCTAssertThrowsError(try add(m, [1, 2, 3], [3], k: 3))
        XCTAssertThrowsError(try add(m, [1, 2, 3], [-1], k: 3))
        XCTAssertThrowsError(try add(m, [0.5, 0.6, 0.1], [0], k: 3, kind: .probabilities))
        XCTAssertThrowsError(try add(m, [1.5, -0.5, 0], [0], k: 3, kind: .probabilities))
        XCTAssertThrowsError(try [Float]().withUnsafeBufferPointer { s in try [Int64]().withUnsafeBufferPointer { l in
            _ = try ScoreBatch(scores: s, labels: l, n: 0, k: 3, kind: .logits) } })
        let bytes = m.serialize()
        XCTAssertThrowsError(try MetricBox.deserialize(Array(bytes.dropLast())))
        XCTAssertThrowsError(try MetricBox.deserialize(bytes + [0]))
        XCTAssertThrowsError(try MetricBox.deserialize([UInt8](repeating: 7, count: 40)))
        var bad = bytes; bad[4] = 9
        XCTAssertThrowsError(try MetricBox.deserialize(bad))
        XCTAssertThrowsError(try MetricBox.create("accuracy").merge(try MetricBox.create("nll")))
        XCTAssertThrowsError(try MetricBox.create("accuracy:k=2").merge(try MetricBox.create("accuracy:k=3")))
        XCTAssert(value(try MetricBox.create("nll"), "nll").isNaN)
    }
}
