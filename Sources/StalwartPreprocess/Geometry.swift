import StalwartTensor

/// Crops, padding and the size arithmetic of torchvision / timm evaluation transforms,
/// reproducing their integer rounding exactly. Images are HWC; x runs along the width, y down
/// the rows. Every function validates its arguments (sizes 1…`Resize.maxSide`, rectangles
/// inside the image, overflow-checked sums) and throws `StalwartError.invalidArgument`
/// instead of trapping.
public enum Geometry {
    /// torchvision `Resize(size, max_size=…)` output size for an int `size`
    /// (`transforms.functional._compute_resized_output_size`): the shorter side becomes `size`,
    /// the longer `Int(size · long / short)` (true division, then truncation); when `w == h` the
    /// width counts as the shorter side. With `maxSize`, which must exceed `size`, a longer
    /// side above `maxSize` becomes `maxSize` and the shorter `Int(maxSize · size / long)`.
    public static func shorterSideSize(width: Int, height: Int, to size: Int,
                                       maxSize: Int? = nil) throws(StalwartError) -> (width: Int, height: Int) {
        try Resize.checkSides(width, height, what: "image")
        guard size >= 1, size <= Resize.maxSide else {
            throw .invalidArgument("resize target \(size) must be within 1…\(Resize.maxSide)")
        }
        let widthIsShort = width <= height
        let short = widthIsShort ? width : height
        let long = widthIsShort ? height : width
        var newShort = size
        // Both products stay below 2^32, so the doubles are exact and the quotient is Python's.
        var newLong = Int(Double(size * long) / Double(short))
        if let maxSize {
            guard maxSize > size, maxSize <= Resize.maxSide else {
                throw .invalidArgument("max_size \(maxSize) must be greater than the requested size \(size) and at most \(Resize.maxSide)")
            }
            if newLong > maxSize {
                newShort = Int(Double(maxSize * newShort) / Double(newLong))
                newLong = maxSize
            }
        }
        guard newShort >= 1, newLong >= 1, newLong <= Resize.maxSide else {
            throw .invalidArgument("resizing \(width)×\(height) to shorter side \(size) gives \(newShort)×\(newLong) (sides must be within 1…\(Resize.maxSide))")
        }
        return widthIsShort ? (newShort, newLong) : (newLong, newShort)
    }

    /// timm's eval resize size for `crop_pct`: `floor(size / cropPct)`
    /// (`timm.data.transforms_factory.transforms_imagenet_eval`), e.g. 224 / 0.875 → 256.
    /// Never traps: `cropPct` that is not a positive finite number falls back to timm's
    /// `DEFAULT_CROP_PCT` 0.875 (timm itself substitutes it for 0/None), and the result is
    /// clamped to 1…`Resize.maxSide`.
    public static func cropPctResizeSize(size: Int, cropPct: Double) -> Int {
        let pct = (cropPct.isFinite && cropPct > 0) ? cropPct : 0.875
        let v = (Double(size) / pct).rounded(.down)
        if !(v >= 1) { return 1 }
        if v >= Double(Resize.maxSide) { return Resize.maxSide }
        return Int(v)
    }

    /// Where torchvision's `CenterCrop` takes its crop: zero padding first when the crop is
    /// larger than the image (`(cw − w) // 2` left, `(cw − w + 1) // 2` right, likewise top and
    /// bottom), then `top = round((h' − ch) / 2)`, `left = round((w' − cw) / 2)` on the padded
    /// size with Python's `round` (half to even: a 7-pixel margin gives 4, a 5-pixel one 2).
    public struct CenterCropPlan: Equatable, Sendable {
        public var padLeft: Int, padTop: Int, padRight: Int, padBottom: Int
        /// Crop origin in the padded image.
        public var left: Int, top: Int

        public init(padLeft: Int, padTop: Int, padRight: Int, padBottom: Int, left: Int, top: Int) {
            self.padLeft = padLeft; self.padTop = padTop; self.padRight = padRight; self.padBottom = padBottom
            self.left = left; self.top = top
        }
    }

    /// The plan for center-cropping a `width`×`height` image to `cropWidth`×`cropHeight`.
    public static func centerCropPlan(width: Int, height: Int, cropWidth: Int,
                                      cropHeight: Int) throws(StalwartError) -> CenterCropPlan {
        guard width >= 1, height >= 1 else { throw .invalidArgument("image size \(width)×\(height) must be at least 1×1") }
        try Resize.checkSides(cropWidth, cropHeight, what: "center crop")
        var p = CenterCropPlan(padLeft: 0, padTop: 0, padRight: 0, padBottom: 0, left: 0, top: 0)
        if cropWidth > width {
            p.padLeft = (cropWidth - width) / 2
            p.padRight = (cropWidth - width + 1) / 2
        }
        if cropHeight > height {
            p.padTop = (cropHeight - height) / 2
            p.padBottom = (cropHeight - height + 1) / 2
        }
        let w = width + p.padLeft + p.padRight
        let h = height + p.padTop + p.padBottom
        p.left = Int((Double(w - cropWidth) / 2.0).rounded(.toNearestOrEven))
        p.top = Int((Double(h - cropHeight) / 2.0).rounded(.toNearestOrEven))
        return p
    }

    /// torchvision `CenterCrop((height, width))`: see `CenterCropPlan`; padding is zeros.
    public static func centerCrop(_ image: Image, width: Int, height: Int) throws(StalwartError) -> Image {
        let p = try centerCropPlan(width: image.width, height: image.height, cropWidth: width, cropHeight: height)
        var img = image
        if p.padLeft + p.padTop + p.padRight + p.padBottom > 0 {
            img = try pad(image, top: p.padTop, left: p.padLeft, bottom: p.padBottom, right: p.padRight)
        }
        if img.width == width && img.height == height { return img }
        return try crop(img, x: p.left, y: p.top, width: width, height: height)
    }

    /// `centerCrop` for float images (zero padding).
    public static func centerCrop(_ image: FloatImage, width: Int, height: Int) throws(StalwartError) -> FloatImage {
        let p = try centerCropPlan(width: image.width, height: image.height, cropWidth: width, cropHeight: height)
        var img = image
        if p.padLeft + p.padTop + p.padRight + p.padBottom > 0 {
            img = try pad(image, top: p.padTop, left: p.padLeft, bottom: p.padBottom, right: p.padRight)
        }
        if img.width == width && img.height == height { return img }
        return try crop(img, x: p.left, y: p.top, width: width, height: height)
    }

    /// The `width`×`height` rectangle at (`x`, `y`), which must lie inside the image.
    public static func crop(_ image: Image, x: Int, y: Int, width: Int, height: Int) throws(StalwartError) -> Image {
        try checkRect(x: x, y: y, width: width, height: height, imageWidth: image.width, imageHeight: image.height)
        if x == 0 && y == 0 && width == image.width && height == image.height { return image }
        let px = GeometryCopy.crop(image.pixels, width: image.width, channels: image.channels,
                                   x: x, y: y, cropWidth: width, cropHeight: height)
        return try Image(width: width, height: height, channels: image.channels, pixels: px)
    }

    /// `crop` for float images.
    public static func crop(_ image: FloatImage, x: Int, y: Int, width: Int, height: Int) throws(StalwartError) -> FloatImage {
        try checkRect(x: x, y: y, width: width, height: height, imageWidth: image.width, imageHeight: image.height)
        if x == 0 && y == 0 && width == image.width && height == image.height { return image }
        let px = GeometryCopy.crop(image.pixels, width: image.width, channels: image.channels,
                                   x: x, y: y, cropWidth: width, cropHeight: height)
        return try FloatImage(width: width, height: height, channels: image.channels, pixels: px)
    }

    /// Removes `pixels` rows/columns on every side (ObjectNet's 1-pixel red border: `pixels: 1`).
    /// At least one pixel must remain in each direction.
    public static func borderCrop(_ image: Image, pixels: Int) throws(StalwartError) -> Image {
        let (w, h) = try borderCropSize(image.width, image.height, pixels)
        return try crop(image, x: pixels, y: pixels, width: w, height: h)
    }

    /// `borderCrop` for float images.
    public static func borderCrop(_ image: FloatImage, pixels: Int) throws(StalwartError) -> FloatImage {
        let (w, h) = try borderCropSize(image.width, image.height, pixels)
        return try crop(image, x: pixels, y: pixels, width: w, height: h)
    }

    /// Adds constant borders (torchvision `pad(…, fill=value, padding_mode="constant")`); every
    /// channel of a border pixel is `value`. Paddings must be ≥ 0 and the result ≤ `Resize.maxSide`
    /// per side.
    public static func pad(_ image: Image, top: Int, left: Int, bottom: Int, right: Int,
                           value: UInt8 = 0) throws(StalwartError) -> Image {
        let (w, h) = try paddedSize(image.width, image.height, top, left, bottom, right)
        let px = GeometryCopy.pad(image.pixels, width: image.width, height: image.height, channels: image.channels,
                                  top: top, left: left, newWidth: w, newHeight: h, value: value)
        return try Image(width: w, height: h, channels: image.channels, pixels: px)
    }

    /// `pad` for float images.
    public static func pad(_ image: FloatImage, top: Int, left: Int, bottom: Int, right: Int,
                           value: Float = 0) throws(StalwartError) -> FloatImage {
        let (w, h) = try paddedSize(image.width, image.height, top, left, bottom, right)
        let px = GeometryCopy.pad(image.pixels, width: image.width, height: image.height, channels: image.channels,
                                  top: top, left: left, newWidth: w, newHeight: h, value: value)
        return try FloatImage(width: w, height: h, channels: image.channels, pixels: px)
    }

    // MARK: Checks

    static func checkRect(x: Int, y: Int, width: Int, height: Int, imageWidth: Int, imageHeight: Int) throws(StalwartError) {
        guard width >= 1, height >= 1, x >= 0, y >= 0,
              x <= imageWidth, y <= imageHeight,
              width <= imageWidth - x, height <= imageHeight - y else {
            throw .invalidArgument("crop \(width)×\(height) at (\(x), \(y)) does not lie inside the \(imageWidth)×\(imageHeight) image")
        }
    }

    static func borderCropSize(_ w: Int, _ h: Int, _ pixels: Int) throws(StalwartError) -> (Int, Int) {
        guard pixels >= 0, pixels <= Resize.maxSide, 2 * pixels < w, 2 * pixels < h else {
            throw .invalidArgument("cannot remove \(pixels) px on every side of a \(w)×\(h) image")
        }
        return (w - 2 * pixels, h - 2 * pixels)
    }

    static func paddedSize(_ w: Int, _ h: Int, _ top: Int, _ left: Int, _ bottom: Int, _ right: Int) throws(StalwartError) -> (Int, Int) {
        guard top >= 0, left >= 0, bottom >= 0, right >= 0,
              top <= Resize.maxSide, left <= Resize.maxSide, bottom <= Resize.maxSide, right <= Resize.maxSide,
              w <= Resize.maxSide, h <= Resize.maxSide else {
            throw .invalidArgument("padding (top \(top), left \(left), bottom \(bottom), right \(right)) of a \(w)×\(h) image must be within 0…\(Resize.maxSide)")
        }
        let nw = w + left + right, nh = h + top + bottom
        guard nw <= Resize.maxSide, nh <= Resize.maxSide else {
            throw .invalidArgument("padded size \(nw)×\(nh) exceeds \(Resize.maxSide) px per side")
        }
        return (nw, nh)
    }
}

/// Row copies shared by the 8-bit and float geometry functions. Callers validate rectangles.
enum GeometryCopy {
    static func crop<T>(_ src: [T], width: Int, channels c: Int, x: Int, y: Int,
                        cropWidth: Int, cropHeight: Int) -> [T] {
        let rowLen = cropWidth * c
        let srcStride = width * c
        return [T](unsafeUninitializedCapacity: rowLen * cropHeight) { buf, initialized in
            initialized = src.withUnsafeBufferPointer { s -> Int in
                guard let sp = s.baseAddress, let dp = buf.baseAddress else { return 0 }
                for r in 0..<cropHeight {
                    (dp + r * rowLen).initialize(from: sp + (y + r) * srcStride + x * c, count: rowLen)
                }
                return rowLen * cropHeight
            }
        }
    }

    static func pad<T>(_ src: [T], width: Int, height: Int, channels c: Int, top: Int, left: Int,
                       newWidth: Int, newHeight: Int, value: T) -> [T] {
        var out = [T](repeating: value, count: newWidth * newHeight * c)
        let rowLen = width * c
        out.withUnsafeMutableBufferPointer { d in
            src.withUnsafeBufferPointer { s in
                guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                for r in 0..<height {
                    (dp + ((top + r) * newWidth + left) * c).update(from: sp + r * rowLen, count: rowLen)
                }
            }
        }
        return out
    }
}
