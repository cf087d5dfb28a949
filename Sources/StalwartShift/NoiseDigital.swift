import StalwartTensor

// PLACEHOLDER: to be replaced by the implementations (issue 4).
extension Corruptions {
    static func gaussianNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("gaussianNoise is not implemented yet") }
    static func shotNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("shotNoise is not implemented yet") }
    static func impulseNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("impulseNoise is not implemented yet") }
    static func speckleNoise(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("speckleNoise is not implemented yet") }
    static func brightness(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("brightness is not implemented yet") }
    static func contrast(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("contrast is not implemented yet") }
    static func saturate(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("saturate is not implemented yet") }
    static func pixelate(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("pixelate is not implemented yet") }
    static func jpegCompression(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("jpegCompression is not implemented yet") }
}
