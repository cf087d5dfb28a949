// The portable random streams of the transfer protocols (SplitMix64 + Fisher–Yates), specified
// exactly so other languages (Tests/python/transfer_oracle.py) reproduce every split.

/// SplitMix64 (Steele, Lea & Flood 2014): `state += 0x9E3779B97F4A7C15`, then the output is
/// `mix(state)` with `mix(z) = z' ^ (z' >> 31)` where `z' = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9`
/// then `((z' ^ (z' >> 27)) * 0x94D049BB133111EB)` (all wrapping 64-bit arithmetic).
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    /// The stream for (`seed`, `tag`, `index`): `state = mix(mix(seed ^ tag) ^ index)`.
    /// Tags in use: `SplitMix64.splitTag` (hold-out split, index = class), `shotsTag` (few-shot
    /// draws, index = class), `bootstrapTag` (bootstrap resamples, index = 0).
    public init(seed: UInt64, tag: UInt64, index: UInt64) {
        state = SplitMix64.mix(SplitMix64.mix(seed ^ tag) ^ index)
    }

    public static let splitTag: UInt64 = 0x73706C6974      // "split"
    public static let shotsTag: UInt64 = 0x73686F7473      // "shots"
    public static let bootstrapTag: UInt64 = 0x626F6F74    // "boot"

    @inlinable public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        return SplitMix64.mix(state)
    }

    /// Uniform in `0..<bound` (0 when `bound ≤ 1`, drawing nothing) by rejection: draws `r` until `r ≥ 2^64 mod bound`,
    /// then returns `r % bound` (unbiased).
    @inlinable public mutating func below(_ bound: UInt64) -> UInt64 {
        if bound <= 1 { return 0 }
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return r % bound }
        }
    }

    /// Fisher–Yates in place: for `i` from `count − 1` down to 1, swap element `i` with element
    /// `below(i + 1)`.
    public mutating func shuffle<T>(_ a: inout [T]) {
        var i = a.count - 1
        while i > 0 {
            let j = Int(below(UInt64(i + 1)))
            a.swapAt(i, j)
            i -= 1
        }
    }
}
