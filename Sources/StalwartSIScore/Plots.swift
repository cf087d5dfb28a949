// PNG plots of SI-Score results for the CLI: a tiny RGB rasterizer with a 5×7 bitmap font
// (upper-case letters, digits and a few symbols; lower-case text is drawn upper-case).
import StalwartImageIO
import StalwartTensor

/// An RGB drawing surface (clipped: drawing outside the canvas is ignored).
struct Canvas {
    var image: Image
    var width: Int { image.width }
    var height: Int { image.height }

    init(width: Int, height: Int) throws {
        image = try Image(width: width, height: height, channels: 3, pixels: [UInt8](repeating: 255, count: width * height * 3))
    }

    mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let o = (y * width + x) * 3
        image.pixels[o] = c.0; image.pixels[o + 1] = c.1; image.pixels[o + 2] = c.2
    }

    mutating func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: (UInt8, UInt8, UInt8)) {
        for y in max(0, y0)..<max(max(0, y0), min(height, y1)) {
            for x in max(0, x0)..<max(max(0, x0), min(width, x1)) { set(x, y, c) }
        }
    }

    /// A line of `thickness` px (square brush), Bresenham.
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: (UInt8, UInt8, UInt8), thickness: Int = 1) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        let h = thickness / 2
        var steps = 0
        while steps < 100_000 {
            steps += 1
            fill(x - h, y - h, x - h + thickness, y - h + thickness, c)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// Text with its top-left at (x, y), glyphs 5×7 scaled by `scale` with 1-px spacing.
    mutating func text(_ s: String, _ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8) = (0, 0, 0), scale: Int = 2) {
        var cx = x
        for ch in s.uppercased() {
            let rows = Font.glyph(ch)
            for (r, bits) in rows.enumerated() {
                for col in 0..<5 where bits & (0x10 >> col) != 0 {
                    fill(cx + col * scale, y + r * scale, cx + (col + 1) * scale, y + (r + 1) * scale, c)
                }
            }
            cx += 6 * scale
        }
    }

    static func textWidth(_ s: String, scale: Int = 2) -> Int { s.count * 6 * scale - scale }
}

enum Font {
    static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "A": [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11], "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], "D": [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        "E": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        "G": [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], "H": [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], "J": [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], "N": [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        "O": [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        "Q": [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], "T": [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        "U": [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "V": [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        "W": [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        "Y": [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04], "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        " ": [0, 0, 0, 0, 0, 0, 0], ".": [0, 0, 0, 0, 0, 0x0C, 0x0C], ",": [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        ":": [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0], "-": [0, 0, 0, 0x1F, 0, 0, 0],
        "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], "/": [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
        "=": [0, 0, 0x1F, 0, 0x1F, 0, 0], "+": [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0],
        "_": [0, 0, 0, 0, 0, 0, 0x1F], "?": [0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
    ]

    static func glyph(_ c: Character) -> [UInt8] {
        if let g = glyphs[c] { return g }
        switch c {
        case "×": return glyphs["X"] ?? []
        case "·": return glyphs["."] ?? []
        case "°": return [0x0C, 0x12, 0x12, 0x0C, 0, 0, 0]
        default: return glyphs["?"] ?? []
        }
    }
}

/// PNG charts of `SIScoreScores` (written by `stalwart siscore eval --plots`).
public enum SIScorePlots {
    static let top1Color: (UInt8, UInt8, UInt8) = (31, 119, 180)
    static let top5Color: (UInt8, UInt8, UInt8) = (255, 127, 14)
    static let gridColor: (UInt8, UInt8, UInt8) = (225, 225, 225)

    static func label(_ v: Double) -> String {
        if v == v.rounded() { return String(Int(v)) }
        let s = SIScoreScores.fixed2(PyMath.round(v, 2))
        return s.hasSuffix("0") ? String(s.dropLast()) : s
    }

    /// Tick values in [lo, hi]: multiples of 45° for angle-like ranges (> 90), else of
    /// 1, 2, 2.5 or 5 × 10^k, about five of them.
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let range = hi - lo
        guard range > 0, range.isFinite else { return [lo] }
        var step: Double
        if range > 90 && range <= 720 {
            step = range > 360 ? 90 : range > 180 ? 90 : 45
        } else {
            let rough = range / 5
            var mag = 1.0
            while mag * 10 <= rough { mag *= 10 }
            while mag > rough { mag /= 10 }
            step = [1, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= rough } ?? 10 * mag
        }
        var out: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 && out.count < 50 { out.append(PyMath.round(v, 10)); v += step }
        return out
    }

    /// Top-1 and top-5 (%) against a factor's values (area or angle) as a PNG (640×420 RGB).
    public static func curvePNG(_ points: [SIScorePoint], title: String, xLabel: String) throws -> [UInt8] {
        var cv = try Canvas(width: 640, height: 420)
        let (l, r, t, b) = (70, 610, 50, 360)
        let xs = points.map(\.x)
        let lo = min(xs.min() ?? 0, 0), hi0 = xs.max() ?? 1
        let hi = hi0 > lo ? hi0 : lo + 1
        func px(_ v: Double) -> Int { l + Int(((v - lo) / (hi - lo) * Double(r - l)).rounded()) }
        func py(_ v: Double) -> Int { b - Int((min(max(v, 0), 1) * Double(b - t)).rounded()) }
        for k in 0...5 {
            let v = Double(k) / 5
            cv.line(l, py(v), r, py(v), gridColor)
            let s = String(k * 20)
            cv.text(s, l - 8 - Canvas.textWidth(s), py(v) - 7)
        }
        for v in niceTicks(lo, hi) {
            cv.line(px(v), b, px(v), b + 6, (0, 0, 0))
            let s = label(v)
            cv.text(s, px(v) - Canvas.textWidth(s) / 2, b + 12)
        }
        cv.line(l, t, l, b, (0, 0, 0)); cv.line(l, b, r, b, (0, 0, 0))
        for (sel, color) in [(false, top5Color), (true, top1Color)] {
            var prev: (Int, Int)?
            for p in points {
                let q = (px(p.x), py(sel ? p.top1 : p.top5))
                if let pr = prev { cv.line(pr.0, pr.1, q.0, q.1, color, thickness: 3) }
                cv.fill(q.0 - 3, q.1 - 3, q.0 + 4, q.1 + 4, color)
                prev = q
            }
        }
        cv.text(title, (640 - Canvas.textWidth(title)) / 2, 16)
        cv.text(xLabel, (l + r - Canvas.textWidth(xLabel)) / 2, b + 40)
        cv.text("%", 20, (t + b) / 2 - 7)
        cv.fill(r - 150, t + 8, r - 130, t + 14, top1Color); cv.text("TOP-1", r - 122, t + 4)
        cv.fill(r - 150, t + 30, r - 130, t + 36, top5Color); cv.text("TOP-5", r - 122, t + 26)
        return try ImageCodec.encodePNG(cv.image)
    }

    /// Viridis-like colour of a value in [0, 1].
    static func ramp(_ v: Double) -> (UInt8, UInt8, UInt8) {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let t = min(max(v.isFinite ? v : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(t), stops.count - 2), f = t - Double(i)
        let a = stops[i], c = stops[i + 1]
        func mix(_ p: Double, _ q: Double) -> UInt8 { UInt8(min(255, max(0, (p + (q - p) * f).rounded()))) }
        return (mix(a.0, c.0), mix(a.1, c.1), mix(a.2, c.2))
    }

    /// The location heatmap of top-1 (%) as a PNG (560×520 RGB): x to the right, y downwards
    /// (image coordinates, as the object centres), one cell per (x, y) group.
    public static func heatmapPNG(_ points: [SIScorePoint], title: String) throws -> [UInt8] {
        var cv = try Canvas(width: 560, height: 520)
        let xs = Array(Set(points.map(\.x))).sorted(), ys = Array(Set(points.compactMap(\.y))).sorted()
        let (l, t, side) = (70, 60, 400)
        guard !xs.isEmpty, !ys.isEmpty else { return try ImageCodec.encodePNG(cv.image) }
        let cw = Double(side) / Double(xs.count), ch = Double(side) / Double(ys.count)
        var xi: [Double: Int] = [:], yi: [Double: Int] = [:]
        for (i, v) in xs.enumerated() { xi[v] = i }
        for (i, v) in ys.enumerated() { yi[v] = i }
        cv.fill(l, t, l + side, t + side, (200, 200, 200))
        for p in points {
            guard let i = xi[p.x], let j = yi[p.y ?? .nan] else { continue }
            cv.fill(l + Int(Double(i) * cw), t + Int(Double(j) * ch), l + Int(Double(i + 1) * cw), t + Int(Double(j + 1) * ch), ramp(p.top1))
        }
        for (k, v) in [xs.first, xs.last].compactMap({ $0 }).enumerated() {
            let s = label(v), x = k == 0 ? l : l + side - Canvas.textWidth(s)
            cv.text(s, x, t + side + 8)
        }
        for (k, v) in [ys.first, ys.last].compactMap({ $0 }).enumerated() {
            let s = label(v)
            cv.text(s, l - 8 - Canvas.textWidth(s), k == 0 ? t : t + side - 14)
        }
        cv.text("X", l + side / 2 - 5, t + side + 8)
        cv.text("Y", l - 30, t + side / 2 - 7)
        for k in 0..<side { cv.line(l + side + 20, t + side - 1 - k, l + side + 40, t + side - 1 - k, ramp(Double(k) / Double(side - 1))) }
        cv.text("100", l + side + 44, t)
        cv.text("0", l + side + 44, t + side - 14)
        cv.text(title, (560 - Canvas.textWidth(title)) / 2, 20)
        return try ImageCodec.encodePNG(cv.image)
    }
}
