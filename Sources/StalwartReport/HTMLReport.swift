// The self-contained HTML report: tables plus inline SVG plots, no scripts or external resources.
// The markup is XHTML-compatible (closed void elements, only numeric character references).

/// Percentage tick label for a fraction (`0.4` → "40").
private let percentTick: (Double, Double) -> String = { v, step in format(v * 100, decimals: tickDecimals(step * 100)) }

struct HTMLReport {
    let input: ReportInput

    func render() -> String {
        var sections: [(id: String, title: String, body: String)] = []
        if !input.runs.isEmpty {
            sections.append(("runs", "Runs", runsTable()))
            sections.append(("summary", "Summary", summaryTable()))
            if let s = severitySection() { sections.append(("severity", "Accuracy vs corruption severity", s)) }
            if let s = resolutionSection() { sections.append(("resolution", "Accuracy vs test resolution", s)) }
            if let s = reliabilitySection() { sections.append(("reliability", "Reliability diagrams", s)) }
            if let s = mceSection() { sections.append(("mce", "Corruption errors (mCE)", s)) }
            if let s = siScoreSection() { sections.append(("siscore", "SI-Score: accuracy per object size, rotation and location", s)) }
            if let s = comparisonSection() { sections.append(("comparison", "Model comparison", s)) }
        }
        var h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
        h += "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        h += "<meta name=\"generator\" content=\"Stalwart \(escapeHTML(input.version))\"/>\n"
        h += "<title>\(escapeHTML(input.title))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n<header>\n"
        h += "<h1>\(escapeHTML(input.title))</h1>\n"
        h += "<p class=\"meta\">Generated \(escapeHTML(input.generated)) · Stalwart \(escapeHTML(input.version)) · "
        h += "\(input.runs.count) run\(input.runs.count == 1 ? "" : "s")</p>\n"
        if !sections.isEmpty {
            h += "<nav>" + sections.map { "<a href=\"#\($0.id)\">\(escapeHTML($0.title))</a>" }.joined(separator: " ") + "</nav>\n"
        }
        h += "</header>\n<main>\n"
        if input.runs.isEmpty { h += "<p class=\"empty\">No runs in this report (no data).</p>\n" }
        for s in sections {
            h += "<section id=\"\(s.id)\">\n<h2>\(escapeHTML(s.title))</h2>\n\(s.body)</section>\n"
        }
        h += "</main>\n<footer>Accuracies in %. Corrupted means are unweighted over corruptions × severities; "
        h += "“n/a” marks a missing or undefined value.</footer>\n</body>\n</html>\n"
        return h
    }

    // MARK: tables

    private func table(_ header: [String], _ rows: [[String]], numericFrom: Int = 1, caption: String? = nil) -> String {
        var t = "<div class=\"table-wrap\"><table>\n"
        if let caption { t += "<caption>\(escapeHTML(caption))</caption>\n" }
        t += "<thead><tr>" + header.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows {
            t += "<tr>" + row.enumerated().map { i, v in
                i >= numericFrom ? "<td class=\"num\">\(v)</td>" : "<td>\(v)</td>"
            }.joined() + "</tr>\n"
        }
        return t + "</tbody>\n</table></div>\n"
    }

    private func runLabel(_ r: ReportRun) -> String { "\(r.model) · \(r.suite) · \(r.resolution) px" }

    private func runsTable() -> String {
        let rows = input.runs.map { r -> [String] in
            [escapeHTML(r.model), "<code title=\"\(escapeHTML(r.modelHash))\">\(escapeHTML(String(r.modelHash.prefix(12))))</code>",
             "<span title=\"\(escapeHTML(r.dataRoot))\">\(escapeHTML(r.suite))</span>", String(r.resolution),
             escapeHTML(r.preprocess), format(r.cropPct, decimals: 3), escapeHTML(r.interpolation),
             String(r.imageCount), String(r.skipped)]
        }
        return table(["model", "hash", "suite", "resolution", "preprocess", "crop_pct", "interpolation", "images", "skipped"],
                     rows, numericFrom: 7)
    }

    private func summaryTable() -> String {
        let shown: Set<String> = ["mce", "relative_mce"]
        let rows = input.runs.map { r -> [String] in
            let others = r.summary.keys.filter { !shown.contains($0) }.sorted()
                .map { "\(escapeHTML($0)) = \(plain(r.summary[$0], decimals: 4))" }.joined(separator: ", ")
            return [escapeHTML(r.model), escapeHTML(r.suite), String(r.resolution),
                    percent(r.clean("top1")), percent(r.clean("top5")), percent(r.clean("ece")),
                    plain(r.clean("nll"), decimals: 3), plain(r.clean("brier"), decimals: 4),
                    r.corruptedCells.isEmpty ? "–" : percent(r.corruptedMean("top1")),
                    percent(r.summary["mce"]), percent(r.summary["relative_mce"]), others.isEmpty ? "–" : others]
        }
        return table(["model", "suite", "res", "top-1", "top-5", "ECE", "NLL", "Brier", "corrupted top-1", "mCE", "rel. mCE", "other"],
                     rows, numericFrom: 2, caption: "Clean-cell metrics (top-1, top-5, ECE in %); mCE values in %.")
    }

    // MARK: severity

    private func severitySection() -> String? {
        let runs = input.runs.filter { !$0.corruptedCells.isEmpty }
        guard !runs.isEmpty else { return nil }
        var s = "<p>Top-1 per corruption from clean (severity 0) to the highest severity; the thick black line is the mean over corruptions.</p>\n<div class=\"plots\">\n"
        for r in runs {
            let names = r.corruptionNames
            let clean = r.clean("top1")
            let severities = Set(r.corruptedCells.map(\.severity)).union([0]).sorted()
            var series: [PlotSeries] = []
            for name in names {
                var pts: [(x: Double, y: Double)] = []
                if let clean { pts.append((0, clean)) }
                for cell in r.cells where cell.corruption == name {
                    if let v = cell.metrics["top1"] { pts.append((Double(cell.severity), v)) }
                }
                let idx = canonicalCorruptions.firstIndex(of: name) ?? (canonicalCorruptions.count + series.count)
                series.append(PlotSeries(name: name, color: paletteColor(idx), dashed: idx >= 10, points: pts))
            }
            var meanPts: [(x: Double, y: Double)] = []
            for sev in severities {
                if sev == 0, let clean { meanPts.append((0, clean)); continue }
                let vals = r.corruptedCells.filter { $0.severity == sev }.compactMap { $0.metrics["top1"] }
                if let m = finiteMean(vals) { meanPts.append((Double(sev), m)) }
            }
            series.append(PlotSeries(name: "mean", color: "#000000", strokeWidth: 3.2, points: meanPts))
            let chart = LineChart(
                kind: "severity", title: "Top-1 vs severity — \(runLabel(r))", xLabel: "severity", yLabel: "top-1 (%)",
                series: series,
                xTicks: severities.map { Tick(value: Double($0), label: $0 == 0 ? "clean" : String($0)) },
                yDomain: (0, 1), yTickLabel: percentTick)
            s += "<figure>\(chart.render())</figure>\n"
        }
        return s + "</div>\n"
    }

    // MARK: resolution

    private func resolutionSection() -> String? {
        let modelKeys = uniqueModelKeys()
        var suites: [String] = []
        for r in input.runs where !suites.contains(r.suite) { suites.append(r.suite) }
        var figures = ""
        for suite in suites {
            var series: [PlotSeries] = []
            for (mi, key) in modelKeys.enumerated() {
                let runs = input.runs.filter { $0.suite == suite && $0.modelKey == key }
                guard Set(runs.map(\.resolution)).count >= 2, let name = runs.first?.model else { continue }
                let cleanPts = runs.compactMap { r in r.clean("top1").map { (x: Double(r.resolution), y: $0) } }
                let corrPts = runs.compactMap { r in r.corruptedMean("top1").map { (x: Double(r.resolution), y: $0) } }
                series.append(PlotSeries(name: "\(name) clean", color: paletteColor(mi), points: cleanPts))
                if !corrPts.isEmpty {
                    series.append(PlotSeries(name: "\(name) corrupted mean", color: paletteColor(mi), dashed: true, points: corrPts))
                }
            }
            guard !series.isEmpty else { continue }
            let chart = LineChart(
                kind: "resolution", title: "Top-1 vs test resolution — \(suite)", xLabel: "test resolution (px)",
                yLabel: "top-1 (%)", series: series, yClamp: (0, 1), yTickLabel: percentTick,
                xTickLabel: { v, _ in format(v, decimals: 0) })
            figures += "<figure>\(chart.render())</figure>\n"
        }
        guard !figures.isEmpty else { return nil }
        return "<p>Models evaluated on the same suite at two or more resolutions. Solid: clean top-1; dashed: mean corrupted top-1.</p>\n"
            + "<div class=\"plots\">\n\(figures)</div>\n"
    }

    // MARK: reliability

    private func reliabilitySection() -> String? {
        let runs = input.runs.filter { !$0.reliability.isEmpty }
        guard !runs.isEmpty else { return nil }
        var s = "<p>Accuracy per confidence bin of the clean cell; shaded: gap to the diagonal (perfect calibration).</p>\n<div class=\"plots\">\n"
        for r in runs {
            var title = "Reliability — \(runLabel(r))"
            if let ece = r.clean("ece") { title += " (ECE \(percent(ece)) %)" }
            s += "<figure>\(ReliabilityChart(title: title, bins: r.reliability).render())</figure>\n"
        }
        return s + "</div>\n"
    }

    // MARK: SI-Score

    private func siScoreSection() -> String? {
        let runs = input.runs.filter { !$0.factorCurves.isEmpty }
        guard !runs.isEmpty else { return nil }
        var s = "<p>Per-factor accuracy on SI-Score (robustness_metrics' synthetic metric): images grouped by object area, "
            + "rotation angle or location; averages are unweighted over a factor's values.</p>\n<div class=\"plots\">\n"
        for r in runs {
            for (factor, xLabel, decimals) in [("size", "object area (fraction of the image)", 2), ("rotation", "rotation (degrees)", 0)] {
                guard let pts = r.factorCurves[factor], !pts.isEmpty else { continue }
                let chart = LineChart(
                    kind: "siscore-\(factor)", title: "\(factor == "size" ? "Accuracy vs object size" : "Accuracy vs rotation") — \(runLabel(r))",
                    xLabel: xLabel, yLabel: "accuracy (%)",
                    series: [PlotSeries(name: "top-1", color: paletteColor(0), strokeWidth: 2.2, points: pts.map { (x: $0.x, y: $0.top1) }),
                             PlotSeries(name: "top-5", color: paletteColor(3), dashed: true, points: pts.map { (x: $0.x, y: $0.top5) })],
                    yDomain: (0, 1), yTickLabel: percentTick, xTickLabel: { v, _ in format(v, decimals: decimals) })
                s += "<figure>\(chart.render())</figure>\n"
            }
            if let pts = r.factorCurves["location"], !pts.isEmpty {
                s += "<figure>\(HeatmapChart(kind: "siscore-location", title: "Top-1 by object location — \(runLabel(r))", points: pts).render())</figure>\n"
            }
        }
        return s + "</div>\n"
    }

    // MARK: mCE

    private func mceSection() -> String? {
        let runs = input.runs.filter { !$0.corruptionErrors.isEmpty }
        guard !runs.isEmpty else { return nil }
        var s = ""
        for r in runs {
            let order = sortedCorruptions(r.corruptionErrors.map(\.name))
            let errors = r.corruptionErrors.enumerated().sorted { a, b in
                let ra = order.firstIndex(of: a.element.name) ?? 0, rb = order.firstIndex(of: b.element.name) ?? 0
                return ra != rb ? ra < rb : a.offset < b.offset
            }.map(\.element)
            var rows = errors.map { e -> [String] in
                [escapeHTML(e.name), percent(r.corruptionMean(e.name, "top1")), percent(e.ce), percent(e.relativeCE)]
            }
            let meanTop1 = finiteMean(errors.compactMap { r.corruptionMean($0.name, "top1") })
            rows.append(["<strong>mean</strong>", percent(meanTop1), "<strong>\(percent(finiteMean(errors.map(\.ce))))</strong>",
                         "<strong>\(percent(finiteMean(errors.map(\.relativeCE))))</strong>"])
            if r.summary["mce"] != nil || r.summary["relative_mce"] != nil {
                rows.append(["reported", "–", percent(r.summary["mce"]), percent(r.summary["relative_mce"])])
            }
            s += table(["corruption", "mean top-1", "CE", "relative CE"], rows,
                       caption: "\(runLabel(r)) — values in %")
        }
        return s
    }

    // MARK: comparison

    private func uniqueModelKeys() -> [String] {
        var keys: [String] = []
        for r in input.runs where !keys.contains(r.modelKey) { keys.append(r.modelKey) }
        return keys
    }

    /// For each model, the run of `suite` at the model's first listed resolution, else its first run of `suite`.
    private func pick(_ key: String, _ suite: String) -> ReportRun? {
        let runs = input.runs.filter { $0.modelKey == key }
        guard let res = runs.first?.resolution else { return nil }
        let ofSuite = runs.filter { $0.suite == suite }
        return ofSuite.first { $0.resolution == res } ?? ofSuite.first
    }

    private func comparisonSection() -> String? {
        let keys = uniqueModelKeys()
        guard keys.count >= 2 else { return nil }
        var suites: [String] = []
        for r in input.runs where !suites.contains(r.suite) { suites.append(r.suite) }
        // Columns: clean ImageNet top-1, then per suite top-1 (ImageNet-C: corrupted mean).
        var columns: [(name: String, value: (String) -> Double?)] = []
        let hasImageNet = input.runs.contains { $0.suite.lowercased() == "imagenet" || ($0.isImageNetC && $0.cleanCell != nil) }
        if hasImageNet {
            columns.append(("imagenet", { key in
                if let r = self.pick(key, "imagenet"), let v = r.clean("top1") { return v }
                return self.input.runs.first { $0.modelKey == key && $0.isImageNetC && $0.clean("top1") != nil }?.clean("top1")
            }))
        }
        for suite in suites where suite.lowercased() != "imagenet" {
            columns.append((suite, { key in self.pick(key, suite)?.headlineTop1 }))
        }
        let names = keys.map { key in input.runs.first { $0.modelKey == key }?.model ?? "" }
        let resolutions = keys.map { key in input.runs.first { $0.modelKey == key }?.resolution ?? 0 }
        var rows: [[String]] = []
        for (i, key) in keys.enumerated() {
            let mce = input.runs.first { $0.modelKey == key && $0.summary["mce"] != nil }?.summary["mce"]
            rows.append([escapeHTML(names[i]), String(resolutions[i])] + columns.map { percent($0.value(key)) } + [percent(mce)])
        }
        var s = table(["model", "res"] + columns.map { $0.name + " top-1" } + ["mCE"], rows,
                      caption: "Top-1 in % at each model's first listed resolution (imagenet-c: mean over corrupted cells).")
        let series = keys.enumerated().map { i, key in
            PlotSeries(name: names[i], color: paletteColor(i),
                       points: columns.enumerated().map { ci, col in (x: Double(ci), y: col.value(key) ?? .nan) })
        }
        let chart = BarChart(kind: "comparison", title: "Top-1 by suite", yLabel: "top-1 (%)",
                             categories: columns.map(\.name), series: series, yTickLabel: percentTick)
        s += "<div class=\"plots\"><figure>\(chart.render())</figure></div>\n"
        return s
    }

    // MARK: style

    static let css = """
    :root { color-scheme: light; }
    body { margin: 0; background: #f7f7f5; color: #222; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
    header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
    header { padding-top: 20px; }
    h1 { font-size: 24px; margin: 0 0 4px; }
    h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
    .meta { color: #666; margin: 0 0 8px; }
    nav a { margin-right: 14px; color: #1f5fa8; text-decoration: none; }
    nav a:hover { text-decoration: underline; }
    .table-wrap { overflow-x: auto; margin: 8px 0 16px; }
    table { border-collapse: collapse; background: #fff; font-size: 13px; }
    caption { text-align: left; color: #555; padding: 4px 0; }
    th, td { border: 1px solid #e2e2e2; padding: 4px 8px; text-align: left; white-space: nowrap; }
    th { background: #f0f0ee; font-weight: 600; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    tbody tr:nth-child(even) { background: #fafafa; }
    code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
    .plots { display: flex; flex-wrap: wrap; gap: 16px; }
    figure { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 4px; padding: 6px; }
    svg.plot { display: block; max-width: 100%; height: auto; }
    svg.plot text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 11px; fill: #333; }
    svg.plot .plot-title { font-size: 13px; font-weight: 600; }
    svg.plot .label { font-size: 12px; }
    svg.plot .no-data { font-size: 16px; fill: #999; }
    svg.plot .grid { stroke: #ececec; stroke-width: 1; }
    svg.plot .axis { stroke: #555; stroke-width: 1; }
    .empty { color: #777; font-style: italic; }
    footer { color: #777; font-size: 12px; padding-top: 24px; padding-bottom: 24px; }

    """
}
