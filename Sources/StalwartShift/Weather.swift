import StalwartTensor

// PLACEHOLDER: to be replaced by the implementations (issue 4).
extension Corruptions {
    static func snow(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("snow is not implemented yet") }
    static func frost(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("frost is not implemented yet") }
    static func fog(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("fog is not implemented yet") }
    static func spatter(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("spatter is not implemented yet") }
    static func elasticTransform(_ x: Image, _ ctx: CorruptionContext) throws -> Image { throw StalwartError.unsupported("elasticTransform is not implemented yet") }
}
