import StalwartMetrics
import StalwartTensor

extension Dataset {
    /// The SI-Score sub-datasets (google-research/si-score): object size, location, rotation.
    static let siScoreSubsets = ["area", "location", "rotation"]

    /// Column names (lower-cased) that identify the image in a `metadata.csv`, by preference.
    static let siScoreFileColumns = ["image_id", "file_name", "filename", "file", "image_path", "path", "image", "img"]
    /// Column names (lower-cased) that carry labels, never factors.
    static let siScoreLabelColumns: Set<String> = ["label", "labels", "class", "class_name", "label_str",
                                                   "dataset_label", "foreground", "foreground_class",
                                                   "category", "name", "imagenet_label"]

    /// SI-Score. Either `root/metadata.csv` + `root/<class>/<images>`, or subsets
    /// `root/{area,location,rotation}/` each laid out like that (keys then start with the
    /// subset). Class folders are SI-Score class names (`_` read as space, case-insensitive).
    ///
    /// `metadata.csv` (optional per subset; without it factors are `[:]`): a header row, then one
    /// row per image. The image column is the first of `image_id`, `file_name`, `filename`,
    /// `file`, `image_path`, `path`, `image`, `img` present (case-insensitive), else the first
    /// column; its value is matched against the image's path below the subset, then its file
    /// name, then its file name without extension (so `image_id` 1234 matches `…/1234.png`).
    /// Every other column that is not a label column (`label`, `class`, `class_name`,
    /// `label_str`, `dataset_label`, `foreground`, …) and whose non-empty cells all parse as
    /// numbers is a factor, under its own header name (e.g. `area`, `x`, `y`, `rotation`).
    /// Images without a row keep empty factors.
    static func loadSIScore(_ c: inout Collector, space: NativeSpace) throws {
        var subsets: [String] = []
        if FileSystem.exists(FileSystem.join(c.root, "metadata.csv")) {
            subsets = [""]
        } else {
            subsets = siScoreSubsets.filter { FileSystem.isDirectory(FileSystem.join(c.root, $0)) }
            guard !subsets.isEmpty else {
                throw StalwartError.io(
                    "SI-Score '\(c.root)': no metadata.csv and no area/, location/ or rotation/ subset folder")
            }
        }
        var classIndex: [String: Int] = [:]
        for (i, n) in space.native.classNames.enumerated() { classIndex[normalizeClass(n)] = i }
        for sub in subsets {
            let csvPath = FileSystem.join(FileSystem.join(c.root, sub), "metadata.csv")
            let meta = FileSystem.exists(csvPath) ? try SIScoreMetadata(path: csvPath) : nil
            try loadClassFolders(&c, sub: sub, resolve: { folder in
                guard let n = classIndex[normalizeClass(folder)] else {
                    return .skip("class folder '\(folder)' is not one of the \(space.native.classCount) SI-Score classes")
                }
                guard let l = space.convert(n) else {
                    return .skip("SI-Score class '\(folder)' is not in label space '\(space.target.name)'")
                }
                return .label(l)
            }, extra: { s in
                guard let meta else { return }
                let rel = sub.isEmpty ? s.key : String(s.key.dropFirst(sub.count + 1))
                s.factors = meta.factors(relativePath: rel)
            })
        }
    }

    static func normalizeClass(_ s: String) -> String {
        String(s.lowercased().map { $0 == "_" ? " " : $0 })
    }
}

/// A parsed SI-Score `metadata.csv`: factor values per image (see `Dataset.loadSIScore`).
struct SIScoreMetadata {
    let factorNames: [String]
    private var byPath: [String: [String: Double]] = [:]
    private var byName: [String: [String: Double]] = [:]
    private var byStem: [String: [String: Double]] = [:]

    init(path: String) throws {
        let table: (header: [String], rows: [[String]])
        do { table = try CSV.parse(try TextFile.text(path, what: "SI-Score metadata")) } catch let e as StalwartError {
            if case .io = e { throw e }
            throw StalwartError.decode("SI-Score metadata '\(path)': \(e.message)")
        }
        let lower = table.header.map { $0.lowercased() }
        let fileCol = Dataset.siScoreFileColumns.lazy.compactMap { lower.firstIndex(of: $0) }.first ?? 0
        var factorCols: [Int] = []
        for (j, name) in lower.enumerated() where j != fileCol && !Dataset.siScoreLabelColumns.contains(name) {
            var any = false, numeric = true
            for r in table.rows where !r[j].isEmpty {
                any = true
                if Double(r[j]) == nil { numeric = false; break }
            }
            if any && numeric { factorCols.append(j) }
        }
        factorNames = factorCols.map { table.header[$0] }
        var dupName = Set<String>(), dupStem = Set<String>()
        for r in table.rows {
            var f: [String: Double] = [:]
            for j in factorCols { if let x = Double(r[j]) { f[table.header[j]] = x } }
            let id = r[fileCol]
            guard !id.isEmpty else { continue }
            byPath[id] = f
            let name = String(id.split(separator: "/").last ?? Substring(id))
            if byName.updateValue(f, forKey: name) != nil { dupName.insert(name) }
            let stem = SIScoreMetadata.stem(name)
            if byStem.updateValue(f, forKey: stem) != nil { dupStem.insert(stem) }
        }
        for n in dupName { byName[n] = nil }   // ambiguous: only exact paths match these
        for s in dupStem { byStem[s] = nil }
    }

    static func stem(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// The factors of the image at `relativePath` (below its subset), or `[:]`.
    func factors(relativePath: String) -> [String: Double] {
        if let f = byPath[relativePath] { return f }
        let name = String(relativePath.split(separator: "/").last ?? Substring(relativePath))
        return byName[name] ?? byStem[SIScoreMetadata.stem(name)] ?? [:]
    }
}
