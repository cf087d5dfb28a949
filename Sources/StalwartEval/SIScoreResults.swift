import StalwartSIScore
import StalwartStore

extension Aggregation {
    /// The SI-Score per-factor accuracies of a run, read back from its aggregates (group
    /// `siScoreGroup`, written by `finish`); empty curves when the run has none.
    public static func siScoreScores(_ aggregates: [Aggregate]) -> SIScoreScores {
        var acc: [String: [String: (top1: Double, top5: Double, count: Int)]] = [:]
        for a in aggregates where a.group == siScoreGroup {
            guard let colon = a.metric.lastIndex(of: ":"), let eq = a.metric.firstIndex(of: "="), eq < colon else { continue }
            let factor = String(a.metric[..<eq]), value = String(a.metric[a.metric.index(after: eq)..<colon])
            let kind = a.metric[a.metric.index(after: colon)...]
            var e = acc[factor, default: [:]][value] ?? (.nan, .nan, a.count)
            if kind == "top1" { e.top1 = a.value } else if kind == "top5" { e.top5 = a.value }
            acc[factor, default: [:]][value] = e
        }
        func points(_ factor: String) -> [SIScorePoint] {
            var out: [SIScorePoint] = []
            for (v, e) in acc[factor] ?? [:] {
                if factor == "location" {
                    let xy = v.split(separator: ",")
                    guard xy.count == 2, let x = Double(xy[0]), let y = Double(xy[1]) else { continue }
                    out.append(SIScorePoint(x: x, y: y, top1: e.top1, top5: e.top5, count: e.count))
                } else if let x = Double(v) {
                    out.append(SIScorePoint(x: x, y: nil, top1: e.top1, top5: e.top5, count: e.count))
                }
            }
            return out.sorted { $0.x != $1.x ? $0.x < $1.x : ($0.y ?? 0) < ($1.y ?? 0) }
        }
        return SIScoreScores(area: points("size"), rotation: points("rotation"), location: points("location"))
    }
}
