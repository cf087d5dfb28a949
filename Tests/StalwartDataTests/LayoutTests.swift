import Foundation
import XCTest
@testable import StalwartData
import StalwartMetrics
import StalwartTensor

final class LayoutTests: XCTestCase {
    let wnids = LabelSpace.imagenetWnids

    func testFolderByWnidAndIndex() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["n01443537/b.JPEG", "n01443537/a.jpg", "7/x.png", "7/notes.txt", "bad/c.png",
                            "n99999999/d.png", "top.png", "1000/e.png", ".hidden/f.png", "7/._g.png", "7/sub/h.PNG"])
        let d = try Dataset.open(root, layout: .folder)
        XCTAssertEqual(d.labelSpace, "imagenet")
        XCTAssertEqual(d.samples.map { $0.key }, ["7/sub/h.PNG", "7/x.png", "n01443537/a.jpg", "n01443537/b.JPEG"])
        XCTAssertEqual(d.samples.map { $0.label }, [7, 7, 1, 1])
        XCTAssertEqual(d.samples[1].path, root + "/7/x.png")
        XCTAssertEqual(d.samples[0], Sample(path: root + "/7/sub/h.PNG", key: "7/sub/h.PNG", label: 7))
        XCTAssertEqual(d.skipped.map { $0.key }, ["1000/e.png", "bad/c.png", "n99999999/d.png", "top.png"])
        XCTAssertTrue(d.skipped[0].reason.contains("0...999"))
        XCTAssertTrue(d.skipped[1].reason.contains("neither a WordNet id nor a class index"))
        XCTAssertTrue(d.skipped[2].reason.contains("not an ImageNet-1k WordNet id"))
        XCTAssertTrue(d.skipped[3].reason.contains("not inside a class folder"))
    }

    func testFolderWithClassMapAndLabelSpaceOverride() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["cat/1.png", "dog/2.png", "eel/3.png"], contents: ["../map.txt": "dog 3\ncat 1\n\n# c\n"])
        var o = DatasetOptions()
        o.classMap = root + "/../map.txt"
        let d = try Dataset.open(root, options: o)   // detection says unlabeled; classMap selects folder
        XCTAssertEqual(d.layout, .folder)
        XCTAssertEqual(d.samples.map { $0.label }, [1, 3])
        XCTAssertEqual(d.skipped, [Skipped(key: "eel/3.png", reason: "class folder 'eel' is not in the class map '\(root)/../map.txt'")])
        // One name per line, in index order.
        try makeTree(root, [], contents: ["../names.txt": "eel\ncat\ndog\n"])
        o.classMap = root + "/../names.txt"
        XCTAssertEqual(try Dataset.open(root, layout: .folder, options: o).samples.map { $0.label }, [1, 2, 0])
        // Index outside the space.
        try makeTree(root, [], contents: ["../big.txt": "cat 1000\n"])
        o.classMap = root + "/../big.txt"
        assertThrows(try Dataset.open(root, layout: .folder, options: o), "big.txt", "line 1", "outside")
        o.classMap = root + "/../none.txt"
        assertThrows(try Dataset.open(root, layout: .folder, options: o), "none.txt")

        // Override: wnid folders projected into ImageNet-A.
        let a = try LabelSpace.named("imagenet_a")
        let root2 = try makeTempDir(self, "ov")
        let inA = wnids[a.members[3][0]]
        try makeTree(root2, ["\(inA)/x.png", "\(wnids[0])/y.png"])
        var o2 = DatasetOptions()
        o2.labelSpace = "imagenet-a"
        let d2 = try Dataset.open(root2, layout: .folder, options: o2)
        XCTAssertEqual(d2.labelSpace, "imagenet_a")
        XCTAssertEqual(d2.samples.map { $0.label }, [3])
        XCTAssertTrue(d2.skipped[0].reason.contains("not in the ImageNet-A label space"))
        o2.labelSpace = "nope"
        assertThrows(try Dataset.open(root2, layout: .folder, options: o2), "unknown label space 'nope'")
    }

    func testImagenetV2() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["0/a.jpeg", "999/b.jpeg", "10/c.jpeg", "n01440764/d.jpeg"])
        XCTAssertEqual(try Dataset.detectLayout(root), .folder)
        try FileManager.default.removeItem(atPath: root + "/n01440764")
        XCTAssertEqual(try Dataset.detectLayout(root), .imagenetV2)
        let d = try Dataset.open(root)
        XCTAssertEqual(d.layout, .imagenetV2)
        XCTAssertEqual(d.samples.map { $0.key }, ["0/a.jpeg", "10/c.jpeg", "999/b.jpeg"])
        XCTAssertEqual(d.samples.map { $0.label }, [0, 10, 999])
    }

    func testImagenetAAndR() throws {
        for (layout, name) in [(DatasetLayout.imagenetA, "imagenet_a"), (.imagenetR, "imagenet_r")] {
            let space = try LabelSpace.named(name)
            let other = try LabelSpace.named(name == "imagenet_a" ? "imagenet_r" : "imagenet_a")
            let onlyHere = space.members.indices.first { other.classIndex(ofImagenetIndex: space.members[$0][0]) == nil } ?? 0
            let root = try makeTempDir(self, layout.rawValue)
            let w0 = wnids[space.members[0][0]], w = wnids[space.members[onlyHere][0]], w199 = wnids[space.members[199][0]]
            let outside = wnids.indices.first { space.classIndex(ofImagenetIndex: $0) == nil } ?? 0
            try makeTree(root, ["\(w0)/1.jpg", "\(w)/2.jpg", "\(w199)/3.jpg"])
            XCTAssertEqual(try Dataset.detectLayout(root), layout, name)
            try makeTree(root, ["\(wnids[outside])/4.jpg"])
            XCTAssertEqual(try Dataset.detectLayout(root), .folder)
            let d = try Dataset.open(root, layout: layout)
            XCTAssertEqual(d.labelSpace, name)
            XCTAssertEqual(Set(d.samples.map { $0.label }), Set([0, onlyHere, 199]))
            for s in d.samples {
                let folder = String(s.key.split(separator: "/")[0])
                XCTAssertEqual(wnids[space.members[s.label][0]], folder)
            }
            XCTAssertEqual(d.skipped.count, 1)
            XCTAssertTrue(d.skipped[0].reason.contains("is not in the"), d.skipped[0].reason)
        }
    }

    func testAmbiguousAOrRUsesPathHint() throws {
        let a = try LabelSpace.named("imagenet_a"), r = try LabelSpace.named("imagenet_r")
        let both = a.members.map { $0[0] }.first { r.classIndex(ofImagenetIndex: $0) != nil }
        let i = try XCTUnwrap(both)
        // One folder without a name hint: a plain ImageNet subset.
        let plain = try makeTempDir(self, "mine")
        try makeTree(plain, ["\(wnids[i])/x.jpg"])
        XCTAssertEqual(try Dataset.detectLayout(plain), .folder)
        // 100 ImageNet-A classes, no hint: ImageNet-A.
        let rootA = try makeTempDir(self, "mine")
        try makeTree(rootA, a.members.prefix(100).map { "\(wnids[$0[0]])/x.jpg" })
        XCTAssertEqual(try Dataset.detectLayout(rootA), .imagenetA)
        let rootR = try makeTempDir(self, "imagenet-r")
        try makeTree(rootR, ["\(wnids[i])/x.jpg"])
        XCTAssertEqual(try Dataset.detectLayout(rootR), .imagenetR)
    }

    func testImagenetC() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["gaussian_noise/1/n01440764/a.JPEG", "gaussian_noise/5/n01443537/b.JPEG",
                            "fog/3/n01440764/c.JPEG", "fog/3/loose.JPEG", "README.txt"])
        XCTAssertEqual(try Dataset.detectLayout(root), .imagenetC)
        let d = try Dataset.open(root)
        XCTAssertEqual(d.layout, .imagenetC)
        XCTAssertEqual(d.samples.map { $0.key }, ["fog/3/n01440764/c.JPEG", "gaussian_noise/1/n01440764/a.JPEG",
                                                  "gaussian_noise/5/n01443537/b.JPEG"])
        XCTAssertEqual(d.samples.map { $0.label }, [0, 0, 1])
        XCTAssertEqual(d.samples.map { $0.severity }, [3, 1, 5])
        XCTAssertEqual(d.samples.map { $0.corruption }, ["fog", "gaussian_noise", "gaussian_noise"])
        XCTAssertEqual(d.corruptions, ["fog", "gaussian_noise"])
        XCTAssertEqual(d.skipped.map { $0.key }, ["fog/3/loose.JPEG"])

        try makeTree(root, ["fog/7/n01440764/d.JPEG"])
        XCTAssertEqual(try Dataset.detectLayout(root), .imagenetC)
        assertThrows(try Dataset.open(root), "severity folder 'fog/7' is not one of 1...5")
        try FileManager.default.removeItem(atPath: root + "/fog/7")
        try makeTree(root, ["fog/2"])   // a file where a severity folder is expected
        assertThrows(try Dataset.open(root, layout: .imagenetC), "'fog/2' is a file, expected a severity folder")
    }

    func testImagenetValBothFormats() throws {
        let root = try makeTempDir(self, "val")
        try makeTree(root, ["ILSVRC2012_val_00000002.JPEG", "ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000003.JPEG"],
                     contents: ["labels.txt": "ILSVRC2012_val_00000001.JPEG 65\r\nILSVRC2012_val_00000002.JPEG 970\n"])
        XCTAssertEqual(try Dataset.detectLayout(root), .imagenetVal)
        let d = try Dataset.open(root)
        XCTAssertEqual(d.samples.map { $0.label }, [65, 970])
        XCTAssertEqual(d.skipped.map { $0.key }, ["ILSVRC2012_val_00000003.JPEG"])
        XCTAssertTrue(d.skipped[0].reason.contains("no label in labels file"))

        try makeTree(root, [], contents: ["labels.txt": "5\n6\n7\n"])
        XCTAssertEqual(try Dataset.open(root).samples.map { $0.label }, [5, 6, 7])
        try makeTree(root, [], contents: ["labels.txt": "5\n6\n"])
        assertThrows(try Dataset.open(root), "2 labels for 3 images")
        try makeTree(root, [], contents: ["labels.txt": "5\n6\n1000\n"])
        assertThrows(try Dataset.open(root), "labels.txt' line 3", "'1000'")
        try makeTree(root, [], contents: ["labels.txt": "a.JPEG 1\nb.JPEG\n"])
        assertThrows(try Dataset.open(root), "line 2", "FILENAME INDEX")
        try FileManager.default.removeItem(atPath: root + "/labels.txt")
        XCTAssertEqual(try Dataset.detectLayout(root), .unlabeled)
        assertThrows(try Dataset.open(root, layout: .imagenetVal), "no labels file")
        // Explicit labels file elsewhere.
        try makeTree(root, [], contents: ["../elsewhere.txt": "ILSVRC2012_val_00000003.JPEG 1\n"])
        var o = DatasetOptions()
        o.labelsFile = root + "/../elsewhere.txt"
        let d2 = try Dataset.open(root, options: o)
        XCTAssertEqual(d2.layout, .imagenetVal)
        XCTAssertEqual(d2.samples.map { $0.key }, ["ILSVRC2012_val_00000003.JPEG"])
        assertThrows(try Dataset.open(root, layout: .imagenetC, options: o), "labelsFile applies")
    }

    func testUnlabeled() throws {
        let root = try makeTempDir(self, "photos")
        try makeTree(root, ["x/y/z.jpeg", "a.PNG", "b.gif", "c.txt"])
        XCTAssertEqual(try Dataset.detectLayout(root), .unlabeled)
        let d = try Dataset.open(root)
        XCTAssertEqual(d.labelSpace, "")
        XCTAssertEqual(d.samples.map { $0.key }, ["a.PNG", "x/y/z.jpeg"])
        XCTAssertEqual(d.samples.map { $0.label }, [-1, -1])
        XCTAssertEqual(d.skipped, [])
    }

    func testObjectNetEmbeddedAndMappingFiles() throws {
        let root = try makeTempDir(self, "objectnet")
        try makeTree(root, ["images/alarm_clock/1.png", "images/banana/2.png", "images/squeegee/3.png"])
        let space = try LabelSpace.named("objectnet")
        XCTAssertEqual(try Dataset.detectLayout(root), .unlabeled)   // squeegee is not an embedded folder
        let d = try Dataset.open(root, layout: .objectnet)
        XCTAssertEqual(d.borderCrop, 2)
        XCTAssertEqual(d.labelSpace, "objectnet")
        XCTAssertEqual(d.samples.map { $0.key }, ["images/alarm_clock/1.png", "images/banana/2.png"])
        XCTAssertEqual(d.samples.map { space.classNames[$0.label] }, ["Alarm clock", "Banana"])
        XCTAssertEqual(d.skipped, [Skipped(key: "images/squeegee/3.png", reason: "class not in the 113 ImageNet-mapped ObjectNet classes")])

        try makeTree(root, [], contents: ["mappings/folder_to_objectnet_label.json":
            #"{"alarm_clock": "Alarm clock", "banana": "Banana", "squeegee": "Squeegee"}"#])
        XCTAssertEqual(try Dataset.detectLayout(root), .objectnet)
        let d2 = try Dataset.open(root)
        XCTAssertEqual(d2.samples.count, 2)
        XCTAssertEqual(d2.skipped.map { $0.reason }, ["class not in the 113 ImageNet-mapped ObjectNet classes"])

        try makeTree(root, [], contents: ["mappings/folder_to_objectnet_label.json": #"{"alarm_clock": "Alarm clock",}"#])
        assertThrows(try Dataset.open(root), "folder_to_objectnet_label.json", "invalid JSON at byte")
        var o = DatasetOptions()
        o.labelSpace = "imagenet"
        assertThrows(try Dataset.open(root, options: o), "cannot be relabelled")
    }

    func testObjectNetFoldersDirectlyUnderRoot() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["alarm_clock/1.png", "mappings/objectnet_to_imagenet_1k.json"],
                     contents: ["mappings/folder_to_objectnet_label.json": #"{"alarm_clock": "Alarm clock"}"#])
        try makeTree(root, [], contents: ["mappings/objectnet_to_imagenet_1k.json": #"{"Banana": "banana"}"#])
        let d = try Dataset.open(root)
        XCTAssertEqual(d.layout, .objectnet)
        XCTAssertEqual(d.samples.count, 0)   // Alarm clock not in this (reduced) ImageNet map
        XCTAssertEqual(d.skipped.map { $0.key }, ["alarm_clock/1.png"])
    }

    func testEmbeddedObjectNetFoldersMatchTheLabelSpaceJSON() throws {
        let bytes = try FileSystem.readFile(repoRoot + "/data/labelspaces/objectnet.json")
        let classes = try XCTUnwrap(JSONValue.parse(bytes)["classes"]?.array)
        XCTAssertEqual(classes.compactMap { $0["objectnet_folder"]?.string }, objectNetFolders)
        XCTAssertEqual(classes.compactMap { $0["name"]?.string }, try LabelSpace.named("objectnet").classNames)
    }

    func testPMK() throws {
        let root = try makeTempDir(self, "set")
        let pm = #"{"v/b/0.jpg": ["v/b/1.jpg", "v/b/2.jpg"], "v/a/5.jpg": ["v/a/6.jpg", "../x.jpg"]}"#
        let labels = #"{"v/b/0.jpg": [3, 7], "v/b/1.jpg": [3], "v/b/2.jpg": [3], "v/a/5.jpg": [1], "v/a/6.jpg": [1]}"#
        try makeTree(root, ["v/b/0.jpg", "v/b/1.jpg", "v/a/5.jpg", "v/a/6.jpg", "v/a/unlisted.jpg"],
                     contents: ["metadata/pmsets.json": pm, "metadata/labels.json": labels])
        XCTAssertEqual(try Dataset.detectLayout(root), .ytbbRobust)   // no ILSVRC2015 keys
        let d = try Dataset.open(root, layout: .imagenetVidRobust)
        XCTAssertEqual(d.labelSpace, "imagenet_vid_robust")
        XCTAssertEqual(d.samples.map { $0.key }, ["v/a/5.jpg", "v/a/6.jpg", "v/b/0.jpg", "v/b/1.jpg"])
        XCTAssertEqual(d.samples.map { $0.anchor }, ["v/a/5.jpg", "v/a/5.jpg", "v/b/0.jpg", "v/b/0.jpg"])
        XCTAssertEqual(d.samples.map { $0.label }, [1, 1, 3, 3])
        XCTAssertEqual(d.samples[2].labels, [3, 7])
        XCTAssertEqual(d.samples[3].labels, [])
        XCTAssertEqual(d.skipped.map { $0.key }, ["../x.jpg", "v/b/2.jpg"])
        XCTAssertTrue(d.skipped[1].reason.contains("missing on disk"))

        try makeTree(root, [], contents: ["metadata/labels.json": #"{"v/b/0.jpg": [30]}"#])
        assertThrows(try Dataset.open(root, layout: .imagenetVidRobust), "labels.json", "'v/b/0.jpg' has label 30")
        try makeTree(root, [], contents: ["metadata/labels.json": #"{"v/b/0.jpg": [3"#])
        assertThrows(try Dataset.open(root, layout: .ytbbRobust), "labels.json", "unexpected end of input")
        try FileManager.default.removeItem(atPath: root + "/metadata/labels.json")
        assertThrows(try Dataset.open(root, layout: .ytbbRobust), "no labels.json")
    }

    func testPMKDetectionByKeysAndName() throws {
        let root = try makeTempDir(self, "x")
        try makeTree(root, [], contents: ["pmsets.json": #"{"val/ILSVRC2015_val_00000000/000442.JPEG": []}"#, "labels.json": "{}"])
        XCTAssertEqual(try Dataset.detectLayout(root), .imagenetVidRobust)
        let root2 = try makeTempDir(self, "ytbb_robust")
        try makeTree(root2, [], contents: ["pmsets.json": #"{"val/ILSVRC2015_val_00000000/000442.JPEG": []}"#])
        XCTAssertEqual(try Dataset.detectLayout(root2), .ytbbRobust)
    }

    func testSIScoreSubsetsAndFactors() throws {
        let root = try makeTempDir(self, "si")
        let meta = "image_id,label,area,x,y,note\n1,ambulance,0.5,0.25,0.75,a\n2,zebra,0.1,,0.2,b\n"
        try makeTree(root, ["area/ambulance/1.jpg", "area/Zebra/2.jpg", "area/unicorn/9.jpg", "rotation/balance_x/3.jpg",
                            "location/ambulance/7.png"],
                     contents: ["area/metadata.csv": meta, "location/metadata.csv": "file_name,rotation\nambulance/7.png,45\n"])
        XCTAssertEqual(try Dataset.detectLayout(root), .siScore)
        let d = try Dataset.open(root)
        let space = try LabelSpace.named("si_score")
        XCTAssertEqual(d.labelSpace, "si_score")
        XCTAssertEqual(d.samples.map { $0.key }, ["area/Zebra/2.jpg", "area/ambulance/1.jpg", "location/ambulance/7.png"])
        XCTAssertEqual(d.samples.map { space.classNames[$0.label] }, ["zebra", "ambulance", "ambulance"])
        XCTAssertEqual(d.samples[1].factors, ["area": 0.5, "x": 0.25, "y": 0.75])
        XCTAssertEqual(d.samples[0].factors, ["area": 0.1, "y": 0.2])
        XCTAssertEqual(d.samples[2].factors, ["rotation": 45])
        XCTAssertEqual(d.skipped.map { $0.key }, ["area/unicorn/9.jpg", "rotation/balance_x/3.jpg"])
        XCTAssertTrue(d.skipped[0].reason.contains("not one of the 61 SI-Score classes"))

        var o = DatasetOptions()
        o.labelSpace = "imagenet"
        let d2 = try Dataset.open(root, options: o)
        XCTAssertEqual(d2.samples.map { $0.label }, [space.members[space.classNames.firstIndex(of: "zebra") ?? 0][0], 407, 407])

        try makeTree(root, [], contents: ["area/metadata.csv": "image_id,area\n1,0.5\n2\n"])
        assertThrows(try Dataset.open(root), "area/metadata.csv", "line 3")
    }

    func testSIScoreRootMetadata() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["ambulance/1.jpg"], contents: ["metadata.csv": "image_id,rotation\n1,90\n"])
        XCTAssertEqual(try Dataset.detectLayout(root), .siScore)
        let d = try Dataset.open(root)
        XCTAssertEqual(d.samples.map { $0.factors }, [["rotation": 90]])
    }

    func testRootErrors() throws {
        let root = try makeTempDir(self)
        assertThrows(try Dataset.open(root + "/missing"), "does not exist", "missing")
        assertThrows(try Dataset.detectLayout(root + "/missing"), "does not exist")
        try makeTree(root, ["file.png"])
        assertThrows(try Dataset.open(root + "/file.png"), "is a file, not a folder")
        assertThrows(try Dataset.open(root, layout: .siScore), "no metadata.csv")
        assertThrows(try Dataset.open(root, layout: .imagenetVidRobust), "no pmsets.json")
        var o = DatasetOptions()
        o.labelSpace = "imagenet"
        assertThrows(try Dataset.open(root, layout: .unlabeled, options: o), "no label space")
    }

    func testDatasetInitSortsByBytes() {
        let d = Dataset(root: "/r", layout: .unlabeled, labelSpace: "",
                        samples: [Sample(path: "/r/é", key: "é", label: -1), Sample(path: "/r/Z", key: "Z", label: -1),
                                  Sample(path: "/r/a", key: "a", label: -1)])
        XCTAssertEqual(d.samples.map { $0.key }, ["Z", "a", "é"])
        XCTAssertTrue(Dataset.isImageFile("x.JpEg"))
        XCTAssertFalse(Dataset.isImageFile(".png"))
        XCTAssertFalse(Dataset.isImageFile("x.gif"))
    }
}
