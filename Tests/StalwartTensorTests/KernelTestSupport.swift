@testable import StalwartTensor

/// Helpers shared by the kernel tests (prefixed to stay clear of other test files).
enum KernelTestSupport {
    /// Deterministic pseudo-random floats in [-1, 1) (64-bit LCG), so failures reproduce.
    struct Rng {
        var state: UInt64
        init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func float() -> Float { Float(next() % 2_000_001) / 1_000_000 - 1 }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
        mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
        /// True with probability ≈ p.
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) < p * 1_000_000 }
    }

    /// Every kernel set this CPU can run, best first ("avx512", "avx2", "generic").
    static var kernelSets: [KernelSet] { KernelSet.supported }

    /// Largest violation of |x − ref| ≤ tol · (1 + scale) over all elements (≤ 1 passes),
    /// with the index of the worst element. `scale` bounds the magnitude of the terms summed
    /// into each element (Σ|a·b|), so the tolerance covers float re-association.
    static func worst(_ x: [Float], _ ref: [Float], scale: [Float], tol: Float) -> (ratio: Float, index: Int) {
        var w: Float = 0, wi = -1
        for i in 0..<min(x.count, ref.count) {
            if x[i].isNaN && ref[i].isNaN { continue }
            let d = abs(x[i] - ref[i])
            let r = d.isNaN ? .infinity : d / (tol * (1 + scale[i]))
            if r > w { w = r; wi = i }
        }
        return (w, wi)
    }
}
