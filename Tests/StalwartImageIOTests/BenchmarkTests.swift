import Foundation
import XCTest
import StalwartImageIO
import StalwartTensor

/// Decode speed, run only with STALWART_IO_BENCH=1, in a release build:
///
///     STALWART_IO_BENCH=1 swift test -c release -Xswiftc -enable-testing \
///         --filter StalwartImageIOTests.BenchmarkTests
///
/// Decodes the three labelled photos (PNG) and a 512×512 JPEG (the shared astronaut photo,
/// q90 4:2:0, also written to $TMPDIR/stalwart_bench_512.jpg so Pillow can time the same bytes)
/// 200 times each and prints milliseconds per image.
final class BenchmarkTests: XCTestCase {
    func testDecodeSpeed() throws {
        guard ProcessInfo.processInfo.environment["STALWART_IO_BENCH"] == "1" else {
            throw XCTSkip("set STALWART_IO_BENCH=1 to run the decode benchmark")
        }
        let shared = try Paths.requireShared()
        var inputs: [(String, [UInt8])] = []
        for name in ["chelsea", "coffee", "rocket"] {
            inputs.append(("\(name).png", try readBytes(shared.appendingPathComponent("images/\(name).png"))))
        }
        let astronaut = try ImageCodec.decode(path: shared.appendingPathComponent("images/unlabeled/astronaut.png").path)
        let jpg = try ImageCodec.encodeJPEG(astronaut, quality: 90, subsampling: .s420)
        try Data(jpg).write(to: URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("stalwart_bench_512.jpg"))
        inputs.append(("astronaut 512×512 q90 4:2:0 .jpg", jpg))
        let rounds = 200
        for (name, bytes) in inputs {
            _ = try decode(bytes)  // warm up
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<rounds { _ = try decode(bytes) }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(rounds)
            let im = try decode(bytes)
            print(String(format: "decode %@ (%d×%d → RGB): %.3f ms/image", name, im.width, im.height, ms))
        }
    }
}
