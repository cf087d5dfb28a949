import StalwartTensor
import XCTest
@testable import StalwartReport

final class FormatTests: XCTestCase {
    func testFixedDecimal() {
        XCTAssertEqual(format(0.123456, decimals: 3), "0.123")
        XCTAssertEqual(format(0.1236, decimals: 3), "0.124")
        XCTAssertEqual(format(2.5, decimals: 0), "3")
        XCTAssertEqual(format(-2.5, decimals: 0), "-3")
        XCTAssertEqual(format(-0.123456, decimals: 2), "-0.12")
        XCTAssertEqual(format(-0.0004, decimals: 3), "0.000")
        XCTAssertEqual(format(0.0004, decimals: 3), "0.000")
        XCTAssertEqual(format(0.0005, decimals: 3), "0.001")
        XCTAssertEqual(format(76.13, decimals: 3), "76.130")
        XCTAssertEqual(format(0.05, decimals: 1), "0.1")
        XCTAssertEqual(format(123.0, decimals: 0), "123")
        XCTAssertEqual(format(9.9999, decimals: 2), "10.00")
        XCTAssertEqual(format(1, decimals: -3), "1")
        XCTAssertEqual(format(.nan, decimals: 3), "n/a")
        XCTAssertEqual(format(.infinity, decimals: 3), "inf")
        XCTAssertEqual(format(-.infinity, decimals: 3), "-inf")
        XCTAssertEqual(format(1e300, decimals: 3), "1e+300")  // beyond the integer path: shortest form
        XCTAssertEqual(percent(0.7613), "76.13")
        XCTAssertEqual(percent(nil), "–")
    }

    func testEscaping() {
        XCTAssertEqual(escapeHTML("<b>&\"x'"), "&lt;b&gt;&amp;&quot;x&#39;")
        XCTAssertEqual(escapeHTML("a\u{1}b"), "a\u{FFFD}b")
        XCTAssertEqual("a\"b\\c\n\u{1F}\u{08}é".jsonQuoted, "\"a\\\"b\\\\c\\n\\u001f\\bé\"")
        XCTAssertEqual(csvField("plain"), "plain")
        XCTAssertEqual(csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(csvField("line\nbreak"), "\"line\nbreak\"")
    }

    func testNiceTicksDegenerateInputs() {
        for (lo, hi) in [(0.5, 0.5), (0.0, 0.0), (Double.nan, 1), (-Double.infinity, .infinity), (1, 0), (-1e308, 1e308), (1e-300, 2e-300)] {
            let t = niceTicks(lo, hi)
            XCTAssertTrue(t.lo.isFinite && t.hi.isFinite && t.hi > t.lo, "\(lo) \(hi) → \(t)")
            XCTAssertFalse(t.values.isEmpty)
            XCTAssertLessThanOrEqual(t.values.count, 60)
        }
        let t = niceTicks(0.7612, 0.7734)
        XCTAssertLessThanOrEqual(t.lo, 0.7612)
        XCTAssertGreaterThanOrEqual(t.hi, 0.7734)
        XCTAssertEqual(tickDecimals(0.0025), 3)
        XCTAssertEqual(tickDecimals(20), 0)
    }

    func testLineSegmentsSortedAndSplitAtNaN() {
        let segs = LineChart.segments([(3, 0.1), (1, 0.3), (2, .nan), (0, 0.5), (1, 0.9), (4, 0.2)])
        XCTAssertEqual(segs.map { $0.map(\.x) }, [[0, 1], [3, 4]])
        XCTAssertEqual(segs.first?[1].y, 0.3)  // duplicate x keeps the first given
    }
}
