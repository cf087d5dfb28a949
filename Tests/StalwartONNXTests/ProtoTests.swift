// Tests of the hand-written ONNX protobuf decoder (Sources/StalwartONNX/Proto).
//
// Three kinds of input:
//  * the real EfficientNet-Lite0 model from ../shared (skipped when absent);
//  * small models made with onnx.helper, embedded below as base64 (script in `Fixture`);
//  * messages written byte by byte with `ProtoWriter`, for the encodings onnx.helper never emits
//    (unpacked float_data, packed ints, unknown fields, groups, hostile lengths and nesting).

import Foundation
import StalwartTensor
import XCTest

import StalwartONNX

final class ProtoTests: XCTestCase {

    // MARK: - EfficientNet-Lite0

    /// `../shared` next to the package (found from this file's path), else `/work/shared`.
    static func sharedModel(_ name: String) -> URL? {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            packageRoot.appendingPathComponent("../shared/fixtures/models/\(name)").standardized,
            URL(fileURLWithPath: "/work/shared/fixtures/models/\(name)"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    func testEfficientNetLite0() throws {
        guard let url = Self.sharedModel("efficientnet_lite0.onnx") else {
            throw XCTSkip("efficientnet_lite0.onnx not found in ../shared or /work/shared")
        }
        let data = try Data(contentsOf: url)
        try data.withUnsafeBytes { buffer in
            let m = try ONNXDecoder.decodeModel(buffer)
            XCTAssertEqual(m.irVersion, 8)
            XCTAssertEqual(m.opsetImports, [OperatorSetId(domain: "", version: 17)])
            XCTAssertEqual(m.producerName, "convert_efficientnet_lite.py")
            XCTAssertEqual(m.producerVersion, "1.0")
            XCTAssertTrue(m.docString.hasPrefix("EfficientNet-Lite0 ImageNet-1k classifier"))
            XCTAssertEqual(m.metadataProps.count, 10)
            XCTAssertEqual(m.metadataProps.first?.key, "model")
            XCTAssertEqual(m.metadataProps.first?.value, "efficientnet-lite0")
            XCTAssertEqual(m.functionCount, 0)

            let g = try XCTUnwrap(m.graph)
            XCTAssertEqual(g.name, "efficientnet_lite0")
            XCTAssertEqual(g.nodes.count, 143)
            XCTAssertEqual(g.initializers.count, 249)
            XCTAssertEqual(g.sparseInitializerCount, 0)
            XCTAssertEqual(g.nodes.filter { $0.opType == "Conv" }.count, 49)

            // First node: Conv _conv_stem (input, _conv_stem.weight) -> _conv_stem.
            let conv = g.nodes[0]
            XCTAssertEqual(conv.opType, "Conv")
            XCTAssertEqual(conv.name, "_conv_stem")
            XCTAssertEqual(conv.inputs, ["input", "_conv_stem.weight"])
            XCTAssertEqual(conv.outputs, ["_conv_stem"])
            XCTAssertEqual(conv.attribute("kernel_shape")?.ints, [3, 3])
            XCTAssertEqual(conv.attribute("kernel_shape")?.type, .ints)
            XCTAssertEqual(conv.attribute("strides")?.ints, [2, 2])
            XCTAssertEqual(conv.attribute("pads")?.ints, [0, 0, 1, 1])
            XCTAssertEqual(conv.attribute("dilations")?.ints, [1, 1])
            XCTAssertEqual(conv.attribute("group")?.i, 1)
            XCTAssertEqual(conv.attribute("group")?.type, .int)

            // Expected values from the dev-time script (onnx 1.19, numpy):
            //   t = [t for t in onnx.load(path).graph.initializer if t.name == '_conv_stem.weight'][0]
            //   a = onnx.numpy_helper.to_array(t).flatten(); a[:4], a[:4].view('<u4')
            // -> [-1.1103360652923584, -1.3087704181671143, -0.010156914591789246, 0.9208119511604309]
            //    bits 0xbf8e1f7e 0xbfa785ca 0xbc266930 0x3f6bba55; 864 floats (3456 bytes).
            // The first initializer is the scalar 'relu6_min' = 0.0 (dims [], 4 raw bytes).
            let first = g.initializers[0]
            XCTAssertEqual(first.name, "relu6_min")
            XCTAssertEqual(first.dims, [])
            XCTAssertEqual(first.dataType, 1)
            XCTAssertEqual(first.rawData?.bytes, [0, 0, 0, 0])

            let w = try XCTUnwrap(g.initializers.first { $0.name == "_conv_stem.weight" })
            XCTAssertEqual(w.dims, [32, 3, 3, 3])
            XCTAssertEqual(w.dataType, 1)
            XCTAssertTrue(w.floatData.isEmpty)
            let raw = try XCTUnwrap(w.rawData)
            XCTAssertEqual(raw.count, 3456)
            let bits = (0..<4).map { raw.base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian }
            XCTAssertEqual(bits, [0xbf8e_1f7e, 0xbfa7_85ca, 0xbc26_6930, 0x3f6b_ba55])
            XCTAssertEqual(Float(bitPattern: bits[0]), -1.1103360652923584)

            // Zero-copy: every raw_data points inside the caller's buffer.
            let lo = UInt(bitPattern: buffer.baseAddress), hi = lo + UInt(buffer.count)
            var rawBytes = 0
            for t in g.initializers {
                let r = try XCTUnwrap(t.rawData, t.name)
                let p = UInt(bitPattern: r.base)
                XCTAssertTrue(p >= lo && p + UInt(r.count) <= hi, t.name)
                rawBytes += r.count
            }
            XCTAssertGreaterThan(rawBytes, 18_000_000)

            XCTAssertEqual(g.inputs.count, 1)
            XCTAssertEqual(g.inputs[0].name, "input")
            XCTAssertEqual(g.inputs[0].type, .tensor(elemType: 1, shape: [.param("N"), .value(3), .value(224), .value(224)]))
            XCTAssertEqual(g.outputs.map(\.name), ["logits"])
            XCTAssertEqual(g.outputs[0].type, .tensor(elemType: 1, shape: [.param("N"), .value(1000)]))
        }
    }

    // MARK: - Models made with onnx.helper

    func testTypedTensorFieldsAndModelFields() throws {
        try Fixture.typed.withUnsafeBytes { buffer in
            let m = try ONNXDecoder.decodeModel(buffer)
            XCTAssertEqual(m.irVersion, 14)
            XCTAssertEqual(m.producerName, "gen.py")
            XCTAssertEqual(m.producerVersion, "1")
            XCTAssertEqual(m.domain, "ai.test")
            XCTAssertEqual(m.modelVersion, 7)
            XCTAssertEqual(m.docString, "model doc")
            XCTAssertEqual(m.opsetImports, [OperatorSetId(domain: "", version: 13), OperatorSetId(domain: "com.example", version: 2)])
            XCTAssertEqual(m.metadataProps.map(\.key), ["author", "licence"])
            XCTAssertEqual(m.metadataProps.map(\.value), ["stalwart", "MIT"])

            let g = try XCTUnwrap(m.graph)
            XCTAssertEqual(g.name, "typed")
            XCTAssertEqual(g.docString, "graph doc")
            let t = Dictionary(uniqueKeysWithValues: g.initializers.map { ($0.name, $0) })
            XCTAssertEqual(t.count, 8)

            let f = try XCTUnwrap(t["f"])  // float_data, packed (onnx declares it [packed = true])
            XCTAssertEqual(f.dims, [2, 2])
            XCTAssertEqual(f.dataType, 1)
            XCTAssertEqual(f.floatData, [1.5, -2.0, 3.25, 0.0])
            XCTAssertNil(f.rawData)

            XCTAssertEqual(t["i64"]?.int64Data, [-1, 0, 1 << 40])
            XCTAssertEqual(t["i64"]?.dataType, 7)
            XCTAssertEqual(t["i32"]?.int32Data, [-7, Int32.max])  // -7 is a 10-byte varint
            XCTAssertEqual(t["d"]?.doubleData, [0.1, -1e300])
            XCTAssertEqual(t["u64"]?.uint64Data, [UInt64.max])
            XCTAssertEqual(t["s"]?.stringData, [Array("ab".utf8), [0xC3, 0xA9]])
            XCTAssertEqual(t["raw"]?.rawData?.bytes, [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40])

            // External data: the fields are decoded, the file is not this layer's business.
            let ext = try XCTUnwrap(t["ext"])
            XCTAssertEqual(ext.dataLocation, 1)
            XCTAssertEqual(ext.dims, [4])
            XCTAssertNil(ext.rawData)
            XCTAssertEqual(ext.externalData.map(\.key), ["location", "offset", "length"])
            XCTAssertEqual(ext.externalData.map(\.value), ["weights.bin", "16", "16"])

            // rawData is a view into the buffer, at the bytes of 1.0, 2.0, 3.0.
            let raw = try XCTUnwrap(t["raw"]?.rawData)
            let offset = UInt(bitPattern: raw.base) - UInt(bitPattern: buffer.baseAddress)
            XCTAssertEqual(Array(buffer[Int(offset)..<Int(offset) + 12]), raw.bytes)
        }
    }

    func testNodeAndStringAttributes() throws {
        try Fixture.typed.withUnsafeBytes { buffer in
            let g = try XCTUnwrap(try ONNXDecoder.decodeModel(buffer).graph)
            XCTAssertEqual(g.nodes.count, 1)
            let n = g.nodes[0]
            XCTAssertEqual(n.name, "n0")
            XCTAssertEqual(n.opType, "Custom")
            XCTAssertEqual(n.domain, "com.example")
            XCTAssertEqual(n.docString, "a node")
            XCTAssertEqual(n.inputs, ["x", "", "f"])  // "" = omitted optional input
            XCTAssertEqual(n.outputs, ["y"])
            XCTAssertEqual(n.attributes.map(\.name), ["alpha", "axis", "labels", "mode", "scales", "sizes", "value"])

            XCTAssertEqual(n.attribute("alpha")?.type, .float)
            XCTAssertEqual(n.attribute("alpha")?.f, 0.5)
            XCTAssertEqual(n.attribute("axis")?.type, .int)
            XCTAssertEqual(n.attribute("axis")?.i, -3)
            XCTAssertEqual(n.attribute("mode")?.type, .string)
            XCTAssertEqual(n.attribute("mode")?.s, Array("nearest".utf8))
            XCTAssertEqual(n.attribute("labels")?.type, .strings)
            XCTAssertEqual(n.attribute("labels")?.strings, [Array("cat".utf8), Array("dog".utf8)])
            XCTAssertEqual(n.attribute("scales")?.type, .floats)
            XCTAssertEqual(n.attribute("scales")?.floats, [0.25, 4.0])  // unpacked (proto2 default)
            XCTAssertEqual(n.attribute("sizes")?.type, .ints)
            XCTAssertEqual(n.attribute("sizes")?.ints, [1, -2, 3])
            let value = try XCTUnwrap(n.attribute("value"))
            XCTAssertEqual(value.type, .tensor)
            XCTAssertEqual(value.t?.name, "v")
            XCTAssertEqual(value.t?.dims, [1])
            XCTAssertEqual(value.t?.int64Data, [42])
            XCTAssertNil(value.g)
        }
    }

    func testValueInfoTypes() throws {
        try Fixture.typed.withUnsafeBytes { buffer in
            let g = try XCTUnwrap(try ONNXDecoder.decodeModel(buffer).graph)
            XCTAssertEqual(g.inputs.map(\.name), ["x", "z", "sc"])
            XCTAssertEqual(g.inputs[0].type, .tensor(elemType: 1, shape: [.param("N"), .value(3), .unknown]))
            XCTAssertEqual(g.inputs[1].type, .tensor(elemType: 2, shape: nil))  // unknown rank
            XCTAssertEqual(g.inputs[2].type, .tensor(elemType: 7, shape: []))  // scalar
            XCTAssertEqual(g.outputs.map(\.name), ["y"])
            XCTAssertEqual(g.outputs[0].type, .tensor(elemType: 1, shape: [.value(5)]))
            XCTAssertEqual(g.valueInfo.map(\.name), ["seq", "mp", "opt"])
            XCTAssertEqual(g.valueInfo.map(\.type), [
                .other("sequence(tensor(float))"),
                .other("map(int64,tensor(float))"),
                .other("optional(tensor(int32))"),
            ])
        }
    }

    func testNestedGraphAttribute() throws {
        try Fixture.ifModel.withUnsafeBytes { buffer in
            let m = try ONNXDecoder.decodeModel(buffer)
            XCTAssertEqual(m.opsetImports, [OperatorSetId(domain: "", version: 17)])
            let g = try XCTUnwrap(m.graph)
            XCTAssertEqual(g.name, "main")
            XCTAssertEqual(g.inputs.first?.type, .tensor(elemType: 9, shape: []))
            let ifNode = try XCTUnwrap(g.nodes.first)
            XCTAssertEqual(ifNode.opType, "If")
            XCTAssertEqual(ifNode.name, "if0")

            let then = try XCTUnwrap(ifNode.attribute("then_branch"))
            XCTAssertEqual(then.type, .graph)
            let thenGraph = try XCTUnwrap(then.g)
            XCTAssertEqual(thenGraph.name, "then")
            XCTAssertEqual(thenGraph.nodes.map(\.opType), ["If", "Constant"])
            XCTAssertEqual(thenGraph.outputs.first?.type, .tensor(elemType: 1, shape: [.value(1)]))
            let constant = thenGraph.nodes[1].attribute("value")?.t
            XCTAssertEqual(constant?.floatData, [1.0])

            // Depth 3: the If inside the then-branch.
            let inner = try XCTUnwrap(thenGraph.nodes[0].attribute("else_branch")?.g)
            XCTAssertEqual(inner.name, "inner")
            XCTAssertEqual(inner.nodes.first?.attribute("value")?.t?.floatData, [9.0])

            let elseGraph = try XCTUnwrap(ifNode.attribute("else_branch")?.g)
            XCTAssertEqual(elseGraph.name, "else")
            XCTAssertEqual(elseGraph.nodes.first?.attribute("value")?.t?.floatData, [2.0])
        }
    }

    // MARK: - Hand-written encodings

    /// Each repeated scalar field, packed, unpacked and mixed; protobuf parsers must take all three.
    func testPackedAndUnpackedRepeatedScalars() throws {
        let floats: [Float] = [0.5, -1, 3e38]
        var graph = ProtoWriter()
        graph.message(1) { node in  // node
            node.string(4, "Custom")
            node.message(5) { a in  // ints, packed
                a.string(1, "packed_ints")
                a.int(20, 7)
                a.packedVarints(8, [1, UInt64(bitPattern: -2), 300])
            }
            node.message(5) { a in  // ints, unpacked (how onnx writes them)
                a.string(1, "unpacked_ints")
                for v: Int64 in [1, -2, 300] { a.int(8, v) }
            }
            node.message(5) { a in  // ints, unpacked, packed, unpacked interleaved: concatenated
                a.string(1, "mixed_ints")
                a.int(8, 1)
                a.packedVarints(8, [2, 3])
                a.int(8, 4)
            }
            node.message(5) { a in  // floats, packed
                a.string(1, "packed_floats")
                a.packedFixed32(7, floats.map(\.bitPattern))
            }
            node.message(5) { a in  // floats, unpacked
                a.string(1, "unpacked_floats")
                for v in floats { a.fixed32(7, v.bitPattern) }
            }
        }
        graph.message(5) { t in  // the unusual encodings of every TensorProto repeated scalar
            t.string(8, "unusual")
            t.packedVarints(1, [2, 3])                                // dims packed
            for v in floats { t.fixed32(4, v.bitPattern) }            // float_data unpacked
            t.int(5, -5); t.int(5, Int64(Int32.max))                  // int32_data unpacked
            t.int(7, Int64.min); t.int(7, 9)                          // int64_data unpacked
            t.fixed64(10, (2.5 as Double).bitPattern)                 // double_data unpacked
            t.int(11, -1)                                             // uint64_data unpacked
        }
        graph.message(5) { t in  // the usual encodings of the same fields
            t.string(8, "usual")
            t.int(1, 2); t.int(1, 3)                                  // dims unpacked
            t.packedFixed32(4, floats.map(\.bitPattern))
            t.packedVarints(5, [UInt64(bitPattern: -5), UInt64(Int32.max)])
            t.packedVarints(7, [UInt64(bitPattern: Int64.min), 9])
            t.packedFixed64(10, [(2.5 as Double).bitPattern])
            t.packedVarints(11, [UInt64.max])
            t.packedVarints(1, [])                                    // empty packed run: no values
        }
        var model = ProtoWriter()
        model.bytes(7, graph.bytes)

        let g = try XCTUnwrap(try decode(model.bytes).graph)
        let a = Dictionary(uniqueKeysWithValues: g.nodes[0].attributes.map { ($0.name, $0) })
        XCTAssertEqual(a["packed_ints"]?.ints, [1, -2, 300])
        XCTAssertEqual(a["packed_ints"]?.type, .ints)
        XCTAssertEqual(a["unpacked_ints"]?.ints, [1, -2, 300])
        XCTAssertEqual(a["mixed_ints"]?.ints, [1, 2, 3, 4])
        XCTAssertEqual(a["packed_floats"]?.floats, floats)
        XCTAssertEqual(a["unpacked_floats"]?.floats, floats)
        for t in g.initializers {
            XCTAssertEqual(t.dims, [2, 3], t.name)
            XCTAssertEqual(t.floatData, floats, t.name)
            XCTAssertEqual(t.int32Data, [-5, Int32.max], t.name)
            XCTAssertEqual(t.int64Data, [Int64.min, 9], t.name)
            XCTAssertEqual(t.doubleData, [2.5], t.name)
            XCTAssertEqual(t.uint64Data, [UInt64.max], t.name)
        }
        XCTAssertEqual(g.initializers.map(\.name), ["unusual", "usual"])
    }

    /// Unknown fields of wire types 0, 1, 2 and 5 at every level are skipped; so is a known
    /// field with the wrong wire type (protobuf treats it as unknown).
    func testUnknownFieldsAreSkipped() throws {
        func noise(_ w: inout ProtoWriter) {
            w.int(99, -1)
            w.fixed64(98, 0x0123_4567_89AB_CDEF)
            w.bytes(97, [1, 2, 3, 0xFF])
            w.fixed32(96, 7)
            w.int(536_870_911, 1)  // the largest field number
        }
        var model = ProtoWriter()
        noise(&model)
        model.int(1, 9)
        model.bytes(1, [1, 2])        // ir_version with wire type 2: skipped
        model.fixed32(2, 5)           // producer_name with wire type 5: skipped
        model.int(7, 3)               // graph with wire type 0: skipped, graph stays absent...
        model.message(7) { g in       // ...until this one
            noise(&g)
            g.string(2, "g")
            g.message(1) { n in
                noise(&n)
                n.string(4, "Relu")
                n.message(5) { a in
                    noise(&a)
                    a.string(1, "alpha")
                    a.fixed32(2, (0.5 as Float).bitPattern)
                    a.int(2, 1)  // f with wire type 0: skipped, f stays 0.5
                    a.message(22) { _ in }  // sparse_tensor: not decoded
                    a.message(14) { _ in }  // tp: not decoded
                }
            }
            g.message(5) { t in
                noise(&t)
                t.int(1, 4)
                t.message(3) { s in s.int(1, 0); s.int(2, 4) }  // segment: not decoded
            }
            g.message(11) { v in
                noise(&v)
                v.string(1, "x")
                v.message(2) { tp in
                    noise(&tp)
                    tp.message(1) { tt in
                        noise(&tt)
                        tt.int(1, 1)
                        tt.message(2) { shape in
                            noise(&shape)
                            shape.int(1, 5)  // dim with wire type 0: skipped, not a dimension
                            shape.message(1) { d in noise(&d); d.int(1, 8); d.string(3, "denotation") }
                            shape.message(1) { d in d.int(1, 9); d.string(2, "P") }  // oneof: last wins
                        }
                    }
                    tp.string(6, "IMAGE")  // denotation
                }
            }
            g.message(15) { _ in }  // sparse_initializer: counted
        }
        model.message(8) { o in noise(&o); o.int(2, 11) }
        noise(&model)

        let m = try decode(model.bytes)
        XCTAssertEqual(m.irVersion, 9)
        XCTAssertEqual(m.producerName, "")
        XCTAssertEqual(m.opsetImports, [OperatorSetId(domain: "", version: 11)])
        let g = try XCTUnwrap(m.graph)
        XCTAssertEqual(g.name, "g")
        XCTAssertEqual(g.nodes.first?.opType, "Relu")
        XCTAssertEqual(g.nodes.first?.attributes.first?.name, "alpha")
        XCTAssertEqual(g.nodes.first?.attributes.first?.f, 0.5)
        XCTAssertEqual(g.initializers.first?.dims, [4])
        XCTAssertEqual(g.inputs.first?.type, .tensor(elemType: 1, shape: [.value(8), .param("P")]))
        XCTAssertEqual(g.sparseInitializerCount, 1)
    }

    /// Protobuf merge rules: the last scalar wins, an embedded message given twice is merged.
    func testDuplicateFieldsFollowProtobufMergeRules() throws {
        var model = ProtoWriter()
        model.int(1, 3)
        model.string(2, "first")
        model.message(7) { g in
            g.string(2, "one")
            g.message(1) { n in n.string(4, "A") }
        }
        model.int(1, 8)
        model.string(2, "second")
        model.message(7) { g in
            g.message(1) { n in n.string(4, "B") }
            g.message(11) { v in
                v.string(1, "x")
                v.message(2) { tp in tp.message(1) { tt in tt.int(1, 1) } }
                v.message(2) { tp in tp.message(1) { tt in tt.message(2) { s in s.message(1) { d in d.int(1, 2) } } } }
            }
        }
        let m = try decode(model.bytes)
        XCTAssertEqual(m.irVersion, 8)
        XCTAssertEqual(m.producerName, "second")
        XCTAssertEqual(m.graph?.name, "one")
        XCTAssertEqual(m.graph?.nodes.map(\.opType), ["A", "B"])
        XCTAssertEqual(m.graph?.inputs.first?.type, .tensor(elemType: 1, shape: [.value(2)]))
    }

    func testEmptyAndBareMessagesTakeDefaults() throws {
        let empty = try decode([])
        XCTAssertEqual(empty.irVersion, 0)
        XCTAssertNil(empty.graph)
        XCTAssertTrue(empty.opsetImports.isEmpty)
        XCTAssertEqual(empty.functionCount, 0)

        var model = ProtoWriter()
        model.int(1, 7)
        model.bytes(7, [])                 // empty graph
        model.bytes(8, [])                 // empty opset import
        model.bytes(25, [])                // one (empty) function
        let m = try decode(model.bytes)
        XCTAssertEqual(m.irVersion, 7)
        XCTAssertEqual(m.opsetImports, [OperatorSetId(domain: "", version: 0)])
        XCTAssertEqual(m.functionCount, 1)
        let g = try XCTUnwrap(m.graph)
        XCTAssertEqual(g.name, "")
        XCTAssertTrue(g.nodes.isEmpty && g.initializers.isEmpty && g.inputs.isEmpty)

        // Defaults inside nested messages; an attribute type number this enum does not know.
        var model2 = ProtoWriter()
        model2.message(7) { g in
            g.message(1) { n in n.message(5) { a in a.int(20, 99) } }
            g.message(5) { _ in }
            g.message(11) { v in v.bytes(2, []) }      // TypeProto with no variant
            g.message(12) { _ in }                      // ValueInfo with no type
        }
        let g2 = try XCTUnwrap(try decode(model2.bytes).graph)
        XCTAssertEqual(g2.nodes[0].attributes[0].type, .undefined)
        XCTAssertEqual(g2.nodes[0].attributes[0].rawType, 99)
        XCTAssertNil(g2.nodes[0].attributes[0].t)
        XCTAssertEqual(g2.initializers[0].dataType, 0)
        XCTAssertNil(g2.initializers[0].rawData)
        XCTAssertEqual(g2.inputs[0].type, .other("unset"))
        XCTAssertNil(g2.outputs[0].type)
    }

    // MARK: - Errors

    func testErrorNamesFieldPathAndOffset() throws {
        var graph = ProtoWriter()
        graph.message(1) { n in n.string(4, "Relu") }
        graph.message(1) { n in n.string(4, "Relu") }
        graph.message(1) { n in
            n.string(4, "Conv")
            n.message(5) { a in a.string(1, "group") }
            n.message(5) { a in
                // `name` declares 50 bytes; 3 follow, then the attribute ends.
                a.tag(1, 2)
                a.varint(50)
                a.raw([0x61, 0x62, 0x63])
            }
        }
        var model = ProtoWriter()
        model.int(1, 8)
        model.bytes(7, graph.bytes)
        let bytes = model.bytes
        // Offsets: 'name' payload starts 3 bytes before the end (and the attribute, node and graph
        // all end with the buffer).
        let message = try XCTUnwrap(decodeError(bytes))
        XCTAssertEqual(message,
            "truncated ONNX: field 'graph.node[2].attribute[1].name' declares 50 bytes at byte \(bytes.count - 3), "
            + "which runs past the end of the buffer at byte \(bytes.count)")

        // Same, but the graph is followed by more bytes: the limit is the enclosing message's end.
        let message2 = try XCTUnwrap(decodeError(bytes + [0x08, 0x01]))
        XCTAssertTrue(message2.hasSuffix("which runs past the end of its enclosing message at byte \(bytes.count)"), message2)

        // A varint cut short: a value, then a key at the top level.
        XCTAssertEqual(decodeError([0x08, 0x80]),
            "truncated ONNX: field 'ir_version' starting at byte 1 runs past the end of the buffer at byte 2")
        XCTAssertEqual(decodeError([0x08, 0x01, 0x80]),
            "truncated ONNX: the top-level ModelProto starting at byte 2 runs past the end of the buffer at byte 3")
        // Length prefix past the end.
        XCTAssertEqual(decodeError([0x3A, 0x05, 0x0A]),
            "truncated ONNX: field 'graph' declares 5 bytes at byte 2, which runs past the end of the buffer at byte 3")
        // Fixed-width value cut short, inside a tensor whose name is already known.
        var t = ProtoWriter()
        t.string(8, "w")
        t.tag(4, 5)
        t.raw([0, 0])
        var g = ProtoWriter()
        g.bytes(5, t.bytes)
        var m = ProtoWriter()
        m.bytes(7, g.bytes)
        XCTAssertEqual(decodeError(m.bytes),
            "truncated ONNX: field 'graph.initializer[0](w).float_data' starting at byte \(m.bytes.count - 2) "
            + "runs past the end of the buffer at byte \(m.bytes.count)")
    }

    func testMalformedWireRejected() {
        // Varints: 10 bytes is the maximum (int64 -1), 11 is rejected.
        XCTAssertNotNil(try? decode([0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01]))
        XCTAssertEqual(decodeError([0x08] + [UInt8](repeating: 0x80, count: 10) + [0x01]),
            "invalid ONNX: field 'ir_version' has a varint longer than 10 bytes at byte 1")
        // Groups (wire types 3, 4) and undefined wire types (6, 7).
        XCTAssertEqual(decodeError([0x0B]),
            "invalid ONNX: the top-level ModelProto has a field with group wire type 3 (not used by ONNX) at byte 0")
        XCTAssertEqual(decodeError([0x08, 0x01, 0x0C]),
            "invalid ONNX: the top-level ModelProto has a field with group wire type 4 (not used by ONNX) at byte 2")
        XCTAssertEqual(decodeError([0x3A, 0x01, 0x0E]),
            "invalid ONNX: field 'graph' has a field with undefined wire type 6 at byte 2")
        XCTAssertNotNil(decodeError([0x0F]))
        // Field number 0, and one above 2^29 - 1.
        XCTAssertEqual(decodeError([0x00]),
            "invalid ONNX: the top-level ModelProto has a field with invalid number 0 at byte 0")
        XCTAssertNotNil(decodeError([0x80, 0x80, 0x80, 0x80, 0x20]))
        // Packed fixed-width run whose length is not a multiple of the element size.
        var a = ProtoWriter()
        a.bytes(7, [0, 0, 0, 0, 0])
        var n = ProtoWriter()
        n.bytes(5, a.bytes)
        var g = ProtoWriter()
        g.bytes(1, n.bytes)
        var m = ProtoWriter()
        m.bytes(7, g.bytes)
        XCTAssertEqual(decodeError(m.bytes),
            "invalid ONNX: field 'graph.node[0].attribute[0].floats' is a packed array of 4-byte values "
            + "but holds 5 bytes (not a multiple of 4) at byte \(m.bytes.count - 5)")
        // A huge declared length must fail before any allocation.
        XCTAssertNotNil(decodeError([0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
        XCTAssertNotNil(decodeError([0x3A, 0x0A, 0x2A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]))
    }

    /// Graphs nested in attributes: 64 levels are accepted, deeper is rejected with a message,
    /// and even thousands of levels cannot exhaust the stack.
    func testDeeplyNestedGraphsRejected() throws {
        /// `levels` graphs, each holding one node with a graph attribute holding the next.
        func nestedModel(levels: Int) -> [UInt8] {
            var graph = ProtoWriter()
            graph.string(2, "g\(levels)")
            for level in stride(from: levels - 1, through: 1, by: -1) {
                var attr = ProtoWriter()
                attr.string(1, "then_branch")
                attr.int(20, 5)
                attr.bytes(6, graph.bytes)
                var node = ProtoWriter()
                node.string(4, "If")
                node.bytes(5, attr.bytes)
                var outer = ProtoWriter()
                outer.string(2, "g\(level)")
                outer.bytes(1, node.bytes)
                graph = outer
            }
            var model = ProtoWriter()
            model.bytes(7, graph.bytes)
            return model.bytes
        }
        let ok = try decode(nestedModel(levels: ONNXDecoder.maxGraphDepth))
        var g = ok.graph
        var depth = 0
        while let current = g {
            depth += 1
            XCTAssertEqual(current.name, "g\(depth)")
            g = current.nodes.first?.attribute("then_branch")?.g
        }
        XCTAssertEqual(depth, 64)

        let message = try XCTUnwrap(decodeError(nestedModel(levels: 100)))
        // The path names the attribute at each level; the middle of a path this deep is elided.
        XCTAssertTrue(message.hasPrefix(
            "invalid ONNX: field 'graph.node[0].attribute[0](then_branch).g.node[0].attribute[0](then_branch).…("), message)
        XCTAssertTrue(message.contains(".g' nests graphs more than 64 levels deep at byte"), message)
        XCTAssertNotNil(decodeError(nestedModel(levels: 65)))
        XCTAssertNotNil(decodeError(nestedModel(levels: 3000)))
    }

    func testDeeplyNestedTypesRejected() throws {
        func nestedType(levels: Int) -> [UInt8] {
            var type = ProtoWriter()
            type.message(1) { tt in tt.int(1, 1) }
            for _ in 1..<levels {
                var seq = ProtoWriter()
                seq.bytes(1, type.bytes)
                var outer = ProtoWriter()
                outer.bytes(4, seq.bytes)  // sequence_type { elem_type: type }
                type = outer
            }
            var vi = ProtoWriter()
            vi.string(1, "s")
            vi.bytes(2, type.bytes)
            var g = ProtoWriter()
            g.bytes(11, vi.bytes)
            var m = ProtoWriter()
            m.bytes(7, g.bytes)
            return m.bytes
        }
        let ok = try decode(nestedType(levels: 3))
        XCTAssertEqual(ok.graph?.inputs.first?.type, .other("sequence(sequence(tensor(float)))"))
        XCTAssertNotNil(try? decode(nestedType(levels: ONNXDecoder.maxTypeDepth)))
        let message = try XCTUnwrap(decodeError(nestedType(levels: 5000)))
        XCTAssertTrue(message.contains("nests types more than 64 levels deep"), message)
    }

    // MARK: - Robustness: no input may crash the decoder

    /// Every prefix of the small models either decodes or throws `invalidModel`.
    func testEveryTruncationPrefix() throws {
        for fixture in [Fixture.typed, Fixture.ifModel] {
            var succeeded = 0
            for length in 0...fixture.count {
                if (try? check(Array(fixture[0..<length]))) == true { succeeded += 1 }
            }
            // Prefixes ending exactly at a top-level field boundary are valid models.
            XCTAssertGreaterThan(succeeded, 2)
            XCTAssertEqual(try check(fixture), true)
        }
    }

    /// Thousands of mutated models and random buffers: decode or throw, never trap. Seeded, so a
    /// failure reproduces.
    func testRandomMutationsAndBuffers() throws {
        var rng = SplitMix64(seed: 0x5741_4C57_4152_54)
        var outcomes = [0, 0]  // [threw, decoded]
        for fixture in [Fixture.typed, Fixture.ifModel] {
            for _ in 0..<2500 {
                var bytes = fixture
                for _ in 0...(rng.next() % 8) {
                    let i = Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 3 {
                    case 0: bytes[i] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                    case 1: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                    default: bytes[i] = [0x00, 0x7F, 0x80, 0xFF][Int(rng.next() % 4)]
                    }
                }
                outcomes[try check(bytes) ? 1 : 0] += 1
            }
        }
        for _ in 0..<3000 {
            let count = Int(rng.next() % 300)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            outcomes[try check(bytes) ? 1 : 0] += 1
        }
        // Random buffers made of plausible keys, so decoding reaches deep into the messages.
        let keys: [UInt8] = [0x08, 0x12, 0x3A, 0x42, 0x0A, 0x2A, 0x22, 0x32, 0x15, 0x09, 0x52, 0x5A, 0xA0]
        for _ in 0..<3000 {
            var bytes: [UInt8] = []
            for _ in 0..<(rng.next() % 60) {
                bytes.append(keys[Int(rng.next() % UInt64(keys.count))])
                bytes.append(UInt8(truncatingIfNeeded: rng.next() % 40))
            }
            outcomes[try check(bytes) ? 1 : 0] += 1
        }
        XCTAssertGreaterThan(outcomes[0], 1000)
        XCTAssertGreaterThan(outcomes[1], 100)
    }

    // MARK: - Helpers

    func decode(_ bytes: [UInt8]) throws -> ModelProto {
        // The returned value must not keep ByteSlices of `bytes` past this call; callers here only
        // look at rawData inside `withUnsafeBytes` blocks.
        try bytes.withUnsafeBytes { try ONNXDecoder.decodeModel($0) }
    }

    /// The `invalidModel` message for bytes that must fail, nil if they decode.
    func decodeError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            _ = try decode(bytes)
            return nil
        } catch let StalwartError.invalidModel(message) {
            return message
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    /// true if the bytes decode, false if they throw `invalidModel`; any other error fails.
    /// Touches every decoded rawData byte, so a bad slice would be caught by sanitizers.
    func check(_ bytes: [UInt8]) throws -> Bool {
        do {
            try bytes.withUnsafeBytes { buffer in
                let m = try ONNXDecoder.decodeModel(buffer)
                var sum = 0
                func visit(_ g: GraphProto) {
                    for t in g.initializers { for b in t.rawData?.buffer ?? UnsafeRawBufferPointer(start: nil, count: 0) { sum &+= Int(b) } }
                    for n in g.nodes { for a in n.attributes { if let sub = a.g { visit(sub) }; a.graphs.forEach(visit) } }
                }
                if let g = m.graph { visit(g) }
                _ = sum
            }
            return true
        } catch StalwartError.invalidModel {
            return false
        }
    }
}

// MARK: - Fixtures

/// Models made with onnx 1.19's onnx.helper by this script (python, onnx, numpy), printed as
/// base64 with `base64.b64encode(m.SerializeToString())`:
///
///     from onnx import helper as h, TensorProto as T
///     # typed: every typed data field, string attributes, external data, metadata, value-info types
///     f = h.make_tensor("f", T.FLOAT, [2, 2], [1.5, -2.0, 3.25, 0.0])
///     i64 = h.make_tensor("i64", T.INT64, [3], [-1, 0, 2**40])
///     i32 = h.make_tensor("i32", T.INT32, [2], [-7, 2**31 - 1])
///     d = h.make_tensor("d", T.DOUBLE, [2], [0.1, -1e300])
///     u64 = h.make_tensor("u64", T.UINT64, [1], [2**64 - 1])
///     s = h.make_tensor("s", T.STRING, [2], [b"ab", "\u00e9".encode()])
///     raw = h.make_tensor("raw", T.FLOAT, [3], np.array([1, 2, 3], np.float32).tobytes(), raw=True)
///     ext = T(); ext.name = "ext"; ext.data_type = T.FLOAT; ext.dims.extend([4])
///     ext.data_location = T.EXTERNAL
///     for k, v in [("location", "weights.bin"), ("offset", "16"), ("length", "16")]:
///         e = ext.external_data.add(); e.key = k; e.value = v
///     node = h.make_node("Custom", ["x", "", "f"], ["y"], name="n0", domain="com.example",
///                        doc_string="a node", mode="nearest", labels=["cat", "dog"],
///                        alpha=0.5, axis=-3, sizes=[1, -2, 3], scales=[0.25, 4.0],
///                        value=h.make_tensor("v", T.INT64, [1], [42]))
///     x = h.make_tensor_value_info("x", T.FLOAT, ["N", 3, None])
///     z = h.make_tensor_value_info("z", T.UINT8, None)
///     sc = h.make_tensor_value_info("sc", T.INT64, [])
///     seq = h.make_value_info("seq", h.make_sequence_type_proto(h.make_tensor_type_proto(T.FLOAT, None)))
///     mp = h.make_value_info("mp", h.make_map_type_proto(T.INT64, h.make_tensor_type_proto(T.FLOAT, None)))
///     opt = h.make_value_info("opt", h.make_optional_type_proto(h.make_tensor_type_proto(T.INT32, [2])))
///     y = h.make_tensor_value_info("y", T.FLOAT, [5])
///     g = h.make_graph([node], "typed", [x, z, sc], [y], [f, i64, i32, d, u64, s, raw, ext],
///                      doc_string="graph doc", value_info=[seq, mp, opt])
///     m = h.make_model(g, producer_name="gen.py", producer_version="1",
///                      opset_imports=[h.make_opsetid("", 13), h.make_opsetid("com.example", 2)])
///     m.domain = "ai.test"; m.model_version = 7; m.doc_string = "model doc"
///     h.set_model_props(m, {"author": "stalwart", "licence": "MIT"})
///
///     # ifModel: If node whose then-branch holds another If (graph depth 3)
///     def const_graph(name, value, inner=None):
///         nodes = [h.make_node("Constant", [], ["out"], value=h.make_tensor("c", T.FLOAT, [1], [value]))]
///         if inner is not None:
///             nodes.insert(0, h.make_node("If", ["cond"], ["tmp"], then_branch=inner, else_branch=inner))
///         return h.make_graph(nodes, name, [], [h.make_tensor_value_info("out", T.FLOAT, [1])])
///     inner = const_graph("inner", 9.0)
///     ifn = h.make_node("If", ["cond"], ["out"], name="if0",
///                       then_branch=const_graph("then", 1.0, inner), else_branch=const_graph("else", 2.0))
///     g2 = h.make_graph([ifn], "main", [h.make_tensor_value_info("cond", T.BOOL, [])],
///                       [h.make_tensor_value_info("out", T.FLOAT, [1])])
///     m2 = h.make_model(g2, opset_imports=[h.make_opsetid("", 17)])
private enum Fixture {
    static let typed = base64("""
        CA4SBmdlbi5weRoBMSIHYWkudGVzdCgHMgltb2RlbCBkb2M6zgQKyAEKAXgKAAoBZhIBeRoCbjAiBkN1c3RvbSoPCgVhbHBo
        YRUAAAA/oAEBKhQKBGF4aXMY/f//////////AaABAioVCgZsYWJlbHNKA2NhdEoDZG9noAEIKhIKBG1vZGUiB25lYXJlc3Sg
        AQMqFQoGc2NhbGVzPQAAgD49AACAQKABBioZCgVzaXplc0ABQP7//////////wFAA6ABByoWCgV2YWx1ZSoKCAEQBzoBKkIB
        dqABBDIGYSBub2RlOgtjb20uZXhhbXBsZRIFdHlwZWQqGwgCCAIQASIQAADAPwAAAMAAAFBAAAAAAEIBZiocCAMQBzoR////
        ////////AQCAgICAgCBCA2k2NCoaCAIQBioP+f//////////Af////8HQgNpMzIqGQgCEAtCAWRSEJqZmZmZmbk/nHUAiDzk
        N/4qFQgBEA1CA3U2NFoK////////////ASoPCAIQCDICYWIyAsOpQgFzKhcIAxABQgNyYXdKDAAAgD8AAABAAABAQCpACAQQ
        AUIDZXh0ahcKCGxvY2F0aW9uEgt3ZWlnaHRzLmJpbmoMCgZvZmZzZXQSAjE2agwKBmxlbmd0aBICMTZwAVIJZ3JhcGggZG9j
        WhYKAXgSEQoPCAESCwoDEgFOCgIIAwoAWgkKAXoSBAoCCAJaDAoCc2MSBgoECAcSAGIPCgF5EgoKCAgBEgQKAggFag8KA3Nl
        cRIIIgYKBAoCCAFqEAoCbXASCioICAcSBAoCCAFqFQoDb3B0Eg5KDAoKCggIBhIECgIIAkIECgAQDUIPCgtjb20uZXhhbXBs
        ZRACchIKBmF1dGhvchIIc3RhbHdhcnRyDgoHbGljZW5jZRIDTUlU
        """)

    static let ifModel = base64("""
        CA46ugMKjgMKBGNvbmQSA291dBoDaWYwIgJJZipXCgtlbHNlX2JyYW5jaDJFCioSA291dCIIQ29uc3RhbnQqGQoFdmFsdWUq
        DQgBEAEiBAAAAEBCAWOgAQQSBGVsc2ViEQoDb3V0EgoKCAgBEgQKAggBoAEFKp4CCgt0aGVuX2JyYW5jaDKLAgrDAQoEY29u
        ZBIDdG1wIgJJZipYCgtlbHNlX2JyYW5jaDJGCioSA291dCIIQ29uc3RhbnQqGQoFdmFsdWUqDQgBEAEiBAAAEEFCAWOgAQQS
        BWlubmVyYhEKA291dBIKCggIARIECgIIAaABBSpYCgt0aGVuX2JyYW5jaDJGCioSA291dCIIQ29uc3RhbnQqGQoFdmFsdWUq
        DQgBEAEiBAAAEEFCAWOgAQQSBWlubmVyYhEKA291dBIKCggIARIECgIIAaABBQoqEgNvdXQiCENvbnN0YW50KhkKBXZhbHVl
        Kg0IARABIgQAAIA/QgFjoAEEEgR0aGVuYhEKA291dBIKCggIARIECgIIAaABBRIEbWFpbloOCgRjb25kEgYKBAgJEgBiEQoD
        b3V0EgoKCAgBEgQKAggBQgQKABAR
        """)

    static func base64(_ text: String) -> [UInt8] {
        [UInt8](Data(base64Encoded: text, options: .ignoreUnknownCharacters) ?? Data())
    }
}


/// Deterministic 64-bit generator (Steele, Lea & Flood's SplitMix64), so fuzz failures reproduce.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
