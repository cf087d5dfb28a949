import Foundation
import StalwartTensor
import XCTest

@testable import StalwartStore

final class TransferResultsTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws { dir = try TempDir() }
    override func tearDown() { dir?.cleanup() }

    func result(shots: Int = 5, seed: Int = 0, l2: Double = 1024, accuracy: Double = 0.5, method: String = "fewshot_lsr") -> TransferResult {
        TransferResult(task: "digits", dataRoot: "/data/digits", method: method, layer: "pool_flat", preprocess: "torchvision",
                       resolution: 224, shots: shots, seed: seed, l2: l2, accuracy: accuracy, trainCount: shots * 10, testCount: 900)
    }

    func testRoundTripReplaceAndSharedModelIdentity() throws {
        let s = try ResultStore(path: dir.path("r.sqlite"), version: "t")
        // The eval side registers the model first; transfer rows must join the same models row.
        let modelID = try s.upsertModel(testModel)
        _ = try s.upsertRun(modelID: modelID, sampleRun(), created: "c0")
        try s.recordTransfer(model: testModel, [result(seed: 0, accuracy: 0.5), result(seed: 1, accuracy: 0.75),
                                                 result(shots: 0, l2: 1, accuracy: 0.9, method: "linear_probe")], created: "c1")
        var got = try s.transferResults()
        XCTAssertEqual(got.count, 3)
        XCTAssertEqual(Set(got.map(\.model)), [testModel])
        XCTAssertEqual(try rawSQL(dir.path("r.sqlite"), "SELECT DISTINCT model_id FROM transfer_results"), [["\(modelID)"]])
        XCTAssertEqual(got.first { $0.result.method == "linear_probe" }?.result.accuracy, 0.9)
        // Same identity → replaced, not duplicated.
        try s.recordTransfer(model: testModel, [result(seed: 1, accuracy: 0.25)], created: "c2")
        got = try s.transferResults()
        XCTAssertEqual(got.count, 3)
        XCTAssertEqual(got.first { $0.result.seed == 1 && $0.result.method == "fewshot_lsr" }?.result.accuracy, 0.25)
        XCTAssertEqual(got.first { $0.result.seed == 1 && $0.result.method == "fewshot_lsr" }?.created, "c2")
    }

    func testInvalidResultsAreRejectedWithoutWriting() throws {
        let s = try ResultStore(path: dir.path("r.sqlite"), version: "t")
        var bad = [result(accuracy: 1.5), result(l2: .nan), result(shots: -1), result(method: "knn")]
        var colon = result(); colon.task = "a:b"; bad.append(colon)
        var empty = result(); empty.task = ""; bad.append(empty)
        for r in bad {
            XCTAssertThrowsError(try s.recordTransfer(model: testModel, [result(seed: 2), r], created: "c")) { e in
                guard case StalwartError.invalidArgument = e else { return XCTFail("\(e)") }
            }
        }
        XCTAssertEqual(try s.transferResults().count, 0)
        var noClasses = testModel; noClasses.classes = 0
        XCTAssertThrowsError(try s.recordTransfer(model: noClasses, [result()], created: "c"))
    }

    func testOldDatabaseGainsTheTableAndMergeCarriesResults() throws {
        // A schema-1 file written before transfer results existed: drop the table to simulate it.
        let old = dir.path("old.sqlite")
        _ = try ResultStore(path: old, version: "t")
        _ = try rawSQL(old, "DROP TABLE transfer_results")
        XCTAssertEqual(try rawSQL(old, "SELECT count(*) FROM sqlite_master WHERE name = 'transfer_results'"), [["0"]])
        let reopened = try ResultStore(path: old, version: "t")
        XCTAssertEqual(try reopened.transferResults().count, 0)
        try reopened.recordTransfer(model: testModel, [result()], created: "c")

        let shard = dir.path("shard.sqlite")
        let s = try ResultStore(path: shard, version: "t")
        try s.recordTransfer(model: testModel, [result(seed: 0), result(seed: 1, accuracy: 0.6)], created: "c")
        let target = try ResultStore(path: dir.path("t.sqlite"), version: "t")
        try target.merge(from: shard) { a, _ in a }
        try target.merge(from: shard) { a, _ in a }  // idempotent
        XCTAssertEqual(try target.transferResults().map(\.result), try s.transferResults().map(\.result))

        // A conflicting accuracy for the same identity is an error and changes nothing.
        let other = dir.path("other.sqlite")
        try ResultStore(path: other, version: "t").recordTransfer(model: testModel, [result(seed: 0, accuracy: 0.1)], created: "c")
        XCTAssertThrowsError(try target.merge(from: other) { a, _ in a })
        XCTAssertEqual(try target.transferResults().map(\.result), try s.transferResults().map(\.result))
    }
}
