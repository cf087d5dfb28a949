import StalwartTensor

/// What an SI-Score dataset sweeps: the cartesian product centres × areas × angles ×
/// (foreground instance, background) pairs, as `dataset_generator.py`'s
/// `_generate_image_metadata` (`itertools.product(coord, area, rotation, fgs_bgs, bg_resolution)`).
public struct SIScoreConfig: Sendable, Equatable {
    /// Object centres (x, y) as fractions of the canvas width and height, each in [0, 1].
    public var centres: [SIMD2<Double>]
    /// Bounding-box areas as fractions of the background area, each in (0, 1].
    public var areas: [Double]
    /// Rotation angles in degrees, counter-clockwise.
    public var angles: [Double]
    /// Background side in pixels (square backgrounds, `bg_resolution` (R, R)).
    public var resolution: Int
    /// Backgrounds drawn (without replacement) per foreground instance (`num_bgs_per_fg_instance`).
    public var backgroundsPerForeground: Int
    /// Composites whose bounding box lies less than this fraction inside are not generated
    /// (`min_pct_inside_image`).
    public var minPctInside: Double
    /// Seed of the background draws (`SIScorePairing`).
    public var seed: UInt64
    /// The preset this came from ("size", "rotation", "location") or "custom"; names the
    /// variant in reports.
    public var variant: String

    public init(centres: [SIMD2<Double>], areas: [Double], angles: [Double], resolution: Int,
                backgroundsPerForeground: Int = 2, minPctInside: Double = 0.95, seed: UInt64 = 0, variant: String = "custom") {
        self.centres = centres
        self.areas = areas
        self.angles = angles
        self.resolution = resolution
        self.backgroundsPerForeground = backgroundsPerForeground
        self.minPctInside = minPctInside
        self.seed = seed
        self.variant = variant
    }

    /// The preset names: `size`, `rotation`, `location`.
    public static let presetNames = ["size", "rotation", "location"]

    /// The paper's configurations (si-score `generator_script.py` and its docstring):
    /// - `size`: areas k/100 for k = 1…100 (the values of `np.arange(0.01, 1.01, 0.01)` rounded
    ///   to 2 decimals), centre (0.5, 0.5), angle 0, 512×512, `min_pct_inside` 0.95;
    /// - `rotation`: angles 1, 21, …, 341 (`np.arange(1, 361, 20)`) × areas 0.2, 0.5, 0.8, 1.0,
    ///   centre (0.5, 0.5), 512×512, 0.95;
    /// - `location`: the 21×21 grid `itertools.product(steps, steps)` with
    ///   `steps = np.arange(0, 1.05, 0.05)` (values i·0.05, so 0.15000000000000002 as NumPy
    ///   gives), area 0.2, angle 0, 500×500, `min_pct_inside` 0.
    public static func preset(_ name: String) throws -> SIScoreConfig {
        switch name {
        case "size":
            return SIScoreConfig(centres: [SIMD2(0.5, 0.5)], areas: (1...100).map { Double($0) / 100 }, angles: [0],
                                 resolution: 512, variant: "size")
        case "rotation":
            return SIScoreConfig(centres: [SIMD2(0.5, 0.5)], areas: [0.2, 0.5, 0.8, 1.0],
                                 angles: stride(from: 1, to: 361, by: 20).map(Double.init), resolution: 512, variant: "rotation")
        case "location":
            let steps = (0...20).map { Double($0) * 0.05 }
            var centres: [SIMD2<Double>] = []
            for x in steps { for y in steps { centres.append(SIMD2(x, y)) } }
            return SIScoreConfig(centres: centres, areas: [0.2], angles: [0], resolution: 500, minPctInside: 0,
                                 variant: "location")
        default:
            throw StalwartError.invalidArgument("unknown SI-Score preset '\(name)' (known: \(presetNames.joined(separator: ", ")))")
        }
    }

    /// A `n`×`n` grid of centres over [0, 1]²: values i·(1/(n−1)) (n = 21 gives the location
    /// preset's i·0.05 only up to rounding; use the preset for exact parity). n ≥ 2.
    public static func grid(_ n: Int) throws -> [SIMD2<Double>] {
        guard (2...101).contains(n) else { throw StalwartError.invalidArgument("grid size must be 2...101, got \(n)") }
        let step = 1.0 / Double(n - 1)
        let steps = (0..<n).map { $0 == n - 1 ? 1.0 : Double($0) * step }
        var out: [SIMD2<Double>] = []
        for x in steps { for y in steps { out.append(SIMD2(x, y)) } }
        return out
    }

    /// Checks every value; throws `.invalidArgument` naming the first bad one.
    public func validate() throws {
        guard !centres.isEmpty, !areas.isEmpty, !angles.isEmpty else {
            throw StalwartError.invalidArgument("SI-Score configuration needs at least one centre, area and angle")
        }
        for a in areas { try SIScoreCompositor.checkArea(a) }
        for c in centres { try SIScoreCompositor.checkCentre(c.x, c.y) }
        for a in angles where !a.isFinite || abs(a) > 1e9 {
            throw StalwartError.invalidArgument("rotation angles must be finite degrees, got \(a)")
        }
        guard (8...8192).contains(resolution) else {
            throw StalwartError.invalidArgument("background resolution must be 8...8192, got \(resolution)")
        }
        guard backgroundsPerForeground >= 1 else {
            throw StalwartError.invalidArgument("backgrounds per foreground must be at least 1, got \(backgroundsPerForeground)")
        }
        guard minPctInside.isFinite, (0...1).contains(minPctInside) else {
            throw StalwartError.invalidArgument("min_pct_inside must be in [0, 1], got \(minPctInside)")
        }
        let (n1, o1) = centres.count.multipliedReportingOverflow(by: areas.count)
        let (n2, o2) = n1.multipliedReportingOverflow(by: angles.count)
        guard !o1, !o2, n2 <= 10_000_000 else {
            throw StalwartError.invalidArgument("SI-Score configuration has too many combinations (centres × areas × angles > 10⁷)")
        }
    }

    /// Sets one option from text (CLI, C API, Python): `areas` (comma-separated fractions),
    /// `angles` (comma-separated degrees), `centres` (`x:y` pairs, comma-separated), `grid`
    /// (n: an n×n grid of centres), `resolution`, `backgrounds` (per foreground), `min_pct_inside`,
    /// `seed`. Unknown keys or bad values throw `.invalidArgument`; the config is then unchanged.
    public mutating func set(_ key: String, _ value: String) throws {
        func doubles() throws -> [Double] {
            var out: [Double] = []
            for p in value.split(separator: ",") {
                let t = p.filter { $0 != " " }
                guard let v = Double(t), v.isFinite else {
                    throw StalwartError.invalidArgument("option '\(key)' takes comma-separated numbers, got '\(value)'")
                }
                out.append(v)
            }
            guard !out.isEmpty else { throw StalwartError.invalidArgument("option '\(key)' needs at least one value") }
            return out
        }
        func int(_ r: ClosedRange<Int>) throws -> Int {
            guard let v = Int(value.filter { $0 != " " }), r.contains(v) else {
                throw StalwartError.invalidArgument("option '\(key)' must be an integer in \(r.lowerBound)...\(r.upperBound), got '\(value)'")
            }
            return v
        }
        var c = self
        switch key {
        case "areas":
            c.areas = try doubles()
            for a in c.areas { try SIScoreCompositor.checkArea(a) }
        case "angles":
            c.angles = try doubles()
        case "centres", "centers":
            var out: [SIMD2<Double>] = []
            for p in value.split(separator: ",") {
                let xy = p.filter { $0 != " " }.split(separator: ":")
                guard xy.count == 2, let x = Double(xy[0]), let y = Double(xy[1]) else {
                    throw StalwartError.invalidArgument("option 'centres' takes x:y pairs like 0.5:0.5,0.25:0.75, got '\(value)'")
                }
                try SIScoreCompositor.checkCentre(x, y)
                out.append(SIMD2(x, y))
            }
            guard !out.isEmpty else { throw StalwartError.invalidArgument("option 'centres' needs at least one x:y pair") }
            c.centres = out
        case "grid":
            c.centres = try SIScoreConfig.grid(try int(2...101))
        case "resolution":
            c.resolution = try int(8...8192)
        case "backgrounds":
            c.backgroundsPerForeground = try int(1...100_000)
        case "min_pct_inside":
            guard let v = Double(value), v.isFinite, (0...1).contains(v) else {
                throw StalwartError.invalidArgument("min_pct_inside must be in [0, 1], got '\(value)'")
            }
            c.minPctInside = v
        case "seed":
            guard let v = UInt64(value.filter { $0 != " " }) else {
                throw StalwartError.invalidArgument("seed must be an integer in [0, 2^64), got '\(value)'")
            }
            c.seed = v
        default:
            throw StalwartError.invalidArgument(
                "unknown SI-Score option '\(key)' (known: areas, angles, centres, grid, resolution, backgrounds, min_pct_inside, seed)")
        }
        self = c
    }

    /// A one-line description for run records ("size: 100 areas × 1 angles × 1 centres, 512 px, ...").
    public var summary: String {
        "\(variant): \(areas.count) areas × \(angles.count) angles × \(centres.count) centres, \(resolution) px, "
            + "\(backgroundsPerForeground) backgrounds/object, min_pct_inside \(minPctInside), seed \(seed)"
    }
}

/// The background draws: for each foreground instance (classes sorted, files sorted within a
/// class), `k` distinct background indices from a Fisher–Yates partial shuffle driven by
/// SplitMix64 — a documented, portable replacement for the original's
/// `np.random.choice(n, k, replace=False)` under `np.random.seed(0)`.
///
/// SplitMix64: `state += 0x9E3779B97F4A7C15; z = state; z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9;
/// z = (z ^ (z >> 27)) · 0x94D049BB133111EB; return z ^ (z >> 31)` (wrapping 64-bit), state
/// starting at `seed`. One generator for the whole dataset; per instance `perm = [0, 1, …, n−1]`
/// and for i in 0..<k: `j = i + next() % (n − i)`, swap perm[i], perm[j]; the draws are
/// perm[0..<k] in that order.
public struct SIScorePairing {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `k` distinct indices of 0..<n (k ≤ n).
    public mutating func draw(_ k: Int, of n: Int) -> [Int] {
        var perm = Array(0..<n)
        let m = min(k, n)
        for i in 0..<m {
            let j = i + Int(next() % UInt64(n - i))
            perm.swapAt(i, j)
        }
        return Array(perm[0..<m])
    }
}
