import Glibc

/// A resampling filter, named and defined as in Pillow (`PIL.Image.Resampling`).
///
/// Each filter is a kernel w(x) of the distance x between an output sample centre and an input
/// pixel centre, measured in input pixels (in output pixels, i.e. stretched by the scale
/// factor, when downscaling with antialiasing). Its support radius at scale 1 is `support`.
public enum ResizeFilter: String, Sendable, CaseIterable {
    /// Pillow's nearest neighbour: the input pixel containing the output sample centre
    /// (no kernel, no antialiasing).
    case nearest
    /// Triangle ("tent") kernel, support 1.
    case bilinear
    /// Keys cubic convolution with a = −0.5 (Pillow's BICUBIC), support 2.
    case bicubic
    /// Box kernel: 1 on (−0.5, 0.5], support 0.5 (area averaging on downscale).
    case box
    /// Lanczos-3 (sinc windowed by sinc), support 3.
    case lanczos
    /// Sinc windowed by a Hamming window, support 1.
    case hamming

    /// The support radius at scale 1, in input pixels (Pillow's `struct filter.support`).
    /// Nearest neighbour has no kernel; it reports 0.
    public var support: Double {
        switch self {
        case .nearest: return 0
        case .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The kernel value at distance `x`, in double precision with the same operation order as
    /// Pillow's `Resample.c`, so coefficient tables round to the same fixed-point integers.
    /// (Hamming's window constants are the `float` literals 0.54f and 0.46f there, widened to
    /// double; they are reproduced as such.)
    @inline(__always)
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest, .box:
            return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0
        case .bilinear:
            let a = x < 0 ? -x : x
            return a < 1.0 ? 1.0 - a : 0.0
        case .hamming:
            var a = x < 0 ? -x : x
            if a == 0.0 { return 1.0 }
            if a >= 1.0 { return 0.0 }
            a = a * Double.pi
            return sin(a) / a * (Double(Float(0.54)) + Double(Float(0.46)) * cos(a))
        case .bicubic:
            let c = -0.5
            let a = x < 0 ? -x : x
            if a < 1.0 { return ((c + 2.0) * a - (c + 3.0)) * a * a + 1 }
            if a < 2.0 { return (((a - 5) * a + 8) * a - 4) * c }
            return 0.0
        case .lanczos:
            if -3.0 <= x && x < 3.0 { return ResizeFilter.sinc(x) * ResizeFilter.sinc(x / 3) }
            return 0.0
        }
    }

    @inline(__always)
    static func sinc(_ x: Double) -> Double {
        if x == 0.0 { return 1.0 }
        let y = x * Double.pi
        return sin(y) / y
    }
}
