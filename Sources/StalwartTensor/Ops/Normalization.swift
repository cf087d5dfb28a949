#if canImport(Glibc)
import Glibc
#else
import Glibc
#endif

// Normalization layers on [N, C, spatial...] float32 tensors (row-major, channels at axis 1).
// Statistics are accumulated in Double with a two-pass mean/variance, so planes of 10⁶
// elements keep ~1e-7 relative error in the statistics.

extension TensorOps {
    /// ONNX LRN across channels: `input`/`output` [N, C, spatial...] (rank ≥ 2);
    /// `y = x / (bias + alpha/size · Σ x²)^beta`, the sum over channels
    /// `c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉` clipped to 0..<C. `size` ≥ 1.
    public static func lrn(_ input: UnsafePointer<Float>, shape: [Int], size: Int, alpha: Float,
                           beta: Float, bias: Float, output: UnsafeMutablePointer<Float>) {
        guard shape.count >= 2, size >= 1, let total = elementCount(shape),
              checkedMul(total, 4) != nil else { return }
        if total == 0 { return }
        let n = shape[0], c = shape[1]
        let plane = product(shape, 2..<shape.count)
        let before = (size - 1) / 2, after = size - 1 - before
        let k = alpha / Float(size)
        var scratch = [Float](repeating: 0, count: plane)
        scratch.withUnsafeMutableBufferPointer { sb in
            guard let sq = sb.baseAddress else { return }
            for b in 0..<n {
                let x = input + b &* c &* plane, y = output + b &* c &* plane
                for ch in 0..<c {
                    for i in 0..<plane { sq[i] = 0 }
                    let lo = Swift.max(0, ch - before), hi = Swift.min(c - 1, ch + after)
                    if lo <= hi {
                        for j in lo...hi {
                            let xj = x + j &* plane
                            for i in 0..<plane { sq[i] += xj[i] * xj[i] }
                        }
                    }
                    let xc = x + ch &* plane, yc = y + ch &* plane
                    if beta == 0.75 {
                        for i in 0..<plane {
                            let t = bias + k * sq[i]
                            let r = t.squareRoot()
                            yc[i] = xc[i] / (r * r.squareRoot())
                        }
                    } else {
                        for i in 0..<plane { yc[i] = xc[i] * powf(bias + k * sq[i], -beta) }
                    }
                }
            }
        }
    }

    /// InstanceNormalization: `input`/`output` [N, C, spatial...] (rank ≥ 2), `scale`/`bias`
    /// [C]; each (n, c) plane is normalized by its own mean and biased variance:
    /// `y = scale[c] · (x − mean) / sqrt(var + epsilon) + bias[c]`. Parallel over planes.
    public static func instanceNorm(_ input: UnsafePointer<Float>, shape: [Int],
                                    scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                    epsilon: Float, output: UnsafeMutablePointer<Float>,
                                    pool: ThreadPool) {
        // Instance normalization is group normalization with one group per channel.
        guard shape.count >= 2 else { return }
        groupNorm(input, shape: shape, groups: Swift.max(shape[1], 1), scale: scale, bias: bias,
                  epsilon: epsilon, output: output, pool: pool)
    }

    /// GroupNormalization: `input`/`output` [N, C, spatial...] (rank ≥ 2), `groups` dividing C;
    /// the statistics of each (n, group) cover its C/groups channels × spatial elements;
    /// `scale`/`bias` are per channel [C] (the caller expands opset-18 per-group values).
    /// `y = scale[c] · (x − mean_g) / sqrt(var_g + epsilon) + bias[c]`. Parallel over (n, group).
    public static func groupNorm(_ input: UnsafePointer<Float>, shape: [Int], groups: Int,
                                 scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 epsilon: Float, output: UnsafeMutablePointer<Float>,
                                 pool: ThreadPool) {
        guard shape.count >= 2, groups >= 1, shape[1] % groups == 0,
              let total = elementCount(shape), checkedMul(total, 4) != nil else { return }
        if total == 0 { return }
        let c = shape[1], cg = c / groups
        let plane = product(shape, 2..<shape.count)
        let groupLen = cg &* plane
        parallelRanges(pool, count: shape[0] &* groups, workPerItem: groupLen &* 3) { range in
            for p in range {
                let g = p % groups
                let x = input + p &* groupLen, y = output + p &* groupLen
                let (mean, variance) = meanAndVariance(x, groupLen)
                let inv = 1 / (variance + Double(epsilon)).squareRoot()
                for j in 0..<cg {
                    let ch = g &* cg &+ j
                    let a = Double(scale[ch]) * inv
                    let b = Double(bias[ch]) - mean * a
                    affine(x + j &* plane, y + j &* plane, plane, Float(a), Float(b))
                }
            }
        }
    }

    /// Inference BatchNormalization: `input`/`output` [N, C, spatial...] (rank ≥ 2), `scale`,
    /// `bias`, `mean`, `variance` [C]; `y = scale·(x − mean)/sqrt(variance + epsilon) + bias`,
    /// applied as one multiply-add per element with per-channel a, b folded in Float.
    /// Parallel over planes.
    public static func batchNorm(_ input: UnsafePointer<Float>, shape: [Int],
                                 scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 mean: UnsafePointer<Float>, variance: UnsafePointer<Float>,
                                 epsilon: Float, output: UnsafeMutablePointer<Float>,
                                 pool: ThreadPool) {
        guard shape.count >= 2, let total = elementCount(shape), checkedMul(total, 4) != nil
        else { return }
        if total == 0 { return }
        let c = shape[1]
        let plane = product(shape, 2..<shape.count)
        parallelRanges(pool, count: shape[0] &* c, workPerItem: plane) { range in
            for p in range {
                let ch = p % c
                let a = scale[ch] / (variance[ch] + epsilon).squareRoot()
                let b = bias[ch] - mean[ch] * a
                affine(input + p &* plane, output + p &* plane, plane, a, b)
            }
        }
    }

    /// y[i] = x[i]·a + b.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                       _ a: Float, _ b: Float) {
        for i in 0..<n { y[i] = x[i] * a + b }
    }

    /// Two-pass mean and biased variance of `n` floats, accumulated in Double.
    @inline(__always)
    static func meanAndVariance(_ x: UnsafePointer<Float>, _ n: Int) -> (Double, Double) {
        if n <= 0 { return (0, 0) }
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += Double(x[i]); s1 += Double(x[i + 1]); s2 += Double(x[i + 2]); s3 += Double(x[i + 3])
            i += 4
        }
        while i < n { s0 += Double(x[i]); i += 1 }
        let mean = (s0 + s1 + s2 + s3) / Double(n)
        var v0 = 0.0, v1 = 0.0, v2 = 0.0, v3 = 0.0
        i = 0
        while i + 4 <= n {
            let d0 = Double(x[i]) - mean, d1 = Double(x[i + 1]) - mean
            let d2 = Double(x[i + 2]) - mean, d3 = Double(x[i + 3]) - mean
            v0 += d0 * d0; v1 += d1 * d1; v2 += d2 * d2; v3 += d3 * d3
            i += 4
        }
        while i < n { let d = Double(x[i]) - mean; v0 += d * d; i += 1 }
        return (mean, (v0 + v1 + v2 + v3) / Double(n))
    }
}
