import XCTest
@testable import StalwartSIScore

final class SIScorePlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(SIScoreModule.self) }
}
