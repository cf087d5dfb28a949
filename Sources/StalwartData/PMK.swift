import StalwartMetrics
import StalwartTensor

extension Dataset {
    /// The folder holding `pmsets.json` (the root, else `root/metadata`), or nil.
    static func pmkMetadataFolder(_ root: String) -> String? {
        for dir in [root, FileSystem.join(root, "metadata")]
        where FileSystem.isRegularFile(FileSystem.join(dir, "pmsets.json")) {
            return dir
        }
        return nil
    }

    /// ImageNet-Vid-Robust / YTBB-Robust (the "Do Image Classifiers Generalize Across Time?"
    /// release, as read by imagenet-testbed): `pmsets.json` maps each anchor key to its list of
    /// neighbour-frame keys (the anchor is not in its own list), `labels.json` maps every frame
    /// key (anchors included) to a non-empty list of class indices of the dataset's space
    /// (30 for Vid-Robust, 24 for YTBB-Robust in `ytbb_class_index.json` order). Both live in the
    /// root or in `root/metadata/`; keys are paths relative to the root (e.g.
    /// `val/ILSVRC2015_val_00000000/000442.JPEG`). Samples: each anchor and its frames; a frame
    /// listed twice is kept once (first anchor in key order). Missing files, frames without a
    /// label, and unsafe keys (absolute, `..`) are skipped; images on disk that no pm-set lists
    /// are ignored. A label outside the space is a decode error.
    static func loadPMK(_ c: inout Collector, space: NativeSpace) throws {
        guard let meta = pmkMetadataFolder(c.root) else {
            throw StalwartError.io("pm-k dataset '\(c.root)': no pmsets.json in the root or in metadata/")
        }
        let pmPath = FileSystem.join(meta, "pmsets.json")
        let labelsPath = FileSystem.join(meta, "labels.json")
        guard FileSystem.isRegularFile(labelsPath) else {
            throw StalwartError.io("pm-k dataset '\(c.root)': no labels.json next to '\(pmPath)'")
        }
        guard let sets = try TextFile.json(pmPath, what: "pm-k sets").object else {
            throw StalwartError.decode("pm-k sets '\(pmPath)' is not a JSON object (anchor → list of frames)")
        }
        guard let labelMembers = try TextFile.json(labelsPath, what: "pm-k labels").object else {
            throw StalwartError.decode("pm-k labels '\(labelsPath)' is not a JSON object (frame → list of labels)")
        }
        var labels: [String: [Int]] = [:]
        for (key, v) in labelMembers {
            guard let list = v.array else {
                throw StalwartError.decode("pm-k labels '\(labelsPath)': the value of '\(key)' is not a list")
            }
            var ls: [Int] = []
            for x in list {
                guard let n = x.int, n >= 0, n < space.native.classCount else {
                    throw StalwartError.decode(
                        "pm-k labels '\(labelsPath)': '\(key)' has label \(x.serialized()), not a class of '\(space.native.name)' (0..<\(space.native.classCount))")
                }
                ls.append(n)
            }
            labels[key] = ls
        }
        var seen = Set<String>()
        for (anchor, v) in sets.sorted(by: { FileSystem.byteLess($0.0, $1.0) }) {
            guard let list = v.array else {
                throw StalwartError.decode("pm-k sets '\(pmPath)': the value of '\(anchor)' is not a list")
            }
            var frames = [anchor]
            for f in list {
                guard let s = f.string else {
                    throw StalwartError.decode("pm-k sets '\(pmPath)': anchor '\(anchor)' lists a non-string frame")
                }
                frames.append(s)
            }
            for key in frames where seen.insert(key).inserted {
                let comps = key.split(separator: "/", omittingEmptySubsequences: false)
                guard !key.hasPrefix("/"), !comps.contains(where: { $0.isEmpty || $0 == ".." || $0 == "." }) else {
                    c.skip(key, "unsafe key in '\(pmPath)' (absolute, empty component or '..')")
                    continue
                }
                let path = FileSystem.join(c.root, key)
                guard FileSystem.isRegularFile(path) else {
                    c.skip(key, "frame listed in '\(pmPath)' is missing on disk")
                    continue
                }
                guard let ls = labels[key], !ls.isEmpty else {
                    c.skip(key, "no label in '\(labelsPath)'")
                    continue
                }
                let converted = ls.compactMap { space.convert($0) }
                guard let first = converted.first else {
                    c.skip(key, "labels \(ls) are not in label space '\(space.target.name)'")
                    continue
                }
                c.add(Sample(path: path, key: key, label: first, labels: converted.count > 1 ? converted : [],
                             anchor: anchor))
            }
        }
    }
}
