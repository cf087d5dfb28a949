// Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithms 7.4, 3.5, 3.6)
// for smooth unconstrained problems in float64.
import StalwartTensor

enum LBFGS {
    struct Result {
        var x: [Double]
        var f: Double
        var iterations: Int
        var converged: Bool
    }

    static let memory = 10
    static let c1 = 1e-4
    static let c2 = 0.9

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    static func normInf(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

    /// Minimizes `fg` (value and gradient) from the origin. Stops when ‖g‖∞ ≤ `tolerance`, when
    /// the relative decrease (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ 64·ε, or after
    /// `maxIterations` iterations; on a failed line search it returns the best point so far.
    static func minimize(dimension: Int, maxIterations: Int, tolerance: Double,
                         _ fg: ([Double]) throws -> (Double, [Double])) throws -> Result {
        var x = [Double](repeating: 0, count: dimension)
        var (f, g) = try fg(x)
        guard f.isFinite else { throw StalwartError.invalidArgument("L-BFGS: the objective is not finite at the start") }
        var sList: [[Double]] = [], yList: [[Double]] = [], rhoList: [Double] = []
        var iterations = 0
        if normInf(g) <= tolerance { return Result(x: x, f: f, iterations: 0, converged: true) }
        while iterations < maxIterations {
            // Two-loop recursion: d = −H g.
            var q = g
            var alphas = [Double](repeating: 0, count: sList.count)
            for i in stride(from: sList.count - 1, through: 0, by: -1) {
                alphas[i] = rhoList[i] * dot(sList[i], q)
                for j in q.indices { q[j] -= alphas[i] * yList[i][j] }
            }
            if let s = sList.last, let y = yList.last {
                let gamma = dot(s, y) / dot(y, y)
                for j in q.indices { q[j] *= gamma }
            }
            for i in 0..<sList.count {
                let beta = rhoList[i] * dot(yList[i], q)
                for j in q.indices { q[j] += sList[i][j] * (alphas[i] - beta) }
            }
            var d = q.map { -$0 }
            var dg = dot(d, g)
            if !(dg < 0) {   // not a descent direction: restart with steepest descent
                sList.removeAll(); yList.removeAll(); rhoList.removeAll()
                d = g.map { -$0 }
                dg = dot(d, g)
            }
            let step0 = sList.isEmpty ? min(1, 1 / max(normInf(g), 1e-300)) : 1
            guard let ls = try lineSearch(x: x, f0: f, g0: g, d: d, dg0: dg, step0: step0, fg) else { break }
            iterations += 1
            let s = zip(ls.x, x).map { $0 - $1 }
            let y = zip(ls.g, g).map { $0 - $1 }
            let sy = dot(s, y)
            let fOld = f
            x = ls.x; f = ls.f; g = ls.g
            if sy > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() {
                sList.append(s); yList.append(y); rhoList.append(1 / sy)
                if sList.count > memory { sList.removeFirst(); yList.removeFirst(); rhoList.removeFirst() }
            }
            if normInf(g) <= tolerance { return Result(x: x, f: f, iterations: iterations, converged: true) }
            if (fOld - f) / max(abs(fOld), abs(f), 1) <= 64 * Double.ulpOfOne {
                return Result(x: x, f: f, iterations: iterations, converged: true)
            }
        }
        return Result(x: x, f: f, iterations: iterations, converged: normInf(g) <= tolerance)
    }

    struct Point { var x: [Double]; var f: Double; var g: [Double]; var dg: Double; var step: Double }

    /// Strong-Wolfe line search (Algorithms 3.5/3.6 with safeguarded quadratic interpolation);
    /// nil when no acceptable decrease is found.
    static func lineSearch(x: [Double], f0: Double, g0: [Double], d: [Double], dg0: Double, step0: Double,
                           _ fg: ([Double]) throws -> (Double, [Double])) throws -> Point? {
        func at(_ a: Double) throws -> Point {
            let xn = zip(x, d).map { $0 + a * $1 }
            let (f, g) = try fg(xn)
            return Point(x: xn, f: f, g: g, dg: dot(g, d), step: a)
        }
        func armijoFails(_ p: Point) -> Bool { !(p.f.isFinite) || p.f > f0 + c1 * p.step * dg0 }
        func zoom(_ loIn: Point, _ hiIn: Point) throws -> Point? {
            var lo = loIn, hi = hiIn
            for _ in 0..<40 {
                // Minimizer of the quadratic through (lo.step, lo.f, lo.dg) and (hi.step, hi.f).
                let width = hi.step - lo.step
                var a = lo.step + width / 2
                if hi.f.isFinite {
                    let denom = 2 * (hi.f - lo.f - lo.dg * width)
                    if denom > 0 { a = lo.step - lo.dg * width * width / denom }
                }
                let lower = min(lo.step, hi.step) + 0.1 * abs(width), upper = max(lo.step, hi.step) - 0.1 * abs(width)
                if !(a >= lower && a <= upper) { a = lo.step + width / 2 }
                let p = try at(a)
                if armijoFails(p) || p.f >= lo.f {
                    hi = p
                } else {
                    if abs(p.dg) <= -c2 * dg0 { return p }
                    if p.dg * (hi.step - lo.step) >= 0 { hi = lo }
                    lo = p
                }
                if abs(hi.step - lo.step) < 1e-16 * max(1, lo.step) { break }
            }
            return lo.step > 0 && lo.f < f0 ? lo : nil
        }
        var prev = Point(x: x, f: f0, g: g0, dg: dg0, step: 0)
        var a = step0
        for i in 0..<60 {
            let p = try at(a)
            if armijoFails(p) || (i > 0 && p.f >= prev.f) { return try zoom(prev, p) }
            if abs(p.dg) <= -c2 * dg0 { return p }
            if p.dg >= 0 { return try zoom(p, prev) }
            prev = p
            a *= 2
        }
        return prev.step > 0 ? prev : nil
    }
}
