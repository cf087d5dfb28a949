// C ABI for ImageNet-C corruptions (stalwart.h, API version 2).
import CStalwart
import Glibc
import StalwartShift
import StalwartTensor

/// Static NUL-terminated names, in `Corruption.allCases` order.
let corruptionNames: [UnsafeMutablePointer<CChar>?] = Corruption.allCases.map { strdup($0.rawValue) }

@c @implementation
public func stalwart_corruption_count() -> Int { Corruption.allCases.count }

@c @implementation
public func stalwart_corruption_name(_ index: Int) -> UnsafePointer<CChar>? {
    guard index >= 0, index < corruptionNames.count else { return nil }
    return corruptionNames[index].map { UnsafePointer($0) }
}

func corrupt(_ src: UnsafePointer<UInt8>?, _ width: Int32, _ height: Int32, _ channels: Int32, _ name: UnsafePointer<CChar>?,
             _ severity: Int32, _ seed: UInt64, _ key: UInt64, _ mode: Int32, _ replay: [Double]?,
             _ dst: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ fn: String) -> stalwart_status {
    guard let src, let name, let dst else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "\(fn): NULL argument") }
    return ErrorState.guarded {
        let m: CorruptionMode
        switch mode {
        case STALWART_CORRUPTION_MODE_IMAGECORRUPTIONS: m = .imagecorruptions
        case STALWART_CORRUPTION_MODE_HENDRYCKS: m = .hendrycks
        default: throw StalwartError.invalidArgument("unknown corruption mode \(mode)")
        }
        let c = try Corruption(name: String(cString: name))
        let n = try Image.byteCount(width: Int(width), height: Int(height), channels: Int(channels))
        let out3 = try Image.byteCount(width: Int(width), height: Int(height), channels: 3)
        guard capacity >= out3 else {
            throw StalwartError.bufferTooSmall("the corrupted image needs \(out3) bytes (\(width)×\(height)×3), buffer has \(capacity)")
        }
        let img = try Image(width: Int(width), height: Int(height), channels: Int(channels),
                            pixels: Array(UnsafeBufferPointer(start: src, count: n)))
        let out = try Corruptions.apply(img, c, severity: Int(severity), seed: seed, key: key, mode: m, replay: replay)
        out.pixels.withUnsafeBufferPointer { b in if let base = b.baseAddress { dst.update(from: base, count: out3) } }
    }
}

@c @implementation
public func stalwart_corrupt(_ src: UnsafePointer<UInt8>?, _ width: Int32, _ height: Int32, _ channels: Int32,
                             _ name: UnsafePointer<CChar>?, _ severity: Int32, _ seed: UInt64, _ key: UInt64, _ mode: Int32,
                             _ dst: UnsafeMutablePointer<UInt8>?, _ capacity: Int) -> stalwart_status {
    corrupt(src, width, height, channels, name, severity, seed, key, mode, nil, dst, capacity, "stalwart_corrupt")
}

@c @implementation
public func stalwart_corrupt_replay(_ src: UnsafePointer<UInt8>?, _ width: Int32, _ height: Int32, _ channels: Int32,
                                    _ name: UnsafePointer<CChar>?, _ severity: Int32, _ mode: Int32,
                                    _ draws: UnsafePointer<Double>?, _ drawCount: Int,
                                    _ dst: UnsafeMutablePointer<UInt8>?, _ capacity: Int) -> stalwart_status {
    guard drawCount == 0 || draws != nil else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_corrupt_replay: draws is NULL")
    }
    let values = draws.map { Array(UnsafeBufferPointer(start: $0, count: max(drawCount, 0))) } ?? []
    return corrupt(src, width, height, channels, name, severity, 0, 0, mode, values, dst, capacity, "stalwart_corrupt_replay")
}
