import Foundation
import StalwartTensor

/// Reads and writes NumPy `.npy` files (format 1.0–3.0, little-endian, C order) for the
/// dtypes Stalwart has.
enum NPY {
    static func descr(_ d: DType) -> String {
        switch d {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .int64: return "<i8"
        case .int32: return "<i4"
        case .int8: return "|i1"
        case .uint8: return "|u1"
        case .bool: return "|b1"
        }
    }

    static func read(path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StalwartError.io("cannot read '\(path)'")
        }
        let b = [UInt8](data)
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else {
            throw StalwartError.invalidArgument("'\(path)' is not a .npy file")
        }
        let major = b[6]
        let (hlen, start): (Int, Int) = major == 1
            ? (Int(b[8]) | Int(b[9]) << 8, 10)
            : (b.count >= 12 ? (Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24, 12) : (-1, 12))
        guard hlen >= 0, start + hlen <= b.count else { throw StalwartError.invalidArgument("'\(path)': truncated header") }
        let header = String(decoding: b[start..<(start + hlen)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let d = field("descr"), let fo = field("fortran_order"), let sh = field("shape") else {
            throw StalwartError.invalidArgument("'\(path)': malformed header \(header)")
        }
        guard fo.hasPrefix("False") else { throw StalwartError.unsupported("'\(path)': Fortran-order arrays") }
        guard let dt = DType.allCases.first(where: { d.hasPrefix("'\(descr($0))'") }) else {
            throw StalwartError.unsupported("'\(path)': dtype \(d.prefix(8)) (expected float32, float64, int64, int32, int8, uint8 or bool)")
        }
        guard let open = sh.firstIndex(of: "("), let close = sh.firstIndex(of: ")") else {
            throw StalwartError.invalidArgument("'\(path)': malformed shape")
        }
        let shape = try sh[sh.index(after: open)..<close].split(separator: ",").map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v >= 0 else {
                throw StalwartError.invalidArgument("'\(path)': malformed shape \(sh)")
            }
            return v
        }
        let t: Tensor
        do { t = try Tensor(dtype: dt, shape: shape) } catch { throw StalwartError(error) }
        let off = start + hlen
        guard b.count - off >= t.byteCount else {
            throw StalwartError.invalidArgument("'\(path)': \(b.count - off) data bytes, expected \(t.byteCount)")
        }
        b.withUnsafeBytes { raw in
            if let base = raw.baseAddress { t.data.copyMemory(from: base + off, byteCount: t.byteCount) }
        }
        return t
    }

    static func write(_ t: Tensor, path: String) throws {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr(t.dtype))', 'fortran_order': False, 'shape': \(shape), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        out.append(Data(header.utf8))
        out.append(Data(bytes: t.data, count: t.byteCount))
        guard FileManager.default.createFile(atPath: path, contents: out) else {
            throw StalwartError.io("cannot write '\(path)'")
        }
    }
}
