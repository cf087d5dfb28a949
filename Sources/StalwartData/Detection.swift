import StalwartMetrics
import StalwartTensor

extension Dataset {
    /// Guesses the layout of `root` from its folder structure. Hidden entries (`.x`) are
    /// ignored. Rules, first match wins:
    /// 1. `pmsets.json` in the root or `metadata/` → `ytbb-robust` when the root's last path
    ///    component mentions `ytbb` (case-insensitive), `imagenet-vid-robust` when it mentions
    ///    `vid`; otherwise by the keys: any pm-set key containing `ILSVRC2015` (the ImageNet-VID
    ///    frame names) → Vid-Robust, else YTBB-Robust.
    /// 2. `mappings/folder_to_objectnet_label.json`, or an `images/` folder whose subfolders are
    ///    all known ObjectNet folder names → `objectnet`.
    /// 3. `metadata.csv`, or subfolders that are all among `area`, `location`, `rotation` →
    ///    `si-score`.
    /// 4. Every subfolder contains only integer-named subfolders (at least one) → `imagenet-c`
    ///    (severities are checked to be 1…5 when opening).
    /// 5. Subfolders all integers 0…999 → `imagenet-v2`.
    /// 6. Subfolders all WordNet ids: a root whose last path component mentions `imagenet-a`/`imagenet_a`/`imagenet-r`/
    ///    `imagenet_r` picks that one if all folders are in its 200; else, with at least 100
    ///    folders, all in ImageNet-A's 200 → `imagenet-a` (preferred when they also fit
    ///    ImageNet-R: the sets overlap, pass the layout explicitly to override), all in
    ///    ImageNet-R's → `imagenet-r`; else `folder` (a few WordNet-id folders are an ImageNet subset).
    /// 7. Subfolders all WordNet ids or indices (mixed) → `folder`.
    /// 8. No subfolders, image files, and a default labels file exists
    ///    (`DatasetOptions.labelsFile`) → `imagenet-val`.
    /// 9. Anything else → `unlabeled`.
    public static func detectLayout(_ root: String) throws -> DatasetLayout {
        guard FileSystem.exists(root) else { throw StalwartError.io("dataset folder '\(root)' does not exist") }
        guard FileSystem.isDirectory(root) else {
            throw StalwartError.invalidArgument("dataset root '\(root)' is a file, not a folder")
        }
        if let meta = pmkMetadataFolder(root) {
            let lower = lastComponent(root)
            if lower.contains("ytbb") { return .ytbbRobust }
            if lower.contains("vid") { return .imagenetVidRobust }
            let sets = try TextFile.json(FileSystem.join(meta, "pmsets.json"), what: "pm-k sets")
            let vid = sets.object?.contains { $0.0.contains("ILSVRC2015") } ?? false
            return vid ? .imagenetVidRobust : .ytbbRobust
        }
        if FileSystem.isRegularFile(FileSystem.join(root, "mappings/folder_to_objectnet_label.json")) { return .objectnet }
        let images = FileSystem.join(root, "images")
        if FileSystem.isDirectory(images) {
            let sub = try subfolders(images)
            let known = Set(objectNetFolders)
            if !sub.isEmpty, sub.allSatisfy(known.contains) { return .objectnet }
        }
        let dirs = try subfolders(root)
        if FileSystem.exists(FileSystem.join(root, "metadata.csv")) { return .siScore }
        if !dirs.isEmpty, dirs.allSatisfy(siScoreSubsets.contains) { return .siScore }
        if !dirs.isEmpty {
            var isC = true
            for d in dirs {
                let inner = try subfolders(FileSystem.join(root, d))
                if inner.isEmpty || !inner.allSatisfy({ ImagenetNames.parseIndex($0) != nil }) { isC = false; break }
            }
            if isC { return .imagenetC }
            if dirs.allSatisfy({ ImagenetNames.parseIndex($0).map { $0 < 1000 } ?? false }) { return .imagenetV2 }
            if dirs.allSatisfy(ImagenetNames.isWnid) {
                let a = try wnidSet("imagenet_a"), r = try wnidSet("imagenet_r")
                let inA = dirs.allSatisfy(a.contains), inR = dirs.allSatisfy(r.contains)
                let lower = lastComponent(root)
                if inR, lower.contains("imagenet-r") || lower.contains("imagenet_r") { return .imagenetR }
                if inA, lower.contains("imagenet-a") || lower.contains("imagenet_a") { return .imagenetA }
                // Without a name hint, a handful of WordNet-id folders is a plain ImageNet subset:
                // only ≥ 100 folders all inside one 200-class set identify ImageNet-A/R.
                if dirs.count >= 100 && inA { return .imagenetA }
                if dirs.count >= 100 && inR { return .imagenetR }
                return .folder
            }
            if dirs.allSatisfy({ ImagenetNames.isWnid($0) || ImagenetNames.parseIndex($0) != nil }) { return .folder }
            return .unlabeled
        }
        let hasImages = try FileSystem.listDirectory(root).contains { !$0.hasPrefix(".") && isImageFile($0) }
        if hasImages, defaultValLabelFiles(root).contains(where: FileSystem.isRegularFile) { return .imagenetVal }
        return .unlabeled
    }

    /// The last path component of `path`, lower-cased.
    static func lastComponent(_ path: String) -> String {
        String(path.split(separator: "/").last ?? "").lowercased()
    }

    /// Non-hidden subfolder names of `path`, sorted.
    static func subfolders(_ path: String) throws -> [String] {
        try FileSystem.listDirectory(path).filter {
            !$0.hasPrefix(".") && FileSystem.isDirectory(FileSystem.join(path, $0))
        }
    }

    /// The WordNet ids of a single-member space (ImageNet-A/R).
    static func wnidSet(_ space: String) throws -> Set<String> {
        let s = try LabelSpace.named(space)
        let w = LabelSpace.imagenetWnids
        return Set(s.members.flatMap { $0 }.compactMap { $0 >= 0 && $0 < w.count ? w[$0] : nil })
    }
}
