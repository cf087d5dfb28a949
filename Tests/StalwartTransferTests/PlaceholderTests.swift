import XCTest
@testable import StalwartTransfer

final class TransferPlaceholderTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(TransferModule.self) }
}
