import StalwartMetrics
import StalwartTensor

/// How class folders of ImageNet-indexed layouts are named.
enum FolderNaming {
    case wnid, index, wnidOrIndex
}

/// A class folder's label, or why its images are skipped.
enum Resolved {
    case label(Int)
    case skip(String)
}

enum ImagenetNames {
    /// WordNet id → ImageNet-1k index.
    static let wnidIndex: [String: Int] = {
        var d: [String: Int] = [:]
        for (i, w) in LabelSpace.imagenetWnids.enumerated() { d[w] = i }
        return d
    }()

    /// `n` followed by 8 digits.
    static func isWnid(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return u.count == 9 && u[0] == UInt8(ascii: "n") && u[1...].allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// A non-negative decimal integer of at most 9 digits (no sign, no spaces).
    static func parseIndex<S: StringProtocol>(_ s: S) -> Int? {
        guard !s.isEmpty, s.utf8.count <= 9, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(s)
    }
}

extension Dataset {
    /// Maps a class-folder name to an ImageNet-1k index and then into `space`.
    static func imagenetResolver(space: LabelSpace, naming: FolderNaming) -> (String) -> Resolved {
        return { name in
            var index: Int?
            if naming != .index, ImagenetNames.isWnid(name) {
                guard let i = ImagenetNames.wnidIndex[name] else {
                    return .skip("class folder '\(name)' is not an ImageNet-1k WordNet id")
                }
                index = i
            } else if naming != .wnid, let i = ImagenetNames.parseIndex(name) {
                guard i < LabelSpace.sourceClassCount else {
                    return .skip("class folder '\(name)' is not an ImageNet-1k index (0...999)")
                }
                index = i
            }
            guard let i = index else {
                switch naming {
                case .wnid: return .skip("class folder '\(name)' is not a WordNet id")
                case .index: return .skip("class folder '\(name)' is not a class index (0...999)")
                case .wnidOrIndex: return .skip("class folder '\(name)' is neither a WordNet id nor a class index")
                }
            }
            guard let c = space.classIndex(ofImagenetIndex: i) else {
                return .skip("class folder '\(name)' (ImageNet-1k class \(i)) is not in the \(space.datasetName) label space '\(space.name)'")
            }
            return .label(c)
        }
    }

    /// Every image below `root/sub` whose first path component (below `sub`) is a class folder.
    /// Images directly in `root/sub` are skipped. `extra` fills layout-specific fields.
    static func loadClassFolders(_ c: inout Collector, sub: String, resolve: (String) -> Resolved,
                                 extra: (inout Sample) -> Void = { _ in }) throws {
        var cache: [String: Resolved] = [:]
        for rel in try FileSystem.walkFiles(FileSystem.join(c.root, sub)) where Collector.isUsableImage(rel) {
            let key = sub.isEmpty ? rel : sub + "/" + rel
            let comps = rel.split(separator: "/", omittingEmptySubsequences: false)
            guard comps.count >= 2 else {
                c.skip(key, "image is not inside a class folder")
                continue
            }
            let folder = String(comps[0])
            let r: Resolved
            if let hit = cache[folder] { r = hit } else { r = resolve(folder); cache[folder] = r }
            switch r {
            case .skip(let why): c.skip(key, why)
            case .label(let l):
                var s = Sample(path: FileSystem.join(c.root, key), key: key, label: l)
                extra(&s)
                c.add(s)
            }
        }
    }

    /// `folder` with a class-map file (names → indices of `space`).
    static func loadFolderWithClassMap(_ c: inout Collector, space: LabelSpace, mapPath: String) throws {
        let lines = try TextFile.lines(mapPath, what: "class map")
        var map: [String: Int] = [:]
        let pairs = lines.allSatisfy { l in
            let t = l.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return t.count >= 2 && ImagenetNames.parseIndex(t[t.count - 1]) != nil
        }
        for (n, l) in lines.enumerated() {
            let name: String, index: Int
            if pairs {
                let t = l.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard let last = t.last, let i = ImagenetNames.parseIndex(last) else {
                    throw StalwartError.decode("class map '\(mapPath)' line \(l.number): expected 'NAME INDEX'")
                }
                name = t.dropLast().joined(separator: " ")
                index = i
            } else {
                name = l.text
                index = n
            }
            guard index < space.classCount else {
                throw StalwartError.decode(
                    "class map '\(mapPath)' line \(l.number): index \(index) is outside the \(space.classCount) classes of '\(space.name)'")
            }
            guard map[name] == nil else {
                throw StalwartError.decode("class map '\(mapPath)' line \(l.number): folder '\(name)' is listed twice")
            }
            map[name] = index
        }
        try loadClassFolders(&c, sub: "", resolve: { name in
            if let l = map[name] { return .label(l) }
            return .skip("class folder '\(name)' is not in the class map '\(mapPath)'")
        })
    }

    /// `{corruption}/{severity}/{class}/…`: severity folders must be 1…5.
    static func loadImagenetC(_ c: inout Collector, space: LabelSpace) throws {
        let resolve = imagenetResolver(space: space, naming: .wnidOrIndex)
        for corruption in try FileSystem.listDirectory(c.root) where !corruption.hasPrefix(".") {
            let cpath = FileSystem.join(c.root, corruption)
            guard FileSystem.isDirectory(cpath) else {
                if Dataset.isImageFile(corruption) { c.skip(corruption, "image is not inside a corruption/severity/class folder") }
                continue
            }
            for sev in try FileSystem.listDirectory(cpath) where !sev.hasPrefix(".") {
                let spath = FileSystem.join(cpath, sev)
                let rel = corruption + "/" + sev
                guard FileSystem.isDirectory(spath) else {
                    if ImagenetNames.parseIndex(sev) != nil {
                        throw StalwartError.invalidArgument("ImageNet-C '\(c.root)': '\(rel)' is a file, expected a severity folder")
                    }
                    if Dataset.isImageFile(sev) { c.skip(rel, "image is not inside a severity/class folder") }
                    continue
                }
                guard let s = ImagenetNames.parseIndex(sev), (1...5).contains(s) else {
                    throw StalwartError.invalidArgument(
                        "ImageNet-C '\(c.root)': severity folder '\(rel)' is not one of 1...5")
                }
                try loadClassFolders(&c, sub: rel, resolve: resolve, extra: {
                    $0.corruption = corruption
                    $0.severity = s
                })
            }
        }
    }

    /// A flat folder of images plus a labels file (see `DatasetOptions.labelsFile`).
    static func loadImagenetVal(_ c: inout Collector, space: LabelSpace, labelsFile: String?) throws {
        let candidates = defaultValLabelFiles(c.root)
        guard let path = labelsFile ?? candidates.first(where: FileSystem.isRegularFile) else {
            throw StalwartError.io(
                "imagenet-val '\(c.root)': no labels file (looked for \(candidates.joined(separator: ", "))); set DatasetOptions.labelsFile")
        }
        let lines = try TextFile.lines(path, what: "labels file")
        let keys = try FileSystem.walkFiles(c.root).filter(Collector.isUsableImage)
        func checked(_ tok: Substring, _ line: Int) throws -> Int {
            guard let i = ImagenetNames.parseIndex(tok), i < LabelSpace.sourceClassCount else {
                throw StalwartError.decode("labels file '\(path)' line \(line): '\(tok)' is not an ImageNet-1k index (0...999)")
            }
            return i
        }
        var byName: [String: Int] = [:]
        var bare: [Int] = []
        let pairs = lines.first.map { $0.text.split(whereSeparator: { $0 == " " || $0 == "\t" }).count >= 2 } ?? false
        for l in lines {
            let t = l.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if pairs {
                guard t.count >= 2, let last = t.last else {
                    throw StalwartError.decode("labels file '\(path)' line \(l.number): expected 'FILENAME INDEX'")
                }
                let name = t.dropLast().joined(separator: " ")
                guard byName[name] == nil else {
                    throw StalwartError.decode("labels file '\(path)' line \(l.number): '\(name)' is listed twice")
                }
                byName[name] = try checked(last, l.number)
            } else {
                guard t.count == 1 else {
                    throw StalwartError.decode("labels file '\(path)' line \(l.number): expected one index per line")
                }
                bare.append(try checked(t[0], l.number))
            }
        }
        if !pairs, bare.count != keys.count {
            throw StalwartError.decode(
                "labels file '\(path)' has \(bare.count) labels for \(keys.count) images in '\(c.root)' (one index per line, in sorted file-name order)")
        }
        for (n, key) in keys.enumerated() {
            let index: Int
            if pairs {
                let base = String(key.split(separator: "/").last ?? Substring(key))
                guard let i = byName[key] ?? byName[base] else {
                    c.skip(key, "no label in labels file '\(path)'")
                    continue
                }
                index = i
            } else {
                index = bare[n]
            }
            guard let l = space.classIndex(ofImagenetIndex: index) else {
                c.skip(key, "ImageNet-1k class \(index) is not in the \(space.datasetName) label space '\(space.name)'")
                continue
            }
            c.add(Sample(path: FileSystem.join(c.root, key), key: key, label: l))
        }
    }

    /// Where `imagenet-val` looks for its labels file when none is given, in order.
    static func defaultValLabelFiles(_ root: String) -> [String] {
        [FileSystem.join(root, "labels.txt"), FileSystem.join(root, "imagenet_val_labels.txt"),
         FileSystem.join(FileSystem.join(root, ".."), "imagenet_val_labels.txt")]
    }
}

/// Reading small UTF-8 text metadata files.
enum TextFile {
    /// The UTF-8 text of `path`; `what` names the file's role in errors.
    static func text(_ path: String, what: String) throws -> String {
        let bytes = try FileSystem.readFile(path)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw StalwartError.decode("\(what) '\(path)' is not valid UTF-8 text")
        }
        return s
    }

    /// Non-blank lines (trimmed of spaces, tabs and CR) with 1-based line numbers; lines starting
    /// with `#` are comments.
    static func lines(_ path: String, what: String) throws -> [(number: Int, text: String)] {
        let s = try text(path, what: what)
        var out: [(Int, String)] = []
        // "\r\n" is one Character in Swift: split on both forms.
        let raw = s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (n, raw) in raw.enumerated() {
            let t = raw.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            var e = t.endIndex
            while e > t.startIndex, [" ", "\t", "\r"].contains(t[t.index(before: e)]) { e = t.index(before: e) }
            let line = String(t[..<e])
            if line.isEmpty || line.hasPrefix("#") { continue }
            out.append((n + 1, line))
        }
        return out
    }

    /// Parses the JSON file `path`; errors name it.
    static func json(_ path: String, what: String) throws -> JSONValue {
        let bytes = try FileSystem.readFile(path)
        do { return try JSONValue.parse(bytes) } catch let e as StalwartError {
            throw StalwartError.decode("\(what) '\(path)': \(e.message)")
        }
    }
}
