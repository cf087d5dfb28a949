import Glibc
import StalwartTensor

/// The random numbers a corruption consumes, in the order the reference (`imagecorruptions`)
/// draws them from NumPy. Two sources:
/// - `CounterRandom`: Philox4x32-10 keyed by (seed, key, corruption, severity); the output is a
///   pure function of those, byte-identical across runs, threads, batch order and machines.
/// - `ReplayRandom`: values recorded from NumPy while the reference ran, consumed in order;
///   this is the hook that lets tests compare pixels with the reference exactly.
/// Not thread-safe: one instance per corruption call.
public protocol RandomDraws: AnyObject {
    /// `count` samples of N(mean, std²), like `np.random.normal(mean, std, size)`.
    func normal(_ count: Int, mean: Double, std: Double) throws -> [Double]
    /// `count` samples of U[low, high), like `np.random.uniform(low, high, size)`.
    func uniform(_ count: Int, low: Double, high: Double) throws -> [Double]
    /// One Poisson sample per rate, like `np.random.poisson(lam)`.
    func poisson(_ lambdas: [Double]) throws -> [Double]
    /// `count` integers in [low, high), like `np.random.randint(low, high, size)`.
    func integers(_ count: Int, low: Int, high: Int) throws -> [Int]
}

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
/// a counter-based generator, so every draw is a pure function of (key, counter). Every draw
/// is a bulk draw of whole 8-block groups (`CounterStreams`), so `counter` is always a
/// multiple of 8.
public final class CounterRandom: RandomDraws {
    let key: (UInt32, UInt32)
    /// The first block of the next bulk draw.
    var counter: UInt64 = 0

    /// Streams for different (seed, key, corruption, severity) never overlap: the 64-bit seed
    /// and 64-bit image key are mixed into the Philox key and the counter's high word.
    public init(seed: UInt64, key imageKey: UInt64, corruption: Corruption, severity: Int) {
        let a = CounterRandom.mix(seed ^ 0x9E37_79B9_7F4A_7C15)
        let b = CounterRandom.mix(imageKey &+ (UInt64(corruption.id) << 48) &+ (UInt64(severity) << 56) &+ 0xD1B5_4A32_D192_ED03)
        key = (UInt32(truncatingIfNeeded: a ^ (b >> 32)), UInt32(truncatingIfNeeded: (a >> 32) ^ b))
        high = b
    }
    let high: UInt64

    /// SplitMix64 finalizer.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A new array of `count` doubles, all written by `f(out)` (no zero-fill, no copies).
    @inline(__always)
    private func fill(_ count: Int, _ f: (UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { buf, n in
            if let base = buf.baseAddress { f(base) }
            n = count
        }
    }

    /// Bulk uniforms (see `CounterStreams`): `low + (high − low)·u`, u = k·2⁻³² ∈ [0, 1) (32
    /// random bits: far finer than any 8-bit image or pixel offset can show; NumPy uses 53).
    public func uniform(_ count: Int, low: Double, high: Double) throws -> [Double] {
        try CounterRandom.checkCount(count)
        let span = high - low
        return fill(count) { out in
            forEachUnitChunk(count) { start, u in
                for i in 0..<u.count { out[start + i] = low + span * u[i] }
            }
        }
    }

    /// Bulk normals (see `CounterStreams.boxMuller`): `mean + std·z`, z a float32 standard
    /// normal, computed in parallel chunks; deterministic for any thread count.
    public func normal(_ count: Int, mean: Double, std: Double) throws -> [Double] {
        try CounterRandom.checkCount(count)
        return fill(count) { out in
            forEachNormalChunk(count) { start, z in
                for i in 0..<z.count { out[start + i] = mean + std * Double(z[i]) }
            }
        }
    }

    /// One standard normal: the first of a fresh bulk group (rarely used: Poisson rates > 1000).
    func standardNormal() -> Double {
        var z: Float = 0
        forEachNormalChunk(1) { _, b in z = b[0] }
        return Double(z)
    }

    /// One draw per rate: `PoissonTables` inversion (exact: the same values as the sequential
    /// search) for 0 < λ ≤ 1000, a normal approximation with continuity correction above (never
    /// reached by the ImageNet-C tables at 8-bit precision), 0 for λ ≤ 0 or non-finite λ.
    /// Images have few distinct rates, so each rate is tabulated once per call (up to 4096
    /// rates; further rates are searched sequentially).
    public func poisson(_ lambdas: [Double]) throws -> [Double] {
        try CounterRandom.checkCount(lambdas.count)
        // Open-addressed cache: rate bit pattern → table index.
        let slots = 8192, maxTables = 4096
        var keys = [UInt64](repeating: .max, count: slots)  // .max is a NaN pattern: never a rate
        var index = [Int](repeating: 0, count: slots)
        var tables = PoissonTables()
        let units = try uniform(lambdas.count, low: 0, high: 1)
        return fill(lambdas.count) { out in
            for i in 0..<lambdas.count {
                let lam = lambdas[i], u = units[i]
                guard lam > 0, lam.isFinite else { out[i] = 0; continue }
                if lam > 1000 { out[i] = max(0, (lam + lam.squareRoot() * standardNormal() + 0.5).rounded(.down)); continue }
                let bits = lam.bitPattern
                var slot = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 51)  // 13 bits
                while keys[slot] != bits && keys[slot] != .max { slot = (slot + 1) & (slots - 1) }
                if keys[slot] == .max {
                    guard tables.count < maxTables else { out[i] = PoissonTables.sequential(lam, u); continue }
                    keys[slot] = bits
                    index[slot] = tables.add(lam)
                }
                out[i] = tables.sample(index[slot], u)
            }
        }
    }

    public func integers(_ count: Int, low: Int, high: Int) throws -> [Int] {
        try CounterRandom.checkCount(count)
        guard high > low else { throw StalwartError.invalidArgument("empty integer range [\(low), \(high))") }
        let span = UInt64(high - low)
        return [Int](unsafeUninitializedCapacity: count) { buf, n in
            if let out = buf.baseAddress {
                forEachUnitChunk(count) { start, u in
                    for i in 0..<u.count { out[start + i] = low + Int(UInt64(u[i] * Double(span)) % span) }
                }
            }
            n = count
        }
    }

    static func checkCount(_ n: Int) throws {
        guard n >= 0, n <= 1 << 28 else { throw StalwartError.outOfMemory("\(n) random draws") }
    }
}

/// Replays values recorded from NumPy while the reference ran (see `RandomDraws`). Each call
/// consumes the next `count` values; running out is an error naming the call.
public final class ReplayRandom: RandomDraws {
    private let values: [Double]
    private var position = 0

    public init(_ values: [Double]) { self.values = values }

    /// Values not consumed (a test checks this is 0: the draws lined up).
    public var remaining: Int { values.count - position }

    private func take(_ n: Int, _ what: String) throws -> ArraySlice<Double> {
        guard n >= 0, position + n <= values.count else {
            throw StalwartError.invalidArgument("replayed draws ran out: \(what) needs \(n) values at position \(position) of \(values.count)")
        }
        defer { position += n }
        return values[position..<(position + n)]
    }

    public func normal(_ count: Int, mean: Double, std: Double) throws -> [Double] { Array(try take(count, "normal")) }
    public func uniform(_ count: Int, low: Double, high: Double) throws -> [Double] { Array(try take(count, "uniform")) }
    public func poisson(_ lambdas: [Double]) throws -> [Double] { Array(try take(lambdas.count, "poisson")) }
    /// Replayed integers must be whole numbers in [low, high); anything else (NaN, ∞, out of
    /// range: a caller's mistake) is an error, never a trap.
    public func integers(_ count: Int, low: Int, high: Int) throws -> [Int] {
        try take(count, "integers").map { v in
            guard v.isFinite, v == v.rounded(), v >= Double(low), v < Double(high) else {
                throw StalwartError.invalidArgument("replayed integer draw \(v) is not a whole number in [\(low), \(high))")
            }
            return Int(v)
        }
    }
}
