import StalwartTensor

/// One scored image: its factors (metadata column → value) and whether the prediction was right.
public struct SIScoreResult: Sendable, Equatable {
    public var factors: [String: Double]
    public var correct1: Bool
    public var correct5: Bool

    public init(factors: [String: Double], correct1: Bool, correct5: Bool) {
        self.factors = factors
        self.correct1 = correct1
        self.correct5 = correct5
    }
}

/// Accuracy of one factor value (an area, an angle, or a location cell).
public struct SIScorePoint: Sendable, Equatable {
    /// The area, the angle, or the location's x (rounded to 2 decimals, as the group name).
    public var x: Double
    /// The location's y (rounded to 2 decimals); nil for area and angle.
    public var y: Double?
    public var top1: Double
    public var top5: Double
    public var count: Int

    public init(x: Double, y: Double?, top1: Double, top5: Double, count: Int) {
        self.x = x
        self.y = y
        self.top1 = top1
        self.top5 = top5
        self.count = count
    }
}

/// Per-factor accuracies as robustness_metrics' `synthetic` metric defines them: images are
/// grouped by `area` (`size(0.5)`), by `rotation` (`rotation(121)`) and by `(x_coord, y_coord)`
/// formatted `%.2f,%.2f` (`location(0.05,0.10)`); a group's accuracy is the mean of its
/// images' correctness, and `size_average` / `rotation_average` / `location_average` are the
/// unweighted means over groups. Top-5 is computed the same way. A factor is reported only when
/// it takes at least two distinct values among the results (a size sweep has no rotation
/// curve); results without the factor's column are left out of it.
public struct SIScoreScores: Sendable, Equatable {
    /// Ascending by value; location ascending by (x, y).
    public var area: [SIScorePoint] = []
    public var rotation: [SIScorePoint] = []
    public var location: [SIScorePoint] = []

    public init(area: [SIScorePoint] = [], rotation: [SIScorePoint] = [], location: [SIScorePoint] = []) {
        self.area = area
        self.rotation = rotation
        self.location = location
    }

    /// The curve of a factor: "size" (area), "rotation" or "location".
    public func points(_ factor: String) -> [SIScorePoint] {
        switch factor {
        case "size", "area": return area
        case "rotation": return rotation
        case "location": return location
        default: return []
        }
    }

    /// Unweighted mean over a factor's groups (`<factor>_average`), nil when not reported.
    public func average(_ factor: String, top5: Bool = false) -> Double? {
        let p = points(factor)
        guard !p.isEmpty else { return nil }
        return p.reduce(0) { $0 + (top5 ? $1.top5 : $1.top1) } / Double(p.count)
    }

    /// The reported factors in order size, rotation, location.
    public var factors: [String] { ["size", "rotation", "location"].filter { !points($0).isEmpty } }

    public static func compute(_ results: [SIScoreResult]) -> SIScoreScores {
        func groups(_ key: (SIScoreResult) -> SIMD2<Double>?, location: Bool) -> [SIScorePoint] {
            var acc: [SIMD2<Double>: (c1: Int, c5: Int, n: Int)] = [:]
            for r in results {
                guard let k = key(r), k.x.isFinite, k.y.isFinite else { continue }
                var a = acc[k] ?? (0, 0, 0)
                a.n += 1
                if r.correct1 { a.c1 += 1 }
                if r.correct5 { a.c5 += 1 }
                acc[k] = a
            }
            guard acc.count >= 2 else { return [] }
            return acc.keys.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }.compactMap { k in
                guard let a = acc[k] else { return nil }
                return SIScorePoint(x: k.x, y: location ? k.y : nil, top1: Double(a.c1) / Double(a.n),
                                    top5: Double(a.c5) / Double(a.n), count: a.n)
            }
        }
        var s = SIScoreScores()
        s.area = groups({ r in r.factors["area"].map { SIMD2($0, 0) } }, location: false)
        s.rotation = groups({ r in r.factors["rotation"].map { SIMD2($0, 0) } }, location: false)
        s.location = groups({ r in
            guard let x = r.factors["x_coord"], let y = r.factors["y_coord"] else { return nil }
            return SIMD2(PyMath.round(x, 2), PyMath.round(y, 2))
        }, location: true)
        return s
    }

    /// Group names as robustness_metrics writes them: `size(0.5)`, `rotation(121)`,
    /// `location(0.05,0.10)` (values in Python's `str` / `%.2f`).
    public static func groupName(_ factor: String, _ p: SIScorePoint) -> String {
        switch factor {
        case "location": return "location(\(fixed2(p.x)),\(fixed2(p.y ?? 0)))"
        case "rotation": return "rotation(\(compact(p.x)))"
        default: return "size(\(compact(p.x)))"
        }
    }

    /// Integral values without a fraction (`121`), others as Python `repr` (`0.05`).
    public static func compact(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : PyMath.repr(v)
    }

    /// `%.2f` of a value already rounded to 2 decimals.
    public static func fixed2(_ v: Double) -> String {
        let n = Int((abs(v) * 100).rounded())
        let frac = n % 100
        return (v < 0 && n != 0 ? "-" : "") + "\(n / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}
