import Foundation
import XCTest
@testable import StalwartData
import StalwartTensor

final class FileSystemTests: XCTestCase {
    func testWalkListJoin() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["b/2.txt", "a/z/1.png", "c.jpg", "B.txt", "a/é.png"])
        XCTAssertEqual(try FileSystem.walkFiles(root), ["B.txt", "a/z/1.png", "a/é.png", "b/2.txt", "c.jpg"])
        XCTAssertEqual(try FileSystem.listDirectory(root), ["B.txt", "a", "b", "c.jpg"])
        XCTAssertTrue(FileSystem.isDirectory(root + "/a"))
        XCTAssertFalse(FileSystem.isDirectory(root + "/c.jpg"))
        XCTAssertTrue(FileSystem.exists(root + "/c.jpg"))
        XCTAssertFalse(FileSystem.exists(root + "/nope"))
        XCTAssertEqual(FileSystem.join("a", "b"), "a/b")
        XCTAssertEqual(FileSystem.join("a/", "b"), "a/b")
        XCTAssertEqual(FileSystem.join("a", "/b"), "/b")
        XCTAssertEqual(FileSystem.join("", "b"), "b")
        assertThrows(try FileSystem.walkFiles(root + "/nope"), "does not exist")
        assertThrows(try FileSystem.walkFiles(root + "/c.jpg"), "not a directory")
        assertThrows(try FileSystem.listDirectory(root + "/c.jpg"), "not a directory")
    }

    func testSymlinkCycleTerminates() throws {
        let root = try makeTempDir(self)
        try makeTree(root, ["d/x.png"])
        try FileManager.default.createSymbolicLink(atPath: root + "/d/loop", withDestinationPath: root + "/d")
        try FileManager.default.createSymbolicLink(atPath: root + "/e", withDestinationPath: root + "/d")
        try FileManager.default.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: root + "/none")
        // d is walked once: via "d" (sorted before "e"); the loop and the second link are not re-walked.
        XCTAssertEqual(try FileSystem.walkFiles(root), ["d/x.png"])
    }

    func testReadWriteAtomically() throws {
        let root = try makeTempDir(self)
        let path = root + "/out/file.bin"
        try FileSystem.makeDirectories(root + "/out")
        try FileSystem.makeDirectories(root + "/out")   // idempotent
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try FileSystem.writeFileAtomically(path, bytes)
        XCTAssertEqual(try FileSystem.readFile(path), bytes)
        try FileSystem.writeFileAtomically(path, Array("new".utf8))
        XCTAssertEqual(try FileSystem.readFile(path), Array("new".utf8))
        XCTAssertEqual(try FileSystem.listDirectory(root + "/out"), ["file.bin"])   // no temp file left
        assertThrows(try FileSystem.writeFileAtomically(root + "/missing/f", [1]), "temporary file")
        XCTAssertEqual(try FileSystem.listDirectory(root), ["out"])
        assertThrows(try FileSystem.readFile(root + "/nope"), "cannot open", "nope")
        assertThrows(try FileSystem.readFile(root + "/out"), "directory")
        try FileSystem.writeFileAtomically(root + "/empty", [])
        XCTAssertEqual(try FileSystem.readFile(root + "/empty"), [])
    }

    func testMakeDirectories() throws {
        let root = try makeTempDir(self)
        try FileSystem.makeDirectories(root + "/a/b/c")
        XCTAssertTrue(FileSystem.isDirectory(root + "/a/b/c"))
        try makeTree(root, ["f"])
        assertThrows(try FileSystem.makeDirectories(root + "/f/g"), "not a folder")
    }
}
