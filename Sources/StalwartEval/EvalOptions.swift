import StalwartData
import StalwartPreprocess
import StalwartShift
import StalwartSIScore
import StalwartTensor

extension EvalConfig {
    /// The option names `set(_:_:)` accepts (the C API's and Python's keys).
    public static let optionKeys = ["layout", "corruptions", "severities", "clean", "resolutions", "preset", "crop_pct",
                                    "interpolation", "seed", "mode", "corrupt_at", "batch", "threads", "workers", "limit", "shard",
                                    "class_map", "labels_file", "label_space", "siscore", "siscore_areas", "siscore_angles",
                                    "siscore_centres", "siscore_grid", "siscore_resolution", "siscore_backgrounds",
                                    "siscore_min_pct_inside", "siscore_seed", "siscore_jpeg"]

    /// Sets one option from text, as the C API and Python pass them: `layout` (a
    /// `DatasetLayout` name), `corruptions` (names/subsets, comma-separated; "" = none),
    /// `severities` (`1-5`, `1,3,5`), `clean` (`0`/`1`), `resolutions` (`160,224,288`; "" =
    /// the model's), `preset`, `crop_pct`, `interpolation`, `seed`, `mode`
    /// (`imagecorruptions`/`hendrycks`), `corrupt_at` (`input`/`native`, `CorruptAt`), `batch`, `threads`, `workers`, `limit`, `shard`
    /// (`I/N`), `class_map`, `labels_file`, `label_space`; SI-Score in memory: `siscore` (a
    /// preset `size`/`rotation`/`location`, or `custom` = the size preset's values as a base,
    /// "" = off), then `siscore_<key>` for `SIScoreConfig.set` keys (`areas`, `angles`,
    /// `centres`, `grid`, `resolution`, `backgrounds`, `min_pct_inside`, `seed`) and
    /// `siscore_jpeg` (`0`/`1`); these need `siscore` set first. Unknown keys and bad values throw
    /// `.invalidArgument` naming them; the configuration is unchanged then.
    public mutating func set(_ key: String, _ value: String) throws {
        func int(_ range: ClosedRange<Int>) throws -> Int {
            guard let v = Int(value.trimmingSpaces), range.contains(v) else {
                throw StalwartError.invalidArgument("option '\(key)' must be an integer in \(range), got '\(value)'")
            }
            return v
        }
        switch key {
        case "layout":
            guard let l = DatasetLayout(rawValue: value) else {
                throw StalwartError.invalidArgument("unknown layout '\(value)' (known: \(DatasetLayout.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            layout = l
        case "corruptions": corruptions = value.isEmpty ? [] : try Corruption.parseList(value)
        case "severities": severities = try Corruption.parseSeverities(value)
        case "clean":
            guard value == "0" || value == "1" else { throw StalwartError.invalidArgument("option 'clean' must be 0 or 1, got '\(value)'") }
            clean = value == "1"
        case "resolutions":
            var r: [Int] = []
            for part in value.split(separator: ",") {
                guard let v = Int(String(part).trimmingSpaces), (16...4096).contains(v) else {
                    throw StalwartError.invalidArgument("resolutions take integers in 16...4096 like 160,224,288, got '\(value)'")
                }
                r.append(v)
            }
            resolutions = r
        case "preset":
            guard Presets.all.contains(where: { $0.name == value }) else {
                throw StalwartError.invalidArgument("unknown preset '\(value)' (known: \(Presets.all.map(\.name).joined(separator: ", ")))")
            }
            preset = value
        case "crop_pct":
            guard let v = Double(value), v > 0, v <= 1 else { throw StalwartError.invalidArgument("crop_pct must be in (0, 1], got '\(value)'") }
            cropPct = v
        case "interpolation":
            guard let f = ResizeFilter(rawValue: value) else { throw StalwartError.invalidArgument("unknown interpolation '\(value)'") }
            interpolation = f
        case "seed":
            guard let v = UInt64(value.trimmingSpaces) else { throw StalwartError.invalidArgument("seed must be an integer in [0, 2^64), got '\(value)'") }
            seed = v
        case "mode":
            guard let m = CorruptionMode(rawValue: value) else { throw StalwartError.invalidArgument("mode must be imagecorruptions or hendrycks, got '\(value)'") }
            mode = m
        case "corrupt_at":
            guard let c = CorruptAt(rawValue: value) else { throw StalwartError.invalidArgument("corrupt_at must be input or native, got '\(value)'") }
            corruptAt = c
        case "batch": batchSize = try int(1...1024)
        case "threads": threads = try int(0...1024)
        case "workers": workers = try int(0...256)
        case "limit": limit = value.isEmpty ? nil : try int(1...Int(Int32.max))
        case "shard":
            let p = value.split(separator: "/")
            guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]), n >= 1, i >= 0, i < n else {
                throw StalwartError.invalidArgument("shard takes I/N with 0 ≤ I < N, e.g. 0/4, got '\(value)'")
            }
            shard = i; shards = n
        case "class_map": datasetOptions.classMap = value
        case "labels_file": datasetOptions.labelsFile = value
        case "label_space": datasetOptions.labelSpace = value
        case "siscore":
            if value.isEmpty { siscore = nil; break }
            var c = try SIScoreConfig.preset(value == "custom" ? "size" : value)
            if value == "custom" { c.variant = "custom" }
            siscore = SIScoreSynthesis(config: c)
        case "siscore_jpeg":
            guard var s = siscore else { throw StalwartError.invalidArgument("option '\(key)' needs option 'siscore' set first") }
            guard value == "0" || value == "1" else { throw StalwartError.invalidArgument("option 'siscore_jpeg' must be 0 or 1, got '\(value)'") }
            s.jpeg = value == "1"
            siscore = s
        case _ where key.hasPrefix("siscore_"):
            guard var s = siscore else { throw StalwartError.invalidArgument("option '\(key)' needs option 'siscore' set first") }
            try s.config.set(String(key.dropFirst("siscore_".count)), value)
            siscore = s
        default:
            throw StalwartError.invalidArgument("unknown evaluation option '\(key)' (known: \(EvalConfig.optionKeys.joined(separator: ", ")))")
        }
    }
}

