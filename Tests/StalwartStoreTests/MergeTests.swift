import Foundation
import StalwartTensor
import XCTest

@testable import StalwartStore

final class MergeTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws { dir = try TempDir() }
    override func tearDown() { dir?.cleanup() }

    let clean = GroupKey(corruption: "", severity: 0)
    let fog1 = GroupKey(corruption: "fog", severity: 1)
    let snow2 = GroupKey(corruption: "snow", severity: 2)
    let model2 = ModelRecord(sha256: String(repeating: "ef", count: 32), name: "vit", path: "/m/vit.onnx",
                             input: "NCHW float32 1x3x384x384", classes: 1000)

    /// Everything observable about a store, for "unchanged" checks.
    func snapshot(_ s: ResultStore) throws -> String {
        var out = ""
        for r in try s.runs() {
            out += "\(r)\n\(try s.predictions(run: r.id))\n\(try s.aggregates(run: r.id))\n"
            out += "\(try s.skipped(run: r.id).map { "\($0.sample)=\($0.reason)" })\n"
            out += "\(try s.metricStates(run: r.id).map { "\($0.group) \($0.metric) \($0.state)" })\n"
        }
        return out
    }

    /// Shard A: run R with clean a1, a2 and fog-1 f1.
    func makeShardA() throws -> (ResultStore, Int64) {
        let a = try ResultStore(path: dir.path("a.sqlite"), version: "0.1.0")
        let run = try a.upsertRun(modelID: try a.upsertModel(testModel), sampleRun(), created: "tA")
        try a.commitBatch(run: run, rows: [makeRow("a1", i: 1), makeRow("a2", i: 2)],
                          skipped: [("x.jpg", "corrupt")], states: [(clean, "acc", [1])])
        try a.commitBatch(run: run, rows: [makeRow("f1", corruption: "fog", severity: 1, i: 3)],
                          skipped: [], states: [(fog1, "acc", [10])])
        try a.replaceAggregates(run: run, [Aggregate(group: clean, metric: "top1", value: 0.5, count: 2)],
                                finished: "fA")
        return (a, run)
    }

    func testMergeShards() throws {
        let (a, runA) = try makeShardA()
        let bPath = dir.path("b.sqlite")
        let run2: RunRecord
        do {
            let b = try ResultStore(path: bPath, version: "0.1.0")
            // Model inserted in the other order: ids differ between shards.
            let m2 = try b.upsertModel(model2)
            var r2 = sampleRun(seed: 5)
            r2.config = "{\"shard\":2}"
            run2 = r2
            let other = try b.upsertRun(modelID: m2, r2, created: "tB2")
            try b.commitBatch(run: other, rows: [makeRow("v1", i: 9)], skipped: [("v-bad", "x")],
                              states: [(clean, "acc", [7])])
            try b.replaceAggregates(run: other, [Aggregate(group: .runLevel, metric: "mce", value: 0.7, count: 1)],
                                    finished: "fB2")
            let run = try b.upsertRun(modelID: try b.upsertModel(testModel), sampleRun(), created: "tB")
            try b.commitBatch(run: run, rows: [makeRow("b1", i: 4)], skipped: [("y.jpg", "truncated"), ("x.jpg", "other")],
                              states: [(clean, "acc", [2])])
            // fog-1 computed by both shards with identical results; snow-2 only here.
            try b.commitBatch(run: run, rows: [makeRow("f1", corruption: "fog", severity: 1, i: 3)],
                              skipped: [], states: [(fog1, "acc", [10])])
            try b.commitBatch(run: run, rows: [makeRow("s1", corruption: "snow", severity: 2, i: 5)],
                              skipped: [], states: [(snow2, "acc", [20])])
        }

        var calls = 0
        try a.merge(from: bPath) { existing, incoming in
            calls += 1
            return existing + incoming
        }
        XCTAssertEqual(calls, 1)  // only the clean group of R is in both with new rows
        XCTAssertEqual(try a.predictions(run: runA).map { $0.sample }, ["a1", "a2", "b1", "f1", "s1"])
        XCTAssertEqual(try a.predictions(run: runA).last, makeRow("s1", corruption: "snow", severity: 2, i: 5))
        let states = try a.metricStates(run: runA)
        XCTAssertEqual(states.map { $0.group }, [clean, fog1, snow2])
        XCTAssertEqual(states.map { $0.state }, [[1, 2], [10], [20]])
        XCTAssertEqual(try a.skipped(run: runA).map { "\($0.sample)=\($0.reason)" }, ["x.jpg=corrupt", "y.jpg=truncated"])
        // R gained results: its aggregates are stale.
        XCTAssertEqual(try a.aggregates(run: runA), [])
        let runs = try a.runs()
        XCTAssertEqual(runs.count, 2)
        XCTAssertNil(runs[0].finished)
        XCTAssertEqual(runs[0].created, "tA")
        // The run new to A is copied with its model, description, timestamps and aggregates.
        XCTAssertEqual(runs[1].model, model2)
        XCTAssertEqual(runs[1].record, run2)
        XCTAssertEqual(runs[1].created, "tB2")
        XCTAssertEqual(runs[1].finished, "fB2")
        XCTAssertEqual(try a.predictions(run: runs[1].id), [makeRow("v1", i: 9)])
        XCTAssertEqual(try a.aggregates(run: runs[1].id),
                       [Aggregate(group: .runLevel, metric: "mce", value: 0.7, count: 1)])
        XCTAssertEqual(try a.metricStates(run: runs[1].id).map { $0.state }, [[7]])
        XCTAssertEqual(try a.skipped(run: runs[1].id).map { $0.sample }, ["v-bad"])

        // Merging the same shard again changes nothing (its rows are all present).
        let before = try snapshot(a)
        try a.merge(from: bPath) { existing, incoming in
            XCTFail("no state should be combined")
            return existing + incoming
        }
        XCTAssertEqual(try snapshot(a), before)
        // The shard itself was only read.
        let b = try ResultStore(path: bPath, version: "0.1.0")
        XCTAssertEqual(try b.runs().count, 2)
        XCTAssertEqual(try b.predictions(run: 2).map { $0.sample }, ["b1", "f1", "s1"])
    }

    func testMergeConflictLeavesTargetUnchanged() throws {
        let (a, _) = try makeShardA()
        let before = try snapshot(a)

        // C: a new row plus a1 with a different value.
        let cPath = dir.path("c.sqlite")
        do {
            let c = try ResultStore(path: cPath, version: "0.1.0")
            let run = try c.upsertRun(modelID: try c.upsertModel(testModel), sampleRun(), created: "tC")
            var changed = makeRow("a1", i: 1)
            changed.confidence += 0.001
            try c.commitBatch(run: run, rows: [makeRow("c0", i: 0), changed], skipped: [("z", "z")],
                              states: [(clean, "acc", [3])])
            let other = try c.upsertRun(modelID: try c.upsertModel(model2), sampleRun(seed: 9), created: "tC2")
            try c.commitBatch(run: other, rows: [makeRow("q", i: 0)], skipped: [], states: [])
        }
        assertThrows(try a.merge(from: cPath) { $0 + $1 }) { e in
            guard case .invalidArgument(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("sample 'a1'") && m.contains("different values"), m)
        }
        XCTAssertEqual(try snapshot(a), before)

        // D: a1 identical plus a new d1 in the same group: the states cannot be combined.
        let dPath = dir.path("d.sqlite")
        do {
            let d = try ResultStore(path: dPath, version: "0.1.0")
            let run = try d.upsertRun(modelID: try d.upsertModel(testModel), sampleRun(), created: "tD")
            try d.commitBatch(run: run, rows: [makeRow("a1", i: 1), makeRow("d1", i: 6)], skipped: [],
                              states: [(clean, "acc", [4])])
        }
        assertThrows(try a.merge(from: dPath) { $0 + $1 }) { e in
            guard case .invalidArgument(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("double counting"), m)
        }
        XCTAssertEqual(try snapshot(a), before)

        // E: disjoint, but the merge closure fails.
        let ePath = dir.path("e.sqlite")
        do {
            let e = try ResultStore(path: ePath, version: "0.1.0")
            let run = try e.upsertRun(modelID: try e.upsertModel(testModel), sampleRun(), created: "tE")
            try e.commitBatch(run: run, rows: [makeRow("e1", i: 6)], skipped: [], states: [(clean, "acc", [5])])
        }
        assertThrows(try a.merge(from: ePath) { _, _ in throw StalwartError.invalidArgument("incompatible state") }) { e in
            XCTAssertEqual(e, .invalidArgument("incompatible state"))
        }
        XCTAssertEqual(try snapshot(a), before)

        // A missing shard.
        assertThrows(try a.merge(from: dir.path("missing.sqlite")) { $0 + $1 }) { e in
            guard case .io = e else { return XCTFail("\(e)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("missing.sqlite")))
        XCTAssertEqual(try snapshot(a), before)
    }
}
