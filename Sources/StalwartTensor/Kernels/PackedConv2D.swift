/// A convolution with its weights prepared once at load (packing, folded bias).
/// PLACEHOLDER API (kernels to be supplied): currently calls the reference loop.
///
/// Thread-safety: immutable after init; `run` may be called from many threads at once as
/// long as each call has its own scratch and output.
public final class PackedConv2D: @unchecked Sendable {
    public let geometry: Conv2DGeometry
    public let activation: FusedActivation
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>

    /// `weights`: OIHW [Cout, Cin/groups, kH, kW] float32, copied/packed (not retained).
    /// `bias`: [Cout] or nil (zeros). Throws on invalid geometry or allocation failure.
    public init(geometry g: Conv2DGeometry, weights w: UnsafePointer<Float>,
                bias b: UnsafePointer<Float>?, activation: FusedActivation) throws(TensorError) {
        self.geometry = g
        self.activation = activation
        let wc = g.outChannels * g.groupInChannels * g.kernelH * g.kernelW
        weights = .allocate(capacity: wc)
        weights.update(from: w, count: wc)
        bias = .allocate(capacity: g.outChannels)
        if let b { bias.update(from: b, count: g.outChannels) } else { bias.initialize(repeating: 0, count: g.outChannels) }
    }

    deinit { weights.deallocate(); bias.deallocate() }

    /// Bytes of scratch one `run` call needs for this input size and batch.
    public func scratchByteCount(batch: Int, h: Int, w: Int, threads: Int) -> Int { 0 }

    /// input NCHW [batch, Cin, h, w]; output NCHW [batch, Cout, oh, ow] (see
    /// `geometry.outputSize`); residual nil or output-shaped, added before the activation.
    /// `scratch` holds `scratchByteCount(...)` bytes, 64-byte aligned.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    residual: UnsafePointer<Float>?, batch: Int, h: Int, w: Int,
                    scratch: UnsafeMutableRawPointer?, pool: ThreadPool) {
        Reference.conv2d(geometry, batch: batch, h: h, w: w, input: input, weights: weights,
                         bias: bias, residual: residual, activation: activation, output: output)
    }
}
