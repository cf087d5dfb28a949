import Glibc
import StalwartData
import StalwartImageIO
import StalwartMetrics
import StalwartTensor

/// One image of an SI-Score configuration (one row of `metadata.csv`).
public struct SIScoreItem: Sendable, Equatable {
    /// Position in the full product centres × areas × angles × (instance, background) pairs,
    /// in that nesting order (`itertools.product` order, 0-based). Items below
    /// `minPctInside` are not generated but keep their id, so ids may have gaps — as in the
    /// original generator.
    public var id: Int
    public var x: Double
    public var y: Double
    public var area: Double
    public var angle: Double
    /// Index into `SIScoreGenerator.classes` (the metadata's `foreground_class`).
    public var classIndex: Int
    /// Index of the object file within its class (files sorted by name).
    public var instance: Int
    /// Index into `SIScoreGenerator.backgroundFiles` (files sorted by name).
    public var background: Int
    /// Bounding-box fraction inside the canvas, unrounded.
    public var pctInside: Double

    /// `{class}/{id}.jpg`, the released layout's relative path.
    public func key(classes: [String]) -> String { "\(classes[classIndex])/\(id).jpg" }
}

/// SI-Score synthesis from a folder of segmented objects and a folder of backgrounds
/// (google-research/si-score `dataset_generator.py`).
///
/// - Foregrounds: `foregrounds/<class>/<file>` (PNG or JPEG; decoded as RGBA — files without
///   alpha are opaque). Classes are the sub-folder names sorted by UTF-8 bytes (the metadata's
///   `foreground_class` is the position in that list); files within a class are sorted too.
///   A class name must be an SI-Score class (`si_score` label space, `_` read as space), an
///   ImageNet WordNet id or an ImageNet index 0…999; its ImageNet index is the label.
/// - Backgrounds: every image file in `backgrounds/` (sorted by name; decoded as RGB), cropped
///   to the top-left square and resized (bilinear) to the configuration's resolution once.
/// - Pairing: `SIScorePairing` (seeded SplitMix64 + Fisher–Yates; documented there).
///
/// `init` decodes the objects and backgrounds on all cores; `render` caches resized and rotated
/// objects (exact: the cached images are what the same inputs give).
///
/// Immutable after `init` and thread-safe: `render` may run on many threads at once.
public final class SIScoreGenerator: @unchecked Sendable {
    public let config: SIScoreConfig
    public let foregroundsDir: String
    public let backgroundsDir: String
    /// Class folder names, sorted.
    public let classes: [String]
    /// ImageNet-1k index of each class.
    public let labels: [Int]
    /// Object file names per class, sorted.
    public let foregroundFiles: [[String]]
    /// Background file names, sorted.
    public let backgroundFiles: [String]
    /// Generated images (pct inside ≥ minPctInside), by id.
    public let items: [SIScoreItem]
    /// Combinations not generated because too little of the object is inside.
    public let skippedCount: Int
    let objects: [[Image]]
    let backgrounds: [Image]
    let byKey: [String: Int]

    /// JPEG quality of written images: 75 with 4:2:0 chroma subsampling, Pillow's `save`
    /// defaults, which the original generator uses (`image.save(f)` to a `.jpg` path).
    public static let jpegQuality = 75

    public init(config: SIScoreConfig, foregrounds: String, backgrounds: String) throws {
        try config.validate()
        self.config = config
        self.foregroundsDir = foregrounds
        self.backgroundsDir = backgrounds
        guard FileSystem.isDirectory(foregrounds) else {
            throw StalwartError.io("SI-Score foregrounds folder '\(foregrounds)' does not exist or is not a folder")
        }
        guard FileSystem.isDirectory(backgrounds) else {
            throw StalwartError.io("SI-Score backgrounds folder '\(backgrounds)' does not exist or is not a folder")
        }
        var classes: [String] = [], files: [[String]] = []
        for name in try FileSystem.listDirectory(foregrounds) where !name.hasPrefix(".") {
            let dir = FileSystem.join(foregrounds, name)
            guard FileSystem.isDirectory(dir) else { continue }
            let images = try FileSystem.listDirectory(dir).filter {
                !$0.hasPrefix(".") && Dataset.isImageFile($0) && FileSystem.isRegularFile(FileSystem.join(dir, $0))
            }
            if images.isEmpty { continue }
            classes.append(name); files.append(images)
        }
        guard !classes.isEmpty else {
            throw StalwartError.invalidArgument("no foreground images in '\(foregrounds)' (expected <class>/<image>.png)")
        }
        let bgFiles = try FileSystem.listDirectory(backgrounds).filter {
            !$0.hasPrefix(".") && Dataset.isImageFile($0) && FileSystem.isRegularFile(FileSystem.join(backgrounds, $0))
        }
        guard !bgFiles.isEmpty else {
            throw StalwartError.invalidArgument("no background images (.png/.jpg/.jpeg) in '\(backgrounds)'")
        }
        guard config.backgroundsPerForeground <= bgFiles.count else {
            throw StalwartError.invalidArgument(
                "\(config.backgroundsPerForeground) backgrounds per object requested, '\(backgrounds)' has \(bgFiles.count)")
        }
        self.classes = classes
        self.labels = try classes.map { try SIScoreGenerator.imagenetLabel(forClass: $0) }
        self.foregroundFiles = files
        self.backgroundFiles = bgFiles
        // Decode every object and background on all cores (the PNG objects dominate a small
        // sweep's run time); errors are reported for the first file in name order.
        var objectPaths: [(c: Int, path: String)] = []
        for (c, names) in files.enumerated() {
            for n in names { objectPaths.append((c, FileSystem.join(FileSystem.join(foregrounds, classes[c]), n))) }
        }
        let total = objectPaths.count + bgFiles.count
        var decoded = [Image?](repeating: nil, count: total)
        var failures = [StalwartError?](repeating: nil, count: total)
        let lock = Lock()
        let resolution = config.resolution
        ThreadPool(threads: min(total, ThreadPool.availableCores)).parallelFor(total) { i in
            var result: Image?
            var failure: StalwartError?
            do {
                if i < objectPaths.count {
                    result = try ImageCodec.decode(path: objectPaths[i].path, options: DecodeOptions(mode: .rgba))
                } else {
                    let img = try ImageCodec.decode(path: FileSystem.join(backgrounds, bgFiles[i - objectPaths.count]),
                                                    options: DecodeOptions(mode: .rgb))
                    result = try SIScoreCompositor.prepareBackground(img, resolution: resolution)
                }
            } catch {
                let e = (error as? StalwartError) ?? StalwartError.internal("\(error)")
                failure = e.context(i < objectPaths.count ? "SI-Score foreground" : "SI-Score background")
            }
            lock.withLock { decoded[i] = result; failures[i] = failure }
        }
        if let e = failures.compactMap({ $0 }).first { throw e }
        var objects: [[Image]] = files.map { _ in [] }
        for (i, o) in objectPaths.enumerated() {
            guard let img = decoded[i] else { throw StalwartError.internal("SI-Score object \(o.path) was not decoded") }
            objects[o.c].append(img)
        }
        self.objects = objects
        var bgs: [Image] = []
        for i in objectPaths.count..<total {
            guard let img = decoded[i] else { throw StalwartError.internal("SI-Score background was not decoded") }
            bgs.append(img)
        }
        self.backgrounds = bgs

        // (instance, background) pairs, instance-major, as `_generate_fg_bg_instance_tuples`.
        var rng = SIScorePairing(seed: config.seed)
        var pairs: [(c: Int, i: Int, b: Int)] = []
        for (c, row) in objects.enumerated() {
            for i in row.indices {
                for b in rng.draw(config.backgroundsPerForeground, of: bgs.count) { pairs.append((c, i, b)) }
            }
        }
        var items: [SIScoreItem] = []
        var skipped = 0, id = 0
        let r = config.resolution
        for centre in config.centres {
            for area in config.areas {
                for angle in config.angles {
                    for p in pairs {
                        defer { id += 1 }
                        let o = objects[p.c][p.i]
                        let pl: SIScorePlacement
                        do {
                            pl = try SIScoreCompositor.placement(width: o.width, height: o.height, bgWidth: r, bgHeight: r,
                                                                 area: area, x: centre.x, y: centre.y, angle: angle)
                        } catch let e as StalwartError {
                            throw e.context("object '\(classes[p.c])/\(files[p.c][p.i])'")
                        }
                        if pl.pctInside < config.minPctInside { skipped += 1; continue }
                        items.append(SIScoreItem(id: id, x: centre.x, y: centre.y, area: area, angle: angle, classIndex: p.c,
                                                 instance: p.i, background: p.b, pctInside: pl.pctInside))
                    }
                }
            }
        }
        self.items = items
        self.skippedCount = skipped
        var byKey: [String: Int] = [:]
        for (k, it) in items.enumerated() { byKey[it.key(classes: classes)] = k }
        self.byKey = byKey
    }

    /// The ImageNet-1k index of a foreground class folder name: an SI-Score class name
    /// (case-insensitive, `_` as space), a WordNet id (`n01882714`) or an index `0`…`999`.
    public static func imagenetLabel(forClass name: String) throws -> Int {
        let norm = String(name.lowercased().map { $0 == "_" ? " " : $0 })
        let space = try LabelSpace.named("si_score")
        if let i = space.classNames.firstIndex(where: { $0.lowercased() == norm }), let id = space.members[i].first { return id }
        if let i = LabelSpace.imagenetWnids.firstIndex(of: name) { return i }
        if let v = Int(name), (0..<1000).contains(v), String(v) == name { return v }
        throw StalwartError.invalidArgument(
            "foreground class '\(name)' is not an SI-Score class, an ImageNet WordNet id or an ImageNet index (0...999)")
    }

    /// The composite of one item (RGB, resolution × resolution). Thread-safe.
    public func render(_ item: SIScoreItem) throws -> SIScoreComposite {
        guard objects.indices.contains(item.classIndex), objects[item.classIndex].indices.contains(item.instance),
              backgrounds.indices.contains(item.background) else {
            throw StalwartError.invalidArgument("SI-Score item \(item.id) refers to a missing object or background")
        }
        let o = objects[item.classIndex][item.instance], bg = backgrounds[item.background]
        let p = try SIScoreCompositor.placement(width: o.width, height: o.height, bgWidth: bg.width, bgHeight: bg.height,
                                                area: item.area, x: item.x, y: item.y, angle: item.angle)
        let key = ObjectKey(c: item.classIndex, i: item.instance, area: item.area, angle: item.angle)
        let rotated: Image
        if let hit = cache.get(key) {
            rotated = hit
        } else {
            // The resize depends on the area only: a rotation sweep reuses it for every angle.
            let sizeKey = ObjectKey(c: item.classIndex, i: item.instance, area: item.area, angle: 0)
            let resized: Image
            if let hit = resizedCache.get(sizeKey) {
                resized = hit
            } else {
                resized = try SIScoreCompositor.resizedObject(o, placement: p)
                resizedCache.put(sizeKey, resized)
            }
            rotated = try PillowOps.rotate(resized, degrees: item.angle)
            cache.put(key, rotated)
        }
        return try SIScoreCompositor.paste(rotated, onto: bg, placement: p)
    }

    /// Resized and rotated objects by (class, instance, area, angle): a sweep pastes the same
    /// transformed object onto each of its backgrounds (adjacent ids) and, in location sweeps, at
    /// every centre. Bounded (`ObjectCache.limitBytes`), oldest entries evicted first; exact
    /// (the cached image is what `transformedObject` returns for the same inputs).
    let cache = ObjectCache()
    /// Resized (not yet rotated) objects by (class, instance, area), the same way.
    let resizedCache = ObjectCache()

    /// The image of an item as the written dataset holds it: the composite encoded as JPEG
    /// (`jpegQuality`, 4:2:0) and decoded again when `jpeg`, else the composite itself.
    public func image(_ item: SIScoreItem, jpeg: Bool) throws -> Image {
        let c = try render(item).image
        guard jpeg else { return c }
        let bytes = try ImageCodec.encodeJPEG(c, quality: SIScoreGenerator.jpegQuality)
        return try bytes.withUnsafeBytes { try ImageCodec.decode($0, options: DecodeOptions(mode: .rgb)) }
    }

    /// The item of a sample key (`{class}/{id}.jpg`), if generated.
    public func item(forKey key: String) -> SIScoreItem? { byKey[key].map { items[$0] } }

    // MARK: - The released layout

    /// `metadata.csv`'s header (the released dataset's columns, in order).
    public static let metadataHeader = ["image_id", "x_coord", "y_coord", "area", "rotation", "foreground_class",
                                        "foreground_instance", "background", "bg_resolution_width", "bg_resolution_height",
                                        "pct_inside_image"]

    /// One metadata row as Python's `csv.writer` writes the original's values: floats as
    /// `repr` (`0.5`, `1.0`, `0.15000000000000002`), integral angles as integers (the presets'
    /// angles are NumPy ints), `pct_inside_image` as `round(pct, 4)`. No line terminator.
    public func metadataRow(_ it: SIScoreItem) -> String {
        let angle = it.angle == it.angle.rounded() && abs(it.angle) < 1e15 ? String(Int(it.angle)) : PyMath.repr(it.angle)
        let r = config.resolution
        return [String(it.id), PyMath.repr(it.x), PyMath.repr(it.y), PyMath.repr(it.area), angle, String(it.classIndex),
                String(it.instance), String(it.background), String(r), String(r),
                PyMath.repr(PyMath.round(it.pctInside, 4))].joined(separator: ",")
    }

    /// The whole `metadata.csv` of `items` (header first, `\r\n` line ends like `csv.writer`).
    public func metadataCSV(_ items: [SIScoreItem]) -> String {
        var s = SIScoreGenerator.metadataHeader.joined(separator: ",") + "\r\n"
        for it in items { s += metadataRow(it) + "\r\n" }
        return s
    }

    /// What `write` did.
    public struct WriteSummary: Sendable {
        public var written: Int
        public var skipped: Int
        public var seconds: Double
    }

    /// Writes the released layout into `directory` (created if missing): `{class}/{id}.jpg`,
    /// `metadata.csv`, `backgrounds.csv`, `foreground_classes_metadata_indices.csv` and
    /// `foreground_classes.csv` (ImageNet index, class). `limit` keeps the first items (id order).
    /// Images are rendered on `threads` threads (0 = one per core); `progress(done, total)` is
    /// called from the calling thread after each chunk.
    public func write(to directory: String, limit: Int? = nil, threads: Int = 0,
                      progress: ((Int, Int) -> Void)? = nil) throws -> WriteSummary {
        if let l = limit, l < 1 { throw StalwartError.invalidArgument("limit must be at least 1, got \(l)") }
        let t0 = monotonicNow()
        let chosen = Array(items.prefix(limit ?? items.count))
        try FileSystem.makeDirectories(directory)
        for c in Set(chosen.map(\.classIndex)).sorted() { try FileSystem.makeDirectories(FileSystem.join(directory, classes[c])) }
        let pool = ThreadPool(threads: threads)
        let lock = Lock()
        var firstError: StalwartError?
        let chunk = max(pool.threadCount * 4, 8)
        var done = 0
        while done < chosen.count {
            let n = min(chunk, chosen.count - done)
            let base = done
            pool.parallelFor(n) { k in
                let it = chosen[base + k]
                do {
                    let img = try render(it).image
                    let bytes = try ImageCodec.encodeJPEG(img, quality: SIScoreGenerator.jpegQuality)
                    try SIScoreGenerator.writeImage(FileSystem.join(directory, it.key(classes: classes)), bytes)
                } catch {
                    let e = (error as? StalwartError) ?? StalwartError.internal("\(error)")
                    lock.withLock { if firstError == nil { firstError = e.context("SI-Score image \(it.id)") } }
                }
            }
            if let e = lock.withLock({ firstError }) { throw e }
            done += n
            progress?(done, chosen.count)
        }
        // The images are written in place without fsync (see `writeImage`); the metadata, written
        // last, atomically (FileSystem.writeFileAtomically).
        func csv(_ rows: [[String]]) -> [UInt8] { Array(rows.map { $0.joined(separator: ",") + "\r\n" }.joined().utf8) }
        try FileSystem.writeFileAtomically(FileSystem.join(directory, "metadata.csv"), Array(metadataCSV(chosen).utf8))
        try FileSystem.writeFileAtomically(FileSystem.join(directory, "backgrounds.csv"),
                                           csv([["int", "label"]] + backgroundFiles.enumerated().map { [String($0.offset), $0.element] }))
        try FileSystem.writeFileAtomically(FileSystem.join(directory, "foreground_classes_metadata_indices.csv"),
                                           csv([["int", "label"]] + classes.enumerated().map { [String($0.offset), $0.element] }))
        try FileSystem.writeFileAtomically(FileSystem.join(directory, "foreground_classes.csv"),
                                           csv([["int", "label"]] + classes.indices.map { [String(labels[$0]), classes[$0]] }))
        return WriteSummary(written: chosen.count, skipped: skippedCount, seconds: monotonicNow() - t0)
    }

    /// The generated images as an in-memory dataset (layout `si-score`, label space
    /// `imagenet`: labels are ImageNet-1k indices, scored 1000-way as the paper does). Sample
    /// keys are `{class}/{id}.jpg`, paths `siscore:` + key (not files: `image(_:jpeg:)` makes
    /// the pixels), factors `area`, `rotation`, `x_coord`, `y_coord`. `limit` keeps the first
    /// items in id order.
    public func dataset(root: String, limit: Int? = nil) -> Dataset {
        let chosen = items.prefix(limit ?? items.count)
        let samples = chosen.map { it -> Sample in
            let key = it.key(classes: classes)
            return Sample(path: "siscore:" + key, key: key, label: labels[it.classIndex],
                          factors: ["area": it.area, "rotation": it.angle, "x_coord": it.x, "y_coord": it.y])
        }
        return Dataset(root: root, layout: .siScore, labelSpace: "imagenet", samples: samples)
    }
}

extension SIScoreGenerator {
    /// Writes one generated image straight to `path` (created or truncated), as the original
    /// generator's `image.save(path)` does. Unlike `FileSystem.writeFileAtomically` there is no
    /// temporary file, rename or fsync: a sweep writes thousands of images and those directory
    /// operations and flushes took most of its wall time. A run that stops early may leave a
    /// partial image, but `metadata.csv`, written (atomically) only after every image, is then
    /// missing. On a write error the partial file is removed.
    static func writeImage(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StalwartError.io("cannot create '\(path)': errno \(errno)") }
        var ok = false
        defer { if !ok { unlink(path) } }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + off }, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StalwartError.io("cannot write '\(path)': errno \(errno)")
            }
            off += n
        }
        ok = true
    }
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

struct ObjectKey: Hashable {
    var c: Int
    var i: Int
    var area: Double
    var angle: Double
}

/// A thread-safe FIFO cache of transformed objects, at most `limitBytes` of pixels.
final class ObjectCache: @unchecked Sendable {
    static let limitBytes = 96 << 20
    private let lock = Lock()
    private var entries: [ObjectKey: Image] = [:]
    private var order: [ObjectKey] = []
    private var bytes = 0

    func get(_ k: ObjectKey) -> Image? { lock.withLock { entries[k] } }

    func put(_ k: ObjectKey, _ img: Image) {
        let n = img.pixels.count
        guard n <= ObjectCache.limitBytes / 4 else { return }
        lock.withLock {
            guard entries[k] == nil else { return }
            while bytes + n > ObjectCache.limitBytes, !order.isEmpty {
                let old = order.removeFirst()
                bytes -= entries.removeValue(forKey: old)?.pixels.count ?? 0
            }
            entries[k] = img
            order.append(k)
            bytes += n
        }
    }
}
