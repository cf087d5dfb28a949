import CSQLite
import Foundation
import StalwartTensor
import XCTest

@testable import StalwartStore

/// A fresh temporary directory, removed by `cleanup()`.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("stalwart-store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Runs raw SQL on a database file outside `ResultStore` (for tampering and inspection).
func rawSQL(_ path: String, _ sql: String) throws -> [[String]] {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
        throw StalwartError.io("cannot open \(path)")
    }
    defer { sqlite3_close_v2(db) }
    sqlite3_busy_timeout(db, 5000)
    var stmt: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
        throw StalwartError.internal(String(cString: sqlite3_errmsg(db)))
    }
    defer { sqlite3_finalize(stmt) }
    var rows: [[String]] = []
    while true {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_DONE { break }
        guard rc == SQLITE_ROW else { throw StalwartError.internal(String(cString: sqlite3_errmsg(db))) }
        var row: [String] = []
        for c in 0..<sqlite3_column_count(stmt) {
            row.append(sqlite3_column_text(stmt, c).map { String(cString: $0) } ?? "NULL")
        }
        rows.append(row)
    }
    return rows
}

let testModel = ModelRecord(sha256: String(repeating: "ab", count: 32), name: "resnet50", path: "/models/r50.onnx",
                            input: "NCHW float32 1x3x224x224", classes: 1000)

func sampleRun(seed: UInt64 = 0, resolution: Int = 224, config: String = "{}", version: String = "0.1.0") -> RunRecord {
    RunRecord(suite: "imagenet-c", dataRoot: "/data/imagenet-c", layout: "imagenet-c", labelSpace: "imagenet-1k",
              preprocess: "torchvision", resolution: resolution, cropPct: 0.875, interpolation: "bilinear",
              seed: seed, shiftMode: "on-disk", config: config, version: version)
}

/// A deterministic row for item `i` of a group.
func makeRow(_ sample: String, corruption: String = "", severity: Int = 0, i: Int = 0, labelled: Bool = true) -> PredictionRow {
    let top1 = (i &* 7) % 1000
    return PredictionRow(
        sample: sample, corruption: corruption, severity: severity, label: labelled ? i % 1000 : -1, top1: top1,
        top5: [top1, 1, 2, 3, 4], rank: labelled ? i % 3 : -1, confidence: Double(i % 997) / 997.0,
        pLabel: labelled ? 0.25 + Double(i % 5) / 10 : nil, logPLabel: labelled ? log(0.25 + Double(i % 5) / 10) : nil,
        sumSquares: 0.125 + Double(i % 11) / 100, correct1: labelled ? (i % 2 == 0) : nil,
        correct5: labelled ? (i % 3 != 0) : nil, params: "{\"i\":\(i)}")
}

func assertThrows<T>(_ expr: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                     _ check: (StalwartError) -> Void) {
    do {
        _ = try expr()
        XCTFail("expected an error", file: file, line: line)
    } catch let e as StalwartError {
        check(e)
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}
