import StalwartTensor

/// The preprocessing of the model families Stalwart evaluates, each as a function of the test
/// resolution `r` so that a resolution sweep is one parameter.
///
/// | preset | resize | crop | values |
/// |---|---|---|---|
/// | `torchvision` | shorter side to ⌊256·r/224⌋, bilinear, antialiased (Pillow) | centre r×r | ImageNet mean/std on [0, 1] |
/// | `timm` | shorter side to ⌊r / crop_pct⌋ (default 0.875), `interpolation` (default bicubic) | centre r×r | ImageNet mean/std (overridable) |
/// | `inception` | TF central crop 0.875, then bilinear to r×r without antialiasing | — | [−1, 1] |
/// | `bit` | shorter side to ⌊1.15·r⌋, bilinear, antialiased | centre r×r | [0, 1] |
/// | `efficientnet-lite` | shorter side to ⌊r / 0.875⌋, bicubic, antialiased | centre r×r | (x − 127) / 128 |
public enum Presets {
    public struct Info: Sendable {
        public let name: String
        public let summary: String
    }

    public static let all: [Info] = [
        Info(name: "torchvision", summary: "Resize(⌊256·r/224⌋, bilinear, antialias) + CenterCrop(r), ImageNet mean/std"),
        Info(name: "timm", summary: "Resize(⌊r/crop_pct⌋, interpolation) + CenterCrop(r), mean/std (defaults 0.875, bicubic, ImageNet)"),
        Info(name: "inception", summary: "TF central_crop(0.875) + bilinear resize to r×r (no antialias), values in [-1, 1]"),
        Info(name: "bit", summary: "Resize(⌊1.15·r⌋, bilinear) + CenterCrop(r), values in [0, 1]"),
        Info(name: "efficientnet-lite", summary: "Resize(⌊r/0.875⌋, bicubic) + CenterCrop(r), (x - 127) / 128"),
    ]

    /// Optional overrides (nil = the preset's default).
    public struct Options: Sendable {
        public var cropPct: Double?
        public var filter: ResizeFilter?
        public var normalization: Normalization?
        public var layout: TensorLayout = .nchw
        public init() {}
    }

    /// The pipeline of preset `name` at resolution `r` (16...4096).
    public static func pipeline(_ name: String, resolution r: Int, options: Options = .init()) throws -> Pipeline {
        guard r >= 16, r <= 4096 else { throw StalwartError.invalidArgument("resolution must be 16...4096, got \(r)") }
        if let p = options.cropPct, !(p > 0 && p <= 1) {
            throw StalwartError.invalidArgument("crop_pct must be in (0, 1], got \(p)")
        }
        var p: Pipeline
        switch name {
        case "torchvision":
            p = Pipeline(resize: .shorterSide(r * 256 / 224), filter: .bilinear, crop: (r, r), normalization: .imagenet)
        case "timm":
            let size = Geometry.cropPctResizeSize(size: r, cropPct: options.cropPct ?? 0.875)
            p = Pipeline(resize: .shorterSide(size), filter: .bicubic, crop: (r, r), normalization: .imagenet)
        case "inception":
            p = Pipeline(resize: .centralFraction(options.cropPct ?? 0.875, width: r, height: r), filter: .bilinear,
                         crop: nil, normalization: .signed)
            p.antialias = false
        case "bit":
            p = Pipeline(resize: .shorterSide(Int(Double(r) * 1.15)), filter: .bilinear, crop: (r, r), normalization: .unit)
        case "efficientnet-lite":
            p = Pipeline(resize: .shorterSide(Int(Double(r) / (options.cropPct ?? 0.875))), filter: .bicubic,
                         crop: (r, r), normalization: .edge)
        default:
            throw StalwartError.invalidArgument("unknown preset '\(name)' (known: \(all.map(\.name).joined(separator: ", ")))")
        }
        if let f = options.filter { p.filter = f }
        if let n = options.normalization { p.normalization = n }
        p.layout = options.layout
        p.name = "\(name)@\(r)"
        return p
    }

    // MARK: - Model metadata

    /// `metadata_props` keys a model can carry so that it classifies without flags:
    /// `stalwart.preprocess` (preset name), `stalwart.resolution`, optional `stalwart.crop_pct`,
    /// `stalwart.interpolation`, `stalwart.mean` / `stalwart.std` (comma-separated, on 0...255
    /// pixel values ÷ `stalwart.scale`, default 1/255), `stalwart.layout` (nchw | nhwc), and
    /// `stalwart.labels` (class names, one per line, in output order).
    public enum Key {
        public static let preset = "stalwart.preprocess"
        public static let resolution = "stalwart.resolution"
        public static let cropPct = "stalwart.crop_pct"
        public static let interpolation = "stalwart.interpolation"
        public static let mean = "stalwart.mean"
        public static let std = "stalwart.std"
        public static let scale = "stalwart.scale"
        public static let layout = "stalwart.layout"
        public static let labels = "stalwart.labels"
    }

    /// The pipeline a model's metadata describes, or nil when it names no preset.
    public static func pipeline(metadata: [(key: String, value: String)], resolution override: Int? = nil) throws -> Pipeline? {
        var d: [String: String] = [:]
        for kv in metadata { d[kv.key] = kv.value }
        guard let name = d[Key.preset] else { return nil }
        guard let r = override ?? d[Key.resolution].flatMap({ Int(trimmed($0)) }) else {
            throw StalwartError.invalidArgument("model metadata names preset '\(name)' but no valid \(Key.resolution)")
        }
        var o = Options()
        if let c = d[Key.cropPct] {
            guard let v = Double(c) else { throw StalwartError.invalidArgument("metadata \(Key.cropPct) '\(c)' is not a number") }
            o.cropPct = v
        }
        if let f = d[Key.interpolation] {
            guard let v = ResizeFilter(rawValue: f) else { throw StalwartError.invalidArgument("metadata \(Key.interpolation) '\(f)' is not a filter") }
            o.filter = v
        }
        if let l = d[Key.layout] {
            guard let v = TensorLayout(rawValue: l) else { throw StalwartError.invalidArgument("metadata \(Key.layout) '\(l)' is not nchw or nhwc") }
            o.layout = v
        }
        if let m = d[Key.mean], let s = d[Key.std] {
            func floats(_ t: String) throws -> [Float] {
                try t.split(separator: ",").map {
                    guard let v = Float(trimmed(String($0))) else {
                        throw StalwartError.invalidArgument("metadata value '\(t)' is not a comma-separated list of numbers")
                    }
                    return v
                }
            }
            let scale = try d[Key.scale].map { s -> Float in
                guard let v = Float(s) else { throw StalwartError.invalidArgument("metadata \(Key.scale) '\(s)' is not a number") }
                return v
            } ?? 1 / 255
            o.normalization = try Normalization(scale: scale, mean: floats(m), std: floats(s))
        }
        return try pipeline(name, resolution: r, options: o)
    }

    /// Class names from a model's metadata (`stalwart.labels`), or nil.
    public static func labels(metadata: [(key: String, value: String)]) -> [String]? {
        guard let v = metadata.last(where: { $0.key == Key.labels })?.value else { return nil }
        return v.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

/// `s` without leading and trailing spaces, tabs and line breaks (no Foundation).
func trimmed(_ s: String) -> String {
    var t = Substring(s)
    while let f = t.first, f == " " || f == "\t" || f == "\n" || f == "\r" { t.removeFirst() }
    while let l = t.last, l == " " || l == "\t" || l == "\n" || l == "\r" { t.removeLast() }
    return String(t)
}
