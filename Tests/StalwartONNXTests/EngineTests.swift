// Engine tests on hand-written ONNX graphs: fusion is exact, shape subgraphs fold, the memory
// planner reuses buffers, runs are thread-safe, and every load error names its node.
// Numerical oracles: StalwartTensor.Reference (plain loops) and closed-form formulas, with
// tolerances stated per test. The Python suite compares against ONNX Runtime.

import XCTest
@testable import StalwartONNX
import StalwartTensor

/// Deterministic values in [-1, 1) (64-bit LCG), so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 1_000_000) / 1_000_000
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

final class EngineTests: XCTestCase {
    func load(_ w: ONNXModelWriter, threads: Int = 1) throws -> InferenceModel {
        let bytes = w.bytes()
        return try bytes.withUnsafeBytes { try InferenceModel(bytes: $0, threads: threads) }
    }

    func expectError(_ w: ONNXModelWriter, _ check: (StalwartError) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try load(w)
            XCTFail("expected a load error", file: file, line: line)
        } catch let e as StalwartError {
            check(e)
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    /// Conv → BatchNormalization → Add(residual) → Relu folds into one node and matches the
    /// reference computed step by step (tolerance 1e-4: folding reorders float products).
    func testConvBatchNormResidualReluFoldsExactly() throws {
        var r = TestRandom(1)
        let (c, m, h) = (5, 7, 9)
        let wv = r.array(m * c * 9), bv = r.array(m)
        let gamma = r.array(m).map { $0 + 1.5 }, beta = r.array(m), mean = r.array(m), varv = r.array(m).map { $0 + 1.2 }
        let skipW = r.array(m * c)
        var w = ONNXModelWriter()
        w.input("x", [.symbol("N"), .fixed(Int64(c)), .fixed(Int64(h)), .fixed(Int64(h))])
        w.floats("w", [Int64(m), Int64(c), 3, 3], wv); w.floats("b", [Int64(m)], bv)
        w.floats("g", [Int64(m)], gamma); w.floats("be", [Int64(m)], beta)
        w.floats("mu", [Int64(m)], mean); w.floats("var", [Int64(m)], varv)
        w.floats("ws", [Int64(m), Int64(c), 1, 1], skipW)
        w.node("Conv", ["x", "w", "b"], ["c1"], [("pads", .ints([1, 1, 1, 1]))])
        w.node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn"], [("epsilon", .float(1e-3))])
        w.node("Conv", ["x", "ws"], ["skip"])          // produced after c1 in file order
        w.node("Add", ["skip", "bn"], ["sum"])
        w.node("Relu", ["sum"], ["y"])
        w.output("y")
        let model = try load(w)
        XCTAssertEqual(model.graph.nodes.count, 2, "BN, Add and Relu should fold into the first Conv")

        let batch = 2
        let xv = r.array(batch * c * h * h)
        let x = try Tensor(shape: [batch, c, h, h], floats: xv)
        let y = try model.run([x])[0]
        XCTAssertEqual(y.shape, [batch, m, h, h])

        // Reference: conv, BN formula, 1×1 conv, add, relu.
        let n = batch * m * h * h
        var conv = [Float](repeating: 0, count: n), skip = [Float](repeating: 0, count: n)
        let g3 = Conv2DGeometry(inChannels: c, outChannels: m, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let g1 = Conv2DGeometry(inChannels: c, outChannels: m, kernelH: 1, kernelW: 1)
        Reference.conv2d(g3, batch: batch, h: h, w: h, input: xv, weights: wv, bias: bv, residual: nil, activation: .none, output: &conv)
        Reference.conv2d(g1, batch: batch, h: h, w: h, input: xv, weights: skipW, bias: nil, residual: nil, activation: .none, output: &skip)
        var maxErr: Float = 0
        for i in 0..<n {
            let ch = (i / (h * h)) % m
            let bn = gamma[ch] * (conv[i] - mean[ch]) / (varv[ch] + 1e-3).squareRoot() + beta[ch]
            let want = max(0, bn + skip[i])
            maxErr = max(maxErr, abs(want - y.floats[i]))
        }
        XCTAssertLessThan(maxErr, 1e-4)
    }

    /// tf2onnx's unfused batch norm (Mul then Add by per-channel constants) and Clip(0, 6)
    /// fold into the Conv.
    func testAffineChainAndClipFold() throws {
        var r = TestRandom(2)
        var w = ONNXModelWriter()
        w.opset = 13
        w.input("x", [.fixed(1), .fixed(3), .fixed(6), .fixed(6)])
        let wv = r.array(4 * 3 * 9), s = r.array(4).map { $0 * 3 }, t = r.array(4)
        w.floats("w", [4, 3, 3, 3], wv)
        w.floats("s", [1, 4, 1, 1], s); w.floats("t", [4, 1, 1], t)
        w.floats("lo", [], [0]); w.floats("hi", [], [6])
        w.node("Conv", ["x", "w"], ["c"], [("strides", .ints([2, 2]))])
        w.node("Mul", ["c", "s"], ["m"])
        w.node("Add", ["t", "m"], ["a"])
        w.node("Clip", ["a", "lo", "hi"], ["y"])
        w.output("y")
        let model = try load(w)
        XCTAssertEqual(model.graph.nodes.count, 1)
        let xv = r.array(3 * 36).map { $0 * 4 }
        let y = try model.run([try Tensor(shape: [1, 3, 6, 6], floats: xv)])[0]
        var conv = [Float](repeating: 0, count: 4 * 4)
        let g = Conv2DGeometry(inChannels: 3, outChannels: 4, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2)
        Reference.conv2d(g, batch: 1, h: 6, w: 6, input: xv, weights: wv, bias: nil, residual: nil, activation: .none, output: &conv)
        XCTAssertEqual(y.shape, [1, 4, 2, 2])
        for i in 0..<16 {
            let want = min(max(conv[i] * s[i / 4] + t[i / 4], 0), 6)
            XCTAssertEqual(y.floats[i], want, accuracy: 1e-4)
        }
    }

    /// PyTorch's dynamic-batch flatten: Shape → Gather(0) → Unsqueeze → Concat(-1) → Reshape is
    /// folded while planning, for every batch size.
    func testShapeSubgraphFoldsWithDynamicBatch() throws {
        var w = ONNXModelWriter()
        w.input("x", [.symbol("N"), .fixed(2), .fixed(3)])
        w.ints("zero", [], [0]); w.ints("minus1", [1], [-1]); w.ints("ax", [1], [0])
        w.node("Shape", ["x"], ["s"])
        w.node("Gather", ["s", "zero"], ["n"])
        w.node("Unsqueeze", ["n", "ax"], ["n1"])
        w.node("Concat", ["n1", "minus1"], ["target"], [("axis", .int(0))])
        w.node("Reshape", ["x", "target"], ["flat"])
        w.node("Relu", ["flat"], ["y"])
        w.output("y")
        let model = try load(w)
        for batch in [1, 3, 5] {
            let xv = (0..<(batch * 6)).map { Float($0) - 7 }
            let y = try model.run([try Tensor(shape: [batch, 2, 3], floats: xv)])[0]
            XCTAssertEqual(y.shape, [batch, 6])
            XCTAssertEqual((0..<y.count).map { y.floats[$0] }, xv.map { max($0, 0) })
            let plan = try model.plan(for: [[batch, 2, 3]], values: [nil])
            XCTAssertEqual(plan.steps.map { $0.node.opType }, ["Relu"], "shape ops and the Reshape view must not run")
        }
    }

    /// A chain of 12 element-wise ops needs only two live buffers.
    func testPlannerReusesBuffers() throws {
        var w = ONNXModelWriter()
        w.input("x", [.fixed(1), .fixed(1024)])
        var prev = "x"
        for i in 0..<12 {
            w.node(i % 2 == 0 ? "Sigmoid" : "Tanh", [prev], ["v\(i)"])
            prev = "v\(i)"
        }
        w.output(prev)
        let model = try load(w)
        let plan = try model.plan(for: [[1, 1024]], values: [nil])
        XCTAssertEqual(plan.steps.count, 12)
        XCTAssertLessThanOrEqual(plan.arenaBytes, 2 * 4096, "ping-pong between two 4 KiB buffers")
        let y = try model.run([try Tensor(shape: [1, 1024], floats: (0..<1024).map { Float($0) / 512 - 1 })])[0]
        var v: Float = -1
        for i in 0..<12 { v = i % 2 == 0 ? 1 / (1 + exp(-v)) : tanh(v) }
        XCTAssertEqual(y.floats[0], v, accuracy: 1e-6)
    }

    /// Four threads sharing one model get bitwise the results of sequential runs.
    func testConcurrentRunsMatchSequential() throws {
        var r = TestRandom(3)
        var w = ONNXModelWriter()
        w.input("x", [.symbol("N"), .fixed(8), .fixed(12), .fixed(12)])
        w.floats("w", [16, 8, 3, 3], r.array(16 * 8 * 9))
        w.floats("w2", [16, 1, 3, 3], r.array(16 * 9))
        w.node("Conv", ["x", "w"], ["a"], [("pads", .ints([1, 1, 1, 1]))])
        w.node("Relu", ["a"], ["b"])
        w.node("Conv", ["b", "w2"], ["c"], [("group", .int(16)), ("strides", .ints([2, 2])), ("pads", .ints([1, 1, 1, 1]))])
        w.node("GlobalAveragePool", ["c"], ["y"])
        w.output("y")
        let model = try load(w, threads: 2)
        let inputs = try (1...4).map { b in try Tensor(shape: [b, 8, 12, 12], floats: r.array(b * 8 * 144)) }
        let expected = try inputs.map { try model.run([$0])[0] }
        let results = Array(repeating: [Float](), count: 4 * 10)
        let box = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: results.count)
        _ = box.initialize(from: results)
        defer { box.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for k in 0..<10 {
                let i = (t + k) % 4
                if let y = try? model.run([inputs[i]])[0] {
                    box[t * 10 + k] = (0..<y.count).map { y.floats[$0] }
                }
            }
        }
        for t in 0..<4 {
            for k in 0..<10 {
                let e = expected[(t + k) % 4]
                XCTAssertEqual(box[t * 10 + k], (0..<e.count).map { e.floats[$0] })
            }
        }
    }

    // MARK: - Errors name the node

    func testUnknownInputNamesNode() {
        var w = ONNXModelWriter()
        w.input("x", [.fixed(1)])
        w.node("Relu", ["nope"], ["y"], name: "act1")
        w.output("y")
        expectError(w) { e in
            guard case .invalidModel(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("act1") && m.contains("nope"), m)
        }
    }

    func testCycleIsRejected() {
        var w = ONNXModelWriter()
        w.input("x", [.fixed(1)])
        w.node("Add", ["x", "b"], ["a"], name: "first")
        w.node("Relu", ["a"], ["b"], name: "second")
        w.output("b")
        expectError(w) { e in
            guard case .invalidModel(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("cycle") && m.contains("first"), m)
        }
    }

    func testUnsupportedOpNamesNode() {
        var w = ONNXModelWriter()
        w.input("x", [.fixed(1)])
        w.node("FancyOp", ["x"], ["y"], name: "mystery")
        w.output("y")
        expectError(w) { e in
            guard case .unsupported(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("mystery") && m.contains("FancyOp"), m)
        }
    }

    func testBadAttributeNamesNode() {
        var w = ONNXModelWriter()
        w.input("x", [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])
        w.floats("w", [2, 2, 1, 1], [1, 0, 0, 1])
        w.node("Conv", ["x", "w"], ["y"], name: "conv_bad", [("strides", .ints([0, 1]))])
        w.output("y")
        expectError(w) { e in
            guard case .invalidModel(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("conv_bad") && m.contains("strides"), m)
        }
    }

    func testTypeMismatchNamesNode() {
        var w = ONNXModelWriter()
        w.input("x", [.fixed(2)])
        w.ints("k", [2], [1, 2])
        w.node("Add", ["x", "k"], ["y"], name: "mixed_add")
        w.output("y")
        expectError(w) { e in
            XCTAssertTrue(e.message.contains("mixed_add") && e.message.contains("int64"), e.message)
        }
    }

    func testWrongInputShapeAndTruncatedModel() throws {
        var w = ONNXModelWriter()
        w.input("x", [.symbol("N"), .fixed(3)])
        w.node("Relu", ["x"], ["y"])
        w.output("y")
        let model = try load(w)
        XCTAssertThrowsError(try model.run([try Tensor(shape: [2, 4], floats: Array(repeating: 0, count: 8))])) { e in
            guard case StalwartError.shapeMismatch(let m)? = e as? StalwartError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("'x'") && m.contains("[N, 3]"), m)
        }
        let bytes = w.bytes()
        for cut in stride(from: 1, to: bytes.count, by: 3) {
            let prefix = Array(bytes[0..<cut])
            XCTAssertThrowsError(try prefix.withUnsafeBytes { try InferenceModel(bytes: $0) })
        }
    }
}

extension EngineTests {
    /// A [C, 1] constant next to a 2-D conv output broadcasts along H, not the channels: it
    /// must not be folded as a per-channel scale (here C = H = 3 so both broadcasts are legal).
    func testMisalignedConstantIsNotFolded() throws {
        var w = ONNXModelWriter()
        w.input("x", [.fixed(1), .fixed(2), .fixed(3), .fixed(3)])
        w.floats("w", [3, 2, 1, 1], [1, 0, 0, 1, 1, 1])
        w.floats("s", [3, 1], [2, 3, 5])
        w.node("Conv", ["x", "w"], ["c"])
        w.node("Mul", ["c", "s"], ["y"])
        w.output("y")
        let model = try load(w)
        XCTAssertEqual(model.graph.nodes.count, 2)
        let xv = (0..<18).map { Float($0) }
        let y = try model.run([try Tensor(shape: [1, 2, 3, 3], floats: xv)])[0]
        for co in 0..<3 {
            for hh in 0..<3 {
                for ww in 0..<3 {
                    let a = xv[hh * 3 + ww], b = xv[9 + hh * 3 + ww]
                    let conv = co == 0 ? a : co == 1 ? b : a + b
                    XCTAssertEqual(y.floats[(co * 3 + hh) * 3 + ww], conv * [2, 3, 5][hh])
                }
            }
        }
    }
}
