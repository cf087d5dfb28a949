import XCTest
@testable import StalwartData
import StalwartTensor

final class JSONValueTests: XCTestCase {
    let sample = #"{"name": "stalwart", "n": [1, -2.5, 3e2, 0, true, false, null], "nested": {"a": {"b": []}, "s": "x\"y\\z\n\u00e9\ud83d\ude00"}, "empty": {}}"#

    func testParsesAndKeepsOrder() throws {
        let v = try JSONValue.parse(sample)
        XCTAssertEqual(v.object?.map { $0.0 }, ["name", "n", "nested", "empty"])
        XCTAssertEqual(v["name"]?.string, "stalwart")
        XCTAssertEqual(v["n"]?.array?.count, 7)
        XCTAssertEqual(v["n"]?.array?[1].double, -2.5)
        XCTAssertEqual(v["n"]?.array?[2].int, 300)
        XCTAssertEqual(v["n"]?.array?[4], .bool(true))
        XCTAssertEqual(v["n"]?.array?[6], .null)
        XCTAssertEqual(v["nested"]?["s"]?.string, "x\"y\\z\né😀")
        XCTAssertEqual(v["empty"]?.object?.count, 0)
        XCTAssertNil(v["missing"])
        XCTAssertNil(v["n"]?.array?[1].int)
    }

    func testRoundTrip() throws {
        let v = try JSONValue.parse(sample)
        for pretty in [false, true] {
            let text = v.serialized(pretty: pretty)
            XCTAssertEqual(try JSONValue.parse(text), v, text)
        }
        XCTAssertEqual(v.serialized(), #"{"name":"stalwart","n":[1,-2.5,300,0,true,false,null],"nested":{"a":{"b":[]},"s":"x\"y\\z\né😀"},"empty":{}}"#)
        XCTAssertEqual(JSONValue.object([("a", .array([.number(1)]))]).serialized(pretty: true), "{\n  \"a\": [\n    1\n  ]\n}")
    }

    func testNumberFormatting() {
        XCTAssertEqual(JSONValue.number(3).serialized(), "3")
        XCTAssertEqual(JSONValue.number(-0.0).serialized(), "0")
        XCTAssertEqual(JSONValue.number(0.1).serialized(), "0.1")
        XCTAssertEqual(JSONValue.number(9007199254740992).serialized(), "9007199254740992.0")
        XCTAssertEqual(JSONValue.number(1e20).serialized(), "1e+20")
        XCTAssertEqual(JSONValue.number(.nan).serialized(), "null")
        XCTAssertEqual(JSONValue.number(-.infinity).serialized(), "null")
        XCTAssertEqual(JSONValue.string("\u{01}\t").serialized(), #""\u0001\t""#)
        for x in [1e-5, 123.456, -1e300, Double.leastNonzeroMagnitude] {
            XCTAssertEqual(try JSONValue.parse(JSONValue.number(x).serialized()).double, x)
        }
    }

    func testSurrogates() throws {
        XCTAssertEqual(try JSONValue.parse(#""\uD834\uDD1E""#).string, "𝄞")
        assertThrows(try JSONValue.parse(#""\uD834""#), "surrogate")
        assertThrows(try JSONValue.parse(#""\uDD1E""#), "lone low surrogate")
        assertThrows(try JSONValue.parse(#""\uD834\u0041""#), "low surrogate")
    }

    func testStrictness() {
        let bad = ["", " ", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "[1 2]", "{a:1}", "'x'", "tru",
                   "nul", "\"a\tb\"", "\"\\x\"", "1e", "[1]x", "{\"a\" 1}", "1e400", "NaN", "//c\n1", "\"\\u12G4\""]
        for b in bad {
            XCTAssertThrowsError(try JSONValue.parse(b), "accepted \(b)")
        }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]))   // invalid UTF-8
        XCTAssertEqual(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)), .array([.number(1)]))
        assertThrows(try JSONValue.parse("[1, 2,, 3]"), "byte 6")
    }

    func testDepthLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertNoThrow(try JSONValue.parse(ok))
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        assertThrows(try JSONValue.parse(deep), "nesting deeper than 512")
        let veryDeep = String(repeating: "{\"a\":", count: 100_000)
        assertThrows(try JSONValue.parse(veryDeep), "nesting")
    }

    func testEveryTruncationFails() {
        let bytes = Array(sample.utf8)
        for n in 0..<bytes.count {
            XCTAssertThrowsError(try JSONValue.parse(Array(bytes[0..<n])), "prefix of \(n) bytes parsed")
        }
        // Single-byte corruptions never crash (they may or may not still parse).
        for n in stride(from: 0, to: bytes.count, by: 3) {
            var b = bytes
            b[n] = [0x00, 0x7B, 0x22, 0x5C, 0xFF][n % 5]
            _ = try? JSONValue.parse(b)
        }
    }

    func testIntAccessor() {
        XCTAssertEqual(JSONValue.number(42).int, 42)
        XCTAssertNil(JSONValue.number(1e20).int)
        XCTAssertNil(JSONValue.number(0.5).int)
        XCTAssertNil(JSONValue.string("1").int)
    }
}
