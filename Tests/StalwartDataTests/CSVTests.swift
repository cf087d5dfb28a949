import XCTest
@testable import StalwartData
import StalwartTensor

final class CSVTests: XCTestCase {
    func testQuotingAndLineEndings() throws {
        let t = try CSV.parse("a,b,c\r\n1,\"x, \"\"y\"\"\",\"multi\nline\"\n\n,,\n4,5,6")
        XCTAssertEqual(t.header, ["a", "b", "c"])
        XCTAssertEqual(t.rows, [["1", "x, \"y\"", "multi\nline"], ["", "", ""], ["4", "5", "6"]])
    }

    func testBOMAndTrailingNewline() throws {
        let t = try CSV.parse("\u{FEFF}id,v\n1,2\n")
        XCTAssertEqual(t.header, ["id", "v"])
        XCTAssertEqual(t.rows, [["1", "2"]])
        XCTAssertEqual(try CSV.parse("x\n\"\"\n").rows, [[""]])
    }

    func testErrorsNameTheLine() {
        assertThrows(try CSV.parse("a,b\n1,2\n3\n"), "line 3", "1 fields, expected 2")
        assertThrows(try CSV.parse("a,b\n1,2,3\n"), "line 2")
        assertThrows(try CSV.parse("a,b\n\"1,2\n"), "unterminated")
        assertThrows(try CSV.parse("a,b\n1\"x\",2\n"), "line 2", "quote")
        assertThrows(try CSV.parse("a,b\n\"1\"x,2\n"), "after the closing quote")
        assertThrows(try CSV.parse(""), "empty")
        assertThrows(try CSV.parse("a\rb"), "carriage return")
    }
}
