import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import StalwartReport

/// The 19 ImageNet-C corruptions.
let allCorruptions = [
    "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression",
    "speckle_noise", "gaussian_blur", "spatter", "saturate",
]

/// Deterministic synthetic top-1 for a corrupted cell.
func syntheticTop1(clean: Double, corruptionIndex: Int, severity: Int) -> Double {
    max(0.02, clean - 0.07 * Double(severity) - 0.006 * Double(corruptionIndex))
}

func cleanCell(top1: Double, count: Int = 50_000) -> ReportCell {
    ReportCell(corruption: "", severity: 0, count: count,
               metrics: ["top1": top1, "top5": min(1, top1 + 0.16), "nll": 1.1, "brier": 0.33, "ece": 0.031])
}

func reliabilityBins(overconfidence: Double = 0.04) -> [ReliabilityBin] {
    (0..<10).map { i in
        let lo = Double(i) / 10, hi = Double(i + 1) / 10
        let conf = (lo + hi) / 2
        return ReliabilityBin(lower: lo, upper: hi, confidence: conf, accuracy: max(0, conf - overconfidence * Double(i % 3)),
                              count: 100 * (i + 1))
    }
}

func imagenetRun(_ model: String, hash: String, resolution: Int, top1: Double, bins: Bool = true) -> ReportRun {
    ReportRun(model: model, modelHash: hash, suite: "imagenet", dataRoot: "/data/imagenet/val", resolution: resolution,
              preprocess: "timm", cropPct: 0.875, interpolation: "bicubic", skipped: 0,
              cells: [cleanCell(top1: top1)], reliability: bins ? reliabilityBins() : [], summary: [:], corruptionErrors: [])
}

func imagenetCRun(_ model: String, hash: String, resolution: Int, clean: Double, mce: Double = 0.62) -> ReportRun {
    var cells = [cleanCell(top1: clean, count: 10_000)]
    for (ci, c) in allCorruptions.enumerated() {
        for s in 1...5 {
            let t1 = syntheticTop1(clean: clean, corruptionIndex: ci, severity: s)
            cells.append(ReportCell(corruption: c, severity: s, count: 10_000,
                                    metrics: ["top1": t1, "top5": min(1, t1 + 0.2), "nll": 2.0 + Double(s) * 0.3]))
        }
    }
    let errors = allCorruptions.prefix(15).enumerated().map { i, c in
        (name: c, ce: 0.55 + 0.01 * Double(i), relativeCE: 0.7 + 0.02 * Double(i))
    }
    return ReportRun(model: model, modelHash: hash, suite: "imagenet-c", dataRoot: "/data/imagenet-c", resolution: resolution,
                     preprocess: "timm", cropPct: 0.875, interpolation: "bilinear", skipped: 3, cells: cells,
                     reliability: [], summary: ["mce": mce, "relative_mce": 0.81], corruptionErrors: Array(errors))
}

func suiteRun(_ model: String, hash: String, suite: String, resolution: Int, top1: Double, summary: [String: Double] = [:]) -> ReportRun {
    ReportRun(model: model, modelHash: hash, suite: suite, dataRoot: "/data/\(suite)", resolution: resolution,
              preprocess: "timm", cropPct: 0.875, interpolation: "bicubic", skipped: 1,
              cells: [ReportCell(corruption: "", severity: 0, count: 7500, metrics: ["top1": top1, "top5": top1 + 0.2])],
              reliability: [], summary: summary, corruptionErrors: [])
}

/// A realistic input: 3 models; ResNet-50 at 3 resolutions on imagenet and imagenet-c; natural shifts.
func realisticInput() -> ReportInput {
    let h1 = "a3f1c2d4e5b6978812345678abcdef0123456789abcdef0123456789abcdef01"
    let h2 = "b" + String(repeating: "7", count: 63)
    let h3 = "c" + String(repeating: "9", count: 63)
    var runs: [ReportRun] = []
    for (res, t) in [(160, 0.742), (224, 0.7613), (288, 0.7702)] {
        runs.append(imagenetRun("resnet50", hash: h1, resolution: res, top1: t))
        runs.append(imagenetCRun("resnet50", hash: h1, resolution: res, clean: t, mce: 0.77 - Double(res) / 10_000))
    }
    runs.append(suiteRun("resnet50", hash: h1, suite: "imagenet-a", resolution: 224, top1: 0.0003))
    runs.append(suiteRun("resnet50", hash: h1, suite: "imagenet-r", resolution: 224, top1: 0.3614))
    runs.append(suiteRun("resnet50", hash: h1, suite: "imagenet-vid-robust", resolution: 224, top1: 0.62,
                         summary: ["pm10": 0.48, "flip_rate": 0.12]))
    runs.append(imagenetRun("vit_b16", hash: h2, resolution: 224, top1: 0.811))
    runs.append(imagenetCRun("vit_b16", hash: h2, resolution: 224, clean: 0.811, mce: 0.52))
    runs.append(suiteRun("vit_b16", hash: h2, suite: "imagenet-a", resolution: 224, top1: 0.213))
    runs.append(imagenetRun("convnext_tiny", hash: h3, resolution: 224, top1: 0.821))
    runs.append(suiteRun("convnext_tiny", hash: h3, suite: "imagenet-r", resolution: 224, top1: 0.47))
    return ReportInput(title: "Stalwart robustness report", generated: "2026-11-29T10:00:00Z", version: "0.9.0", runs: runs)
}

// MARK: XML helpers

/// Parses `text` as XML; returns the parser error description, or nil on success.
func xmlError(_ text: String) -> String? {
    let parser = XMLParser(data: Data(text.utf8))
    return parser.parse() ? nil : (parser.parserError.map { "\($0)" } ?? "unknown XML error")
}

/// All `<svg …>…</svg>` blocks of a document.
func svgBlocks(_ html: String) -> [String] {
    var out: [String] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg "), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        out.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return out
}

/// Collects element names and attributes of an XML document.
final class ElementCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
                attributes attributeDict: [String: String] = [:]) {
        elements.append((elementName, attributeDict))
    }
    static func collect(_ text: String) -> [(name: String, attributes: [String: String])] {
        let parser = XMLParser(data: Data(text.utf8))
        let c = ElementCollector()
        parser.delegate = c
        XCTAssertTrue(parser.parse(), "XML parse failed: \(String(describing: parser.parserError))")
        return c.elements
    }
}

// MARK: CSV helper

/// Minimal RFC 4180 parser (quoted fields, doubled quotes, CRLF or LF).
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var inQuotes = false
    var chars = Array(text.unicodeScalars)[...]
    while let ch = chars.popFirst() {
        if inQuotes {
            if ch == "\"" {
                if chars.first == "\"" { field.unicodeScalars.append("\""); chars = chars.dropFirst() } else { inQuotes = false }
            } else { field.unicodeScalars.append(ch) }
        } else if ch == "\"" {
            inQuotes = true
        } else if ch == "," {
            row.append(field); field = ""
        } else if ch == "\n" || ch == "\r" {
            if ch == "\r", chars.first == "\n" { chars = chars.dropFirst() }
            row.append(field); field = ""
            rows.append(row); row = []
        } else { field.unicodeScalars.append(ch) }
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

func jsonObject(_ text: String) throws -> [String: Any] {
    let obj = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try XCTUnwrap(obj as? [String: Any])
}
