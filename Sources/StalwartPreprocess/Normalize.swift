import StalwartTensor

/// Memory layout of a preprocessed batch.
public enum TensorLayout: String, Sendable, CaseIterable {
    /// [N, C, H, W] (PyTorch, most ONNX exports).
    case nchw
    /// [N, H, W, C] (TensorFlow exports).
    case nhwc
}

/// Per-channel affine normalization applied to pixel values 0...255:
/// `y = (x · scale − mean[c]) / std[c]`.
///
/// Common settings: ImageNet mean/std on [0, 1] (`scale` 1/255), [−1, 1]
/// (`scale` 2/255, mean 1, std 1), and EfficientNet-Lite's `(x − 127) / 128`
/// (`scale` 1, mean 127, std 128).
public struct Normalization: Sendable, Equatable {
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]

    public init(scale: Float, mean: [Float], std: [Float]) throws(StalwartError) {
        guard !mean.isEmpty, mean.count == std.count else {
            throw .invalidArgument("mean and std need one value per channel (got \(mean.count) and \(std.count))")
        }
        guard scale.isFinite, scale != 0, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
            throw .invalidArgument("normalization needs a finite non-zero scale and std, finite mean")
        }
        self.scale = scale; self.mean = mean; self.std = std
    }

    /// For the constants below, whose values are known to be valid.
    private init(constant scale: Float, mean: [Float], std: [Float]) {
        self.scale = scale; self.mean = mean; self.std = std
    }

    /// ImageNet mean/std on [0, 1] values (torchvision, timm).
    public static let imagenet = Normalization(constant: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// [0, 1] values (BiT).
    public static let unit = Normalization(constant: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1])
    /// [−1, 1] values, x / 127.5 − 1 (Inception).
    public static let signed = Normalization(constant: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1])
    /// (x − 127) / 128 (EfficientNet-Lite and other edge models).
    public static let edge = Normalization(constant: 1, mean: [127, 127, 127], std: [128, 128, 128])

    /// Writes 8-bit pixels (`width`×`height`, `channels` interleaved, HWC, contiguous)
    /// normalized into `out` (C·H·W floats) in `layout` order: the same arithmetic as the
    /// `FloatImage` overload on `FloatImage(image)` (`Float(v) · mul[c] + add[c]`, unfused),
    /// so the results are bit-identical, without the intermediate float image.
    /// `channels` must equal the number of mean values.
    public func write(bytes s: UnsafePointer<UInt8>, width w: Int, height h: Int, channels c: Int,
                      layout: TensorLayout, into out: UnsafeMutablePointer<Float>) {
        let k = mean.count
        var mul = [Float](repeating: 0, count: k), add = [Float](repeating: 0, count: k)
        for i in 0..<k { mul[i] = scale / std[i]; add[i] = -mean[i] / std[i] }
        let plane = w * h
        switch (layout, c) {
        case (.nchw, 3):
            let m0 = mul[0], m1 = mul[1], m2 = mul[2], a0 = add[0], a1 = add[1], a2 = add[2]
            let d0 = out, d1 = out + plane, d2 = out + 2 * plane
            for p in 0..<plane {
                let q = s + 3 &* p
                d0[p] = Float(q[0]) * m0 + a0
                d1[p] = Float(q[1]) * m1 + a1
                d2[p] = Float(q[2]) * m2 + a2
            }
        case (.nchw, _):
            for ch in 0..<c {
                let m = mul[ch], a = add[ch], dst = out + ch * plane
                for p in 0..<plane { dst[p] = Float(s[p &* c &+ ch]) * m + a }
            }
        case (.nhwc, _):
            for p in 0..<plane {
                for ch in 0..<c { out[p &* c &+ ch] = Float(s[p &* c &+ ch]) * mul[ch] + add[ch] }
            }
        }
    }

    /// Writes `image` normalized into `out` (C·H·W floats) in `layout` order (one image of a
    /// batch). `image.channels` must equal the number of mean values.
    public func write(_ image: FloatImage, layout: TensorLayout, into out: UnsafeMutablePointer<Float>) {
        let (w, h, c) = (image.width, image.height, image.channels)
        let k = mean.count
        var mul = [Float](repeating: 0, count: k), add = [Float](repeating: 0, count: k)
        for i in 0..<k { mul[i] = scale / std[i]; add[i] = -mean[i] / std[i] }
        image.pixels.withUnsafeBufferPointer { src in
            guard let s = src.baseAddress else { return }
            switch layout {
            case .nhwc:
                for p in 0..<(w * h) {
                    for ch in 0..<c { out[p * c + ch] = s[p * c + ch] * mul[ch] + add[ch] }
                }
            case .nchw:
                let plane = w * h
                for ch in 0..<c {
                    let m = mul[ch], a = add[ch], dst = out + ch * plane
                    for p in 0..<plane { dst[p] = s[p * c + ch] * m + a }
                }
            }
        }
    }
}
