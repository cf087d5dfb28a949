import Glibc

/// An activation applied in a kernel's epilogue (after bias and residual are added).
public enum FusedActivation: Sendable, Hashable {
    case none
    case relu
    /// min(max(x, lo), hi); ReLU6 is clip(0, 6).
    case clip(min: Float, max: Float)
    case leakyRelu(alpha: Float)
    /// max(0, min(1, alpha·x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// x · max(0, min(1, x/6 + 1/2)).
    case hardSwish
    case sigmoid

    /// Scalar definition; the reference every vectorized epilogue is tested against.
    @inlinable
    public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return x < 0 ? 0 : x  // NaN stays NaN, as ONNX Runtime
        case .clip(let lo, let hi): return Swift.min(Swift.max(x, lo), hi)
        case .leakyRelu(let a): return x >= 0 ? x : a * x
        case .hardSigmoid(let a, let b): return Swift.max(0, Swift.min(1, a * x + b))
        case .hardSwish: return x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
        case .sigmoid: return 1 / (1 + _expf(-x))
        }
    }
}

extension FusedActivation {
    /// Applies the activation to `count` floats in place.
    func apply(to p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = apply(p[i]) }
    }
}

extension KernelEpilogue {
    /// The activation code the channel-blocked stores apply themselves (1 ReLU, 2 clip; else 0)
    /// and whether an activation is left for the caller to apply afterwards.
    var storeActivation: (code: Int, after: Bool) {
        (act == 1 || act == 2) ? (act, false) : (0, act != 0)
    }
}

@usableFromInline
func _expf(_ x: Float) -> Float { expf(x) }
