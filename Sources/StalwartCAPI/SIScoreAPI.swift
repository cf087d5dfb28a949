import CStalwart
import StalwartSIScore
import StalwartTensor

/// A copy of a caller image (`width`·`height`·`channels` bytes) with validated sizes.
private func callerImage(_ p: UnsafePointer<UInt8>, _ w: Int32, _ h: Int32, _ c: Int32, _ what: String) throws -> Image {
    let n: Int
    do { n = try Image.byteCount(width: Int(w), height: Int(h), channels: Int(c)) } catch {
        throw error.context(what)
    }
    return try Image(width: Int(w), height: Int(h), channels: Int(c), pixels: Array(UnsafeBufferPointer(start: p, count: n)))
}

private func side(_ bw: Int32, _ bh: Int32, _ resolution: Int32) throws -> Int {
    guard bw >= 1, bh >= 1 else { throw StalwartError.invalidArgument("background size \(bw)×\(bh) must be at least 1×1") }
    guard resolution >= 0, resolution <= 65535 else {
        throw StalwartError.invalidArgument("resolution must be 0 (keep) or 1...65535, got \(resolution)")
    }
    return resolution > 0 ? Int(resolution) : Int(min(bw, bh))
}

@c @implementation
public func stalwart_siscore_composite_side(_ bgWidth: Int32, _ bgHeight: Int32, _ resolution: Int32,
                                            _ outSide: UnsafeMutablePointer<Int64>?) -> stalwart_status {
    guard let outSide else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_siscore_composite_side: out_side is NULL") }
    return ErrorState.guarded {
        outSide.pointee = Int64(try side(bgWidth, bgHeight, resolution))
    }
}

@c @implementation
public func stalwart_siscore_composite(_ fg: UnsafePointer<UInt8>?, _ fgWidth: Int32, _ fgHeight: Int32, _ fgChannels: Int32,
                                       _ bg: UnsafePointer<UInt8>?, _ bgWidth: Int32, _ bgHeight: Int32, _ bgChannels: Int32,
                                       _ area: Double, _ x: Double, _ y: Double, _ angle: Double, _ resolution: Int32,
                                       _ dst: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                       _ outPct: UnsafeMutablePointer<Double>?) -> stalwart_status {
    guard let fg, let bg, let dst else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_siscore_composite: fg, bg and dst must not be NULL")
    }
    return ErrorState.guarded {
        let s = try side(bgWidth, bgHeight, resolution)
        let need = try Image.byteCount(width: s, height: s, channels: 3)
        guard capacity >= need else {
            throw StalwartError.bufferTooSmall("the composite needs \(need) bytes (\(s)×\(s)×3), buffer has \(capacity)")
        }
        let f = try callerImage(fg, fgWidth, fgHeight, fgChannels, "foreground")
        let b = try callerImage(bg, bgWidth, bgHeight, bgChannels, "background")
        let prepared = try SIScoreCompositor.prepareBackground(b, resolution: resolution > 0 ? Int(resolution) : nil)
        let c = try SIScoreCompositor.composite(foreground: f, background: prepared, area: area, x: x, y: y, angle: angle)
        guard c.image.pixels.count == need else { throw StalwartError.internal("composite size mismatch") }
        c.image.pixels.withUnsafeBufferPointer { p in if let base = p.baseAddress { dst.update(from: base, count: need) } }
        outPct?.pointee = c.pctInside
    }
}

/// The sweep of a preset plus key/value overrides (C arrays of `count` strings).
private func sweep(_ preset: UnsafePointer<CChar>, _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
                   _ values: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) throws -> SIScoreConfig {
    var c = try SIScoreConfig.preset(String(cString: preset))
    guard count >= 0, count <= 1024 else { throw StalwartError.invalidArgument("option count must be 0...1024, got \(count)") }
    guard count == 0 || (keys != nil && values != nil) else { throw StalwartError.invalidArgument("keys/values are NULL with count \(count)") }
    for i in 0..<count {
        guard let k = keys?[i], let v = values?[i] else { throw StalwartError.invalidArgument("option \(i) has a NULL key or value") }
        try c.set(String(cString: k), String(cString: v))
    }
    return c
}

@c @implementation
public func stalwart_siscore_generate(_ preset: UnsafePointer<CChar>?, _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
                                      _ values: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                                      _ foregrounds: UnsafePointer<CChar>?,
                                      _ backgrounds: UnsafePointer<CChar>?, _ outDir: UnsafePointer<CChar>?,
                                      _ limit: Int64, _ threads: Int32, _ outWritten: UnsafeMutablePointer<Int64>?,
                                      _ outSkipped: UnsafeMutablePointer<Int64>?) -> stalwart_status {
    guard let preset, let foregrounds, let backgrounds, let outDir else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_siscore_generate: NULL argument")
    }
    return ErrorState.guarded {
        guard limit >= 0, threads >= 0, threads <= 1024 else {
            throw StalwartError.invalidArgument("limit must be ≥ 0 and threads 0...1024, got \(limit), \(threads)")
        }
        let g = try SIScoreGenerator(config: try sweep(preset, keys, values, count), foregrounds: String(cString: foregrounds),
                                     backgrounds: String(cString: backgrounds))
        let s = try g.write(to: String(cString: outDir), limit: limit > 0 ? Int(clamping: limit) : nil, threads: Int(threads))
        outWritten?.pointee = Int64(s.written)
        outSkipped?.pointee = Int64(s.skipped)
    }
}

@c @implementation
public func stalwart_siscore_metadata(_ preset: UnsafePointer<CChar>?, _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
                                      _ values: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                                      _ foregrounds: UnsafePointer<CChar>?,
                                      _ backgrounds: UnsafePointer<CChar>?, _ limit: Int64,
                                      _ buf: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                                      _ outSize: UnsafeMutablePointer<Int>?) -> stalwart_status {
    guard let preset, let foregrounds, let backgrounds, let outSize else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_siscore_metadata: NULL argument")
    }
    return ErrorState.guarded {
        guard limit >= 0 else { throw StalwartError.invalidArgument("limit must be ≥ 0, got \(limit)") }
        let g = try SIScoreGenerator(config: try sweep(preset, keys, values, count), foregrounds: String(cString: foregrounds),
                                     backgrounds: String(cString: backgrounds))
        let items = Array(g.items.prefix(limit > 0 ? Int(clamping: limit) : g.items.count))
        let text = Array(g.metadataCSV(items).utf8)
        guard let buf, capacity >= text.count else {
            outSize.pointee = text.count
            throw StalwartError.bufferTooSmall("metadata needs \(text.count) bytes, buffer has \(capacity)")
        }
        text.withUnsafeBufferPointer { p in if let base = p.baseAddress { buf.update(from: base, count: text.count) } }
        outSize.pointee = text.count
    }
}
