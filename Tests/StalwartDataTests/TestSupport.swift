import Foundation
import XCTest
@testable import StalwartData
import StalwartTensor

/// A fresh temporary folder, removed by the test's teardown.
func makeTempDir(_ test: XCTestCase, _ name: String = "ds") throws -> String {
    let base = NSTemporaryDirectory() + "stalwart-data-\(UUID().uuidString)"
    let dir = base + "/" + name
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: base) }
    return dir
}

/// Creates files (empty unless content is given) at root-relative paths, with their folders.
func makeTree(_ root: String, _ files: [String], contents: [String: String] = [:]) throws {
    for f in files + Array(contents.keys) {
        let path = root + "/" + f
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let created = FileManager.default.createFile(atPath: path, contents: Data((contents[f] ?? "").utf8))
        if !created { throw StalwartError.io("test setup: cannot create \(path)") }
    }
}

/// The repository root (three levels above this file).
let repoRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// The shared fixtures folder (`$STALWART_SHARED/fixtures` or `<repo>/../shared/fixtures`), or skip.
func sharedFixtures() throws -> String {
    let shared = ProcessInfo.processInfo.environment["STALWART_SHARED"] ?? (repoRoot + "/../shared")
    let fixtures = shared + "/fixtures"
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: fixtures, isDirectory: &isDir), isDir.boolValue else {
        throw XCTSkip("shared fixtures not found at \(fixtures)")
    }
    return fixtures
}

/// Asserts that `body` throws a StalwartError whose message contains every fragment.
func assertThrows<T>(_ body: @autoclosure () throws -> T, _ fragments: String..., file: StaticString = #filePath,
                     line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let e as StalwartError {
        for f in fragments where !e.message.contains(f) {
            XCTFail("error '\(e.message)' does not contain '\(f)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}
