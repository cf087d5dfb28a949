/// Plain reference implementations: the oracle every optimized kernel is tested against.
/// Deliberately simple loops; never used by the engine except in tests.
public enum Reference {
    /// NCHW convolution. input [batch, Cin, h, w], weights OIHW [Cout, Cin/groups, kH, kW],
    /// bias [Cout] or nil, residual (same shape as output) or nil; output [batch, Cout, oh, ow].
    /// out = activation(conv + bias + residual).
    public static func conv2d(_ g: Conv2DGeometry, batch: Int, h: Int, w: Int,
                              input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                              activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        guard let (oh, ow) = g.outputSize(h: h, w: w) else { return }
        let cinG = g.groupInChannels, coutG = g.groupOutChannels
        for n in 0..<batch {
            for co in 0..<g.outChannels {
                let grp = co / coutG
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var acc: Float = bias?[co] ?? 0
                        for ci in 0..<cinG {
                            let c = grp * cinG + ci
                            for ky in 0..<g.kernelH {
                                let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<g.kernelW {
                                    let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                    if ix < 0 || ix >= w { continue }
                                    let x = input[((n * g.inChannels + c) * h + iy) * w + ix]
                                    let wt = weights[((co * cinG + ci) * g.kernelH + ky) * g.kernelW + kx]
                                    acc += x * wt
                                }
                            }
                        }
                        let o = ((n * g.outChannels + co) * oh + oy) * ow + ox
                        if let r = residual { acc += r[o] }
                        output[o] = activation.apply(acc)
                    }
                }
            }
        }
    }

    /// Row-major C[m×n] = alpha · op(A) · op(B) + beta · C, where op(A) is m×k and op(B) is k×n.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += av * bv
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * acc + old
            }
        }
    }
}
