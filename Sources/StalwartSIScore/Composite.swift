import StalwartPreprocess
import StalwartTensor

/// One SI-Score composite: an object pasted onto a background (google-research/si-score
/// `dataset_generator.py`, reproduced pixel for pixel with Pillow 13's algorithms).
public struct SIScoreComposite: Sendable {
    /// The RGB composite, the size of the (prepared) background.
    public var image: Image
    /// Fraction of the object's (rotated) bounding box inside the canvas, unrounded (the
    /// metadata stores it rounded to 4 decimals).
    public var pctInside: Double
    /// Top-left corner of the pasted object in canvas pixels (may be negative).
    public var left: Int
    public var top: Int
    /// Size of the resized and rotated object.
    public var objectWidth: Int
    public var objectHeight: Int
}

/// Where and how big an object lands, computed without touching pixels.
public struct SIScorePlacement: Sendable, Equatable {
    /// Size after the area resize (before rotation).
    public var resizedWidth: Int
    public var resizedHeight: Int
    /// Size after rotation (the expanded canvas).
    public var width: Int
    public var height: Int
    public var left: Int
    public var top: Int
    /// Bounding-box fraction inside the canvas (unrounded).
    public var pctInside: Double
}

public enum SIScoreCompositor {
    /// The generator's background preparation (`_preprocess_background`): the largest
    /// top-left square, resized with Pillow's bilinear filter to `resolution`×`resolution` when
    /// given and different (nil keeps the square's size). Gray/RGBA inputs are converted to RGB
    /// first (alpha dropped, as Pillow's `convert("RGB")`).
    public static func prepareBackground(_ image: Image, resolution: Int?) throws -> Image {
        if let r = resolution, !(1...Resize.maxSide).contains(r) {
            throw StalwartError.invalidArgument("background resolution must be 1...\(Resize.maxSide), got \(r)")
        }
        let rgb = image.channels == 3 ? image : try image.converted(channels: 3)
        let side = min(rgb.width, rgb.height)
        var square = rgb
        if rgb.width != rgb.height {
            square = try Image(width: side, height: side, channels: 3)
            let rowBytes = side * 3
            rgb.pixels.withUnsafeBufferPointer { s in
                square.pixels.withUnsafeMutableBufferPointer { d in
                    guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                    for y in 0..<side { (dp + y * rowBytes).update(from: sp + y * rgb.width * 3, count: rowBytes) }
                }
            }
        }
        guard let r = resolution, r != side else { return square }
        return try Resize.resize(square, width: r, height: r, filter: .bilinear)
    }

    /// The size `resize_fg` gives a `width`×`height` object so that its bounding box covers
    /// `area` of a `bgWidth`×`bgHeight` background: `int(w·f)`×`int(h·f)` with
    /// `f = sqrt(area / (w·h / (bgW·bgH)))`.
    public static func resizedSize(width: Int, height: Int, bgWidth: Int, bgHeight: Int, area: Double) throws -> (Int, Int) {
        try checkArea(area)
        guard width >= 1, height >= 1, bgWidth >= 1, bgHeight >= 1 else {
            throw StalwartError.invalidArgument("foreground and background must be at least 1×1")
        }
        let ratio = Double(width * height) / Double(bgWidth * bgHeight)
        let f = (area / ratio).squareRoot()
        let w = Double(width) * f, h = Double(height) * f
        guard w >= 1, h >= 1 else {
            throw StalwartError.invalidArgument("area \(area) shrinks the \(width)×\(height) foreground below one pixel on a \(bgWidth)×\(bgHeight) background")
        }
        guard w <= Double(Resize.maxSide), h <= Double(Resize.maxSide) else {
            throw StalwartError.invalidArgument("area \(area) makes the \(width)×\(height) foreground larger than \(Resize.maxSide) px")
        }
        return (Int(w), Int(h))
    }

    /// Pillow's `resize(size, BILINEAR)` of an RGBA image: premultiplied (RGBa), resampled,
    /// un-premultiplied — `Resize.resize` of the 4-channel image does exactly that.
    static func resizeRGBA(_ fg: Image, width: Int, height: Int, pool: ThreadPool? = nil) throws -> Image {
        if width == fg.width && height == fg.height { return fg }
        return try Resize.resize(fg, width: width, height: height, filter: .bilinear, pool: pool)
    }

    /// The pool one `composite` call spreads its resize and rotation rows over (one thread per
    /// core; a call made while it is busy runs on the calling thread). The generator renders
    /// whole images in parallel instead and passes no pool.
    static let pool = ThreadPool(threads: 0)

    static func checkArea(_ area: Double) throws {
        guard area.isFinite, area > 0, area <= 1 else {
            throw StalwartError.invalidArgument("area must be in (0, 1] (fraction of the background), got \(area)")
        }
    }

    static func checkCentre(_ x: Double, _ y: Double) throws {
        guard x.isFinite, y.isFinite, (0...1).contains(x), (0...1).contains(y) else {
            throw StalwartError.invalidArgument("object centre (x, y) must be in [0, 1]², got (\(x), \(y))")
        }
    }

    /// Where a `width`×`height` foreground lands: resized for `area`, rotated by `angle`
    /// degrees counter-clockwise (expanded canvas), centred at `(int(x·W), int(y·H))`
    /// (`calc_top_left_coordinates`), and the bounding-box fraction inside the canvas
    /// (`calc_pct_inside_image`).
    public static func placement(width: Int, height: Int, bgWidth: Int, bgHeight: Int,
                                 area: Double, x: Double, y: Double, angle: Double) throws -> SIScorePlacement {
        try checkCentre(x, y)
        guard angle.isFinite else { throw StalwartError.invalidArgument("rotation angle must be finite, got \(angle)") }
        let (rw, rh) = try resizedSize(width: width, height: height, bgWidth: bgWidth, bgHeight: bgHeight, area: area)
        let rot = PillowRotation(width: rw, height: rh, degrees: angle)
        let cx = Int(x * Double(bgWidth)), cy = Int(y * Double(bgHeight))
        let left = Int(Double(cx) - Double(rot.width) * 0.5)
        let top = Int(Double(cy) - Double(rot.height) * 0.5)
        let inW = min(left + rot.width, bgWidth) - max(left, 0)
        let inH = min(top + rot.height, bgHeight) - max(top, 0)
        let pct = Double(inW * inH) / Double(rot.width * rot.height)
        return SIScorePlacement(resizedWidth: rw, resizedHeight: rh, width: rot.width, height: rot.height,
                                left: left, top: top, pctInside: pct)
    }

    /// Composites `foreground` (RGBA; 3-channel images are treated as opaque, 1-channel as gray
    /// opaque) onto a prepared RGB `background` (see `prepareBackground`): resize (bilinear, on
    /// premultiplied alpha as Pillow), rotate (bicubic, expanded), paste with the alpha mask.
    /// `area` ∈ (0, 1], `x`, `y` ∈ [0, 1], `angle` in degrees counter-clockwise.
    /// With `parallel` (the default) the resize and rotation rows run on `SIScoreCompositor.pool`,
    /// else on the calling thread; the pixels are the same either way.
    /// Thread-safe (pure function).
    public static func composite(foreground: Image, background: Image, area: Double, x: Double, y: Double,
                                 angle: Double, parallel: Bool = true) throws -> SIScoreComposite {
        let bg = background.channels == 3 ? background : try background.converted(channels: 3)
        let p = try placement(width: foreground.width, height: foreground.height, bgWidth: bg.width, bgHeight: bg.height,
                              area: area, x: x, y: y, angle: angle)
        let rotated = try transformedObject(foreground, placement: p, angle: angle, pool: parallel ? pool : nil)
        return try paste(rotated, onto: bg, placement: p)
    }

    /// The object resized for the placement and rotated (RGBA): the part of `composite` that
    /// depends only on (object, area, angle, background size), cacheable across centres and
    /// backgrounds. Rows are spread over `pool` when given.
    static func transformedObject(_ foreground: Image, placement p: SIScorePlacement, angle: Double,
                                  pool: ThreadPool? = nil) throws -> Image {
        try PillowOps.rotate(try resizedObject(foreground, placement: p, pool: pool), degrees: angle, pool: pool)
    }

    /// The object as RGBA, resized for the placement (the first half of `transformedObject`).
    static func resizedObject(_ foreground: Image, placement p: SIScorePlacement, pool: ThreadPool? = nil) throws -> Image {
        let fg = foreground.channels == 4 ? foreground : try foreground.converted(channels: 4)
        return try resizeRGBA(fg, width: p.resizedWidth, height: p.resizedHeight, pool: pool)
    }

    /// Pastes a transformed object onto an RGB background at the placement.
    static func paste(_ rotated: Image, onto bg: Image, placement p: SIScorePlacement) throws -> SIScoreComposite {
        var out = bg
        PillowOps.paste(rotated, onto: &out, left: p.left, top: p.top)
        return SIScoreComposite(image: out, pctInside: p.pctInside, left: p.left, top: p.top,
                                objectWidth: rotated.width, objectHeight: rotated.height)
    }
}
