// The HTML page of a cross-model study: robustness metric vs transfer accuracy, one point per
// model, correlations with bootstrap intervals. Self-contained (inline SVG and CSS, no scripts).

public struct StudyReport: Sendable {
    public struct Point: Sendable {
        public var label: String
        public var x: Double
        public var y: Double
        public var yStd: Double
        public var seeds: Int
        public init(label: String, x: Double, y: Double, yStd: Double, seeds: Int) {
            self.label = label; self.x = x; self.y = y; self.yStd = yStd; self.seeds = seeds
        }
    }

    public struct Coefficient: Sendable {
        public var name: String
        public var value: Double
        public var low: Double
        public var high: Double
        public init(name: String, value: Double, low: Double, high: Double) {
            self.name = name; self.value = value; self.low = low; self.high = high
        }
    }

    public var title: String
    public var generated: String
    public var version: String
    public var xLabel: String
    public var yLabel: String
    public var points: [Point]
    public var correlations: [Coefficient]
    public var slope: Double
    public var intercept: Double
    public var bootstrap: Int
    public var confidence: Double
    public var unmatched: [String]

    public init(title: String, generated: String, version: String, xLabel: String, yLabel: String, points: [Point],
                correlations: [Coefficient], slope: Double, intercept: Double, bootstrap: Int, confidence: Double,
                unmatched: [String]) {
        self.title = title; self.generated = generated; self.version = version; self.xLabel = xLabel; self.yLabel = yLabel
        self.points = points; self.correlations = correlations; self.slope = slope; self.intercept = intercept
        self.bootstrap = bootstrap; self.confidence = confidence; self.unmatched = unmatched
    }

    public func render() -> String {
        let plot = ScatterPlot(title: "\(yLabel) vs \(xLabel)", xLabel: xLabel, yLabel: yLabel,
                               points: points.map { .init(label: $0.label, x: $0.x, y: $0.y, yErr: $0.yStd) },
                               line: (slope, intercept)).render()
        var h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
        h += "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        h += "<meta name=\"generator\" content=\"Stalwart \(escapeHTML(version))\"/>\n"
        h += "<title>\(escapeHTML(title))</title>\n<style>\n\(HTMLReport.css)</style>\n</head>\n<body>\n<header>\n"
        h += "<h1>\(escapeHTML(title))</h1>\n"
        h += "<p class=\"meta\">Generated \(escapeHTML(generated)) · Stalwart \(escapeHTML(version)) · \(points.count) models</p>\n"
        h += "</header>\n<main>\n<section id=\"scatter\">\n<h2>Robustness vs transfer</h2>\n"
        h += "<p>One point per model (bars: ± std over seeds); dashed line: least-squares fit, transfer = "
        h += "\(escapeHTML(format(intercept, decimals: 4))) + \(escapeHTML(format(slope, decimals: 4))) · robustness.</p>\n"
        h += "<div class=\"plots\"><figure>\(plot)</figure></div>\n</section>\n"
        h += "<section id=\"correlations\">\n<h2>Correlations</h2>\n<div class=\"table-wrap\"><table>\n"
        h += "<caption>\(escapeHTML(format(confidence * 100, decimals: 0)))% percentile-bootstrap intervals over models, \(bootstrap) resamples.</caption>\n"
        h += "<thead><tr><th>coefficient</th><th>value</th><th>low</th><th>high</th></tr></thead>\n<tbody>\n"
        for k in correlations {
            h += "<tr data-coefficient=\"\(escapeHTML(k.name))\" data-value=\"\(escapeHTML(k.value.description))\"><td>\(escapeHTML(k.name))</td>"
            h += "<td class=\"num\">\(format(k.value, decimals: 4))</td><td class=\"num\">\(format(k.low, decimals: 4))</td><td class=\"num\">\(format(k.high, decimals: 4))</td></tr>\n"
        }
        h += "</tbody>\n</table></div>\n</section>\n"
        h += "<section id=\"models\">\n<h2>Models</h2>\n<div class=\"table-wrap\"><table>\n"
        h += "<thead><tr><th>model</th><th>\(escapeHTML(xLabel))</th><th>\(escapeHTML(yLabel))</th><th>std</th><th>seeds</th></tr></thead>\n<tbody>\n"
        for p in points {
            h += "<tr><td>\(escapeHTML(p.label))</td><td class=\"num\">\(format(p.x, decimals: 4))</td><td class=\"num\">\(format(p.y, decimals: 4))</td>"
            h += "<td class=\"num\">\(format(p.yStd, decimals: 4))</td><td class=\"num\">\(p.seeds)</td></tr>\n"
        }
        h += "</tbody>\n</table></div>\n"
        if !unmatched.isEmpty {
            h += "<p class=\"meta\">Left out (only one side recorded): \(escapeHTML(unmatched.joined(separator: ", ")))</p>\n"
        }
        h += "</section>\n</main>\n<footer>Accuracies as fractions in [0, 1]. Kendall τ-b, Spearman ρ and Pearson r as SciPy defines them.</footer>\n</body>\n</html>\n"
        return h
    }
}
