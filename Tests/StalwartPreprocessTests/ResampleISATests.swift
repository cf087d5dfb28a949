@testable import StalwartPreprocess
import StalwartTensor
import XCTest

/// The ISA versions of the 8-bit passes (`Resample8Kernels`, AVX2 / AVX-512 modules) against
/// the portable vector loops and the plain scalar reference, on real tables of every filter,
/// down- and upscaling, boxes, 3 and 4 channels and odd row lengths. Integer arithmetic:
/// compared exactly. (`Resize` uses `Resample8Kernels.current`; the Pillow fixture tests
/// cover that path, this one keeps the portable path covered too.)
final class ResampleISATests: XCTestCase {
    typealias F = ResizeFixtures

    func testISAKernelsMatchPortableAndReference() throws {
        let sets = Resample8Kernels.supported
        try XCTSkipIf(sets.isEmpty, "no AVX2 / AVX-512 on this CPU")
        var rng = F.SplitMix64(41)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let filters: [ResizeFilter] = [.bilinear, .bicubic, .lanczos, .box, .hamming]
        for i in 0..<120 {
            let c = [3, 4, 1][r(3)]
            let w = 1 + r(90), h = 1 + r(90)
            let outW = 1 + r(90), outH = 1 + r(90)
            let f = filters[i % filters.count]
            let px = (0..<(w * h * c)).map { _ in UInt8(rng.next() >> 56) }
            let x0 = Float(r(2) == 0 ? 0 : r(w)) / 2, y0 = Float(r(2) == 0 ? 0 : r(h)) / 2
            let hAxis = ResampleAxis(inSize: w, in0: x0, in1: Float(w), outSize: outW, filter: f, antialias: true)
            let vAxis = ResampleAxis(inSize: h, in0: y0, in1: Float(h), outSize: outH, filter: f, antialias: true)
            try px.withUnsafeBufferPointer { sb in
                let s = try XCTUnwrap(sb.baseAddress)
                // Horizontal, over the rows the vertical axis reads.
                let first = vAxis.firstUsed, rows = vAxis.endUsed - first
                if c != 1, rows > 0 {
                    var ref = [UInt8](repeating: 0, count: rows * outW * c)
                    ref.withUnsafeMutableBufferPointer { d in
                        ResampleKernels.horizontal8Reference(src: s, srcStride: w * c, channels: c, rowStart: first, rows: rows,
                                                             columnOffset: 0, axis: hAxis, dst: d.baseAddress!)
                    }
                    var port = [UInt8](repeating: 1, count: ref.count)
                    port.withUnsafeMutableBufferPointer { d in
                        ResampleKernels.horizontal8Portable(src: s, srcStride: w * c, srcHeight: h, channels: c, rowStart: first,
                                                            rows: rows, columnOffset: 0, axis: hAxis, dst: d.baseAddress!)
                    }
                    XCTAssertEqual(port, ref, "case \(i) portable horizontal")
                    for k in sets {
                        var got = [UInt8](repeating: 2, count: ref.count)
                        got.withUnsafeMutableBufferPointer { d in
                            ResampleKernels.horizontal8(k, src: s, srcStride: w * c, srcHeight: h, channels: c, rowStart: first,
                                                        rows: rows, columnOffset: 0, axis: hAxis, dst: d.baseAddress!)
                        }
                        XCTAssertEqual(got, ref, "case \(i) \(k.isa) horizontal \(w)×\(h)×\(c) → \(outW) \(f)")
                    }
                }
                // Vertical, over whole rows (≥ 16 bytes, as the ISA kernel requires).
                let rowBytes = w * c
                if rowBytes >= 16 {
                    var ref = [UInt8](repeating: 0, count: outH * rowBytes)
                    ref.withUnsafeMutableBufferPointer { d in
                        ResampleKernels.vertical8Reference(src: s, srcStride: rowBytes, rowOffset: 0, rowBytes: rowBytes,
                                                           axis: vAxis, dst: d.baseAddress!, dstStride: rowBytes)
                    }
                    var port = [UInt8](repeating: 1, count: ref.count)
                    port.withUnsafeMutableBufferPointer { d in
                        ResampleKernels.vertical8Portable(src: s, srcStride: rowBytes, rowOffset: 0, rowBytes: rowBytes,
                                                          axis: vAxis, dst: d.baseAddress!, dstStride: rowBytes)
                    }
                    XCTAssertEqual(port, ref, "case \(i) portable vertical")
                    for k in sets {
                        var got = [UInt8](repeating: 2, count: ref.count)
                        got.withUnsafeMutableBufferPointer { d in
                            ResampleKernels.vertical8(k, src: s, srcStride: rowBytes, rowOffset: 0, rowBytes: rowBytes,
                                                      axis: vAxis, dst: d.baseAddress!, dstStride: rowBytes)
                        }
                        XCTAssertEqual(got, ref, "case \(i) \(k.isa) vertical \(w)×\(h)×\(c) → \(outH) \(f)")
                    }
                }
            }
        }
    }
}
