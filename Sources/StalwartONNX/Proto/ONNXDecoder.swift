// ONNX message decoders on top of `WireReader`. Field numbers are those of `onnx.proto`
// (onnx 1.19, IR version 14); fields Stalwart does not model are skipped like unknown fields.
//
// Protobuf semantics honoured: fields may come in any order; a repeated scalar may be packed or
// unpacked (or both, interleaved); a scalar given twice keeps the last value; an embedded message
// given twice is merged (its repeated fields concatenate); fields with an unexpected wire type are
// skipped. Nesting is bounded: graphs inside attributes at most `maxGraphDepth` deep, `TypeProto`
// at most `maxTypeDepth` deep, so that recursion depth is bounded for any input.

import StalwartTensor

public enum ONNXDecoder {
    /// Deepest graph nesting accepted (the main graph is depth 1; an `If` branch inside it is 2).
    public static let maxGraphDepth = 64
    /// Deepest `TypeProto` nesting accepted (`sequence(sequence(…))`).
    public static let maxTypeDepth = 64

    /// Decodes a `ModelProto`.
    ///
    /// - Parameter bytes: a serialized model. It must outlive the returned value's `ByteSlice`s
    ///   (`TensorProto.rawData` points into it; nothing is copied). An empty buffer is a valid,
    ///   empty `ModelProto` (all defaults, `graph == nil`); checking that a model is usable is the
    ///   graph layer's job.
    /// - Throws: `StalwartError.invalidModel` naming the field path and byte offset, for any
    ///   malformed input. Never traps on arbitrary bytes.
    /// - Complexity: one pass over the bytes, except raw tensor data which is not touched
    ///   (EfficientNet-Lite0, 18 MB: 0.14 ms in release). Memory: the decoded values of a real
    ///   model take a few hundred KB; the worst case for crafted input is about 70× its size
    ///   (a file made only of empty 2-byte attribute messages), as with any protobuf parser.
    public static func decodeModel(_ bytes: UnsafeRawBufferPointer) throws -> ModelProto {
        var model = ModelProto()
        guard let base = bytes.baseAddress, bytes.count > 0 else { return model }
        var reader = WireReader(base: base, count: bytes.count)
        do {
            try decode(&reader, into: &model)
        } catch {
            throw StalwartError.invalidModel(error.message(bufferCount: bytes.count))
        }
        return model
    }

    // MARK: ModelProto

    static func decode(_ r: inout WireReader, into m: inout ModelProto) throws(WireError) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1: try r.int64(wire, into: &m.irVersion)
                case 2: try r.string(wire, into: &m.producerName)
                case 3: try r.string(wire, into: &m.producerVersion)
                case 4: try r.string(wire, into: &m.domain)
                case 5: try r.int64(wire, into: &m.modelVersion)
                case 6: try r.string(wire, into: &m.docString)
                case 7:
                    if var sub = try r.submessage(wire) {
                        var g = m.graph ?? GraphProto()
                        m.graph = nil  // keep g's arrays uniquely referenced while appending
                        try decode(&sub, into: &g, depth: 1)
                        m.graph = g
                    }
                case 8:
                    if var sub = try r.submessage(wire) {
                        var o = OperatorSetId()
                        try decode(&sub, into: &o)
                        m.opsetImports.append(o)
                    }
                case 14:
                    if var sub = try r.submessage(wire) {
                        m.metadataProps.append(try decodeEntry(&sub))
                    }
                case 25:
                    if try r.submessage(wire) != nil { m.functionCount &+= 1 }
                default:
                    try r.skip(wire)
                }
            } catch {
                throw error.within(modelFieldName(field, m))
            }
        }
    }

    static func modelFieldName(_ field: Int, _ m: ModelProto) -> String {
        switch field {
        case 1: return "ir_version"
        case 2: return "producer_name"
        case 3: return "producer_version"
        case 4: return "domain"
        case 5: return "model_version"
        case 6: return "doc_string"
        case 7: return "graph"
        case 8: return "opset_import[\(m.opsetImports.count)]"
        case 14: return "metadata_props[\(m.metadataProps.count)]"
        case 25: return "functions[\(m.functionCount)]"
        default: return "field #\(field)"
        }
    }

    static func decode(_ r: inout WireReader, into o: inout OperatorSetId) throws(WireError) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1: try r.string(wire, into: &o.domain)
                case 2: try r.int64(wire, into: &o.version)
                default: try r.skip(wire)
                }
            } catch {
                throw error.within(field == 1 ? "domain" : field == 2 ? "version" : "field #\(field)")
            }
        }
    }

    /// `StringStringEntryProto`.
    static func decodeEntry(_ r: inout WireReader) throws(WireError) -> (key: String, value: String) {
        var key = ""
        var value = ""
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1: try r.string(wire, into: &key)
                case 2: try r.string(wire, into: &value)
                default: try r.skip(wire)
                }
            } catch {
                throw error.within(field == 1 ? "key" : field == 2 ? "value" : "field #\(field)")
            }
        }
        return (key, value)
    }

    // MARK: GraphProto

    /// `depth` is this graph's nesting level (1 for the model's graph).
    static func decode(_ r: inout WireReader, into g: inout GraphProto, depth: Int) throws(WireError) {
        guard depth <= maxGraphDepth else {
            throw WireError(.tooDeep(what: "graphs", limit: maxGraphDepth), at: r.pos)
        }
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1:
                    if var sub = try r.submessage(wire) {
                        var n = NodeProto()
                        try decode(&sub, into: &n, graphDepth: depth)
                        g.nodes.append(n)
                    }
                case 2: try r.string(wire, into: &g.name)
                case 5:
                    if var sub = try r.submessage(wire) {
                        var t = TensorProto()
                        try decode(&sub, into: &t)
                        g.initializers.append(t)
                    }
                case 10: try r.string(wire, into: &g.docString)
                case 11: try appendValueInfo(&r, wire, to: &g.inputs)
                case 12: try appendValueInfo(&r, wire, to: &g.outputs)
                case 13: try appendValueInfo(&r, wire, to: &g.valueInfo)
                case 15:
                    if try r.submessage(wire) != nil { g.sparseInitializerCount &+= 1 }
                default:
                    try r.skip(wire)
                }
            } catch {
                throw error.within(graphFieldName(field, g))
            }
        }
    }

    static func graphFieldName(_ field: Int, _ g: GraphProto) -> String {
        switch field {
        case 1: return "node[\(g.nodes.count)]"
        case 2: return "name"
        case 5: return "initializer[\(g.initializers.count)]"
        case 10: return "doc_string"
        case 11: return "input[\(g.inputs.count)]"
        case 12: return "output[\(g.outputs.count)]"
        case 13: return "value_info[\(g.valueInfo.count)]"
        case 15: return "sparse_initializer[\(g.sparseInitializerCount)]"
        default: return "field #\(field)"
        }
    }

    // MARK: NodeProto and AttributeProto

    static func decode(_ r: inout WireReader, into n: inout NodeProto, graphDepth: Int) throws(WireError) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1: try r.appendString(wire, to: &n.inputs)
                case 2: try r.appendString(wire, to: &n.outputs)
                case 3: try r.string(wire, into: &n.name)
                case 4: try r.string(wire, into: &n.opType)
                case 5:
                    if var sub = try r.submessage(wire) {
                        var a = AttributeProto()
                        try decode(&sub, into: &a, graphDepth: graphDepth)
                        n.attributes.append(a)
                    }
                case 6: try r.string(wire, into: &n.docString)
                case 7: try r.string(wire, into: &n.domain)
                default: try r.skip(wire)
                }
            } catch {
                throw error.within(nodeFieldName(field, n)).labeled(n.name)
            }
        }
    }

    static func nodeFieldName(_ field: Int, _ n: NodeProto) -> String {
        switch field {
        case 1: return "input[\(n.inputs.count)]"
        case 2: return "output[\(n.outputs.count)]"
        case 3: return "name"
        case 4: return "op_type"
        case 5: return "attribute[\(n.attributes.count)]"
        case 6: return "doc_string"
        case 7: return "domain"
        default: return "field #\(field)"
        }
    }

    /// `graphDepth` is the depth of the graph holding the node; sub-graphs get `graphDepth + 1`.
    static func decode(_ r: inout WireReader, into a: inout AttributeProto, graphDepth: Int) throws(WireError) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1: try r.string(wire, into: &a.name)
                case 2: try r.float(wire, into: &a.f)
                case 3: try r.int64(wire, into: &a.i)
                case 4: try r.bytes(wire, into: &a.s)
                case 5:
                    if var sub = try r.submessage(wire) {
                        var t = a.t ?? TensorProto()
                        a.t = nil
                        try decode(&sub, into: &t)
                        a.t = t
                    }
                case 6:
                    if var sub = try r.submessage(wire) {
                        var g = a.g ?? GraphProto()
                        a.g = nil
                        try decode(&sub, into: &g, depth: graphDepth &+ 1)
                        a.g = g
                    }
                case 7: try r.appendFixed(wire, to: &a.floats) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
                case 8: try r.appendVarints(wire, to: &a.ints) { Int64(bitPattern: $0) }
                case 9: try r.appendBytes(wire, to: &a.strings)
                case 10:
                    if var sub = try r.submessage(wire) {
                        var t = TensorProto()
                        try decode(&sub, into: &t)
                        a.tensors.append(t)
                    }
                case 11:
                    if var sub = try r.submessage(wire) {
                        var g = GraphProto()
                        try decode(&sub, into: &g, depth: graphDepth &+ 1)
                        a.graphs.append(g)
                    }
                case 13: try r.string(wire, into: &a.docString)
                case 20:
                    try r.int32(wire, into: &a.rawType)
                    a.type = AttributeType(rawValue: a.rawType) ?? .undefined
                case 21: try r.string(wire, into: &a.refAttrName)
                default: try r.skip(wire)  // 14 tp, 15 type_protos, 22 sparse_tensor, 23 sparse_tensors
                }
            } catch {
                throw error.within(attributeFieldName(field, a)).labeled(a.name)
            }
        }
    }

    static func attributeFieldName(_ field: Int, _ a: AttributeProto) -> String {
        switch field {
        case 1: return "name"
        case 2: return "f"
        case 3: return "i"
        case 4: return "s"
        case 5: return "t"
        case 6: return "g"
        case 7: return "floats"
        case 8: return "ints"
        case 9: return "strings[\(a.strings.count)]"
        case 10: return "tensors[\(a.tensors.count)]"
        case 11: return "graphs[\(a.graphs.count)]"
        case 13: return "doc_string"
        case 20: return "type"
        case 21: return "ref_attr_name"
        default: return "field #\(field)"
        }
    }

    // MARK: TensorProto

    static func decode(_ r: inout WireReader, into t: inout TensorProto) throws(WireError) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1: try r.appendVarints(wire, to: &t.dims) { Int64(bitPattern: $0) }
                case 2: try r.int32(wire, into: &t.dataType)
                case 4: try r.appendFixed(wire, to: &t.floatData) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
                case 5: try r.appendVarints(wire, to: &t.int32Data) { Int32(truncatingIfNeeded: $0) }
                case 6: try r.appendBytes(wire, to: &t.stringData)
                case 7: try r.appendVarints(wire, to: &t.int64Data) { Int64(bitPattern: $0) }
                case 8: try r.string(wire, into: &t.name)
                case 9:
                    if let b = try r.bytesField(wire), let p = b.baseAddress {
                        t.rawData = ByteSlice(base: p, count: b.count)
                    }
                case 10: try r.appendFixed(wire, to: &t.doubleData) { Double(bitPattern: $0) }
                case 11: try r.appendVarints(wire, to: &t.uint64Data) { $0 }
                case 12: try r.string(wire, into: &t.docString)
                case 13:
                    if var sub = try r.submessage(wire) {
                        t.externalData.append(try decodeEntry(&sub))
                    }
                case 14: try r.int32(wire, into: &t.dataLocation)
                default: try r.skip(wire)  // 3 segment, 16 metadata_props
                }
            } catch {
                throw error.within(tensorFieldName(field, t)).labeled(t.name)
            }
        }
    }

    static func tensorFieldName(_ field: Int, _ t: TensorProto) -> String {
        switch field {
        case 1: return "dims"
        case 2: return "data_type"
        case 4: return "float_data"
        case 5: return "int32_data"
        case 6: return "string_data[\(t.stringData.count)]"
        case 7: return "int64_data"
        case 8: return "name"
        case 9: return "raw_data"
        case 10: return "double_data"
        case 11: return "uint64_data"
        case 12: return "doc_string"
        case 13: return "external_data[\(t.externalData.count)]"
        case 14: return "data_location"
        default: return "field #\(field)"
        }
    }

    // MARK: ValueInfoProto and TypeProto

    static func appendValueInfo(_ r: inout WireReader, _ wire: Int, to values: inout [ValueInfoProto]) throws(WireError) {
        guard var sub = try r.submessage(wire) else { return }
        var v = ValueInfoProto()
        while !sub.isAtEnd {
            let (field, wire) = try sub.readTag()
            do throws(WireError) {
                switch field {
                case 1: try sub.string(wire, into: &v.name)
                case 2:
                    if var t = try sub.submessage(wire) {
                        try decode(&t, into: &v.type, depth: 1)
                    }
                case 3: try sub.string(wire, into: &v.docString)
                default: try sub.skip(wire)
                }
            } catch {
                throw error.within(field == 1 ? "name" : field == 2 ? "type" : field == 3 ? "doc_string" : "field #\(field)")
                    .labeled(v.name)
            }
        }
        values.append(v)
    }

    /// Decodes a `TypeProto` into `type`, merging with a previous `tensor_type` value (other
    /// variants, which are kept only as names, are replaced).
    static func decode(_ r: inout WireReader, into type: inout TypeProto?, depth: Int) throws(WireError) {
        guard depth <= maxTypeDepth else {
            throw WireError(.tooDeep(what: "types", limit: maxTypeDepth), at: r.pos)
        }
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1:  // tensor_type
                    if var sub = try r.submessage(wire) {
                        var elem: Int32 = 0
                        var shape: [Dimension]? = nil
                        if case .tensor(let e, let s)? = type {
                            elem = e
                            shape = s
                        }
                        type = nil
                        try decodeTensorType(&sub, elem: &elem, shape: &shape)
                        type = .tensor(elemType: elem, shape: shape)
                    }
                case 8:  // sparse_tensor_type
                    if var sub = try r.submessage(wire) {
                        var elem: Int32 = 0
                        var shape: [Dimension]? = nil
                        try decodeTensorType(&sub, elem: &elem, shape: &shape)
                        type = .other("sparse_tensor(\(elementTypeName(elem)))")
                    }
                case 4, 9:  // sequence_type, optional_type: { TypeProto elem_type = 1; }
                    if var sub = try r.submessage(wire) {
                        var inner: TypeProto? = nil
                        while !sub.isAtEnd {
                            let (f, w) = try sub.readTag()
                            switch f {
                            case 1:
                                if var e = try sub.submessage(w) {
                                    do throws(WireError) {
                                        try decode(&e, into: &inner, depth: depth &+ 1)
                                    } catch {
                                        throw error.within("elem_type")
                                    }
                                }
                            default: try sub.skip(w)
                            }
                        }
                        type = .other("\(field == 4 ? "sequence" : "optional")(\(typeName(inner)))")
                    }
                case 5:  // map_type: { int32 key_type = 1; TypeProto value_type = 2; }
                    if var sub = try r.submessage(wire) {
                        var key: Int32 = 0
                        var value: TypeProto? = nil
                        while !sub.isAtEnd {
                            let (f, w) = try sub.readTag()
                            switch f {
                            case 1: try sub.int32(w, into: &key)
                            case 2:
                                if var e = try sub.submessage(w) {
                                    do throws(WireError) {
                                        try decode(&e, into: &value, depth: depth &+ 1)
                                    } catch {
                                        throw error.within("value_type")
                                    }
                                }
                            default: try sub.skip(w)
                            }
                        }
                        type = .other("map(\(elementTypeName(key)),\(typeName(value)))")
                    }
                case 7:  // opaque_type: { string domain = 1; string name = 2; }
                    if var sub = try r.submessage(wire) {
                        var domain = ""
                        var name = ""
                        while !sub.isAtEnd {
                            let (f, w) = try sub.readTag()
                            switch f {
                            case 1: try sub.string(w, into: &domain)
                            case 2: try sub.string(w, into: &name)
                            default: try sub.skip(w)
                            }
                        }
                        type = .other("opaque(\(domain.isEmpty ? name : "\(domain).\(name)"))")
                    }
                default:
                    try r.skip(wire)  // 6 denotation
                }
            } catch {
                throw error.within(typeFieldName(field))
            }
        }
        if type == nil { type = .other("unset") }
    }

    static func typeFieldName(_ field: Int) -> String {
        switch field {
        case 1: return "tensor_type"
        case 4: return "sequence_type"
        case 5: return "map_type"
        case 7: return "opaque_type"
        case 8: return "sparse_tensor_type"
        case 9: return "optional_type"
        default: return "field #\(field)"
        }
    }

    /// `TypeProto.Tensor` / `TypeProto.SparseTensor`: { int32 elem_type = 1; TensorShapeProto shape = 2; }
    static func decodeTensorType(
        _ r: inout WireReader, elem: inout Int32, shape: inout [Dimension]?
    ) throws(WireError) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            do throws(WireError) {
                switch field {
                case 1: try r.int32(wire, into: &elem)
                case 2:
                    if var sub = try r.submessage(wire) {
                        var dims = shape ?? []
                        shape = nil
                        try decodeShape(&sub, into: &dims)
                        shape = dims
                    }
                default: try r.skip(wire)
                }
            } catch {
                throw error.within(field == 1 ? "elem_type" : field == 2 ? "shape" : "field #\(field)")
            }
        }
    }

    /// `TensorShapeProto`: { repeated Dimension dim = 1; }, Dimension: oneof { int64 dim_value = 1;
    /// string dim_param = 2; }, string denotation = 3.
    static func decodeShape(_ r: inout WireReader, into dims: inout [Dimension]) throws(WireError) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            guard field == 1 else {
                try r.skip(wire)
                continue
            }
            do throws(WireError) {
                guard var sub = try r.submessage(wire) else { continue }
                var d = Dimension.unknown
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    switch f {
                    case 1:
                        if let v = try sub.varintField(w) { d = .value(Int64(bitPattern: v)) }
                    case 2:
                        if let b = try sub.bytesField(w) { d = .param(String(decoding: b, as: UTF8.self)) }
                    default:
                        try sub.skip(w)
                    }
                }
                dims.append(d)
            } catch {
                throw error.within("dim[\(dims.count)]")
            }
        }
    }

    // MARK: Names for messages

    static func typeName(_ t: TypeProto?) -> String {
        switch t {
        case .tensor(let e, _)?: return "tensor(\(elementTypeName(e)))"
        case .other(let name)?: return name
        case nil: return "unset"
        }
    }

    /// ONNX's lower-case name of a `TensorProto.DataType` number.
    static func elementTypeName(_ t: Int32) -> String {
        let names = [
            "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
            "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16",
            "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4",
            "float4e2m1", "float8e8m0", "uint2", "int2", "float6e2m3", "float6e3m2",
        ]
        return t >= 0 && Int(t) < names.count ? names[Int(t)] : "data type \(t)"
    }
}
