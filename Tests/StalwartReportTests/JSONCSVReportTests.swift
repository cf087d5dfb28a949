import Foundation
import XCTest
@testable import StalwartReport

final class JSONReportTests: XCTestCase {
    func testTopLevelAndRunFields() throws {
        let input = realisticInput()
        let root = try jsonObject(Report.json(input))
        XCTAssertEqual(root["stalwart_version"] as? String, "0.9.0")
        XCTAssertEqual(root["generated"] as? String, "2026-11-29T10:00:00Z")
        let runs = try XCTUnwrap(root["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, input.runs.count)
        let r0 = runs[0]
        XCTAssertEqual(r0["model"] as? String, "resnet50")
        XCTAssertEqual(r0["model_sha256"] as? String, input.runs[0].modelHash)
        XCTAssertEqual(r0["suite"] as? String, "imagenet")
        XCTAssertEqual(r0["resolution"] as? Int, 160)
        XCTAssertEqual(r0["crop_pct"] as? Double, 0.875)
        XCTAssertEqual(r0["interpolation"] as? String, "bicubic")
        XCTAssertEqual(r0["preprocess"] as? String, "timm")
        let m0 = try XCTUnwrap(r0["metrics"] as? [String: Any])
        XCTAssertEqual(m0["imagenet/top1"] as? Double, 0.742)
        XCTAssertEqual(m0["imagenet/ece"] as? Double, 0.031)
    }

    func testImageNetCKeysAndMeans() throws {
        let input = realisticInput()
        let text = Report.json(input)
        let runs = try XCTUnwrap(try jsonObject(text)["runs"] as? [[String: Any]])
        let idx = try XCTUnwrap(input.runs.firstIndex { $0.suite == "imagenet-c" })
        let run = input.runs[idx]
        let m = try XCTUnwrap(runs[idx]["metrics"] as? [String: Any])
        XCTAssertEqual(m["imagenet_c/mce"] as? Double, run.summary["mce"])
        XCTAssertEqual(m["imagenet_c/relative_mce"] as? Double, run.summary["relative_mce"])
        XCTAssertEqual(m["imagenet/top1"] as? Double, run.clean("top1"), "clean cell under imagenet/")
        XCTAssertNil(m["imagenet_c/top5/0"])
        let clean = try XCTUnwrap(run.clean("top1"))
        for (ci, c) in allCorruptions.enumerated() {
            var sum = 0.0
            for s in 1...5 {
                let v = syntheticTop1(clean: clean, corruptionIndex: ci, severity: s)
                // corelibs JSONSerialization parses doubles inexactly: check the value loosely and the text exactly.
                XCTAssertEqual(try XCTUnwrap(m["imagenet_c/\(c)/\(s)/top1"] as? Double), v, accuracy: 1e-12, "\(c)/\(s)")
                XCTAssertTrue(text.contains("\"imagenet_c/\(c)/\(s)/top1\": \(v.description),"), "\(c)/\(s) round-trip")
                sum += v
            }
            let mean = try XCTUnwrap(m["imagenet_c/\(c)/top1"] as? Double, c)
            XCTAssertEqual(mean, sum / 5, accuracy: 1e-12, c)
        }
        XCTAssertEqual(m["imagenet_c/gaussian_noise/ce"] as? Double, 0.55)
        XCTAssertNotNil(m["imagenet_c/top1"])
        let ce = runs.first { ($0["suite"] as? String) == "imagenet-vid-robust" }?["metrics"] as? [String: Any]
        XCTAssertEqual(ce?["imagenet_vid_robust/pm10"] as? Double, 0.48)
        let a = runs.first { ($0["suite"] as? String) == "imagenet-a" }?["metrics"] as? [String: Any]
        XCTAssertEqual(a?["imagenet_a/top1"] as? Double, 0.0003)
    }

    func testKeysSortedAndNaNIsNull() throws {
        var run = suiteRun("m\u{1}\"\\", hash: "h", suite: "objectnet", resolution: 224, top1: .nan)
        run.summary = ["zeta": 1, "alpha": .infinity]
        let text = Report.json(ReportInput(generated: "g", version: "v", runs: [run]))
        XCTAssertFalse(text.contains("nan") || text.contains("inf"))
        let root = try jsonObject(text)
        let r = try XCTUnwrap((root["runs"] as? [[String: Any]])?.first)
        XCTAssertEqual(r["model"] as? String, "m\u{1}\"\\")
        let m = try XCTUnwrap(r["metrics"] as? [String: Any])
        XCTAssertTrue(m["objectnet/top1"] is NSNull)
        XCTAssertTrue(m["objectnet/alpha"] is NSNull)
        let order = ["\"objectnet/alpha\"", "\"objectnet/top1\"", "\"objectnet/top5\"", "\"objectnet/zeta\""]
            .compactMap { text.range(of: $0)?.lowerBound }
        XCTAssertEqual(order.count, 4)
        XCTAssertEqual(order, order.sorted())
        let top = ["\"generated\"", "\"runs\"", "\"stalwart_version\"", "\"title\""].compactMap { text.range(of: $0)?.lowerBound }
        XCTAssertEqual(top, top.sorted())
    }

    func testEmptyInput() throws {
        let root = try jsonObject(Report.json(ReportInput(generated: "", version: "", runs: [])))
        XCTAssertEqual((root["runs"] as? [Any])?.count, 0)
    }
}

final class CSVReportTests: XCTestCase {
    func testRowsSortedWithDiffs() throws {
        let input = realisticInput()
        let rows = parseCSV(Report.csv(input))
        XCTAssertEqual(rows.first, ["model", "top1", "top5", "img_size", "crop_pct", "interpolation", "top1_diff", "suite"])
        let body = Array(rows.dropFirst())
        XCTAssertEqual(body.count, input.runs.count)
        XCTAssertTrue(body.allSatisfy { $0.count == 8 })
        let top1s = body.compactMap { Double($0[1]) }
        XCTAssertEqual(top1s.count, body.count)
        XCTAssertEqual(top1s, top1s.sorted(by: >))
        XCTAssertEqual(body.first?[0], "convnext_tiny")
        XCTAssertEqual(body.first?[1], "82.100")
        let imagenet224 = try XCTUnwrap(body.first { $0[0] == "resnet50" && $0[7] == "imagenet" && $0[3] == "224" })
        XCTAssertEqual(imagenet224[1], "76.130")
        XCTAssertEqual(imagenet224[4], "0.875")
        XCTAssertEqual(imagenet224[6], "0.000")
        let a = try XCTUnwrap(body.first { $0[0] == "resnet50" && $0[7] == "imagenet-a" })
        XCTAssertEqual(a[1], "0.030")
        XCTAssertEqual(a[6], "-76.100")
        // imagenet-c row: mean over corrupted cells, diff against the clean run at the same resolution.
        let c160 = try XCTUnwrap(body.first { $0[0] == "resnet50" && $0[7] == "imagenet-c" && $0[3] == "160" })
        var sum = 0.0
        for ci in 0..<19 { for s in 1...5 { sum += syntheticTop1(clean: 0.742, corruptionIndex: ci, severity: s) } }
        let expected = sum / 95 * 100
        XCTAssertEqual(try XCTUnwrap(Double(c160[1])), expected, accuracy: 0.0006)
        XCTAssertEqual(try XCTUnwrap(Double(c160[6])), expected - 74.2, accuracy: 0.0015)
        XCTAssertEqual(c160[5], "bilinear")
        // A model without an imagenet run has an empty diff.
        let vit = ReportRun(model: "lonely", modelHash: "", suite: "imagenet-r", resolution: 224,
                            cells: [ReportCell(corruption: "", severity: 0, count: 1, metrics: ["top1": 0.5])])
        let lonely = parseCSV(Report.csv(ReportInput(generated: "", version: "", runs: [vit])))
        XCTAssertEqual(lonely.last?[6], "")
    }

    func testQuotingAndMissingValues() {
        let weird = "res,net \"50\"\nv2"
        let runs = [
            suiteRun(weird, hash: "h", suite: "imagenet", resolution: 224, top1: 0.5),
            suiteRun("nan", hash: "h", suite: "imagenet", resolution: 224, top1: .nan),
            suiteRun("better", hash: "h", suite: "imagenet", resolution: 224, top1: 0.6),
        ]
        let text = Report.csv(ReportInput(generated: "", version: "", runs: runs))
        XCTAssertTrue(text.contains("\"res,net \"\"50\"\"\nv2\""))
        let rows = parseCSV(text)
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(rows.map { $0.first ?? "" }, ["model", "better", weird, "nan"])
        XCTAssertEqual(rows[3][1], "")
        XCTAssertEqual(rows[3][6], "")
        XCTAssertEqual(Report.csv(ReportInput(generated: "", version: "", runs: [])),
                       "model,top1,top5,img_size,crop_pct,interpolation,top1_diff,suite\n")
    }
}
