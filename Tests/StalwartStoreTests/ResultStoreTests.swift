import Foundation
import StalwartTensor
import XCTest

@testable import StalwartStore

final class ResultStoreTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws { dir = try TempDir() }
    override func tearDown() { dir?.cleanup() }

    func testCreateAndReopen() throws {
        let p = dir.path("r.sqlite")
        var firstRuns: [StoredRun] = []
        do {
            let s = try ResultStore(path: p, version: "0.1.0")
            XCTAssertEqual(s.path, p)
            let m = try s.upsertModel(testModel)
            let r = try s.upsertRun(modelID: m, sampleRun(seed: UInt64.max), created: "2026-11-29T10:00:00Z")
            try s.commitBatch(run: r, rows: [makeRow("a", i: 1)], skipped: [], states: [])
            firstRuns = try s.runs()
        }
        XCTAssertEqual(try rawSQL(p, "SELECT value FROM meta WHERE key = 'schema_version'"), [["1"]])
        XCTAssertEqual(try rawSQL(p, "SELECT value FROM meta WHERE key = 'created_by'"), [["0.1.0"]])
        XCTAssertEqual(try rawSQL(p, "PRAGMA journal_mode"), [["wal"]])

        let s = try ResultStore(path: p, version: "0.2.0")
        let runs = try s.runs()
        XCTAssertEqual(runs, firstRuns)
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs.first?.record, sampleRun(seed: UInt64.max))
        XCTAssertEqual(runs.first?.model, testModel)
        XCTAssertEqual(runs.first?.created, "2026-11-29T10:00:00Z")
        XCTAssertNil(runs.first?.finished)
        XCTAssertEqual(try s.predictions(run: runs[0].id), [makeRow("a", i: 1)])
        // Reopening does not rewrite created_by.
        XCTAssertEqual(try rawSQL(p, "SELECT value FROM meta WHERE key = 'created_by'"), [["0.1.0"]])
        XCTAssertEqual(try rawSQL(p, "PRAGMA foreign_key_check"), [])
    }

    func testNewerSchemaVersionIsRejected() throws {
        let p = dir.path("r.sqlite")
        _ = try ResultStore(path: p, version: "0.1.0")
        _ = try rawSQL(p, "UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        assertThrows(try ResultStore(path: p, version: "0.1.0")) { e in
            XCTAssertEqual(e, .unsupported(
                "results database '\(p)' has schema version 2, newer than this Stalwart's 1: upgrade Stalwart"))
        }
        // Also when merging such a file as a shard.
        let target = try ResultStore(path: dir.path("t.sqlite"), version: "0.1.0")
        assertThrows(try target.merge(from: p) { a, _ in a }) { e in
            guard case .unsupported(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("schema version 2"), m)
        }
    }

    func testNonSQLiteFileIsRejectedAndLeftUntouched() throws {
        let p = dir.path("notes.sqlite")
        let bytes = Data(String(repeating: "these are not the pages you are looking for\n", count: 100).utf8)
        try bytes.write(to: URL(fileURLWithPath: p))
        assertThrows(try ResultStore(path: p, version: "0.1.0")) { e in
            guard case .io(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("'\(p)' is not an SQLite database"), m)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: p)), bytes)

        // An SQLite database of something else.
        let q = dir.path("other.sqlite")
        _ = try rawSQLCreate(q, "CREATE TABLE t(x)")
        assertThrows(try ResultStore(path: q, version: "0.1.0")) { e in
            guard case .invalidArgument(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("not a Stalwart results database"), m)
        }
        // A directory / missing parent directory.
        assertThrows(try ResultStore(path: dir.path("missing/r.sqlite"), version: "0.1.0")) { e in
            guard case .io = e else { return XCTFail("\(e)") }
        }
        assertThrows(try ResultStore(path: "", version: "0.1.0")) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
    }

    func testUpsertsAreIdempotent() throws {
        let s = try ResultStore(path: dir.path("r.sqlite"), version: "0.1.0")
        let m1 = try s.upsertModel(testModel)
        var renamed = testModel
        renamed.name = "resnet50-v2"
        renamed.path = "/elsewhere/r50.onnx"
        XCTAssertEqual(try s.upsertModel(renamed), m1)
        var other = testModel
        other.sha256 = String(repeating: "cd", count: 32)
        let m2 = try s.upsertModel(other)
        XCTAssertNotEqual(m1, m2)
        var inconsistent = testModel
        inconsistent.classes = 10
        assertThrows(try s.upsertModel(inconsistent)) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }

        let r1 = try s.upsertRun(modelID: m1, sampleRun(), created: "t1")
        XCTAssertEqual(try s.upsertRun(modelID: m1, sampleRun(config: "{\"batch\":32}", version: "0.2.0"), created: "t2"), r1)
        let r2 = try s.upsertRun(modelID: m1, sampleRun(seed: 1), created: "t3")
        let r3 = try s.upsertRun(modelID: m2, sampleRun(), created: "t4")
        let r4 = try s.upsertRun(modelID: m1, sampleRun(resolution: 288), created: "t5")
        XCTAssertEqual(Set([r1, r2, r3, r4]).count, 4)

        let runs = try s.runs()
        XCTAssertEqual(runs.map(\.id), [r1, r2, r3, r4])
        XCTAssertEqual(runs[0].model.name, "resnet50-v2")
        XCTAssertEqual(runs[0].model.path, "/elsewhere/r50.onnx")
        XCTAssertEqual(runs[0].record.config, "{\"batch\":32}")
        XCTAssertEqual(runs[0].record.version, "0.2.0")
        XCTAssertEqual(runs[0].created, "t1")  // creation time is kept
        XCTAssertEqual(runs[2].model.sha256, other.sha256)

        var badMode = sampleRun()
        badMode.shiftMode = "sometimes"
        assertThrows(try s.upsertRun(modelID: m1, badMode, created: "t")) { e in
            guard case .invalidArgument(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("sometimes"), m)
        }
        var relabelled = sampleRun()
        relabelled.labelSpace = "imagenet-200"
        assertThrows(try s.upsertRun(modelID: m1, relabelled, created: "t")) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
        assertThrows(try s.upsertRun(modelID: 999, sampleRun(), created: "t")) { e in
            guard case .invalidArgument(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("FOREIGN KEY"), m)
        }
        XCTAssertEqual(try s.runs().count, 4)
    }

    func testCommitBatchIsAtomic() throws {
        let s = try ResultStore(path: dir.path("r.sqlite"), version: "0.1.0")
        let run = try s.upsertRun(modelID: try s.upsertModel(testModel), sampleRun(), created: "t")
        let g = GroupKey(corruption: "fog", severity: 3)
        try s.commitBatch(run: run, rows: [makeRow("a", corruption: "fog", severity: 3, i: 1),
                                           makeRow("b", corruption: "fog", severity: 3, i: 2)],
                          skipped: [("bad.jpg", "truncated JPEG")],
                          states: [(g, "accuracy:k=1", [1, 2])])
        let before = try s.predictions(run: run)

        // A batch repeating a stored key stores nothing — not even its other rows, skips or states.
        assertThrows(try s.commitBatch(
            run: run, rows: [makeRow("c", corruption: "fog", severity: 3, i: 3),
                             makeRow("a", corruption: "fog", severity: 3, i: 1)],
            skipped: [("worse.png", "not a PNG")], states: [(g, "accuracy:k=1", [9, 9, 9])])) { e in
            guard case .invalidArgument(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("sample 'a'"), m)
            XCTAssertTrue(m.contains("nothing of the batch was stored"), m)
        }
        // A batch repeating a key within itself, likewise.
        assertThrows(try s.commitBatch(
            run: run, rows: [makeRow("d", corruption: "fog", severity: 3), makeRow("d", corruption: "fog", severity: 3)],
            skipped: [], states: [])) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
        // Invalid values and unknown runs.
        var nan = makeRow("e")
        nan.confidence = .nan
        assertThrows(try s.commitBatch(run: run, rows: [nan], skipped: [], states: [])) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
        assertThrows(try s.commitBatch(run: run + 100, rows: [makeRow("e")], skipped: [], states: [])) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try s.predictions(run: run), before)
        XCTAssertEqual(try s.skipped(run: run).map { $0.sample }, ["bad.jpg"])
        XCTAssertEqual(try s.metricStates(run: run).map { $0.state }, [[1, 2]])

        // The store stays usable.
        try s.commitBatch(run: run, rows: [makeRow("c", corruption: "fog", severity: 3, i: 3)],
                          skipped: [("worse.png", "not a PNG"), ("bad.jpg", "unreadable")],
                          states: [(g, "accuracy:k=1", [3]), (g, "ece:bins=15", [])])
        XCTAssertEqual(try s.predictions(run: run).map { $0.sample }, ["a", "b", "c"])
        let skipped = try s.skipped(run: run)
        XCTAssertEqual(skipped.map { $0.sample }, ["bad.jpg", "worse.png"])
        XCTAssertEqual(skipped.map { $0.reason }, ["unreadable", "not a PNG"])
        let states = try s.metricStates(run: run)
        XCTAssertEqual(states.map { $0.metric }, ["accuracy:k=1", "ece:bins=15"])
        XCTAssertEqual(states.map { $0.state }, [[3], []])
        XCTAssertEqual(states.map { $0.group }, [g, g])
    }

    func testCompletedItems() throws {
        let s = try ResultStore(path: dir.path("r.sqlite"), version: "0.1.0")
        let model = try s.upsertModel(testModel)
        let run = try s.upsertRun(modelID: model, sampleRun(), created: "t")
        let other = try s.upsertRun(modelID: model, sampleRun(seed: 7), created: "t")
        XCTAssertEqual(try s.completedItems(run: run), [])
        try s.commitBatch(run: run, rows: [makeRow("x/1.jpg"), makeRow("x/1.jpg", corruption: "snow", severity: 5),
                                           makeRow("y\t2.jpg", corruption: "snow", severity: 1)],
                          skipped: [("z.jpg", "corrupt")], states: [])
        try s.commitBatch(run: other, rows: [makeRow("w.jpg")], skipped: [], states: [])
        XCTAssertEqual(try s.completedItems(run: run), [
            ResultStore.itemKey(corruption: "", severity: 0, sample: "x/1.jpg"),
            ResultStore.itemKey(corruption: "snow", severity: 5, sample: "x/1.jpg"),
            ResultStore.itemKey(corruption: "snow", severity: 1, sample: "y\t2.jpg"),
        ])
        XCTAssertEqual(ResultStore.itemKey(corruption: "snow", severity: 5, sample: "a.jpg"), "snow\t5\ta.jpg")
        XCTAssertEqual(try s.completedItems(run: other), ["\t0\tw.jpg"])
    }

    func testPredictionsRoundTrip() throws {
        let p = dir.path("r.sqlite")
        var rows: [PredictionRow] = [
            makeRow("n02085620/日本語 猫 🐱.JPEG", corruption: "gaussian_noise", severity: 2, i: 5),
            makeRow("unlabelled.png", i: 6, labelled: false),
            makeRow("a", i: 7),
            makeRow("b", corruption: "gaussian_noise", severity: 1, i: 8),
        ]
        rows[2].logPLabel = -.infinity
        rows[2].pLabel = 0
        rows[2].top5 = [3, 1]
        rows[2].params = "{\"sigma\":0.08,\"note\":\"ü\"}"
        rows[3].top5 = []
        rows[3].correct1 = nil
        rows[3].correct5 = false
        do {
            let s = try ResultStore(path: p, version: "0.1.0")
            let run = try s.upsertRun(modelID: try s.upsertModel(testModel), sampleRun(), created: "t")
            try s.commitBatch(run: run, rows: rows, skipped: [("ß/ø.jpg", "unreadable: ✗")], states: [])
        }
        let s = try ResultStore(path: p, version: "0.1.0")
        let run = try XCTUnwrap(try s.runs().first?.id)
        let expected = [rows[2], rows[1], rows[3], rows[0]]  // by corruption, severity, sample
        XCTAssertEqual(try s.predictions(run: run), expected)
        XCTAssertEqual(try s.predictions(run: run).map { $0.sample },
                       ["a", "unlabelled.png", "b", "n02085620/日本語 猫 🐱.JPEG"])
        XCTAssertEqual(try s.predictions(run: run)[1].pLabel, nil)
        XCTAssertEqual(try s.predictions(run: run)[1].label, -1)
        XCTAssertEqual(try s.skipped(run: run).first?.sample, "ß/ø.jpg")
        XCTAssertEqual(try s.skipped(run: run).first?.reason, "unreadable: ✗")
        XCTAssertEqual(try rawSQL(p, "SELECT top5, typeof(p_label), correct1 FROM predictions WHERE sample = 'a'"),
                       [["3,1", "real", "0"]])
        XCTAssertEqual(try rawSQL(p, "SELECT count(*) FROM predictions WHERE sample = 'unlabelled.png' AND p_label IS NULL AND log_p_label IS NULL AND correct1 IS NULL AND correct5 IS NULL"),
                       [["1"]])
    }

    func testAggregatesReplaceAndFinished() throws {
        let s = try ResultStore(path: dir.path("r.sqlite"), version: "0.1.0")
        let run = try s.upsertRun(modelID: try s.upsertModel(testModel), sampleRun(), created: "t")
        let clean = GroupKey(corruption: "", severity: 0)
        let first = [Aggregate(group: clean, metric: "top1", value: 0.76, count: 50000),
                     Aggregate(group: .runLevel, metric: "mce", value: 0.61, count: 950_000),
                     Aggregate(group: GroupKey(corruption: "fog", severity: 1), metric: "ece", value: 0.03, count: 50000)]
        try s.replaceAggregates(run: run, first, finished: nil)
        XCTAssertEqual(try s.aggregates(run: run), first.sorted { ($0.group.corruption, $0.group.severity) < ($1.group.corruption, $1.group.severity) })
        XCTAssertNil(try s.runs()[0].finished)

        let second = [Aggregate(group: clean, metric: "top1", value: 0.77, count: 50000)]
        try s.replaceAggregates(run: run, second, finished: "2026-11-29T12:00:00Z")
        XCTAssertEqual(try s.aggregates(run: run), second)
        XCTAssertEqual(try s.runs()[0].finished, "2026-11-29T12:00:00Z")
        XCTAssertEqual(GroupKey.runLevel, GroupKey(corruption: "*", severity: -1))

        // Failures change nothing.
        assertThrows(try s.replaceAggregates(run: run, [second[0], second[0]], finished: "x")) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
        assertThrows(try s.replaceAggregates(run: run, [Aggregate(group: clean, metric: "nll", value: .nan, count: 1)],
                                             finished: "x")) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
        assertThrows(try s.replaceAggregates(run: run + 1, [], finished: "x")) { e in
            guard case .invalidArgument = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try s.aggregates(run: run), second)
        XCTAssertEqual(try s.runs()[0].finished, "2026-11-29T12:00:00Z")

        // New results make the run unfinished again.
        try s.commitBatch(run: run, rows: [makeRow("late.jpg")], skipped: [], states: [])
        XCTAssertNil(try s.runs()[0].finished)
    }
}

/// Creates an arbitrary SQLite file.
func rawSQLCreate(_ path: String, _ sql: String) throws -> [[String]] {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    return try rawSQL(path, sql)
}
