// ECE, RMS calibration error, GCE, AURRA, OOD detection and temperature scaling against direct
// float64 computations written here from the reference definitions (robustness_metrics
// uncertainty.py; Hendrycks' calibration_tools.py / display_results.py), edge cases, the
// accumulator contract (shards merged = one pass; serialize → deserialize is lossless) and bad
// input. The NumPy/scikit-learn oracles are in Tests/python/metrics_oracle.py.
import Glibc
import XCTest
@testable import StalwartMetrics

final class CalibrationTests: XCTestCase {
    struct Rng {
        var s: UInt64
        mutating func next() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) * 0x1p-53 }
        mutating func int(_ n: Int) -> Int { min(n - 1, Int(next() * Double(n))) }
    }

    /// Random logits (scale `spread`) and labels; labels drawn from the softmax half of the time
    /// so that the model is neither hopeless nor perfect.
    func randomLogits(n: Int, k: Int, seed: UInt64, spread: Double = 3) -> ([Float], [Int64]) {
        var r = Rng(s: seed)
        var scores = [Float](), labels = [Int64]()
        for _ in 0..<n {
            let row = (0..<k).map { _ in Float((r.next() * 2 - 1) * spread) }
            scores += row
            if r.next() < 0.5 {
                labels.append(Int64(row.firstIndex(of: row.max() ?? 0) ?? 0))
            } else {
                labels.append(Int64(r.int(k)))
            }
        }
        return (scores, labels)
    }

    /// Rows of probabilities with few distinct values (ties): row i puts `q` on one class and
    /// spreads 1 − q evenly, q from a small set of exactly representable values.
    func tiedProbabilities(n: Int, k: Int, seed: UInt64) -> ([Float], [Int64]) {
        var r = Rng(s: seed)
        let qs: [Float] = [0.5, 0.625, 0.75, 0.875, 1.0]
        var scores = [Float](), labels = [Int64]()
        for _ in 0..<n {
            let q = qs[r.int(qs.count)]
            let top = r.int(k)
            let rest = (1 - q) / Float(k - 1)
            scores += (0..<k).map { $0 == top ? q : rest }
            labels.append(Int64(r.next() < 0.6 ? top : r.int(k)))
        }
        return (scores, labels)
    }

    func add(_ m: MetricBox, _ scores: [Float], _ labels: [Int64], k: Int, kind: ScoreKind = .logits) throws {
        try scores.withUnsafeBufferPointer { s in
            try labels.withUnsafeBufferPointer { l in
                try m.add(try ScoreBatch(scores: s, labels: l, n: labels.count, k: k, kind: kind))
            }
        }
    }

    func run(_ spec: String, _ scores: [Float], _ labels: [Int64], k: Int, kind: ScoreKind = .logits) throws -> MetricBox {
        let m = try MetricBox.create(spec)
        try add(m, scores, labels, k: k, kind: kind)
        return m
    }

    func value(_ m: MetricBox, _ key: String) -> Double { m.result().first { $0.0 == key }?.1 ?? -12345 }

    /// float64 probabilities of row i, as the library computes them.
    func probs(_ scores: [Float], _ i: Int, k: Int, kind: ScoreKind) -> [Double] {
        let row = (0..<k).map { Double(scores[i * k + $0]) }
        if kind == .probabilities { return row }
        let m = row.max() ?? 0
        var z = 0.0
        for v in row { z += exp(v - m) }
        return row.map { exp($0 - m) / z }
    }

    /// (confidence, correct, argmax) per row, argmax = first maximal.
    func confCorrect(_ scores: [Float], _ labels: [Int64], k: Int, kind: ScoreKind) -> [(c: Double, ok: Bool, arg: Int)] {
        (0..<labels.count).map { i in
            let p = probs(scores, i, k: k, kind: kind)
            var a = 0
            for j in 1..<max(k, 1) where p[j] > p[a] { a = j }
            return (p[a], a == Int(labels[i]), a)
        }
    }

    // MARK: ECE

    func directECE(_ cc: [(c: Double, ok: Bool, arg: Int)], bins: Int) -> (Double, Double) {
        var cnt = [Double](repeating: 0, count: bins), acc = cnt, conf = cnt
        for e in cc {
            let b = min(bins - 1, max(0, Int((e.c * Double(bins)).rounded(.down))))
            cnt[b] += 1; acc[b] += e.ok ? 1 : 0; conf[b] += e.c
        }
        var w = 0.0, u = 0.0, ne = 0.0
        for b in 0..<bins where cnt[b] > 0 {
            let gap = abs(acc[b] / cnt[b] - conf[b] / cnt[b])
            w += cnt[b] / Double(cc.count) * gap; u += gap; ne += 1
        }
        return (w, u / ne)
    }

    func testECEAgainstDirectComputation() throws {
        for (n, k, seed) in [(2000, 10, UInt64(1)), (1, 3, 2), (37, 2, 3)] {
            let (s, l) = randomLogits(n: n, k: k, seed: seed)
            for bins in [15, 1, 7, 100] {
                let m = try run("ece:bins=\(bins)", s, l, k: k)
                let (w, u) = directECE(confCorrect(s, l, k: k, kind: .logits), bins: bins)
                XCTAssertEqual(value(m, "ece"), w, accuracy: 1e-12)
                XCTAssertEqual(value(m, "ece_unweighted"), u, accuracy: 1e-12)
                XCTAssertEqual(value(m, "count"), Double(n))
            }
        }
        let (s, l) = tiedProbabilities(n: 500, k: 4, seed: 4)
        let m = try run("ece", s, l, k: 4, kind: .probabilities)
        let (w, _) = directECE(confCorrect(s, l, k: 4, kind: .probabilities), bins: 15)
        XCTAssertEqual(value(m, "ece"), w, accuracy: 1e-12)
        XCTAssert(value(try MetricBox.create("ece"), "ece").isNaN)
    }

    /// Edges: a confidence on i/B goes to the bin above; 1.0 to the last bin.
    func testECEBinEdges() throws {
        // bins=4: conf 0.5 (correct) → bin 2; 0.75 (wrong) → bin 3; 1.0 (correct) → bin 3.
        let s: [Float] = [0.5, 0.5, 0.25, 0.75, 1, 0]
        let l: [Int64] = [0, 0, 0]
        let m = try run("ece:bins=4", s, l, k: 2, kind: .probabilities)
        // bin 2: acc 1, conf 0.5 → 0.5 (weight 1/3); bin 3: acc 0.5, conf 0.875 → 0.375 (2/3)
        XCTAssertEqual(value(m, "ece"), 0.5 / 3 + 0.375 * 2 / 3, accuracy: 1e-15)
        XCTAssertEqual(value(m, "ece_unweighted"), (0.5 + 0.375) / 2, accuracy: 1e-15)
        XCTAssertEqual(ECEMetric.bin(0.5, bins: 4), 2)
        XCTAssertEqual(ECEMetric.bin(1.0, bins: 4), 3)
        XCTAssertEqual(ECEMetric.bin(0.0, bins: 4), 0)
        XCTAssertEqual(ECEMetric.bin(0.2499999, bins: 4), 0)
        // All correct with confidence 1 (k = 1: one class of probability 1): perfectly calibrated.
        let one = try run("ece", [3, -2, 7], [0, 0, 0], k: 1)
        XCTAssertEqual(value(one, "ece"), 0)
        // All wrong: ece = mean confidence.
        let wrong = try run("ece", [0.25, 0.75, 0.375, 0.625], [0, 0], k: 2, kind: .probabilities)
        XCTAssertEqual(value(wrong, "ece"), 0.6875, accuracy: 1e-15)
    }

    // MARK: RMS calibration

    func directCalibErr(_ cc: [(c: Double, ok: Bool, arg: Int)], beta: Int, p: String, includeLast: Bool) -> Double {
        let s = cc.sorted { $0.c < $1.c || ($0.c == $1.c && !$0.ok && $1.ok) }
        let n = s.count
        if n < beta { return .nan }
        var bins = (0..<(n / beta)).map { [$0 * beta, ($0 + 1) * beta] }
        bins[bins.count - 1][1] = n
        var cerr = 0.0
        for i in 0..<(includeLast ? bins.count : bins.count - 1) {
            let part = s[bins[i][0]..<bins[i][1]]
            let mc = part.map { $0.c }.reduce(0, +) / Double(part.count)
            let mk = part.map { $0.ok ? 1.0 : 0 }.reduce(0, +) / Double(part.count)
            let d = abs(mc - mk)
            switch p {
            case "1": cerr += Double(part.count) / Double(n) * d
            case "max": cerr = max(cerr, d)
            default: cerr += Double(part.count) / Double(n) * d * d
            }
        }
        return p == "2" ? cerr.squareRoot() : cerr
    }

    func testRMSCalibrationAgainstDirectComputation() throws {
        let cases: [([Float], [Int64], Int, ScoreKind)] = [
            { let (s, l) = randomLogits(n: 1234, k: 10, seed: 5); return (s, l, 10, .logits) }(),
            { let (s, l) = tiedProbabilities(n: 777, k: 3, seed: 6); return (s, l, 3, .probabilities) }(),
        ]
        for (s, l, k, kind) in cases {
            let cc = confCorrect(s, l, k: k, kind: kind)
            for beta in [100, 7, 1000] {
                for p in ["1", "2", "max"] {
                    for last in [false, true] {
                        let m = try run("rms_calibration:bin_size=\(beta),p=\(p),include_last=\(last ? 1 : 0)", s, l, k: k, kind: kind)
                        let want = directCalibErr(cc, beta: beta, p: p, includeLast: last)
                        if want.isNaN { XCTAssert(value(m, "rms_calibration").isNaN); continue }
                        XCTAssertEqual(value(m, "rms_calibration"), want, accuracy: 1e-12, "beta \(beta) p \(p) last \(last)")
                    }
                }
            }
        }
        // n < bin_size: NaN (his code fails); 100 ≤ n < 200 with the last bin skipped: 0.
        let (s, l) = randomLogits(n: 150, k: 4, seed: 7)
        XCTAssert(value(try run("rms_calibration", Array(s[0..<(99 * 4)]), Array(l[0..<99]), k: 4), "rms_calibration").isNaN)
        XCTAssertEqual(value(try run("rms_calibration", s, l, k: 4), "rms_calibration"), 0)
        XCTAssertGreaterThan(value(try run("rms_calibration:include_last=1", s, l, k: 4), "rms_calibration"), 0)
        // bin_size 1, all correct with confidence 1: 0.
        XCTAssertEqual(value(try run("rms_calibration:bin_size=1,include_last=1", [1, 0, 1, 0], [0, 0], k: 2, kind: .probabilities), "rms_calibration"), 0)
    }

    // MARK: AURRA

    func testAURRA() throws {
        // Distinct confidences: Hendrycks' definition exactly.
        let (s, l) = randomLogits(n: 999, k: 6, seed: 8)
        let cc = confCorrect(s, l, k: 6, kind: .logits).sorted { $0.c > $1.c }
        var cum = 0.0, total = 0.0
        for (i, e) in cc.enumerated() { cum += e.ok ? 1 : 0; total += cum / Double(i + 1) }
        XCTAssertEqual(value(try run("aurra", s, l, k: 6), "aurra"), total / Double(cc.count), accuracy: 1e-12)
        // Ties: the mean over every order inside the tie groups (3 tied, 2 tied, 1).
        let confs: [Float] = [0.875, 0.875, 0.875, 0.75, 0.75, 0.625]
        let ok = [true, false, true, false, true, true]
        var ps = [Float](), ls = [Int64]()
        for (c, o) in zip(confs, ok) { ps += [c, 1 - c]; ls.append(o ? 0 : 1) }
        var curves = [Double]()
        for a in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            for b in [[3, 4], [4, 3]] {
                var c = 0.0, t = 0.0
                for (i, j) in (a + b + [5]).enumerated() { c += ok[j] ? 1 : 0; t += c / Double(i + 1) }
                curves.append(t / 6)
            }
        }
        let want = curves.reduce(0, +) / Double(curves.count)
        XCTAssertEqual(value(try run("aurra", ps, ls, k: 2, kind: .probabilities), "aurra"), want, accuracy: 1e-14)
        // All correct → 1, all wrong → 0, one example, empty → NaN.
        XCTAssertEqual(value(try run("aurra", [1, 0, 0.5, 0.5], [0, 0], k: 2, kind: .probabilities), "aurra"), 1)
        XCTAssertEqual(value(try run("aurra", [1, 0, 0.5, 0.5], [1, 1], k: 2, kind: .probabilities), "aurra"), 0)
        XCTAssertEqual(value(try run("aurra", [2, 1], [0], k: 2), "aurra"), 1)
        XCTAssert(value(try MetricBox.create("aurra"), "aurra").isNaN)
    }

    // MARK: GCE

    /// robustness_metrics `_GeneralCalibrationErrorMetric` restated (k ≥ 1, recalibration off).
    func directGCE(_ scores: [Float], _ labels: [Int64], k: Int, kind: ScoreKind, adaptive: Bool, bins: Int,
                   l2: Bool, cc: Bool, maxProb: Bool, threshold: Double, dpb: Int = 0) -> Double {
        let n = labels.count
        let B = dpb > 0 ? n / dpb : bins
        if B == 0 { return .nan }
        // entries per group
        var groups = [[(p: Double, hit: Double)]](repeating: [], count: cc ? k : 1)
        for i in 0..<n {
            let p = probs(scores, i, k: k, kind: kind)
            var a = 0
            for j in 1..<max(k, 1) where p[j] > p[a] { a = j }
            if maxProb {
                if p[a] > threshold { groups[cc ? a : 0].append((p[a], a == Int(labels[i]) ? 1 : 0)) }
            } else {
                for j in 0..<k where p[j] > threshold { groups[cc ? j : 0].append((p[j], j == Int(labels[i]) ? 1 : 0)) }
            }
        }
        func upper(_ vals: [Double]) -> [Double] {
            if !adaptive { return (1...B).map { $0 == B ? 1.0 : Double($0) * (1.0 / Double(B)) } }
            let s = vals.sorted()
            let idx = (0..<B).map { min(s.count - 1, Int((Double($0) * (Double(s.count) / Double(B))).rounded(.toNearestOrEven))) }
            return Array(idx.map { s[$0] }.dropFirst()) + [1.0]
        }
        var total = 0.0
        for g in groups {
            var err = 0.0
            if !g.isEmpty {
                let u = upper(g.map { $0.p })
                var cnt = [Double](repeating: 0, count: B + 1), sum = cnt, hit = cnt
                for e in g {
                    let b = u.filter { $0 <= e.p }.count
                    cnt[b] += 1; sum[b] += e.p; hit[b] += e.hit
                }
                for b in 0...B {
                    let c = cnt[b] + Double.ulpOfOne
                    let d = hit[b] / c - sum[b] / c
                    err += abs((l2 ? d * d : d) * (c / Double(g.count)))
                }
            }
            total += cc ? err / Double(k) : err
        }
        return l2 ? total.squareRoot() : total
    }

    func testGCEAgainstDirectComputation() throws {
        let sets: [([Float], [Int64], Int, ScoreKind)] = [
            { let (s, l) = randomLogits(n: 600, k: 5, seed: 9); return (s, l, 5, .logits) }(),
            { let (s, l) = tiedProbabilities(n: 400, k: 4, seed: 10); return (s, l, 4, .probabilities) }(),
            { let (s, l) = randomLogits(n: 3, k: 3, seed: 11); return (s, l, 3, .logits) }(),
        ]
        for (s, l, k, kind) in sets {
            for adaptive in [false, true] {
                for l2 in [false, true] {
                    for cc in [false, true] {
                        for maxProb in [false, true] {
                            for threshold in [0.0, 0.05, 0.3] {
                                for bins in [15, 4, 100] {
                                    let spec = "gce:binning=\(adaptive ? "adaptive" : "even"),bins=\(bins),norm=\(l2 ? "l2" : "l1"),class_conditional=\(cc ? 1 : 0),max_prob=\(maxProb ? 1 : 0),threshold=\(threshold)"
                                    let m = try run(spec, s, l, k: k, kind: kind)
                                    let want = directGCE(s, l, k: k, kind: kind, adaptive: adaptive, bins: bins, l2: l2, cc: cc,
                                                         maxProb: maxProb, threshold: threshold)
                                    XCTAssertEqual(value(m, "gce"), want, accuracy: 1e-12, spec)
                                }
                            }
                        }
                    }
                }
            }
        }
        // datapoints_per_bin (the registered "rmsce": adaptive, max-prob, l2, 100 per bin)
        let (s, l) = randomLogits(n: 1050, k: 7, seed: 12)
        let m = try run("gce:binning=adaptive,norm=l2,datapoints_per_bin=100", s, l, k: 7)
        XCTAssertEqual(value(m, "gce"), directGCE(s, l, k: 7, kind: .logits, adaptive: true, bins: 0, l2: true, cc: false,
                                                   maxProb: true, threshold: 0, dpb: 100), accuracy: 1e-12)
        XCTAssert(value(try run("gce:binning=adaptive,datapoints_per_bin=2000", s, l, k: 7), "gce").isNaN)
        XCTAssert(value(try MetricBox.create("gce"), "gce").isNaN)
        // Everything below the threshold: 0 (as the reference), entries 0.
        let t = try run("gce:threshold=1", s, l, k: 7)
        XCTAssertEqual(value(t, "gce"), 0); XCTAssertEqual(value(t, "entries"), 0); XCTAssertEqual(value(t, "count"), 1050)
        // k = 1: probability 1 everywhere, always correct: 0 (and p = 1.0 in the extra bin).
        XCTAssertEqual(value(try run("gce:max_prob=0,class_conditional=1", [1, 2, 3], [0, 0, 0], k: 1), "gce"), 0, accuracy: 1e-15)
    }

    /// Defaults = ECE-like (max-prob, even 15 bins, l1) and the documented edge difference:
    /// GCE puts p = 1.0 in a bin of its own, ECE in the last bin.
    func testGCEEdgesAndECERelation() throws {
        let (s, l) = randomLogits(n: 800, k: 10, seed: 13)
        XCTAssertEqual(value(try run("gce", s, l, k: 10), "gce"), value(try run("ece", s, l, k: 10), "ece"), accuracy: 1e-12)
        // conf 1.0 wrong, conf 0.96875 correct; 2 bins.
        let p: [Float] = [1, 0, 0.96875, 0.03125]
        let y: [Int64] = [1, 0]
        // ECE: one bin [0.5, 1]: acc 0.5, conf 0.984375 → 0.484375.
        XCTAssertEqual(value(try run("ece:bins=2", p, y, k: 2, kind: .probabilities), "ece"), 0.484375, accuracy: 1e-15)
        // GCE: bin 1 (0.96875, correct) → 0.03125/2; extra bin (1.0, wrong) → 1/2.
        XCTAssertEqual(value(try run("gce:bins=2", p, y, k: 2, kind: .probabilities), "gce"), 0.03125 / 2 + 0.5, accuracy: 1e-14)
        XCTAssertEqual(GCEMetric.digitize(0.5, GCEMetric.evenEdges(2)), 1)
        XCTAssertEqual(GCEMetric.digitize(1.0, GCEMetric.evenEdges(2)), 2)
        XCTAssertEqual(GCEMetric.digitize(0.4999, GCEMetric.evenEdges(2)), 0)
    }

    // MARK: OOD

    /// Direct OOD measures: AUROC by counting pairs, AP by its definition over distinct
    /// thresholds, FPR by Hendrycks' scan.
    func directOOD(_ msp: [Double], _ isOut: [Bool], recall: Double) -> [String: Double] {
        var auc = 0.0
        var nIn = 0.0, nOut = 0.0
        for i in msp.indices where !isOut[i] {
            nIn += 1
            for j in msp.indices where isOut[j] { auc += msp[i] > msp[j] ? 1 : (msp[i] == msp[j] ? 0.5 : 0) }
        }
        nOut = Double(msp.count) - nIn
        func curve(_ score: [Double], _ pos: [Bool]) -> (ap: Double, fpr: Double) {
            let ts = Array(Set(score)).sorted(by: >)
            let P = Double(pos.filter { $0 }.count), N = Double(pos.count) - P
            var ap = 0.0, prevR = 0.0
            var recalls = [Double](), fprs = [Double]()
            for t in ts {
                let tp = Double(score.indices.filter { score[$0] >= t && pos[$0] }.count)
                let fp = Double(score.indices.filter { score[$0] >= t && !pos[$0] }.count)
                ap += (tp / P - prevR) * tp / (tp + fp); prevR = tp / P
                recalls.append(tp / P); fprs.append(fp / N)
            }
            guard var i = recalls.firstIndex(where: { $0 >= 1 }) else { return (ap, .nan) }
            var best = i
            while i >= 0 { if abs(recalls[i] - recall) < abs(recalls[best] - recall) { best = i }; i -= 1 }
            return (ap, fprs[best])
        }
        let inV = curve(msp, isOut.map { !$0 }), outV = curve(msp.map { -$0 }, isOut)
        return ["auroc": auc / (nIn * nOut), "aupr_in": inV.ap, "aupr_out": outV.ap, "fpr_in": inV.fpr, "fpr_out": outV.fpr]
    }

    func testOODAgainstDirectComputation() throws {
        var r = Rng(s: 14)
        for (n, k, tied) in [(700, 5, false), (500, 3, true), (2, 2, false)] {
            var s = [Float](), l = [Int64]()
            let kind: ScoreKind = tied ? .probabilities : .logits
            if tied {
                (s, _) = tiedProbabilities(n: n, k: k, seed: 15)
                l = (0..<n).map { i in Int64(s[(i * k)..<(i * k + k)].max() ?? 0 < 0.7 ? (r.next() < 0.8 ? 1 : 0) : (r.next() < 0.2 ? 1 : 0)) }
            } else {
                (s, _) = randomLogits(n: n, k: k, seed: 16)
                l = (0..<n).map { Int64($0 % 2 == 0 || r.next() < 0.3 ? 1 : 0) }
                for i in 0..<n where l[i] == 1 { for j in 0..<k { s[i * k + j] *= 0.4 } }  // OOD: flatter
            }
            let msp = confCorrect(s, l, k: k, kind: kind).map { $0.c }
            for rec in [95, 90, 50] {
                let m = try run("ood:recall=\(rec)", s, l, k: k, kind: kind)
                let d = directOOD(msp, l.map { $0 == 1 }, recall: Double(rec) / 100)
                for key in ["auroc", "aupr_in", "aupr_out"] {
                    XCTAssertEqual(value(m, key), d[key] ?? .nan, accuracy: 1e-12, "\(key) n=\(n)")
                }
                XCTAssertEqual(value(m, "fpr\(rec)_in"), d["fpr_in"] ?? .nan, accuracy: 1e-15, "fpr_in n=\(n)")
                XCTAssertEqual(value(m, "fpr\(rec)_out"), d["fpr_out"] ?? .nan, accuracy: 1e-15, "fpr_out n=\(n)")
                XCTAssertEqual(value(m, "count_in") + value(m, "count_out"), Double(n))
            }
        }
        // Perfect separation: AUROC 1, both APs 1, both FPRs 0; reversed: AUROC 0.
        let p: [Float] = [0.9, 0.1, 0.8, 0.2, 0.6, 0.4, 0.55, 0.45]
        let good = try run("ood", p, [0, 0, 1, 1], k: 2, kind: .probabilities)
        for (key, v) in [("auroc", 1.0), ("aupr_in", 1), ("aupr_out", 1), ("fpr95_in", 0), ("fpr95_out", 0)] {
            XCTAssertEqual(value(good, key), v, key)
        }
        XCTAssertEqual(value(try run("ood", p, [1, 1, 0, 0], k: 2, kind: .probabilities), "auroc"), 0)
        // All tied: AUROC 1/2, AP = prevalence.
        let flat = try run("ood", [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [0, 1, 1], k: 2, kind: .probabilities)
        XCTAssertEqual(value(flat, "auroc"), 0.5)
        XCTAssertEqual(value(flat, "aupr_out"), 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(value(flat, "fpr95_out"), 1)
        // One kind only: NaN measures, counts kept.
        let only = try run("ood", p, [0, 0, 0, 0], k: 2, kind: .probabilities)
        XCTAssert(value(only, "auroc").isNaN); XCTAssertEqual(value(only, "count_in"), 4)
        // Labels other than 0/1 are errors and leave the state unchanged.
        let m = try run("ood", p, [0, 1, 0, 1], k: 2, kind: .probabilities)
        let before = m.serialize()
        XCTAssertThrowsError(try add(m, [0.2, 0.3, 0.5], [2], k: 3, kind: .probabilities))
        XCTAssertEqual(m.serialize(), before)
    }

    // MARK: Temperature scaling

    func meanNLL(_ s: [Float], _ l: [Int64], k: Int, t: Double) -> Double {
        var total = 0.0
        for i in 0..<l.count {
            let z = (0..<k).map { Double(s[i * k + $0]) / t }
            let m = z.max() ?? 0
            total += log(z.map { exp($0 - m) }.reduce(0, +)) + m - z[Int(l[i])]
        }
        return total / Double(l.count)
    }

    func testTemperatureScaling() throws {
        // Labels sampled from softmax(z / 2): the fitted T is near 2 and is a minimum.
        var r = Rng(s: 17)
        let n = 4000, k = 8
        var s = [Float](), l = [Int64]()
        for _ in 0..<n {
            let z = (0..<k).map { _ in Float((r.next() * 2 - 1) * 6) }
            s += z
            let w = z.map { exp(Double($0) / 2) }
            var u = r.next() * w.reduce(0, +), y = 0
            while y < k - 1 && u >= w[y] { u -= w[y]; y += 1 }
            l.append(Int64(y))
        }
        let t = try TemperatureScaling.fit(logits: s, labels: l, k: k)
        XCTAssertEqual(t, 2, accuracy: 0.2)
        let f = meanNLL(s, l, k: k, t: t)
        let h = 1e-4
        let slope = (meanNLL(s, l, k: k, t: t * exp(h)) - meanNLL(s, l, k: k, t: t * exp(-h))) / (2 * h)
        XCTAssertEqual(slope, 0, accuracy: 1e-7)
        XCTAssertLessThan(f, meanNLL(s, l, k: k, t: t * 1.001))
        XCTAssertLessThan(f, meanNLL(s, l, k: k, t: t / 1.001))
        let nll = try s.withUnsafeBufferPointer { sb in try l.withUnsafeBufferPointer { lb in
            try TemperatureScaling.nll(try ScoreBatch(scores: sb, labels: lb, n: n, k: k, kind: .logits), temperature: t) } }
        XCTAssertEqual(nll, f, accuracy: 1e-12)
        // Scaled logits refit to T = 1; apply divides.
        let scaled = try TemperatureScaling.apply(s, temperature: t)
        XCTAssertEqual(scaled[3], Float(Double(s[3]) / t))
        XCTAssertEqual(try TemperatureScaling.fit(logits: scaled, labels: l, k: k), 1, accuracy: 1e-6)
        // Overconfident logits (×5) → T ≈ 5·t.
        let hot = s.map { $0 * 5 }
        XCTAssertEqual(try TemperatureScaling.fit(logits: hot, labels: l, k: k) / (5 * t), 1, accuracy: 1e-6)
        // One example.
        XCTAssertEqual(try TemperatureScaling.fit(logits: [2, 0, 1.5], labels: [2], k: 3) > 0, true)
    }

    func testTemperatureBadInput() throws {
        // probabilities, k = 1, constant rows, separable data, labels no better than chance.
        XCTAssertThrowsError(try [Float(0.5), 0.5].withUnsafeBufferPointer { s in try [Int64(0)].withUnsafeBufferPointer { l in
            _ = try TemperatureScaling.fit(ScoreBatch(scores: s, labels: l, n: 1, k: 2, kind: .probabilities)) } })
        XCTAssertThrowsError(try TemperatureScaling.fit(logits: [1, 2], labels: [0, 0], k: 1))
        XCTAssertThrowsError(try TemperatureScaling.fit(logits: [1, 1, 3, 3], labels: [0, 1], k: 2))
        XCTAssertThrowsError(try TemperatureScaling.fit(logits: [5, 0, 0, 5], labels: [0, 1], k: 2))
        XCTAssertThrowsError(try TemperatureScaling.fit(logits: [5, 0, 0, 5], labels: [1, 0], k: 2))
        XCTAssertThrowsError(try TemperatureScaling.fit(logits: [.nan, 0], labels: [0], k: 2))
        XCTAssertThrowsError(try TemperatureScaling.fit(logits: [1, 0], labels: [2], k: 2))
        XCTAssertThrowsError(try TemperatureScaling.apply([1, 2], temperature: 0))
        XCTAssertThrowsError(try TemperatureScaling.apply([1, 2], temperature: .nan))
        XCTAssertThrowsError(try TemperatureScaling.apply([3e38, 2], temperature: 1e-3))
    }

    // MARK: Contract

    static let specs = [
        "ece", "ece:bins=7", "rms_calibration", "rms_calibration:bin_size=10,include_last=1,p=1", "aurra",
        "gce", "gce:binning=adaptive,norm=l2,bins=30", "gce:class_conditional=1,max_prob=0,threshold=0.01",
        "gce:binning=adaptive,class_conditional=1,max_prob=0,threshold=0.01,norm=l2",
        "gce:binning=adaptive,class_conditional=1,max_prob=1", "gce:binning=adaptive,datapoints_per_bin=50",
        "ood", "ood:recall=80",
    ]

    /// Shards merged equal one pass; serialize → deserialize → merge is lossless.
    func testMergeAndSerializationContract() throws {
        let n = 3000, k = 11
        var (scores, labels) = randomLogits(n: n, k: k, seed: 18)
        for spec in CalibrationTests.specs {
            if spec.hasPrefix("ood") { labels = labels.map { $0 % 2 } }
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
            // merging into an empty accumulator, in reverse order
            let reversed = try MetricBox.create(spec)
            try reversed.merge(merged)
            XCTAssertEqual(whole.result().count, merged.result().count)
            for ((ka, va), (kb, vb)) in zip(whole.result(), merged.result()) {
                XCTAssertEqual(ka, kb)
                XCTAssertEqual(va, vb, accuracy: 1e-12 * max(1, abs(va)), "\(spec) \(ka)")
                XCTAssertFalse(va.isNaN, "\(spec) \(ka)")
            }
            for ((_, va), (_, vb)) in zip(whole.result(), reversed.result()) { XCTAssertEqual(va, vb, accuracy: 1e-12) }
            XCTAssertEqual(try MetricBox.deserialize(whole.serialize()).serialize(), whole.serialize(), spec)
        }
    }

    func testBadInput() throws {
        for bad in ["ece:bins=0", "ece:bin=3", "ece:bins=x", "rms_calibration:p=3", "rms_calibration:bin_size=0",
                    "rms_calibration:include_last=2", "aurra:x=1", "gce:binning=sweep", "gce:norm=max", "gce:bins=0",
                    "gce:threshold=2", "gce:threshold=-0.1", "gce:datapoints_per_bin=100", "gce:max_prob=maybe",
                    "ood:recall=0", "ood:recall=101", "ood:k=3"] {
            XCTAssertThrowsError(try MetricBox.create(bad), bad)
        }
        // Different configurations or class counts do not merge.
        XCTAssertThrowsError(try MetricBox.create("ece").merge(try MetricBox.create("ece:bins=7")))
        XCTAssertThrowsError(try MetricBox.create("gce").merge(try MetricBox.create("gce:norm=l2")))
        XCTAssertThrowsError(try MetricBox.create("ood").merge(try MetricBox.create("aurra")))
        let g3 = try run("gce:class_conditional=1", [1, 2, 3], [0], k: 3)
        let g4 = try run("gce:class_conditional=1", [1, 2, 3, 4], [0], k: 4)
        XCTAssertThrowsError(try g3.merge(g4))
        XCTAssertThrowsError(try add(g3, [1, 2, 3, 4], [0], k: 4))
        XCTAssertEqual(value(g3, "count"), 1)
        // Corrupt states: truncation, trailing bytes, every single-byte change; never a crash.
        let n = 24, k = 3
        let (s, l0) = randomLogits(n: n, k: k, seed: 19)
        var r = Rng(s: 20)
        for spec in CalibrationTests.specs {
            let l = spec.hasPrefix("ood") ? l0.map { $0 % 2 } : l0
            let m = try run(spec, s, l, k: k)
            let bytes = m.serialize()
            XCTAssertThrowsError(try MetricBox.deserialize(Array(bytes.dropLast())), spec)
            XCTAssertThrowsError(try MetricBox.deserialize(bytes + [0]), spec)
            for i in 0..<bytes.count {
                for v: UInt8 in [0xFF, 0x80, UInt8(r.int(256))] {
                    var bad = bytes
                    if bad[i] == v { continue }
                    bad[i] = v
                    if let d = try? MetricBox.deserialize(bad) {
                        _ = d.result()
                        _ = try? d.merge(m)
                        _ = d.result()
                    }
                }
            }
        }
    }
}
