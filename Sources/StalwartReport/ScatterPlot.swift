// A labelled scatter plot with a fitted line: the robustness-vs-transfer figure of a study.

/// One point per model, labelled, plus the least-squares line `y = intercept + slope · x` drawn
/// across the x range of the points. Optional vertical error bars (± `yErr`). Non-finite
/// points are left out; all marks are clamped to the plot area.
public struct ScatterPlot: Sendable {
    public struct Point: Sendable {
        public var label: String
        public var x: Double
        public var y: Double
        public var yErr: Double
        public init(label: String, x: Double, y: Double, yErr: Double = 0) {
            self.label = label; self.x = x; self.y = y; self.yErr = yErr
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [Point]
    /// The fitted line; nil draws none.
    public var line: (slope: Double, intercept: Double)?
    public var width: Double = 640
    public var height: Double = 420

    public init(title: String, xLabel: String, yLabel: String, points: [Point], line: (slope: Double, intercept: Double)?) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.points = points; self.line = line
    }

    /// The `<svg>` element (kind "study-scatter").
    public func render() -> String {
        let pts = points.filter { $0.x.isFinite && $0.y.isFinite }
        let xs = pts.map(\.x)
        let ys = pts.flatMap { p in [p.y - max(p.yErr, 0), p.y + max(p.yErr, 0)].filter(\.isFinite) }
        var xLo = xs.min() ?? 0, xHi = xs.max() ?? 1
        if !(xHi > xLo) { let t = niceTicks(xLo, xHi); xLo = t.lo; xHi = t.hi }
        let xPad = (xHi - xLo) * 0.08
        let xt = niceTicks(xLo - xPad, xHi + xPad, target: 6)
        var lineYs: [Double] = []
        if let l = line, l.slope.isFinite, l.intercept.isFinite, !pts.isEmpty {
            lineYs = [l.intercept + l.slope * (xs.min() ?? 0), l.intercept + l.slope * (xs.max() ?? 0)]
        }
        let yAll = ys + lineYs.filter(\.isFinite)
        var yLo = yAll.min() ?? 0, yHi = yAll.max() ?? 1
        if !(yHi > yLo) { let t = niceTicks(yLo, yHi); yLo = t.lo; yHi = t.hi }
        let yPad = (yHi - yLo) * 0.08
        let yt = niceTicks(yLo - yPad, yHi + yPad, target: 5)
        let f = PlotFrame(width: width, height: height, left: 64, top: 34, plotWidth: width - 64 - 24, plotHeight: height - 34 - 52,
                          xMin: xt.lo, xMax: xt.hi, yMin: yt.lo, yMax: yt.hi)
        var s = svgOpen(kind: "study-scatter", title: title, width: width, height: height)
        s += svgAxes(f, xTicks: xt.values.map { Tick(value: $0, label: format($0, decimals: tickDecimals(xt.step))) },
                     yTicks: yt.values.map { Tick(value: $0, label: format($0, decimals: tickDecimals(yt.step))) },
                     xLabel: xLabel, yLabel: yLabel, xGrid: true)
        guard !pts.isEmpty else { return s + svgNoData(f) + "</svg>\n" }
        if let l = line, lineYs.count == 2, lineYs.allSatisfy(\.isFinite), let x0 = xs.min(), let x1 = xs.max() {
            s += "<line class=\"fit\" data-slope=\"\(escapeHTML(l.slope.description))\" data-intercept=\"\(escapeHTML(l.intercept.description))\" "
                + "x1=\"\(c(f.x(x0)))\" y1=\"\(c(f.y(lineYs[0])))\" x2=\"\(c(f.x(x1)))\" y2=\"\(c(f.y(lineYs[1])))\" "
                + "stroke=\"#d62728\" stroke-width=\"1.8\" stroke-dasharray=\"6 4\"/>\n"
        }
        s += "<g class=\"points\">\n"
        for (i, p) in pts.enumerated() {
            let cx = f.x(p.x), cy = f.y(p.y)
            if p.yErr > 0, p.yErr.isFinite {
                s += "<line class=\"err\" x1=\"\(c(cx))\" y1=\"\(c(f.y(p.y - p.yErr)))\" x2=\"\(c(cx))\" y2=\"\(c(f.y(p.y + p.yErr)))\" stroke=\"#1f77b4\" stroke-width=\"1.2\"/>\n"
            }
            s += "<circle class=\"point\" data-label=\"\(escapeHTML(p.label))\" data-x=\"\(escapeHTML(p.x.description))\" data-y=\"\(escapeHTML(p.y.description))\" "
                + "cx=\"\(c(cx))\" cy=\"\(c(cy))\" r=\"5\" fill=\"\(paletteColor(i))\" stroke=\"#ffffff\" stroke-width=\"1\"><title>"
                + "\(escapeHTML(p.label)): \(escapeHTML(format(p.x, decimals: 4))), \(escapeHTML(format(p.y, decimals: 4)))</title></circle>\n"
            let right = cx > f.left + f.plotWidth * 0.75
            s += "<text class=\"point-label\" x=\"\(c(right ? cx - 8 : cx + 8))\" y=\"\(c(cy - 7))\" text-anchor=\"\(right ? "end" : "start")\">\(escapeHTML(p.label))</text>\n"
        }
        return s + "</g>\n</svg>\n"
    }
}
