/// Geometry of a 2-D convolution on NCHW tensors with OIHW weights.
/// Padding is explicit (auto_pad is resolved by the operator layer before packing).
public struct Conv2DGeometry: Sendable, Hashable {
    public var inChannels: Int
    public var outChannels: Int
    public var groups: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var dilationH: Int, dilationW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int

    public init(inChannels: Int, outChannels: Int, groups: Int = 1,
                kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1,
                dilationH: Int = 1, dilationW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
    }

    /// Output spatial size for an input of `h`×`w`; nil when the window does not fit
    /// (output would be empty or negative).
    /// Sizes whose arithmetic would overflow (a malformed model's dilation or padding of 2⁶²)
    /// also give nil.
    public func outputSize(h: Int, w: Int) -> (h: Int, w: Int)? {
        let limit = Int(Int32.max)
        let values = [h, w, kernelH, kernelW, strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight]
        guard values.allSatisfy({ $0 >= 0 && $0 <= limit }), strideH > 0, strideW > 0, kernelH > 0, kernelW > 0 else {
            return nil
        }
        // Every term now fits in 31 bits: no product or sum below can overflow 64 bits.
        let ekh = dilationH * (kernelH - 1) + 1
        let ekw = dilationW * (kernelW - 1) + 1
        let oh = (h + padTop + padBottom - ekh) / strideH + 1
        let ow = (w + padLeft + padRight - ekw) / strideW + 1
        guard h + padTop + padBottom >= ekh, w + padLeft + padRight >= ekw, oh > 0, ow > 0 else { return nil }
        return (oh, ow)
    }

    /// Input channels per group.
    public var groupInChannels: Int { inChannels / groups }
    /// Output channels per group.
    public var groupOutChannels: Int { outChannels / groups }
}
