import Foundation
import XCTest
@testable import StalwartData
import StalwartMetrics
import StalwartTensor

/// Layouts built around the real metadata files of /work/shared/fixtures (skipped when absent).
final class RealMetadataTests: XCTestCase {
    func testImagenetValWithRealLabelsFile() throws {
        let fx = try sharedFixtures()
        let root = try makeTempDir(self, "val")
        try makeTree(root, ["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG", "ILSVRC2012_val_00050000.JPEG"])
        var o = DatasetOptions()
        o.labelsFile = fx + "/imagenet_val_labels.txt"
        let d = try Dataset.open(root, options: o)
        XCTAssertEqual(d.layout, .imagenetVal)
        // Expected labels straight from the file.
        let text = try String(contentsOfFile: fx + "/imagenet_val_labels.txt", encoding: .utf8)
        var expected: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let t = line.split(separator: " ")
            expected[String(t[0])] = Int(t[1])
        }
        XCTAssertEqual(d.samples.count, 3)
        for s in d.samples { XCTAssertEqual(s.label, expected[s.key], s.key) }
        XCTAssertEqual(d.samples[0].label, 65)
    }

    func testVidRobustWithRealPmSets() throws {
        let fx = try sharedFixtures() + "/labelspaces/imagenet_vid_robust"
        let root = try makeTempDir(self, "imagenet-vid-robust")
        try FileManager.default.createDirectory(atPath: root + "/metadata", withIntermediateDirectories: true)
        for f in ["pmsets.json", "labels.json"] {
            try FileManager.default.copyItem(atPath: fx + "/" + f, toPath: root + "/metadata/" + f)
        }
        let pm = try JSONValue.parse(FileSystem.readFile(fx + "/pmsets.json"))
        let labels = try JSONValue.parse(FileSystem.readFile(fx + "/labels.json"))
        let sets = try XCTUnwrap(pm.object)
        XCTAssertEqual(sets.count, 1109)
        // Put the first two pm-sets on disk, minus one frame.
        let (a0, f0) = sets[0], (a1, f1) = sets[1]
        var files = [a0, a1] + (f0.array ?? []).compactMap { $0.string } + (f1.array ?? []).compactMap { $0.string }
        let dropped = files.removeLast()
        try makeTree(root, files)
        XCTAssertEqual(try Dataset.detectLayout(root), .imagenetVidRobust)
        let d = try Dataset.open(root)
        XCTAssertEqual(d.layout, .imagenetVidRobust)
        XCTAssertEqual(d.samples.count, files.count)
        XCTAssertEqual(d.samples.map { $0.key }, files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for s in d.samples {
            let ls = try XCTUnwrap(labels[s.key]?.array?.compactMap { $0.int })
            XCTAssertEqual(s.label, ls[0])
            XCTAssertEqual(s.labels, ls.count > 1 ? ls : [])
            XCTAssertTrue(s.anchor == a0 || s.anchor == a1)
            let members = (s.anchor == a0 ? f0 : f1).array?.compactMap { $0.string } ?? []
            XCTAssertTrue(s.key == s.anchor || members.contains(s.key))
        }
        // Every other set's frames are missing on disk.
        XCTAssertEqual(d.skipped.count, 22179 - files.count)
        XCTAssertTrue(d.skipped.contains(Skipped(key: dropped, reason: "frame listed in '\(root)/metadata/pmsets.json' is missing on disk")))
    }

    func testObjectNetWithRealMappings() throws {
        let fx = try sharedFixtures() + "/labelspaces/objectnet"
        let root = try makeTempDir(self, "objectnet-1.0")
        try FileManager.default.createDirectory(atPath: root + "/mappings", withIntermediateDirectories: true)
        for f in ["folder_to_objectnet_label.json", "objectnet_to_imagenet_1k.json"] {
            try FileManager.default.copyItem(atPath: fx + "/" + f, toPath: root + "/mappings/" + f)
        }
        let folderMap = try XCTUnwrap(JSONValue.parse(FileSystem.readFile(fx + "/folder_to_objectnet_label.json")).object)
        XCTAssertEqual(folderMap.count, 313)
        try makeTree(root, folderMap.map { "images/\($0.0)/x.png" })
        let d = try Dataset.open(root)
        XCTAssertEqual(d.layout, .objectnet)
        XCTAssertEqual(d.samples.count, 113)
        XCTAssertEqual(d.skipped.count, 200)
        XCTAssertTrue(d.skipped.allSatisfy { $0.reason == "class not in the 113 ImageNet-mapped ObjectNet classes" })
        let space = try LabelSpace.named("objectnet")
        let names = Dictionary(uniqueKeysWithValues: folderMap.map { ($0.0, $0.1.string ?? "") })
        for s in d.samples {
            let folder = String(s.key.split(separator: "/")[1])
            XCTAssertEqual(space.classNames[s.label], names[folder])
        }
        // Without the mapping files the embedded folder names give the same labels.
        try FileManager.default.removeItem(atPath: root + "/mappings")
        let d2 = try Dataset.open(root, layout: .objectnet)
        XCTAssertEqual(d2.samples, d.samples)
    }
}
