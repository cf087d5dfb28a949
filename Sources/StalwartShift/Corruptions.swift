import StalwartTensor

/// Applies ImageNet-C corruptions to 8-bit images.
///
/// Input: an `Image` of at least 32×32 pixels, RGB or gray (gray is stacked to 3 channels as
/// the reference does; RGBA is refused). Output: RGB of the same size. The result is a pure
/// function of (image, corruption, severity, seed, key, mode): `key` identifies the image in a
/// dataset so that every image gets its own random stream. Thread-safe (no shared state).
public enum Corruptions {
    /// The largest |value| a replayed draw may have (2²⁴).
    public static let maxReplayMagnitude = 16_777_216.0

    /// - Parameters:
    ///   - replay: random values recorded from NumPy while `imagecorruptions` ran, consumed in
    ///     order instead of the counter-based generator (the exact-parity test hook).
    public static func apply(_ image: Image, _ corruption: Corruption, severity: Int, seed: UInt64 = 0, key: UInt64 = 0,
                             mode: CorruptionMode = .imagecorruptions, replay: [Double]? = nil) throws -> Image {
        guard (1...5).contains(severity) else {
            throw StalwartError.invalidArgument("severity must be 1...5, got \(severity)")
        }
        guard image.width >= 32, image.height >= 32 else {
            throw StalwartError.invalidArgument("corruptions need images of at least 32×32 pixels, got \(image.width)×\(image.height)")
        }
        guard image.channels == 3 || image.channels == 1 else {
            throw StalwartError.invalidArgument("corruptions take RGB or gray images, got \(image.channels) channels")
        }
        // Every draw the reference makes is small (uniforms within ±100, normals of std ≤ 0.6,
        // Poisson counts ≤ 10λ + 50, integers below the image size); a replayed value beyond
        // 2²⁴ can only be a caller's mistake, and would overflow integer conversions downstream.
        if let r = replay, let bad = r.firstIndex(where: { !$0.isFinite || $0.magnitude > Corruptions.maxReplayMagnitude }) {
            throw StalwartError.invalidArgument("replayed draw \(bad) is \(r[bad]); draws must be finite numbers within ±2^24")
        }
        let rgb = try image.converted(channels: 3)
        let random: RandomDraws = replay.map { ReplayRandom($0) } ??
            CounterRandom(seed: seed, key: key, corruption: corruption, severity: severity)
        let ctx = CorruptionContext(severity: severity, mode: mode, random: random)
        let out: Image
        switch corruption {
        case .gaussianNoise: out = try gaussianNoise(rgb, ctx)
        case .shotNoise: out = try shotNoise(rgb, ctx)
        case .impulseNoise: out = try impulseNoise(rgb, ctx)
        case .speckleNoise: out = try speckleNoise(rgb, ctx)
        case .brightness: out = try brightness(rgb, ctx)
        case .contrast: out = try contrast(rgb, ctx)
        case .saturate: out = try saturate(rgb, ctx)
        case .pixelate: out = try pixelate(rgb, ctx)
        case .jpegCompression: out = try jpegCompression(rgb, ctx)
        case .defocusBlur: out = try defocusBlur(rgb, ctx)
        case .glassBlur: out = try glassBlur(rgb, ctx)
        case .motionBlur: out = try motionBlur(rgb, ctx)
        case .zoomBlur: out = try zoomBlur(rgb, ctx)
        case .gaussianBlur: out = try gaussianBlur(rgb, ctx)
        case .snow: out = try snow(rgb, ctx)
        case .frost: out = try frost(rgb, ctx)
        case .fog: out = try fog(rgb, ctx)
        case .spatter: out = try spatter(rgb, ctx)
        case .elasticTransform: out = try elasticTransform(rgb, ctx)
        }
        if let r = random as? ReplayRandom, r.remaining != 0 {
            throw StalwartError.invalidArgument("\(r.remaining) replayed draws were not consumed: the draws do not line up with \(corruption.rawValue)")
        }
        return out
    }
}
