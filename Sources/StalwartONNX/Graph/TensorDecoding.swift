import Glibc
import StalwartTensor

/// Converts ONNX `TensorProto`s (initializers, Constant values) into owned `Tensor`s.
///
/// Element types: float32, float64, float16 (→ float32), int64, int32, int16/uint16/int8/
/// uint8/bool (kept at their ONNX type where Stalwart has it, widened otherwise). Data comes
/// from `raw_data` (little-endian), the typed fields, or an external file resolved against
/// `baseDirectory` (files outside that directory are refused).
enum TensorDecoding {
    static func decode(_ t: TensorProto, baseDirectory: String?, what: String) throws -> Tensor {
        var shape: [Int] = []
        for d in t.dims {
            guard d >= 0, let v = Int(exactly: d) else {
                throw StalwartError.invalidModel("\(what): negative or huge dimension \(d)")
            }
            shape.append(v)
        }
        let count: Int
        do { count = try Shape.elementCount(shape) } catch {
            throw StalwartError.invalidModel("\(what): \(error)")
        }
        // Storage type and bytes per source element.
        let (dtype, srcSize): (DType, Int)
        switch t.dataType {
        case 1: (dtype, srcSize) = (.float32, 4)
        case 2: (dtype, srcSize) = (.uint8, 1)
        case 3: (dtype, srcSize) = (.int8, 1)
        case 4: (dtype, srcSize) = (.int32, 2)   // uint16 → int32
        case 5: (dtype, srcSize) = (.int32, 2)   // int16 → int32
        case 6: (dtype, srcSize) = (.int32, 4)
        case 7: (dtype, srcSize) = (.int64, 8)
        case 9: (dtype, srcSize) = (.bool, 1)
        case 10: (dtype, srcSize) = (.float32, 2) // float16 → float32
        case 11: (dtype, srcSize) = (.float64, 8)
        case 12: (dtype, srcSize) = (.int64, 4)   // uint32 → int64
        default:
            throw StalwartError.unsupported("\(what): element type \(onnxTypeName(t.dataType)) is not supported")
        }
        let out: Tensor
        do { out = try Tensor(dtype: dtype, shape: shape) } catch { throw StalwartError(error) }

        if t.dataLocation == 1 || !t.externalData.isEmpty {
            try readExternal(t, into: out, srcSize: srcSize, count: count, baseDirectory: baseDirectory, what: what)
            return out
        }
        if let raw = t.rawData {
            let (need, o) = count.multipliedReportingOverflow(by: srcSize)
            guard !o, raw.count == need else {
                throw StalwartError.invalidModel("\(what): raw_data has \(raw.count) bytes, expected \(need) for shape \(shape)")
            }
            convert(UnsafeRawBufferPointer(start: raw.base, count: raw.count), dataType: t.dataType, into: out)
            return out
        }
        // Typed fields.
        func need(_ n: Int, _ field: String) throws {
            guard n == count else {
                throw StalwartError.invalidModel("\(what): \(field) has \(n) values, expected \(count) for shape \(shape)")
            }
        }
        switch t.dataType {
        case 1:
            try need(t.floatData.count, "float_data")
            copyBytes(t.floatData, into: out)
        case 11:
            try need(t.doubleData.count, "double_data")
            copyBytes(t.doubleData, into: out)
        case 7:
            try need(t.int64Data.count, "int64_data")
            copyBytes(t.int64Data, into: out)
        case 12:
            try need(t.uint64Data.count, "uint64_data")
            for (i, v) in t.uint64Data.enumerated() { out.int64s[i] = Int64(truncatingIfNeeded: v) }
        case 2, 3, 4, 5, 6, 9, 10:
            try need(t.int32Data.count, "int32_data")
            for (i, v) in t.int32Data.enumerated() {
                switch t.dataType {
                case 2, 9: out.data.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
                case 3: out.data.storeBytes(of: Int8(truncatingIfNeeded: v), toByteOffset: i, as: Int8.self)
                case 10: out.floats[i] = Float(Float16(bitPattern: UInt16(truncatingIfNeeded: v)))
                case 4: out.data.storeBytes(of: Int32(UInt16(truncatingIfNeeded: v)), toByteOffset: i * 4, as: Int32.self)
                default: out.data.storeBytes(of: v, toByteOffset: i * 4, as: Int32.self)
                }
            }
        default:
            if count != 0 { throw StalwartError.invalidModel("\(what): tensor has no data") }
        }
        return out
    }

    static func copyBytes<T>(_ a: [T], into out: Tensor) {
        a.withUnsafeBytes { src in
            if let b = src.baseAddress { out.data.copyMemory(from: b, byteCount: min(src.count, out.byteCount)) }
        }
    }

    /// Copies little-endian source elements into `out`, widening where needed.
    static func convert(_ src: UnsafeRawBufferPointer, dataType: Int32, into out: Tensor) {
        guard let base = src.baseAddress else { return }
        switch dataType {
        case 10:
            for i in 0..<out.count {
                out.floats[i] = Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
        case 4:
            for i in 0..<out.count {
                out.data.storeBytes(of: Int32(base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)), toByteOffset: i * 4, as: Int32.self)
            }
        case 5:
            for i in 0..<out.count {
                out.data.storeBytes(of: Int32(base.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)), toByteOffset: i * 4, as: Int32.self)
            }
        case 12:
            for i in 0..<out.count {
                out.int64s[i] = Int64(base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
            }
        default:
            out.data.copyMemory(from: base, byteCount: min(src.count, out.byteCount))
        }
    }

    static func readExternal(_ t: TensorProto, into out: Tensor, srcSize: Int, count: Int,
                             baseDirectory: String?, what: String) throws {
        guard let dir = baseDirectory else {
            throw StalwartError.unsupported("\(what): external data needs a model loaded from a file path")
        }
        var location = "", offset = 0, length: Int? = nil
        for kv in t.externalData {
            switch kv.key {
            case "location": location = kv.value
            case "offset": offset = Int(kv.value) ?? -1
            case "length": length = Int(kv.value)
            default: break
            }
        }
        guard !location.isEmpty, offset >= 0, !location.hasPrefix("/"),
              !location.split(separator: "/").contains("..") else {
            throw StalwartError.invalidModel("\(what): bad external data location '\(location)'")
        }
        let need = count * srcSize
        if let l = length, l != need {
            throw StalwartError.invalidModel("\(what): external data length \(l), expected \(need)")
        }
        let path = dir + "/" + location
        guard let f = fopen(path, "rb") else {
            throw StalwartError.io("\(what): cannot open external data file '\(path)'")
        }
        defer { fclose(f) }
        guard fseeko(f, off_t(offset), SEEK_SET) == 0 else {
            throw StalwartError.io("\(what): cannot seek to \(offset) in '\(path)'")
        }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(need, 1), alignment: 64)
        defer { buf.deallocate() }
        let got = need == 0 ? 0 : fread(buf.baseAddress, 1, need, f)
        guard got == need else {
            throw StalwartError.invalidModel("\(what): external data file '\(location)' has \(got) bytes at offset \(offset), expected \(need)")
        }
        convert(UnsafeRawBufferPointer(start: buf.baseAddress, count: need), dataType: t.dataType, into: out)
    }

    static func onnxTypeName(_ t: Int32) -> String {
        let names: [Int32: String] = [1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
                                      7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "double",
                                      12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16"]
        return names[t] ?? "type \(t)"
    }
}
