/// The on-disk layouts `Dataset.open` understands. Raw values are the CLI/suite names.
public enum DatasetLayout: String, CaseIterable, Sendable {
    /// Class folders named by WordNet id (`n01440764`) or ImageNet-1k index (`0`…`999`), or by
    /// any name listed in a class-map file (`DatasetOptions.classMap`).
    case folder
    /// A flat folder of images plus a labels file (`DatasetOptions.labelsFile`).
    case imagenetVal = "imagenet-val"
    /// `{corruption}/{severity 1…5}/{wnid}/*.JPEG` (Hendrycks & Dietterich's release).
    case imagenetC = "imagenet-c"
    /// `{0…999}/*.jpeg` (ImageNetV2; the folder name is the ImageNet-1k index).
    case imagenetV2 = "imagenet-v2"
    /// WordNet-id folders of ImageNet-A's 200 classes.
    case imagenetA = "imagenet-a"
    /// WordNet-id folders of ImageNet-R's 200 classes.
    case imagenetR = "imagenet-r"
    /// `images/<folder>/*.png` (or `<folder>/*.png`) plus `mappings/folder_to_objectnet_label.json`.
    case objectnet
    /// `pmsets.json` + `labels.json` (in the root or `metadata/`), frames at root-relative keys.
    case imagenetVidRobust = "imagenet-vid-robust"
    /// The same pm-k format for YTBB-Robust.
    case ytbbRobust = "ytbb-robust"
    /// `metadata.csv` + class folders, or subsets `area`/`location`/`rotation` each like that.
    case siScore = "si-score"
    /// Every image below the root, label −1.
    case unlabeled
}

/// One image of a dataset. Plain value, `Sendable`.
public struct Sample: Sendable, Equatable {
    /// The file's path: the dataset root joined with `key`.
    public var path: String
    /// Path relative to the dataset root, `/`-separated; unique within the dataset. Stable id
    /// (database key, corruption RNG key source).
    public var key: String
    /// Class index in the dataset's label space (`Dataset.labelSpace`), −1 when unlabelled.
    public var label: Int
    /// All acceptable labels when an image has several (pm-k frames with 2+ labels), in the
    /// metadata's order, starting with `label`; `[]` otherwise.
    public var labels: [Int]
    /// On-disk ImageNet-C: the corruption folder name; `""` otherwise.
    public var corruption: String
    /// On-disk ImageNet-C: 1…5; 0 otherwise.
    public var severity: Int
    /// pm-k sets: the key of this frame's anchor frame (the anchor has `anchor == key`); `""`
    /// otherwise.
    public var anchor: String
    /// SI-Score: the numeric metadata columns of this image, by the CSV's own column names;
    /// `[:]` otherwise.
    public var factors: [String: Double]

    public init(path: String, key: String, label: Int, labels: [Int] = [], corruption: String = "",
                severity: Int = 0, anchor: String = "", factors: [String: Double] = [:]) {
        self.path = path
        self.key = key
        self.label = label
        self.labels = labels
        self.corruption = corruption
        self.severity = severity
        self.anchor = anchor
        self.factors = factors
    }
}

/// An image file that was found but could not be used, and why.
public struct Skipped: Sendable, Equatable {
    /// Path relative to the dataset root (as `Sample.key`).
    public var key: String
    /// A human-readable reason ("class folder 'n000' is not an ImageNet-1k WordNet id", …).
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }
}

/// Options of `Dataset.open`.
public struct DatasetOptions: Sendable {
    /// `folder`: a file mapping class-folder names to class indices of the label space: either
    /// one `name index` per line (the index is the last whitespace-separated token, the name the
    /// rest) or one name per line in index order. Blank lines and lines starting with `#` are
    /// ignored.
    public var classMap: String? = nil
    /// `imagenet-val`: the labels file. Lines are `FILENAME INDEX` (e.g.
    /// `ILSVRC2012_val_00000001.JPEG 65`; FILENAME is the root-relative key or the base name) or
    /// one bare index per line in byte-sorted key order. Indices are ImageNet-1k (0…999).
    /// Default: the first that exists of `root/labels.txt`, `root/imagenet_val_labels.txt`,
    /// `root/../imagenet_val_labels.txt`. (The devkit's `ILSVRC2012_validation_ground_truth.txt`
    /// uses 1-based ILSVRC2012_IDs in another order and is not supported.)
    public var labelsFile: String? = nil
    /// Overrides the label space (a `LabelSpace.names` name; `-` is read as `_`, so
    /// `imagenet-a` works). ImageNet-indexed layouts (folder, val, C, V2, A, R) project the
    /// ImageNet-1k label into it, skipping images whose class is outside the space; the other
    /// layouts accept their own space, or any space when theirs has one ImageNet id per class
    /// (SI-Score).
    public var labelSpace: String? = nil

    public init() {}
}
