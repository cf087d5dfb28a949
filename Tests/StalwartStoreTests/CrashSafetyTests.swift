import Foundation
import StalwartTensor
import XCTest

@testable import StalwartStore

/// kill -9 safety: a child process (this test binary re-executed with a filter selecting
/// `testChildWriter`) commits batches in a loop and is SIGKILLed at random moments.
///
/// Each batch adds n rows to one group plus one skipped entry, and replaces that group's
/// metric state with [rows: UInt64 LE][batches: UInt64 LE][filler: 1500 × (batches % 251)].
/// After every kill the database must pass integrity_check and the rows, skipped entries and
/// states must agree exactly: a partially stored batch would break the agreement.
final class CrashSafetyTests: XCTestCase {
    static let pathVar = "STALWART_STORE_CRASH_CHILD"
    static let limitVar = "STALWART_STORE_CRASH_LIMIT"
    static let ready = "STORE-CHILD-READY"
    static let groups = [GroupKey(corruption: "", severity: 0)] + (1...4).map { GroupKey(corruption: "blur", severity: $0) }

    static func encodeState(rows: Int, batches: Int) -> [UInt8] {
        var out: [UInt8] = []
        for v in [UInt64(rows), UInt64(batches)] {
            for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(b)))) }
        }
        return out + [UInt8](repeating: UInt8(batches % 251), count: 1500)
    }

    static func decodeState(_ s: [UInt8]) -> (rows: Int, batches: Int)? {
        guard s.count == 16 + 1500 else { return nil }
        func u64(_ at: Int) -> Int { Int(s[at..<at + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
        let rows = u64(0), batches = u64(8)
        guard s[16...].allSatisfy({ $0 == UInt8(batches % 251) }) else { return nil }
        return (rows, batches)
    }

    /// The child: does nothing unless started by `testKillNineAtRandomMoments`.
    func testChildWriter() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env[Self.pathVar] else { return }
        let limit = env[Self.limitVar].flatMap { Int($0) } ?? Int.max
        let store = try ResultStore(path: path, version: "crash-test")
        let run = try store.upsertRun(modelID: try store.upsertModel(testModel), sampleRun(), created: "t")
        var rows = [Int](repeating: 0, count: Self.groups.count)
        var batches = rows
        for st in try store.metricStates(run: run) {
            guard let g = Self.groups.firstIndex(of: st.group), let (r, b) = Self.decodeState(st.state) else {
                return XCTFail("bad state \(st.group)")
            }
            rows[g] = r
            batches[g] = b
        }
        var total = rows.reduce(0, +)
        let done = try store.completedItems(run: run)
        XCTAssertEqual(done.count, total)
        FileHandle.standardOutput.write(Data("\(Self.ready)\n".utf8))
        while total < limit {
            let g = Int.random(in: 0..<Self.groups.count)
            let n = min(Int.random(in: 1...48), limit - total)
            let key = Self.groups[g]
            let batch = (rows[g]..<rows[g] + n).map {
                makeRow("img\($0)", corruption: key.corruption, severity: key.severity, i: $0)
            }
            try store.commitBatch(run: run, rows: batch, skipped: [("skip-\(g)-\(batches[g])", "\(n)")],
                                  states: [(key, "count", Self.encodeState(rows: rows[g] + n, batches: batches[g] + 1))])
            rows[g] += n
            batches[g] += 1
            total += n
        }
    }

    /// Checks the database after a kill; returns the number of stored rows.
    func verify(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        XCTAssertEqual(try rawSQL(path, "PRAGMA integrity_check"), [["ok"]], file: file, line: line)
        let store = try ResultStore(path: path, version: "verifier")
        let runs = try store.runs()
        XCTAssertEqual(runs.count, 1, file: file, line: line)
        guard let run = runs.first?.id else { return 0 }
        var expectedRows = [Int](repeating: 0, count: Self.groups.count)
        var expectedBatches = expectedRows
        for st in try store.metricStates(run: run) {
            guard let g = Self.groups.firstIndex(of: st.group), let (r, b) = Self.decodeState(st.state) else {
                XCTFail("torn or unknown state \(st.group)", file: file, line: line)
                continue
            }
            expectedRows[g] = r
            expectedBatches[g] = b
        }
        var seen = [Int](repeating: 0, count: Self.groups.count)
        for row in try store.predictions(run: run) {
            guard let g = Self.groups.firstIndex(of: GroupKey(corruption: row.corruption, severity: row.severity)),
                  row.sample.hasPrefix("img"), let k = Int(row.sample.dropFirst(3)) else {
                XCTFail("unexpected row \(row.sample)", file: file, line: line)
                continue
            }
            XCTAssertTrue(k < expectedRows[g], "row \(row.sample) of group \(g) beyond its state", file: file, line: line)
            XCTAssertEqual(row, makeRow(row.sample, corruption: row.corruption, severity: row.severity, i: k),
                           file: file, line: line)
            seen[g] += 1
        }
        // Rows are unique per key and all below the state's count, so equal counts mean exactly img0..<count.
        XCTAssertEqual(seen, expectedRows, "rows do not match the committed states", file: file, line: line)
        var skippedPerGroup = [Int](repeating: 0, count: Self.groups.count)
        var skippedRows = [Int](repeating: 0, count: Self.groups.count)
        for s in try store.skipped(run: run) {
            let parts = s.sample.split(separator: "-")
            guard parts.count == 3, let g = Int(parts[1]), g < Self.groups.count, let n = Int(s.reason) else {
                XCTFail("unexpected skipped entry \(s.sample)", file: file, line: line)
                continue
            }
            skippedPerGroup[g] += 1
            skippedRows[g] += n
        }
        XCTAssertEqual(skippedPerGroup, expectedBatches, "skipped entries do not match the batches", file: file, line: line)
        XCTAssertEqual(skippedRows, expectedRows, "batch sizes do not add up", file: file, line: line)
        let total = expectedRows.reduce(0, +)
        XCTAssertEqual(try store.completedItems(run: run).count, total, file: file, line: line)
        return total
    }

    /// Starts the child, waits until it is ready to commit; returns the process.
    func launchChild(_ path: String, limit: Int?) throws -> Process {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["StalwartStoreTests.CrashSafetyTests/testChildWriter"]
        var env = ProcessInfo.processInfo.environment
        env[Self.pathVar] = path
        if let limit { env[Self.limitVar] = String(limit) }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let pid = p.processIdentifier
        // Safety net: never let a stuck child hang the suite.
        DispatchQueue.global().asyncAfter(deadline: .now() + 120) { if p.isRunning { kill(pid, SIGKILL) } }
        var text = ""
        while !text.contains(Self.ready) {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        XCTAssertTrue(text.contains(Self.ready), "child did not start: \(text)")
        return p
    }

    func testKillNineAtRandomMoments() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.path("crash.sqlite")
        var total = 0
        for round in 0..<5 {
            let child = try launchChild(path, limit: nil)
            usleep(UInt32.random(in: 20_000...250_000))
            XCTAssertTrue(child.isRunning, "round \(round): the child stopped before the kill")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal)
            XCTAssertEqual(child.terminationStatus, SIGKILL)
            let now = try verify(path)
            XCTAssertGreaterThanOrEqual(now, total, "round \(round): rows lost")
            total = now
        }
        XCTAssertGreaterThan(total, 0, "no batch was committed before the kills")
        // Resume and finish normally.
        let child = try launchChild(path, limit: total + 500)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .exit)
        XCTAssertEqual(child.terminationStatus, 0, "the resumed child failed")
        XCTAssertEqual(try verify(path), total + 500)
    }
}
