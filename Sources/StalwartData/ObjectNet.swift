import StalwartMetrics
import StalwartTensor

extension Dataset {
    /// ObjectNet: `root/images/<folder>/*` (or `root/<folder>/*`). Folder → ObjectNet class name
    /// comes from `root/mappings/folder_to_objectnet_label.json` (an object of strings, as in the
    /// release and imagenet-testbed's `objectnet_metadata/`); when that file is absent, from the
    /// embedded folder names of the 113-class `objectnet` space. The class name → label is its
    /// position in `LabelSpace.named("objectnet").classNames`. When
    /// `root/mappings/objectnet_to_imagenet_1k.json` exists, only its keys count as mapped.
    /// Images of the other (313 − 113) classes are skipped.
    static func loadObjectNet(_ c: inout Collector, space: NativeSpace) throws {
        let sub = FileSystem.isDirectory(FileSystem.join(c.root, "images")) ? "images" : ""
        let mappings = FileSystem.join(c.root, "mappings")
        let folderFile = FileSystem.join(mappings, "folder_to_objectnet_label.json")
        let imagenetFile = FileSystem.join(mappings, "objectnet_to_imagenet_1k.json")
        let notMapped = "class not in the 113 ImageNet-mapped ObjectNet classes"
        var nameIndex: [String: Int] = [:]
        for (i, n) in space.native.classNames.enumerated() { nameIndex[n] = i }

        var folderToName: [String: String]? = nil
        if FileSystem.exists(folderFile) {
            folderToName = try stringObject(folderFile, what: "ObjectNet folder map")
        }
        var mappedNames: Set<String>? = nil
        if FileSystem.exists(imagenetFile) {
            guard let members = try TextFile.json(imagenetFile, what: "ObjectNet→ImageNet map").object else {
                throw StalwartError.decode("ObjectNet→ImageNet map '\(imagenetFile)' is not a JSON object")
            }
            mappedNames = Set(members.map { $0.0 })
        }
        var embedded: [String: Int] = [:]
        for (i, f) in objectNetFolders.enumerated() { embedded[f] = i }

        let resolve: (String) -> Resolved = { folder in
            let native: Int
            if let f2n = folderToName {
                guard let name = f2n[folder] else {
                    return .skip("class folder '\(folder)' is not listed in '\(folderFile)'")
                }
                if let m = mappedNames, !m.contains(name) { return .skip(notMapped) }
                guard let i = nameIndex[name] else {
                    return .skip(mappedNames == nil ? notMapped
                                 : "ObjectNet class '\(name)' is in '\(imagenetFile)' but not in the built-in 'objectnet' label space")
                }
                native = i
            } else {
                guard let i = embedded[folder] else { return .skip(notMapped) }
                native = i
            }
            guard let l = space.convert(native) else {
                return .skip("ObjectNet class \(native) is not in label space '\(space.target.name)'")
            }
            return .label(l)
        }
        try loadClassFolders(&c, sub: sub, resolve: resolve)
    }

    /// A JSON object whose values are all strings.
    static func stringObject(_ path: String, what: String) throws -> [String: String] {
        guard let members = try TextFile.json(path, what: what).object else {
            throw StalwartError.decode("\(what) '\(path)' is not a JSON object")
        }
        var out: [String: String] = [:]
        for (k, v) in members {
            guard let s = v.string else {
                throw StalwartError.decode("\(what) '\(path)': the value of '\(k)' is not a string")
            }
            out[k] = s
        }
        return out
    }
}
