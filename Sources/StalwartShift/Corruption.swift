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

    /// The image key of a dataset file: FNV-1a 64 of its path relative to the dataset root
    /// (UTF-8). `stalwart corrupt` and `stalwart eval` both key images this way, so on-the-fly
    /// corruptions equal the files written to disk, independent of order and threads.
    public static func datasetKey(_ relativePath: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in relativePath.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Corruption names and subset names (common, validation, all, noise, blur, weather,
    /// digital), comma-separated, in order of first appearance without repeats.
    public static func parseList(_ s: String) throws -> [Corruption] {
        var out: [Corruption] = []
        for part in s.split(separator: ",").map({ String($0).trimmingSpaces }) where !part.isEmpty {
            if let subset = Subset(rawValue: part) { out += named(subset) } else { out.append(try Corruption(name: part)) }
        }
        var seen = Set<Corruption>()
        return out.filter { seen.insert($0).inserted }
    }

    /// Severities as a range `1-5` or a list `1,3,5` (or both: `1-2,5`); sorted, unique, in 1...5.
    public static func parseSeverities(_ s: String) throws -> [Int] {
        var out: [Int] = []
        for part in s.split(separator: ",") {
            let r = part.split(separator: "-")
            if r.count == 2, let a = Int(r[0]), let b = Int(r[1]), a <= b, a >= 1, b <= 5 { out += Array(a...b) }
            else if let v = Int(part) { out.append(v) }
            else { throw StalwartError.invalidArgument("severities take 1-5 or 1,3,5, got '\(s)'") }
        }
        guard !out.isEmpty, out.allSatisfy({ (1...5).contains($0) }) else {
            throw StalwartError.invalidArgument("severities must be in 1...5, got '\(s)'")
        }
        return Array(Set(out)).sorted()
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
