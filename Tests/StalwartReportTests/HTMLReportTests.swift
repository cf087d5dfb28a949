import Foundation
import XCTest
@testable import StalwartReport

final class HTMLReportTests: XCTestCase {
    func testRealisticDocumentParsesAndHasAllPlotKinds() throws {
        let html = Report.html(realisticInput())
        XCTAssertNil(xmlError(html), "whole document should be well-formed XML")
        let svgs = svgBlocks(html)
        XCTAssertFalse(svgs.isEmpty)
        var kinds: [String: Int] = [:]
        for svg in svgs {
            XCTAssertNil(xmlError(svg), "svg block does not parse")
            let root = try XCTUnwrap(ElementCollector.collect(svg).first)
            XCTAssertEqual(root.name, "svg")
            XCTAssertEqual(root.attributes["class"], "plot")
            XCTAssertNotNil(root.attributes["viewBox"])
            XCTAssertTrue(svg.contains("<title>"), "every svg has a title")
            kinds[root.attributes["data-plot"] ?? "?", default: 0] += 1
        }
        XCTAssertEqual(kinds["severity"], 4)      // 3 resnet50 resolutions + vit
        XCTAssertEqual(kinds["resolution"], 2)    // imagenet and imagenet-c suites
        XCTAssertEqual(kinds["reliability"], 5)   // one per imagenet run
        XCTAssertEqual(kinds["comparison"], 1)
        XCTAssertEqual(kinds.count, 4)
        // Severity legend lists all 19 corruptions and the mean.
        let sev = try XCTUnwrap(svgs.first { $0.contains("data-plot=\"severity\"") })
        for c in allCorruptions { XCTAssertTrue(sev.contains(">\(c)</text>"), c) }
        XCTAssertTrue(sev.contains(">mean</text>"))
        XCTAssertEqual(sev.components(separatedBy: "<polyline").count - 1, 20)
        // Tables: header, summary, mCE with mean row, no scripts or external resources.
        XCTAssertTrue(html.contains("<h1>Stalwart robustness report</h1>"))
        XCTAssertTrue(html.contains("2026-11-29T10:00:00Z"))
        XCTAssertTrue(html.contains("a3f1c2d4e5b6<"), "hash prefix of 12 characters")
        XCTAssertTrue(html.contains("<strong>mean</strong>"))
        XCTAssertTrue(html.contains("76.13"))
        for banned in ["<script", "http://", "https://", "@import", "url(", "NaN", "nan<"] {
            let cleaned = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
                .replacingOccurrences(of: "http://www.w3.org/1999/xhtml", with: "")
            XCTAssertFalse(cleaned.contains(banned), banned)
        }
        try html.write(toFile: "/tmp/stalwart_report_sample.html", atomically: true, encoding: .utf8)
    }

    func testCoordinatesInsideViewBoxAndMonotone() throws {
        let html = Report.html(realisticInput())
        var polylines = 0, rects = 0
        for svg in svgBlocks(html) {
            let elements = ElementCollector.collect(svg)
            let vb = try XCTUnwrap(elements.first?.attributes["viewBox"]).split(separator: " ").compactMap { Double($0) }
            XCTAssertEqual(vb.count, 4)
            let (w, h) = (vb[2], vb[3])
            func inside(_ x: Double, _ y: Double, _ what: String) {
                XCTAssertTrue(x >= 0 && x <= w && y >= 0 && y <= h, "\(what) (\(x), \(y)) outside 0 0 \(w) \(h)")
            }
            for e in elements {
                let a = e.attributes
                switch e.name {
                case "polyline":
                    polylines += 1
                    let pts = try XCTUnwrap(a["points"]).split(separator: " ").map { p -> (Double, Double) in
                        let xy = p.split(separator: ",").compactMap { Double($0) }
                        return (xy.first ?? -1, xy.last ?? -1)
                    }
                    XCTAssertFalse(pts.isEmpty)
                    for p in pts { inside(p.0, p.1, "polyline point") }
                    for (p, q) in zip(pts, pts.dropFirst()) { XCTAssertLessThan(p.0, q.0, "x not increasing") }
                case "rect":
                    rects += 1
                    let x = Double(a["x"] ?? "") ?? -1, y = Double(a["y"] ?? "") ?? -1
                    let rw = Double(a["width"] ?? "") ?? -1, rh = Double(a["height"] ?? "") ?? -1
                    XCTAssertTrue(rw >= 0 && rh >= 0)
                    inside(x, y, "rect origin")
                    inside(x + rw, y + rh, "rect corner")
                case "circle":
                    inside(Double(a["cx"] ?? "") ?? -1, Double(a["cy"] ?? "") ?? -1, "circle")
                case "line":
                    inside(Double(a["x1"] ?? "") ?? -1, Double(a["y1"] ?? "") ?? -1, "line start")
                    inside(Double(a["x2"] ?? "") ?? -1, Double(a["y2"] ?? "") ?? -1, "line end")
                default: break
                }
            }
        }
        XCTAssertGreaterThan(polylines, 80)
        XCTAssertGreaterThan(rects, 50)
    }

    func testSeverityLineDecreasesWithSeverity() throws {
        // y grows downward in SVG: a falling accuracy means increasing y coordinates.
        let input = ReportInput(generated: "now", version: "1", runs: [imagenetCRun("m", hash: "h", resolution: 224, clean: 0.8)])
        let svg = try XCTUnwrap(svgBlocks(Report.html(input)).first)
        let first = try XCTUnwrap(ElementCollector.collect(svg).first { $0.name == "polyline" })
        let ys = try XCTUnwrap(first.attributes["points"]).split(separator: " ").compactMap { Double($0.split(separator: ",").last ?? "") }
        XCTAssertEqual(ys.count, 6)
        for (a, b) in zip(ys, ys.dropFirst()) { XCTAssertLessThan(a, b) }
    }

    func testHostileModelNameIsEscaped() throws {
        let evil = "<b>&\"x'"
        var input = realisticInput()
        input.title = "Report <script>alert(1)</script>"
        input.runs[0].model = evil
        input.runs[0].dataRoot = "/data/\"quoted\" & <odd>"
        input.runs[1].cells[5].corruption = "evil<corr>&"
        let html = Report.html(input)
        XCTAssertFalse(html.contains(evil))
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertFalse(html.contains("evil<corr>"))
        XCTAssertTrue(html.contains("&lt;b&gt;&amp;&quot;x&#39;"))
        XCTAssertNil(xmlError(html))
        for svg in svgBlocks(html) { XCTAssertNil(xmlError(svg)) }
    }

    func testEmptyInputIsValidDocument() {
        let html = Report.html(ReportInput(title: "", generated: "", version: "", runs: []))
        XCTAssertNil(xmlError(html))
        XCTAssertTrue(html.contains("No runs"))
        XCTAssertTrue(svgBlocks(html).isEmpty)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
    }

    func testNaNAndDegenerateInputsProduceValidDocument() throws {
        var nanC = imagenetCRun("nan-model", hash: "", resolution: 224, clean: .nan)
        for i in nanC.cells.indices { nanC.cells[i].metrics["top1"] = .nan }
        nanC.summary["mce"] = .nan
        nanC.corruptionErrors = [(name: "fog", ce: .nan, relativeCE: .infinity)]
        nanC.cropPct = .nan
        nanC.reliability = [ReliabilityBin(lower: .nan, upper: 1, confidence: .nan, accuracy: .nan, count: 0),
                            ReliabilityBin(lower: 0.9, upper: 0.9, confidence: 0.9, accuracy: 2, count: 5)]
        var single = ReportRun(model: "single", modelHash: "x", suite: "imagenet-c", resolution: 0,
                               cells: [ReportCell(corruption: "fog", severity: 3, count: 0, metrics: ["top1": 0.5])])
        single.skipped = -1
        let equalA = suiteRun("flat", hash: "f", suite: "imagenet", resolution: 224, top1: 0.5)
        let equalB = suiteRun("flat", hash: "f", suite: "imagenet", resolution: 256, top1: 0.5)
        let zero = ReportRun(model: "zero-runs", modelHash: "", suite: "unlabeled", resolution: Int.max)
        let input = ReportInput(generated: "now", version: "v", runs: [nanC, single, equalA, equalB, zero])
        let html = Report.html(input)
        XCTAssertNil(xmlError(html))
        let svgs = svgBlocks(html)
        for svg in svgs { XCTAssertNil(xmlError(svg)) }
        let nanSeverity = try XCTUnwrap(svgs.first { $0.contains("data-plot=\"severity\"") && $0.contains("nan-model") })
        XCTAssertTrue(nanSeverity.contains(">no data</text>"))
        XCTAssertFalse(nanSeverity.contains("<polyline"))
        let reliability = try XCTUnwrap(svgs.first { $0.contains("data-plot=\"reliability\"") })
        XCTAssertTrue(reliability.contains(">no data</text>"), "only degenerate bins")
        let flat = try XCTUnwrap(svgs.first { $0.contains("data-plot=\"resolution\"") })
        XCTAssertTrue(flat.contains("<polyline"))
        for bad in ["nan<", "NaN", ">inf<", ">-inf<"] { XCTAssertFalse(html.contains(bad), bad) }
        XCTAssertTrue(html.contains("n/a"))
        // Still valid JSON and CSV.
        XCTAssertNoThrow(try jsonObject(Report.json(input)))
        XCTAssertEqual(parseCSV(Report.csv(input)).count, 6)
    }
}
