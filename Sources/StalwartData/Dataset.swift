import StalwartMetrics
import StalwartTensor

/// A dataset on disk: its layout, label space and the sorted list of usable images.
/// Immutable value, `Sendable`; opening only lists folders and reads metadata (no image is
/// decoded). `open` reads the file system without locking: do not modify the folder meanwhile.
public struct Dataset: Sendable {
    /// The root folder as given to `open`.
    public let root: String
    public let layout: DatasetLayout
    /// A `LabelSpace.named` name (`"imagenet"` for 1000-class layouts); `""` for `unlabeled`.
    public let labelSpace: String
    /// Pixels to crop from every side before preprocessing. ObjectNet: 2 — its images carry a
    /// 1-px red border, and imagenet-testbed's `src/eval_settings/objectnet.py` removes it with
    /// `crop_image(image, border=2)` (`PIL.ImageOps.crop`), as does wise-ft's ObjectNet loader
    /// (`crop`: box `(2, 2, w-2, h-2)`). 0 for every other layout.
    public let borderCrop: Int
    /// The usable images, sorted by `key` in UTF-8 byte order (deterministic).
    public let samples: [Sample]
    /// Image files that were found but not usable, sorted by key. Non-image files (extension not
    /// png/jpg/jpeg, any case) and hidden entries (a path component starting with `.`, e.g.
    /// macOS `._x.jpg`) are ignored silently.
    public let skipped: [Skipped]

    /// A dataset from parts (samples and skipped entries are sorted by key here).
    public init(root: String, layout: DatasetLayout, labelSpace: String, borderCrop: Int = 0,
                samples: [Sample], skipped: [Skipped] = []) {
        self.root = root
        self.layout = layout
        self.labelSpace = labelSpace
        self.borderCrop = borderCrop
        self.samples = samples.sorted { FileSystem.byteLess($0.key, $1.key) }
        self.skipped = skipped.sorted { FileSystem.byteLess($0.key, $1.key) }
    }

    /// Distinct corruption names of on-disk ImageNet-C samples, byte-sorted.
    public var corruptions: [String] {
        Set(samples.lazy.map { $0.corruption }.filter { !$0.isEmpty }).sorted(by: FileSystem.byteLess)
    }

    /// True when `name` ends in `.png`, `.jpg` or `.jpeg` (any letter case).
    public static func isImageFile(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        switch name[name.index(after: dot)...].lowercased() {
        case "png", "jpg", "jpeg": return true
        default: return false
        }
    }

    /// Opens the dataset at `root`. `layout` nil → `detectLayout(root)` (when that finds
    /// `unlabeled` or `folder`, `options.labelsFile` selects `imagenet-val` and
    /// `options.classMap` selects `folder`). Throws `.io` for a missing/unreadable root,
    /// `.invalidArgument` for a root that is a file or options that do not apply to the layout,
    /// `.decode` for corrupt metadata (naming the file and line/byte).
    public static func open(_ root: String, layout: DatasetLayout? = nil,
                            options: DatasetOptions = .init()) throws -> Dataset {
        guard FileSystem.exists(root) else { throw StalwartError.io("dataset folder '\(root)' does not exist") }
        guard FileSystem.isDirectory(root) else {
            throw StalwartError.invalidArgument("dataset root '\(root)' is a file, not a folder")
        }
        var chosen: DatasetLayout
        if let layout { chosen = layout } else {
            chosen = try detectLayout(root)
            if options.labelsFile != nil, chosen == .unlabeled { chosen = .imagenetVal }
            if options.classMap != nil, chosen == .unlabeled { chosen = .folder }
        }
        if options.classMap != nil, chosen != .folder {
            throw StalwartError.invalidArgument("classMap applies to the 'folder' layout only, not '\(chosen.rawValue)' ('\(root)')")
        }
        if options.labelsFile != nil, chosen != .imagenetVal {
            throw StalwartError.invalidArgument("labelsFile applies to the 'imagenet-val' layout only, not '\(chosen.rawValue)' ('\(root)')")
        }
        var c = Collector(root: root)
        var spaceName: String
        var crop = 0
        switch chosen {
        case .folder, .imagenetV2, .imagenetA, .imagenetR:
            let defaultSpace = chosen == .imagenetA ? "imagenet_a" : chosen == .imagenetR ? "imagenet_r" : "imagenet"
            let space = try resolveSpace(options.labelSpace ?? defaultSpace)
            spaceName = space.name
            if chosen == .folder, let map = options.classMap {
                try loadFolderWithClassMap(&c, space: space, mapPath: map)
            } else {
                let naming: FolderNaming = chosen == .folder ? .wnidOrIndex : chosen == .imagenetV2 ? .index : .wnid
                try loadClassFolders(&c, sub: "", resolve: imagenetResolver(space: space, naming: naming))
            }
        case .imagenetVal:
            let space = try resolveSpace(options.labelSpace ?? "imagenet")
            spaceName = space.name
            try loadImagenetVal(&c, space: space, labelsFile: options.labelsFile)
        case .imagenetC:
            let space = try resolveSpace(options.labelSpace ?? "imagenet")
            spaceName = space.name
            try loadImagenetC(&c, space: space)
        case .objectnet:
            let space = try nativeSpace("objectnet", override: options.labelSpace, layout: chosen)
            spaceName = space.target.name
            crop = 2
            try loadObjectNet(&c, space: space)
        case .imagenetVidRobust, .ytbbRobust:
            let space = try nativeSpace(chosen == .ytbbRobust ? "ytbb_robust" : "imagenet_vid_robust",
                                        override: options.labelSpace, layout: chosen)
            spaceName = space.target.name
            try loadPMK(&c, space: space)
        case .siScore:
            let space = try nativeSpace("si_score", override: options.labelSpace, layout: chosen)
            spaceName = space.target.name
            try loadSIScore(&c, space: space)
        case .unlabeled:
            if let s = options.labelSpace {
                throw StalwartError.invalidArgument("the 'unlabeled' layout has no label space (got '\(s)') for '\(root)'")
            }
            spaceName = ""
            for rel in try FileSystem.walkFiles(root) where Collector.isUsableImage(rel) {
                c.add(Sample(path: FileSystem.join(root, rel), key: rel, label: -1))
            }
        }
        return Dataset(root: root, layout: chosen, labelSpace: spaceName, borderCrop: crop,
                       samples: c.samples, skipped: c.skipped)
    }

    // MARK: - Label spaces

    /// `LabelSpace.named`, reading `-` as `_`.
    static func resolveSpace(_ name: String) throws -> LabelSpace {
        try LabelSpace.named(String(name.map { $0 == "-" ? "_" : $0 }))
    }

    /// A layout whose metadata labels are classes of `native`, converted to `target`.
    struct NativeSpace {
        let native: LabelSpace
        let target: LabelSpace
        /// `target`'s class for native class `c`, or nil when it has none.
        func convert(_ c: Int) -> Int? {
            if native.name == target.name { return c >= 0 && c < native.classCount ? c : nil }
            guard c >= 0, c < native.members.count, let i = native.members[c].first else { return nil }
            return target.classIndex(ofImagenetIndex: i)
        }
    }

    static func nativeSpace(_ native: String, override: String?, layout: DatasetLayout) throws -> NativeSpace {
        let n = try LabelSpace.named(native)
        guard let override else { return NativeSpace(native: n, target: n) }
        let t = try resolveSpace(override)
        guard t.name == n.name || n.members.allSatisfy({ $0.count == 1 }) else {
            throw StalwartError.invalidArgument(
                "layout '\(layout.rawValue)' labels images in '\(n.name)', whose classes span several ImageNet classes; it cannot be relabelled in '\(t.name)'")
        }
        return NativeSpace(native: n, target: t)
    }
}

/// Accumulates samples and skipped files while a layout is read.
struct Collector {
    let root: String
    var samples: [Sample] = []
    var skipped: [Skipped] = []

    mutating func add(_ s: Sample) { samples.append(s) }
    mutating func skip(_ key: String, _ reason: String) { skipped.append(Skipped(key: key, reason: reason)) }

    /// An image file whose path has no hidden component.
    static func isUsableImage(_ rel: String) -> Bool {
        guard let last = rel.split(separator: "/").last, Dataset.isImageFile(String(last)) else { return false }
        return !rel.split(separator: "/").contains { $0.hasPrefix(".") }
    }
}
