import StalwartTensor

/// The 19 ImageNet-C corruptions (15 benchmark + 4 validation), by their `imagecorruptions`
/// names, with the subsets the benchmark uses.
public enum Corruption: String, CaseIterable, Sendable {
    case gaussianNoise = "gaussian_noise", shotNoise = "shot_noise", impulseNoise = "impulse_noise"
    case defocusBlur = "defocus_blur", glassBlur = "glass_blur", motionBlur = "motion_blur", zoomBlur = "zoom_blur"
    case snow, frost, fog, brightness, contrast
    case elasticTransform = "elastic_transform", pixelate, jpegCompression = "jpeg_compression"
    case speckleNoise = "speckle_noise", gaussianBlur = "gaussian_blur", spatter, saturate

    /// Families of `imagecorruptions.get_corruption_names(subset)`.
    public enum Subset: String, CaseIterable, Sendable { case common, validation, all, noise, blur, weather, digital }

    public static func named(_ subset: Subset) -> [Corruption] {
        switch subset {
        case .common: return Array(allCases.prefix(15))
        case .validation: return [.speckleNoise, .gaussianBlur, .spatter, .saturate]
        case .all: return allCases
        case .noise: return [.gaussianNoise, .shotNoise, .impulseNoise]
        case .blur: return [.defocusBlur, .glassBlur, .motionBlur, .zoomBlur]
        case .weather: return [.snow, .frost, .fog, .brightness]
        case .digital: return [.contrast, .elasticTransform, .pixelate, .jpegCompression]
        }
    }

    /// A stable small number per corruption (its index in `allCases`), used in RNG keys.
    public var id: UInt32 { UInt32(Corruption.allCases.firstIndex(of: self) ?? 0) }

    public init(name: String) throws(StalwartError) {
        guard let c = Corruption(rawValue: name) else {
            throw .invalidArgument("unknown corruption '\(name)' (known: \(Corruption.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = c
    }
}

/// Which reference a corruption reproduces where the two differ.
public enum CorruptionMode: String, Sendable, CaseIterable {
    /// `imagecorruptions` 1.1.2 (any image size): the default.
    case imagecorruptions
    /// Hendrycks' `make_imagenet_c.py` (224×224 semantics: elastic transform with the affine
    /// step, pixelate with BOX upsampling).
    case hendrycks
}

/// Everything a corruption needs besides the image.
public struct CorruptionContext {
    public var severity: Int
    public var mode: CorruptionMode
    /// Source of every random number the corruption uses.
    public var random: RandomDraws

    public init(severity: Int, mode: CorruptionMode, random: RandomDraws) {
        self.severity = severity; self.mode = mode; self.random = random
    }
}
