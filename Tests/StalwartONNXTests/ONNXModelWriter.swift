// Writes small ONNX models byte by byte (field numbers from onnx.proto), so the engine tests
// can build valid and deliberately broken graphs without Python.

/// A value in an attribute.
enum TestAttr {
    case int(Int64), float(Float), ints([Int64]), floats([Float]), string(String)
    case tensor(dims: [Int64], floats: [Float])
}

/// A dimension of a declared input/output shape.
enum TestDim { case fixed(Int64), symbol(String) }

struct ONNXModelWriter {
    var opset: Int64 = 17
    var nodes: [(op: String, inputs: [String], outputs: [String], name: String, attrs: [(String, TestAttr)])] = []
    var initializers: [(name: String, dims: [Int64], floats: [Float]?, ints: [Int64]?)] = []
    var inputs: [(name: String, elemType: Int64, dims: [TestDim])] = []
    var outputs: [(name: String, elemType: Int64, dims: [TestDim])] = []

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", _ attrs: [(String, TestAttr)] = []) {
        nodes.append((op, inputs, outputs, name.isEmpty ? outputs.first ?? op : name, attrs))
    }
    mutating func floats(_ name: String, _ dims: [Int64], _ values: [Float]) { initializers.append((name, dims, values, nil)) }
    mutating func ints(_ name: String, _ dims: [Int64], _ values: [Int64]) { initializers.append((name, dims, nil, values)) }
    mutating func input(_ name: String, _ dims: [TestDim], elemType: Int64 = 1) { inputs.append((name, elemType, dims)) }
    mutating func output(_ name: String, _ dims: [TestDim] = [], elemType: Int64 = 1) { outputs.append((name, elemType, dims)) }

    func bytes() -> [UInt8] {
        var m = ProtoWriter()
        m.int(1, 8)                                          // ir_version
        m.string(2, "stalwart-tests")                        // producer_name
        m.message(7) { g in                                  // graph
            for n in nodes {
                g.message(1) { w in
                    for i in n.inputs { w.string(1, i) }
                    for o in n.outputs { w.string(2, o) }
                    w.string(3, n.name)
                    w.string(4, n.op)
                    for (name, a) in n.attrs { w.message(5) { Self.attribute(&$0, name, a) } }
                }
            }
            g.string(2, "test")
            for t in initializers {
                g.message(5) { w in
                    for d in t.dims { w.int(1, d) }
                    w.int(2, t.floats != nil ? 1 : 7)
                    if let f = t.floats { w.packedFixed32(4, f.map(\.bitPattern)) }
                    if let i = t.ints { w.packedVarints(7, i.map { UInt64(bitPattern: $0) }) }
                    w.string(8, t.name)
                }
            }
            for v in inputs { g.message(11) { Self.valueInfo(&$0, v) } }
            for v in outputs { g.message(12) { Self.valueInfo(&$0, v) } }
        }
        m.message(8) { o in o.string(1, ""); o.int(2, opset) }  // opset_import
        return m.bytes
    }

    static func attribute(_ w: inout ProtoWriter, _ name: String, _ a: TestAttr) {
        w.string(1, name)
        switch a {
        case .int(let v): w.int(3, v); w.int(20, 2)
        case .float(let v): w.fixed32(2, v.bitPattern); w.int(20, 1)
        case .ints(let v): w.packedVarints(8, v.map { UInt64(bitPattern: $0) }); w.int(20, 7)
        case .floats(let v): w.packedFixed32(7, v.map(\.bitPattern)); w.int(20, 6)
        case .string(let s): w.string(4, s); w.int(20, 3)
        case .tensor(let dims, let f):
            w.message(5) { t in
                for d in dims { t.int(1, d) }
                t.int(2, 1)
                t.packedFixed32(4, f.map(\.bitPattern))
            }
            w.int(20, 4)
        }
    }

    static func valueInfo(_ w: inout ProtoWriter, _ v: (name: String, elemType: Int64, dims: [TestDim])) {
        w.string(1, v.name)
        w.message(2) { t in
            t.message(1) { tt in
                tt.int(1, v.elemType)
                tt.message(2) { s in
                    for d in v.dims {
                        s.message(1) { dim in
                            switch d {
                            case .fixed(let n): dim.int(1, n)
                            case .symbol(let p): dim.string(2, p)
                            }
                        }
                    }
                }
            }
        }
    }
}
