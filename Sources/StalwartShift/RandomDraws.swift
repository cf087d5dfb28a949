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
/// a counter-based generator, so every draw is a pure function of (key, counter).
public final class CounterRandom: RandomDraws {
    private let key: (UInt32, UInt32)
    private var counter: UInt64 = 0
    private var buffer: [UInt32] = []
    private var index = 0

    /// Streams for different (seed, key, corruption, severity) never overlap: the 64-bit seed
    /// and 64-bit image key are mixed into the Philox key and the counter's high word.
    public init(seed: UInt64, key imageKey: UInt64, corruption: Corruption, severity: Int) {
        let a = CounterRandom.mix(seed ^ 0x9E37_79B9_7F4A_7C15)
        let b = CounterRandom.mix(imageKey &+ (UInt64(corruption.id) << 48) &+ (UInt64(severity) << 56) &+ 0xD1B5_4A32_D192_ED03)
        key = (UInt32(truncatingIfNeeded: a ^ (b >> 32)), UInt32(truncatingIfNeeded: (a >> 32) ^ b))
        high = b
    }
    private let high: UInt64

    /// SplitMix64 finalizer.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// One Philox4x32-10 block for counter (c0, c1, c2, c3).
    static func block(_ c: (UInt32, UInt32, UInt32, UInt32), _ k: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var (x0, x1, x2, x3) = c
        var (k0, k1) = k
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(x0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(x2)
            let y0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ x1 ^ k0
            let y1 = UInt32(truncatingIfNeeded: p1)
            let y2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ x3 ^ k1
            let y3 = UInt32(truncatingIfNeeded: p0)
            (x0, x1, x2, x3) = (y0, y1, y2, y3)
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (x0, x1, x2, x3)
    }

    @inline(__always)
    private func nextUInt32() -> UInt32 {
        if index == buffer.count {
            let r = CounterRandom.block((UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32),
                                         UInt32(truncatingIfNeeded: high), UInt32(truncatingIfNeeded: high >> 32)), key)
            counter &+= 1
            buffer = [r.0, r.1, r.2, r.3]
            index = 0
        }
        defer { index += 1 }
        return buffer[index]
    }

    /// A double in [0, 1) with 53 random bits.
    @inline(__always)
    func nextDouble() -> Double {
        let hi = UInt64(nextUInt32() >> 5), lo = UInt64(nextUInt32() >> 6)
        return Double(hi << 26 | lo) * 0x1.0p-53
    }

    public func uniform(_ count: Int, low: Double, high: Double) throws -> [Double] {
        try CounterRandom.checkCount(count)
        return (0..<count).map { _ in low + (high - low) * nextDouble() }
    }

    /// Box–Muller (deterministic, no rejection), both outputs used.
    public func normal(_ count: Int, mean: Double, std: Double) throws -> [Double] {
        try CounterRandom.checkCount(count)
        var out = [Double](repeating: 0, count: count)
        var i = 0
        while i < count {
            let u1 = 1 - nextDouble(), u2 = nextDouble()
            let r = (-2 * log(u1)).squareRoot(), t = 2 * Double.pi * u2
            out[i] = mean + std * r * cos(t)
            if i + 1 < count { out[i + 1] = mean + std * r * sin(t) }
            i += 2
        }
        return out
    }

    /// Inversion for small rates, normal approximation with continuity correction above 1e3
    /// (never reached by the ImageNet-C parameter tables at 8-bit precision).
    public func poisson(_ lambdas: [Double]) throws -> [Double] {
        try CounterRandom.checkCount(lambdas.count)
        return lambdas.map { lam in
            guard lam > 0, lam.isFinite else { return 0 }
            if lam > 1000 { return max(0, (lam + lam.squareRoot() * gaussian() + 0.5).rounded(.down)) }
            // Inversion by sequential search from the mode (PTRS would be faster; exact enough).
            var k = 0.0, p = exp(-lam), s = p
            let u = nextDouble()
            while u > s && k < lam * 10 + 50 { k += 1; p *= lam / k; s += p }
            return k
        }
    }

    private func gaussian() -> Double {
        let u1 = 1 - nextDouble(), u2 = nextDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    public func integers(_ count: Int, low: Int, high: Int) throws -> [Int] {
        try CounterRandom.checkCount(count)
        guard high > low else { throw StalwartError.invalidArgument("empty integer range [\(low), \(high))") }
        let span = UInt64(high - low)
        return (0..<count).map { _ in low + Int(UInt64(nextDouble() * Double(span)) % span) }
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
    public func integers(_ count: Int, low: Int, high: Int) throws -> [Int] {
        try take(count, "integers").map { Int($0) }
    }
}
