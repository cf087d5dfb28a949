import StalwartTensor

// Band-wise access to the 8-bit resampler, for callers that split one resize over threads.
extension Resize {
    /// Output rows `rows` (all columns) of `Resize.resize(image, width: outW, height: outH,
    /// filter:)` with no box, written to `dst` (`rows.count` rows of `outW · channels` bytes,
    /// contiguous), without computing the other rows. Bit-identical to the same rows of the
    /// whole resize (the tables are the full output grid's, sliced; see `resizedRegion8`).
    ///
    /// Returns false, writing nothing, when the band path does not apply: a size outside
    /// 1…`maxSide`, `outW == width` or `outH == height` (a pass would be skipped), `.nearest`,
    /// channels other than 1 or 3, `rows` empty or not inside `0..<outH`, or `src` shorter
    /// than `width · height · channels`. Callers then use `resize(_:width:height:filter:box:)`.
    public static func resizedRows8(_ src: UnsafeBufferPointer<UInt8>, width w: Int, height h: Int, channels c: Int,
                                    to outW: Int, _ outH: Int, filter: ResizeFilter, rows: Range<Int>,
                                    into dst: UnsafeMutablePointer<UInt8>) -> Bool {
        guard w >= 1, h >= 1, w <= maxSide, h <= maxSide, outW >= 1, outH >= 1, outW <= maxSide, outH <= maxSide,
              outW != w, outH != h, filter != .nearest, c == 1 || c == 3,
              !rows.isEmpty, rows.lowerBound >= 0, rows.upperBound <= outH,
              src.count >= w * h * c, let sp = src.baseAddress else { return false }
        resizedRegion8(sp, width: w, height: h, channels: c, to: outW, outH, filter: filter,
                       x0: 0, y0: rows.lowerBound, cw: outW, ch: rows.count, into: dst)
        return true
    }

    /// The source index Pillow's `.nearest` resize (whole-image box) reads for each of
    /// `outSize` outputs along an axis of `inSize` inputs, exactly as `nearest` computes it:
    /// positions `(Float(inSize)/outSize)·0.5` advanced by that step in double, truncated.
    /// Indices outside `0..<inSize` (never for whole-image boxes) are reported as −1.
    public static func nearestIndices(inSize: Int, outSize: Int) -> [Int] {
        guard outSize >= 1 else { return [] }
        let a = Double(Float(inSize) - Float(0)) / Double(outSize)
        var idx = [Int](repeating: -1, count: outSize)
        var p = 0.0 + a * 0.5
        for i in 0..<outSize {
            let v = nearestCoord(p)
            if v >= 0 && v < inSize { idx[i] = v }
            p += a
        }
        return idx
    }
}
