import StalwartTensor

// PLACEHOLDER: to be replaced by the implementations (issue 4).
extension Corruptions {
    static func defocusBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("defocusBlur is not implemented yet") }
    static func glassBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("glassBlur is not implemented yet") }
    static func motionBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("motionBlur is not implemented yet") }
    static func zoomBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("zoomBlur is not implemented yet") }
    static func gaussianBlur(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("gaussianBlur is not implemented yet") }
}
