// A tiny SVG chart builder: line charts, grouped bar charts and reliability diagrams with axes,
// tick labels and legends. Never emits non-finite coordinates; all marks are clamped to the plot area.
import Glibc

/// 20 distinguishable colours, dark enough for thin lines on white.
let palette: [String] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363",
]

/// Palette colour for an index (wraps; negative indices are safe).
func paletteColor(_ i: Int) -> String { palette[((i % palette.count) + palette.count) % palette.count] }

/// One line (or bar group member) of a chart.
struct PlotSeries {
    var name: String
    var color: String
    var dashed = false
    var strokeWidth = 1.8
    var points: [(x: Double, y: Double)] = []
}

/// A tick position with its label.
struct Tick {
    var value: Double
    var label: String
}

/// "Nice" tick values covering [lo, hi] (≈ `target` intervals); degenerate input gets a default range.
func niceTicks(_ lo: Double, _ hi: Double, target: Int = 5) -> (lo: Double, hi: Double, step: Double, values: [Double]) {
    var lo = lo, hi = hi
    if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
    if hi < lo { swap(&lo, &hi) }
    if hi - lo <= 1e-12 * max(lo.magnitude, hi.magnitude, 1e-300) {
        let pad = lo == 0 ? 1 : lo.magnitude * 0.05
        lo -= pad
        hi += pad
    }
    let span = hi - lo
    guard span.isFinite, span > 0 else { return (0, 1, 0.2, [0, 0.2, 0.4, 0.6, 0.8, 1]) }
    let raw = span / Double(max(target, 1))
    let mag = pow(10, floor(log10(raw)))
    let norm = raw / mag
    let step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag
    guard step.isFinite, step > 0 else { return (0, 1, 0.2, [0, 0.2, 0.4, 0.6, 0.8, 1]) }
    let start = floor(lo / step) * step
    let end = ceil(hi / step) * step
    var values: [Double] = []
    var i = 0
    while i < 60 {
        let v = start + Double(i) * step
        if v > end + step * 1e-6 { break }
        values.append(v)
        i += 1
    }
    return (start, max(end, start + step), step, values)
}

/// Decimal places needed to print ticks `step` apart.
func tickDecimals(_ step: Double) -> Int {
    guard step.isFinite, step > 0 else { return 0 }
    return min(max(0, Int(-floor(log10(step) + 1e-9))), 6)
}

/// Maps data coordinates to the plot area of a `width`×`height` SVG.
struct PlotFrame {
    var width: Double
    var height: Double
    var left: Double
    var top: Double
    var plotWidth: Double
    var plotHeight: Double
    var xMin: Double
    var xMax: Double
    var yMin: Double
    var yMax: Double

    var right: Double { left + plotWidth }
    var bottom: Double { top + plotHeight }

    func x(_ v: Double) -> Double { Self.map(v, xMin, xMax, left, right) }
    func y(_ v: Double) -> Double { Self.map(v, yMin, yMax, bottom, top) }

    private static func map(_ v: Double, _ d0: Double, _ d1: Double, _ r0: Double, _ r1: Double) -> Double {
        let span = d1 - d0
        guard v.isFinite, span.isFinite, span != 0 else { return r0 }
        let t = min(max((v - d0) / span, 0), 1)
        return r0 + t * (r1 - r0)
    }
}

/// Coordinate text with one decimal.
func c(_ v: Double) -> String { format(v.isFinite ? v : 0, decimals: 1) }

/// Opening `<svg>` tag with the `plot` class, `data-plot` kind, viewBox and accessible `<title>`.
func svgOpen(kind: String, title: String, width: Double, height: Double) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" data-plot=\"\(escapeHTML(kind))\" "
        + "viewBox=\"0 0 \(c(width)) \(c(height))\" width=\"\(c(width))\" height=\"\(c(height))\" role=\"img\">\n"
        + "<title>\(escapeHTML(title))</title>\n"
        + "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"\(c(width))\" height=\"\(c(height))\" fill=\"#ffffff\"/>\n"
        + "<text class=\"plot-title\" x=\"\(c(width / 2))\" y=\"20\" text-anchor=\"middle\">\(escapeHTML(title))</text>\n"
}

/// Grid lines, axes, tick labels and axis labels.
func svgAxes(_ f: PlotFrame, xTicks: [Tick], yTicks: [Tick], xLabel: String, yLabel: String, xGrid: Bool = false) -> String {
    var s = "<g class=\"axes\">\n"
    for t in yTicks where t.value.isFinite && t.value >= f.yMin - 1e-12 && t.value <= f.yMax + 1e-12 {
        let y = c(f.y(t.value))
        s += "<line class=\"grid\" stroke=\"#ececec\" x1=\"\(c(f.left))\" y1=\"\(y)\" x2=\"\(c(f.right))\" y2=\"\(y)\"/>\n"
        s += "<text class=\"tick\" x=\"\(c(f.left - 6))\" y=\"\(c(f.y(t.value) + 4))\" text-anchor=\"end\">\(escapeHTML(t.label))</text>\n"
    }
    for t in xTicks where t.value.isFinite && t.value >= f.xMin - 1e-12 && t.value <= f.xMax + 1e-12 {
        let x = c(f.x(t.value))
        if xGrid { s += "<line class=\"grid\" stroke=\"#ececec\" x1=\"\(x)\" y1=\"\(c(f.top))\" x2=\"\(x)\" y2=\"\(c(f.bottom))\"/>\n" }
        s += "<line class=\"axis\" stroke=\"#555555\" x1=\"\(x)\" y1=\"\(c(f.bottom))\" x2=\"\(x)\" y2=\"\(c(f.bottom + 4))\"/>\n"
        s += "<text class=\"tick\" x=\"\(x)\" y=\"\(c(f.bottom + 17))\" text-anchor=\"middle\">\(escapeHTML(t.label))</text>\n"
    }
    s += "<line class=\"axis\" stroke=\"#555555\" x1=\"\(c(f.left))\" y1=\"\(c(f.bottom))\" x2=\"\(c(f.right))\" y2=\"\(c(f.bottom))\"/>\n"
    s += "<line class=\"axis\" stroke=\"#555555\" x1=\"\(c(f.left))\" y1=\"\(c(f.top))\" x2=\"\(c(f.left))\" y2=\"\(c(f.bottom))\"/>\n"
    s += "<text class=\"label\" x=\"\(c((f.left + f.right) / 2))\" y=\"\(c(f.bottom + 36))\" text-anchor=\"middle\">\(escapeHTML(xLabel))</text>\n"
    let ly = (f.top + f.bottom) / 2
    s += "<text class=\"label\" x=\"16\" y=\"\(c(ly))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(c(ly)))\">\(escapeHTML(yLabel))</text>\n"
    return s + "</g>\n"
}

/// Legend entry kinds.
enum LegendMark {
    case line(dashed: Bool, width: Double)
    case box(opacity: Double)
}

/// A vertical legend starting at (x, y), one row per entry.
func svgLegend(_ entries: [(name: String, color: String, mark: LegendMark)], x: Double, y: Double, rowHeight: Double = 16) -> String {
    guard !entries.isEmpty else { return "" }
    var s = "<g class=\"legend\">\n"
    for (i, e) in entries.enumerated() {
        let ry = y + Double(i) * rowHeight
        switch e.mark {
        case .line(let dashed, let width):
            s += "<line x1=\"\(c(x))\" y1=\"\(c(ry))\" x2=\"\(c(x + 22))\" y2=\"\(c(ry))\" stroke=\"\(e.color)\" "
                + "stroke-width=\"\(format(width, decimals: 1))\"\(dashed ? " stroke-dasharray=\"5 3\"" : "")/>\n"
        case .box(let opacity):
            s += "<rect x=\"\(c(x + 4))\" y=\"\(c(ry - 6))\" width=\"14\" height=\"12\" fill=\"\(e.color)\" "
                + "fill-opacity=\"\(format(opacity, decimals: 2))\"/>\n"
        }
        s += "<text class=\"legend-text\" x=\"\(c(x + 28))\" y=\"\(c(ry + 4))\">\(escapeHTML(e.name))</text>\n"
    }
    return s + "</g>\n"
}

/// Centered "no data" note inside the plot area.
func svgNoData(_ f: PlotFrame) -> String {
    "<text class=\"no-data\" x=\"\(c((f.left + f.right) / 2))\" y=\"\(c((f.top + f.bottom) / 2))\" text-anchor=\"middle\">no data</text>\n"
}

/// Multi-series line chart. Points are sorted by x (duplicate x keep the first); non-finite points
/// split a line into separate polylines.
struct LineChart {
    var kind: String
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [PlotSeries]
    /// Explicit x ticks (e.g. severities); nil → nice ticks over the data.
    var xTicks: [Tick]? = nil
    /// Fixed y domain; nil → nice range over the data, clamped to `yClamp`.
    var yDomain: (Double, Double)? = nil
    var yClamp: (Double, Double)? = nil
    /// Tick label for a y value given the tick step.
    var yTickLabel: (Double, Double) -> String = { v, step in format(v, decimals: tickDecimals(step)) }
    var xTickLabel: (Double, Double) -> String = { v, step in format(v, decimals: tickDecimals(step)) }

    func render() -> String {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        // x domain
        var xs = finite.map(\.x)
        if let xTicks { xs += xTicks.map(\.value).filter(\.isFinite) }
        let xNice = niceTicks(xs.min() ?? 0, xs.max() ?? 1, target: 6)
        var xLo = xs.min() ?? xNice.lo, xHi = xs.max() ?? xNice.hi
        if !(xHi - xLo > 0) { xLo = xNice.lo; xHi = xNice.hi }
        let xPad = (xHi - xLo) * 0.04
        let ticksX = xTicks ?? xNice.values.filter { $0 >= xLo - 1e-9 && $0 <= xHi + 1e-9 }.map { Tick(value: $0, label: xTickLabel($0, xNice.step)) }
        // y domain
        var yLo: Double, yHi: Double, yStep: Double, yValues: [Double]
        if let (a, b) = yDomain, a.isFinite, b.isFinite, b > a {
            let t = niceTicks(a, b, target: 5)
            (yLo, yHi, yStep) = (a, b, t.step)
            yValues = t.values.filter { $0 >= a - 1e-9 && $0 <= b + 1e-9 }
        } else {
            let ys = finite.map(\.y)
            let t = niceTicks(ys.min() ?? 0, ys.max() ?? 1, target: 5)
            (yLo, yHi, yStep, yValues) = (t.lo, t.hi, t.step, t.values)
            if let (a, b) = yClamp, a < b {
                yLo = max(yLo, a)
                yHi = min(yHi, b)
                if !(yHi > yLo) { (yLo, yHi) = (a, b) }
                yValues = yValues.filter { $0 >= yLo - 1e-9 && $0 <= yHi + 1e-9 }
            }
        }
        let legendRows = series.count
        let width = 780.0
        let height = max(400.0, 50 + Double(legendRows) * 16 + 20)
        let f = PlotFrame(width: width, height: height, left: 64, top: 36, plotWidth: 500, plotHeight: height - 36 - 60,
                          xMin: xLo - xPad, xMax: xHi + xPad, yMin: yLo, yMax: yHi)
        var s = svgOpen(kind: kind, title: title, width: width, height: height)
        s += svgAxes(f, xTicks: ticksX, yTicks: yValues.map { Tick(value: $0, label: yTickLabel($0, yStep)) },
                     xLabel: xLabel, yLabel: yLabel, xGrid: true)
        if finite.isEmpty { s += svgNoData(f) }
        s += "<g class=\"series\">\n"
        for sr in series {
            let dash = sr.dashed ? " stroke-dasharray=\"6 4\"" : ""
            let stroke = "stroke=\"\(sr.color)\" stroke-width=\"\(format(sr.strokeWidth, decimals: 1))\"\(dash)"
            for segment in Self.segments(sr.points) {
                let pts = segment.map { "\(c(f.x($0.x))),\(c(f.y($0.y)))" }.joined(separator: " ")
                s += "<polyline fill=\"none\" \(stroke) points=\"\(pts)\"><title>\(escapeHTML(sr.name))</title></polyline>\n"
                for p in segment {
                    s += "<circle cx=\"\(c(f.x(p.x)))\" cy=\"\(c(f.y(p.y)))\" r=\"2.5\" fill=\"\(sr.color)\"/>\n"
                }
            }
        }
        s += "</g>\n"
        s += svgLegend(series.map { ($0.name, $0.color, LegendMark.line(dashed: $0.dashed, width: $0.strokeWidth)) },
                       x: f.right + 24, y: f.top + 6)
        return s + "</svg>"
    }

    /// Sorted runs of consecutive finite points (a non-finite y breaks the line).
    static func segments(_ points: [(x: Double, y: Double)]) -> [[(x: Double, y: Double)]] {
        let sorted = points.filter { $0.x.isFinite }.enumerated().sorted { a, b in
            a.element.x != b.element.x ? a.element.x < b.element.x : a.offset < b.offset
        }.map(\.element)
        var out: [[(x: Double, y: Double)]] = []
        var current: [(x: Double, y: Double)] = []
        var lastX: Double? = nil
        for p in sorted {
            if let lastX, p.x == lastX { continue }
            lastX = p.x
            if p.y.isFinite {
                current.append(p)
            } else if !current.isEmpty {
                out.append(current)
                current = []
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}

/// Grouped bar chart: one group per category, one bar per series (`points[i].y` is category i).
struct BarChart {
    var kind: String
    var title: String
    var yLabel: String
    var categories: [String]
    var series: [PlotSeries]
    var yDomain: (Double, Double) = (0, 1)
    var yTickLabel: (Double, Double) -> String = { v, step in format(v, decimals: tickDecimals(step)) }

    func render() -> String {
        let nCat = max(categories.count, 1)
        let nSer = max(series.count, 1)
        let barW = 14.0
        let groupW = max(Double(nSer) * barW + 18, 120)
        let plotW = max(360, Double(nCat) * groupW)
        let height = max(380.0, 50 + Double(series.count) * 16 + 20)
        let width = 64 + plotW + 220
        var (lo, hi) = yDomain
        if !(lo.isFinite && hi.isFinite && hi > lo) { (lo, hi) = (0, 1) }
        let f = PlotFrame(width: width, height: height, left: 64, top: 36, plotWidth: plotW, plotHeight: height - 36 - 60,
                          xMin: 0, xMax: Double(nCat), yMin: lo, yMax: hi)
        let t = niceTicks(lo, hi, target: 5)
        let yTicks = t.values.filter { $0 >= lo - 1e-9 && $0 <= hi + 1e-9 }.map { Tick(value: $0, label: yTickLabel($0, t.step)) }
        let xTicks = categories.enumerated().map { Tick(value: Double($0.offset) + 0.5, label: $0.element) }
        var s = svgOpen(kind: kind, title: title, width: width, height: height)
        s += svgAxes(f, xTicks: xTicks, yTicks: yTicks, xLabel: "", yLabel: yLabel)
        var any = false
        s += "<g class=\"bars\">\n"
        let slot = plotW / Double(nCat)
        let inner = min(barW, (slot - 8) / Double(nSer))
        for (ci, cat) in categories.enumerated() {
            let groupLeft = f.left + Double(ci) * slot + (slot - inner * Double(nSer)) / 2
            for (si, sr) in series.enumerated() {
                guard ci < sr.points.count else { continue }
                let v = sr.points[ci].y
                guard v.isFinite else { continue }
                any = true
                let y0 = f.y(max(lo, min(0, hi))), y1 = f.y(v)
                let x = groupLeft + Double(si) * inner
                s += "<rect x=\"\(c(x))\" y=\"\(c(min(y0, y1)))\" width=\"\(c(max(inner - 1, 1)))\" "
                    + "height=\"\(c(abs(y1 - y0)))\" fill=\"\(sr.color)\"><title>\(escapeHTML(sr.name)) · "
                    + "\(escapeHTML(cat)): \(escapeHTML(yTickLabel(v, t.step / 100)))</title></rect>\n"
            }
        }
        s += "</g>\n"
        if !any { s += svgNoData(f) }
        s += svgLegend(series.map { ($0.name, $0.color, LegendMark.box(opacity: 1)) }, x: f.right + 24, y: f.top + 6)
        return s + "</svg>"
    }
}

/// Reliability diagram: accuracy bars per confidence bin, the diagonal, and the gap to it shaded.
struct ReliabilityChart {
    var title: String
    var bins: [ReliabilityBin]

    func render() -> String {
        let width = 560.0, height = 420.0
        let f = PlotFrame(width: width, height: height, left: 64, top: 36, plotWidth: 324, plotHeight: 324,
                          xMin: 0, xMax: 1, yMin: 0, yMax: 1)
        let ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0].map { Tick(value: $0, label: format($0, decimals: 1)) }
        var s = svgOpen(kind: "reliability", title: title, width: width, height: height)
        s += svgAxes(f, xTicks: ticks, yTicks: ticks, xLabel: "confidence", yLabel: "accuracy")
        var any = false
        s += "<g class=\"bins\">\n"
        for b in bins {
            guard b.lower.isFinite, b.upper.isFinite, b.accuracy.isFinite, b.count > 0 else { continue }
            let lo = min(max(min(b.lower, b.upper), 0), 1), hi = min(max(max(b.lower, b.upper), 0), 1)
            guard hi > lo else { continue }
            any = true
            let x0 = f.x(lo), x1 = f.x(hi)
            let acc = min(max(b.accuracy, 0), 1)
            let tip = "\(format(lo, decimals: 2))–\(format(hi, decimals: 2)): accuracy \(format(b.accuracy, decimals: 3)), "
                + "confidence \(format(b.confidence, decimals: 3)), n = \(b.count)"
            s += "<rect class=\"acc\" x=\"\(c(x0))\" y=\"\(c(f.y(acc)))\" width=\"\(c(max(x1 - x0 - 1, 0.5)))\" "
                + "height=\"\(c(f.bottom - f.y(acc)))\" fill=\"#3b6fb6\"><title>\(escapeHTML(tip))</title></rect>\n"
            if b.confidence.isFinite {
                let conf = min(max(b.confidence, 0), 1)
                let top = f.y(max(acc, conf)), bottom = f.y(min(acc, conf))
                if bottom - top > 0.05 {
                    s += "<rect class=\"gap\" x=\"\(c(x0))\" y=\"\(c(top))\" width=\"\(c(max(x1 - x0 - 1, 0.5)))\" "
                        + "height=\"\(c(bottom - top))\" fill=\"#d62728\" fill-opacity=\"0.35\" stroke=\"#d62728\" stroke-width=\"0.8\"/>\n"
                }
            }
        }
        s += "</g>\n"
        s += "<line class=\"diagonal\" x1=\"\(c(f.x(0)))\" y1=\"\(c(f.y(0)))\" x2=\"\(c(f.x(1)))\" y2=\"\(c(f.y(1)))\" "
            + "stroke=\"#444444\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\"/>\n"
        if !any { s += svgNoData(f) }
        s += svgLegend([("accuracy", "#3b6fb6", .box(opacity: 1)), ("gap to calibration", "#d62728", .box(opacity: 0.35)),
                        ("perfect calibration", "#444444", .line(dashed: true, width: 1.2))],
                       x: f.right + 16, y: f.top + 6)
        return s + "</svg>"
    }
}

/// A heatmap of top-1 per SI-Score location cell: x to the right, y downwards (image
/// coordinates of the object centre), colour from dark (0 %) to yellow (100 %), each cell
/// titled with its value.
struct HeatmapChart {
    var kind: String
    var title: String
    var points: [FactorPoint]

    static func color(_ v: Double) -> String {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let t = min(max(v.isFinite ? v : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(t), stops.count - 2), f = t - Double(i)
        let a = stops[i], b = stops[i + 1]
        func hex(_ p: Double, _ q: Double) -> String {
            let n = Int(min(255, max(0, (p + (q - p) * f).rounded())))
            let digits = Array("0123456789abcdef")
            return String([digits[n / 16], digits[n % 16]])
        }
        return "#" + hex(a.0, b.0) + hex(a.1, b.1) + hex(a.2, b.2)
    }

    func render() -> String {
        let xs = Array(Set(points.map(\.x).filter(\.isFinite))).sorted()
        let ys = Array(Set(points.compactMap(\.y).filter(\.isFinite))).sorted()
        let (left, top, side) = (64.0, 40.0, 420.0)
        let width = 600.0, height = top + side + 60
        var s = svgOpen(kind: kind, title: title, width: width, height: height)
        guard !xs.isEmpty, !ys.isEmpty else {
            let f = PlotFrame(width: width, height: height, left: left, top: top, plotWidth: side, plotHeight: side,
                              xMin: 0, xMax: 1, yMin: 0, yMax: 1)
            return s + svgNoData(f) + "</svg>"
        }
        let cw = side / Double(xs.count), ch = side / Double(ys.count)
        var xi: [Double: Int] = [:], yi: [Double: Int] = [:]
        for (i, v) in xs.enumerated() { xi[v] = i }
        for (i, v) in ys.enumerated() { yi[v] = i }
        s += "<g class=\"cells\">\n"
        for p in points {
            guard let i = xi[p.x], let y = p.y, let j = yi[y] else { continue }
            s += "<rect x=\"\(c(left + Double(i) * cw))\" y=\"\(c(top + Double(j) * ch))\" width=\"\(c(cw + 0.3))\" height=\"\(c(ch + 0.3))\" "
                + "fill=\"\(HeatmapChart.color(p.top1))\"><title>(\(format(p.x, decimals: 2)), \(format(y, decimals: 2))): top-1 "
                + "\(format(p.top1 * 100, decimals: 1)) %, n = \(p.count)</title></rect>\n"
        }
        s += "</g>\n<g class=\"axes\">\n"
        for (v, i) in [(xs.first, 0), (xs.last, xs.count - 1)] {
            guard let v else { continue }
            s += "<text class=\"tick\" x=\"\(c(left + (Double(i) + 0.5) * cw))\" y=\"\(c(top + side + 16))\" text-anchor=\"middle\">\(format(v, decimals: 2))</text>\n"
        }
        for (v, j) in [(ys.first, 0), (ys.last, ys.count - 1)] {
            guard let v else { continue }
            s += "<text class=\"tick\" x=\"\(c(left - 6))\" y=\"\(c(top + (Double(j) + 0.5) * ch + 4))\" text-anchor=\"end\">\(format(v, decimals: 2))</text>\n"
        }
        s += "<text class=\"label\" x=\"\(c(left + side / 2))\" y=\"\(c(top + side + 36))\" text-anchor=\"middle\">object centre x</text>\n"
        s += "<text class=\"label\" x=\"16\" y=\"\(c(top + side / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(c(top + side / 2)))\">object centre y</text>\n"
        for k in 0..<20 {
            let v = Double(k) / 19
            s += "<rect x=\"\(c(left + side + 24))\" y=\"\(c(top + side - Double(k + 1) * side / 20))\" width=\"16\" height=\"\(c(side / 20 + 0.3))\" fill=\"\(HeatmapChart.color(v))\"/>\n"
        }
        s += "<text class=\"tick\" x=\"\(c(left + side + 44))\" y=\"\(c(top + 10))\">100 %</text>\n"
        s += "<text class=\"tick\" x=\"\(c(left + side + 44))\" y=\"\(c(top + side))\">0 %</text>\n"
        return s + "</g>\n</svg>"
    }
}
