import StalwartTensor

/// A complete image → tensor preprocessing: optional border crop, a resize strategy, a centre
/// crop, normalization and layout. Value type; `apply` is pure and thread-safe.
///
/// Steps, in order (each optional):
/// 1. `borderCrop` pixels removed on every side (ObjectNet's red border).
/// 2. `resize`: shorter side to N (torchvision `Resize(N)`), exact size (squash), or TF-style
///    central fraction crop followed by a resize to the final size.
/// 3. `crop`: torchvision `CenterCrop` (zero padding when larger than the image).
/// 4. `normalization` and `layout`.
/// With `antialias` true, resizing is Pillow's (uint8, antialiased on downscale, as torchvision
/// on PIL images); false resizes float pixels without antialiasing (TF `tf.image.resize`,
/// half-pixel centres).
public struct Pipeline: Sendable {
    public enum ResizeStrategy: Sendable, Equatable {
        case none
        case shorterSide(Int)
        case squash(width: Int, height: Int)
        /// TF `central_crop(fraction)` then resize to the size.
        case centralFraction(Double, width: Int, height: Int)
    }

    public var borderCrop: Int = 0
    public var resize: ResizeStrategy
    public var filter: ResizeFilter
    public var antialias: Bool = true
    public var crop: (width: Int, height: Int)?
    public var normalization: Normalization
    public var layout: TensorLayout = .nchw
    /// The preset this pipeline came from and its resolution, for records ("" if custom).
    public var name: String = ""

    public init(resize: ResizeStrategy, filter: ResizeFilter, crop: (width: Int, height: Int)?,
                normalization: Normalization, layout: TensorLayout = .nchw) {
        self.resize = resize; self.filter = filter; self.crop = crop
        self.normalization = normalization; self.layout = layout
    }

    /// Channels of the output (those of the normalization).
    public var channels: Int { normalization.mean.count }

    /// Output size for an input of `width`×`height` (crop or resize target decide it).
    public func outputSize(width: Int, height: Int) throws -> (width: Int, height: Int) {
        if let c = crop { return c }
        switch resize {
        case .squash(let w, let h), .centralFraction(_, let w, let h): return (w, h)
        case .shorterSide(let s):
            let b = max(0, borderCrop)
            return try Geometry.shorterSideSize(width: width - 2 * b, height: height - 2 * b, to: s)
        case .none: return (width - 2 * borderCrop, height - 2 * borderCrop)
        }
    }

    /// The resized and cropped pixels (0...255, not yet normalized), as floats.
    public func transform(_ input: Image) throws -> FloatImage {
        switch try transformed(input) {
        case .bytes(let img): return FloatImage(img)
        case .floats(let f): return f
        }
    }

    /// The geometric part alone (border crop, resize, crop) as 8-bit pixels, or nil when this
    /// pipeline resizes in float (`antialias: false`, TF style) and has no 8-bit stage.
    /// `normalizationStage.write(geometry(x)!)` equals `write(x)` exactly: the Pillow-style
    /// path rounds to 8 bits after resizing, then normalizes.
    public func geometry(_ input: Image) throws -> Image? {
        if case .bytes(let img) = try transformed(input) { return img }
        return nil
    }

    /// This pipeline without its geometric steps: normalization, channels and layout only
    /// (what follows `geometry`).
    public var normalizationStage: Pipeline {
        var p = Pipeline(resize: .none, filter: filter, crop: nil, normalization: normalization, layout: layout)
        p.antialias = antialias
        p.name = name
        return p
    }

    /// `transform`'s result before any float conversion: 8-bit pixels on the antialiased
    /// (Pillow) path, floats on the `antialias: false` path.
    private enum Transformed {
        case bytes(Image)
        case floats(FloatImage)
    }

    private func transformed(_ input: Image) throws -> Transformed {
        var img = try input.converted(channels: channels)
        if borderCrop > 0 { img = try Geometry.borderCrop(img, pixels: borderCrop) }
        var float: FloatImage? = nil
        switch resize {
        case .none: break
        case .shorterSide(let s):
            let (w, h) = try Geometry.shorterSideSize(width: img.width, height: img.height, to: s)
            if antialias { img = try Resize.resize(img, width: w, height: h, filter: filter) }
            else { float = try Resize.resize(FloatImage(img), width: w, height: h, filter: filter, antialias: false) }
        case .squash(let w, let h):
            if antialias { img = try Resize.resize(img, width: w, height: h, filter: filter) }
            else { float = try Resize.resize(FloatImage(img), width: w, height: h, filter: filter, antialias: false) }
        case .centralFraction(let f, let w, let h):
            guard f > 0, f <= 1 else { throw StalwartError.invalidArgument("central fraction must be in (0, 1], got \(f)") }
            // tf.image.central_crop: start = int((size − size·f) / 2), extent = size − 2·start.
            let top = Int((Double(img.height) - Double(img.height) * f) / 2)
            let left = Int((Double(img.width) - Double(img.width) * f) / 2)
            img = try Geometry.crop(img, x: left, y: top, width: img.width - 2 * left, height: img.height - 2 * top)
            if antialias { img = try Resize.resize(img, width: w, height: h, filter: filter) }
            else { float = try Resize.resize(FloatImage(img), width: w, height: h, filter: filter, antialias: false) }
        }
        if let c = crop {
            if let f = float { float = try Geometry.centerCrop(f, width: c.width, height: c.height) }
            else { img = try Geometry.centerCrop(img, width: c.width, height: c.height) }
        }
        if let f = float { return .floats(f) }
        return .bytes(img)
    }

    /// Preprocesses one image into `out`, which must hold `channels · H · W` floats for the
    /// output size (`outputSize`). Returns that size.
    @discardableResult
    public func write(_ image: Image, into out: UnsafeMutablePointer<Float>, capacity: Int) throws -> (width: Int, height: Int) {
        let fused = try image.pixels.withUnsafeBufferPointer { px in
            try writeFused(px, width: image.width, height: image.height, channels: image.channels, into: out, capacity: capacity)
        }
        if let fused { return fused }
        return try writeStepwise(image, into: out, capacity: capacity)
    }

    /// `write` on borrowed pixels: `pixels` holds `height` rows of `width · channels` bytes
    /// (HWC, no padding) and is only read during the call. The common case (resize, centre
    /// crop inside the resized image, same channel count) reads them in place; other pipelines
    /// copy them into an `Image` first. Same results and errors as `write(_:into:capacity:)`.
    @discardableResult
    public func write(pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int,
                      into out: UnsafeMutablePointer<Float>, capacity: Int) throws -> (width: Int, height: Int) {
        let n = try Image.byteCount(width: width, height: height, channels: channels)
        guard pixels.count == n else {
            throw StalwartError.invalidArgument("image of \(width)×\(height)×\(channels) needs \(n) bytes, got \(pixels.count)")
        }
        if let fused = try writeFused(pixels, width: width, height: height, channels: channels, into: out, capacity: capacity) {
            return fused
        }
        let img = try Image(width: width, height: height, channels: channels, pixels: Array(pixels))
        return try writeStepwise(img, into: out, capacity: capacity)
    }

    /// The step-by-step path: `transformed`, then normalization from 8-bit or float pixels.
    private func writeStepwise(_ image: Image, into out: UnsafeMutablePointer<Float>, capacity: Int) throws -> (width: Int, height: Int) {
        let t = try transformed(image)
        let (w, h, c): (Int, Int, Int)
        switch t {
        case .bytes(let i): (w, h, c) = (i.width, i.height, i.channels)
        case .floats(let f): (w, h, c) = (f.width, f.height, f.channels)
        }
        let need = w * h * c
        guard capacity >= need else {
            throw StalwartError.bufferTooSmall("preprocessed image needs \(need) floats (\(c)×\(h)×\(w)), buffer holds \(capacity)")
        }
        switch t {
        case .bytes(let i):
            i.pixels.withUnsafeBufferPointer { b in
                if let p = b.baseAddress { normalization.write(bytes: p, width: w, height: h, channels: c, layout: layout, into: out) }
            }
        case .floats(let f): normalization.write(f, layout: layout, into: out)
        }
        return (w, h)
    }

    /// The fused path, or nil when it does not apply: antialiased resize (shorter side or
    /// squash, changing both sides, not `.nearest`) of an image that already has the
    /// pipeline's 1 or 3 channels, no border crop, then a centre crop that lies inside the
    /// resized image. Only the cropped rectangle is resampled (`Resize.resizedRegion8`,
    /// bit-identical to resize-then-crop) and normalized straight into `out`.
    private func writeFused(_ px: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int,
                            into out: UnsafeMutablePointer<Float>, capacity: Int) throws -> (width: Int, height: Int)? {
        guard antialias, borderCrop == 0, channels == self.channels, channels == 1 || channels == 3,
              filter != .nearest, let c = crop, let base = px.baseAddress,
              width >= 1, height >= 1, width <= Resize.maxSide, height <= Resize.maxSide else { return nil }
        let rw: Int, rh: Int
        switch resize {
        case .shorterSide(let s): (rw, rh) = try Geometry.shorterSideSize(width: width, height: height, to: s)
        case .squash(let w, let h): (rw, rh) = (w, h)
        default: return nil
        }
        guard rw != width, rh != height, rw >= 1, rh >= 1, rw <= Resize.maxSide, rh <= Resize.maxSide,
              c.width >= 1, c.height >= 1, c.width <= rw, c.height <= rh,
              px.count == width * height * channels else { return nil }
        let plan = try Geometry.centerCropPlan(width: rw, height: rh, cropWidth: c.width, cropHeight: c.height)
        let need = c.width * c.height * channels
        guard capacity >= need else {
            throw StalwartError.bufferTooSmall("preprocessed image needs \(need) floats (\(channels)×\(c.height)×\(c.width)), buffer holds \(capacity)")
        }
        let region = UnsafeMutablePointer<UInt8>.allocate(capacity: need)
        defer { region.deallocate() }
        Resize.resizedRegion8(base, width: width, height: height, channels: channels, to: rw, rh, filter: filter,
                              x0: plan.left, y0: plan.top, cw: c.width, ch: c.height, into: region)
        normalization.write(bytes: region, width: c.width, height: c.height, channels: channels, layout: layout, into: out)
        return (c.width, c.height)
    }

    /// Preprocesses a batch of images of any sizes into one tensor ([N, C, H, W] or
    /// [N, H, W, C]); every image must come out at the same size (use a crop or squash).
    public func batch(_ images: [Image]) throws -> Tensor {
        guard let first = images.first else { throw StalwartError.invalidArgument("empty batch") }
        let (w, h) = try outputSize(width: first.width, height: first.height)
        let shape = layout == .nchw ? [images.count, channels, h, w] : [images.count, h, w, channels]
        let t: Tensor
        do { t = try Tensor(dtype: .float32, shape: shape) } catch { throw StalwartError(error) }
        let per = channels * h * w
        for (i, img) in images.enumerated() {
            let got = try write(img, into: t.floats + i * per, capacity: per)
            guard got == (w, h) else {
                throw StalwartError.shapeMismatch("image \(i) preprocesses to \(got.width)×\(got.height), the batch is \(w)×\(h); add a crop or a squash resize")
            }
        }
        return t
    }
}
