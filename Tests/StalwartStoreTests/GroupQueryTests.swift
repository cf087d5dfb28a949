import XCTest

@testable import StalwartStore

/// The SQL summaries used for aggregates of large runs, against the same sums in Swift over
/// `predictions(run:)`.
final class GroupQueryTests: XCTestCase {
    var dir: TempDir!
    override func setUpWithError() throws { dir = try TempDir() }
    override func tearDown() { dir.cleanup() }

    func testGroupConfidenceFlipsAndGroupRowsMatchTheRows() throws {
        let s = try ResultStore(path: dir.path("g.sqlite"), version: "0.1.0")
        let run = try s.upsertRun(modelID: try s.upsertModel(testModel), sampleRun(), created: "t")
        var rows: [PredictionRow] = []
        for i in 0..<40 {
            rows.append(makeRow("img\(i).jpg", i: i))                                            // clean
            if i % 4 != 0 { rows.append(makeRow("img\(i).jpg", corruption: "fog", severity: 2, i: i * 3 + 1)) }
            if i < 10 { rows.append(makeRow("other\(i).jpg", corruption: "fog", severity: 2, i: i)) }  // no clean row
        }
        try s.commitBatch(run: run, rows: rows, skipped: [], states: [])
        let all = try s.predictions(run: run)
        var want: [GroupKey: (Int, Double)] = [:]
        for r in all {
            let g = GroupKey(corruption: r.corruption, severity: r.severity)
            let w = want[g] ?? (0, 0)
            want[g] = (w.0 + 1, w.1 + r.confidence)
        }
        let got = try s.groupConfidence(run: run)
        XCTAssertEqual(got.count, want.count)
        for g in got {
            let w = try XCTUnwrap(want[g.group])
            XCTAssertEqual(g.count, w.0)
            XCTAssertEqual(g.meanConfidence, w.1 / Double(w.0), accuracy: 1e-12)
        }
        let clean = Dictionary(uniqueKeysWithValues: all.filter { $0.corruption.isEmpty }.map { ($0.sample, $0.top1) })
        let shifted = all.filter { !$0.corruption.isEmpty && clean[$0.sample] != nil }
        let flips = try s.flips(run: run)
        XCTAssertEqual(flips.count, 1)
        XCTAssertEqual(flips[0].group, GroupKey(corruption: "fog", severity: 2))
        XCTAssertEqual(flips[0].matched, shifted.count)
        XCTAssertEqual(flips[0].flipped, shifted.filter { clean[$0.sample] != $0.top1 }.count)
        XCTAssertGreaterThan(flips[0].flipped, 0)
        let cleanRows = try s.predictions(run: run, group: GroupKey(corruption: "", severity: 0))
        XCTAssertEqual(cleanRows, all.filter { $0.corruption.isEmpty }.sorted { $0.sample < $1.sample })
    }
}
