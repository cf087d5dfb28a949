import Glibc
import StalwartTensor

/// Maps ONNX op types (default domain) to prepared operators. The one place that lists what
/// Stalwart supports.
public enum OperatorRegistry {
    typealias Builder = (OpBuildContext) throws -> Operator

    static func unary(_ name: String, allowsInt: Bool = false, _ f: @escaping (Float) -> Float) -> Builder {
        { _ in UnaryOp(name, allowsInt: allowsInt, f) }
    }

    /// Clip: bounds from attributes (opset < 11) or constant inputs become a fusable
    /// activation; run-time bounds are read per call.
    static func clip(_ ctx: OpBuildContext) throws -> Operator {
        if ctx.opset < 11 {
            return ActivationOp(.clip(min: try ctx.attrs.float("min", default: -.greatestFiniteMagnitude),
                                      max: try ctx.attrs.float("max", default: .greatestFiniteMagnitude)), node: ctx.node)
        }
        let lo = ctx.hasInput(1) ? ctx.constant(1) : nil, hi = ctx.hasInput(2) ? ctx.constant(2) : nil
        if (lo != nil || !ctx.hasInput(1)) && (hi != nil || !ctx.hasInput(2)) && (lo?.dtype ?? .float32) == .float32 && (hi?.dtype ?? .float32) == .float32 {
            return ActivationOp(.clip(min: lo.map { $0.floats[0] } ?? -.infinity, max: hi.map { $0.floats[0] } ?? .infinity), node: ctx.node)
        }
        return ActivationOp(nil, node: ctx.node)
    }

    static let builders: [String: Builder] = [
        "Conv": { try ConvOp($0) },
        "Gemm": { try GemmOp($0) },
        "MatMul": { _ in MatMulOp() },
        "BatchNormalization": { try BatchNormOp($0) },
        "InstanceNormalization": { try NormOp($0, group: false) },
        "GroupNormalization": { try NormOp($0, group: true) },
        "LRN": { try LRNOp($0) },
        "MaxPool": { try PoolOp($0, kind: .max) },
        "AveragePool": { ctx in try PoolOp(ctx, kind: .average(countIncludePad: try ctx.attrs.int("count_include_pad", default: 0) != 0)) },
        "LpPool": { ctx in try PoolOp(ctx, kind: .lp(p: try ctx.attrs.int("p", default: 2))) },
        "GlobalAveragePool": { _ in GlobalPoolOp(max: false) },
        "GlobalMaxPool": { _ in GlobalPoolOp(max: true) },
        "Softmax": { try SoftmaxOp($0, log: false) },
        "LogSoftmax": { try SoftmaxOp($0, log: true) },
        "ReduceMean": { try ReduceOp($0, kind: .mean, inputAxesSince: 18) },
        "ReduceSum": { try ReduceOp($0, kind: .sum, inputAxesSince: 13) },
        "ReduceMax": { try ReduceOp($0, kind: .max, inputAxesSince: 18) },
        "ReduceMin": { try ReduceOp($0, kind: .min, inputAxesSince: 18) },
        "ReduceProd": { try ReduceOp($0, kind: .prod, inputAxesSince: 18) },
        "ReduceL1": { try ReduceOp($0, kind: .l1, inputAxesSince: 18) },
        "ReduceL2": { try ReduceOp($0, kind: .l2, inputAxesSince: 18) },
        "ReduceLogSumExp": { try ReduceOp($0, kind: .logSumExp, inputAxesSince: 18) },
        "ReduceSumSquare": { try ReduceOp($0, kind: .sumSquare, inputAxesSince: 18) },
        "ArgMax": { try ArgOp($0, max: true) },
        "ArgMin": { try ArgOp($0, max: false) },
        "Resize": { try ResizeOp($0, upsample: false) },
        "Upsample": { try ResizeOp($0, upsample: true) },

        "Add": { _ in BinaryOp(.add) }, "Sub": { _ in BinaryOp(.sub) },
        "Mul": { _ in BinaryOp(.mul) }, "Div": { _ in BinaryOp(.div) },
        "Pow": { _ in BinaryOp(.pow) }, "PRelu": { _ in BinaryOp(.prelu) },
        "Equal": { _ in BinaryOp(.equal) }, "Less": { _ in BinaryOp(.less) },
        "Greater": { _ in BinaryOp(.greater) }, "LessOrEqual": { _ in BinaryOp(.lessOrEqual) },
        "GreaterOrEqual": { _ in BinaryOp(.greaterOrEqual) },
        "And": { _ in BinaryOp(.and) }, "Or": { _ in BinaryOp(.or) },
        "Sum": { _ in VariadicOp(.add) }, "Mean": { _ in VariadicOp(.add, mean: true) },
        "Max": { _ in VariadicOp(.max) }, "Min": { _ in VariadicOp(.min) },
        "Where": { _ in WhereOp() },

        "Relu": { ActivationOp(.relu, node: $0.node) },
        "LeakyRelu": { ActivationOp(.leakyRelu(alpha: try $0.attrs.float("alpha", default: 0.01)), node: $0.node) },
        "HardSigmoid": { ActivationOp(.hardSigmoid(alpha: try $0.attrs.float("alpha", default: 0.2), beta: try $0.attrs.float("beta", default: 0.5)), node: $0.node) },
        "HardSwish": { ActivationOp(.hardSwish, node: $0.node) },
        "Sigmoid": { ActivationOp(.sigmoid, node: $0.node) },
        "Clip": clip,
        "Tanh": unary("Tanh") { tanhf($0) },
        "Erf": unary("Erf") { erff($0) },
        "Sqrt": unary("Sqrt") { sqrtf($0) },
        "Exp": unary("Exp") { expf($0) },
        "Log": unary("Log") { logf($0) },
        "Neg": unary("Neg", allowsInt: true) { -$0 },
        "Abs": unary("Abs", allowsInt: true) { abs($0) },
        "Reciprocal": unary("Reciprocal") { 1 / $0 },
        "Floor": unary("Floor") { floorf($0) },
        "Ceil": unary("Ceil") { ceilf($0) },
        "Softplus": unary("Softplus") { $0 > 20 ? $0 : log1pf(expf($0)) },
        "Softsign": unary("Softsign") { $0 / (1 + abs($0)) },
        "Elu": { ctx in let a = try ctx.attrs.float("alpha", default: 1); return UnaryOp("Elu") { $0 >= 0 ? $0 : a * (expf($0) - 1) } },
        "Selu": { ctx in
            let a = try ctx.attrs.float("alpha", default: 1.67326319217681884765625)
            let g = try ctx.attrs.float("gamma", default: 1.05070102214813232421875)
            return UnaryOp("Selu") { $0 > 0 ? g * $0 : g * (a * expf($0) - a) }
        },

        "Reshape": { ViewOp(.reshape(allowZero: try $0.attrs.int("allowzero", default: 0) != 0)) },
        "Flatten": { ViewOp(.flatten(axis: try $0.attrs.int("axis", default: 1))) },
        "Squeeze": { ctx in ViewOp(.squeeze(ctx.opset < 13 ? try ctx.attrs.ints("axes") : nil)) },
        "Unsqueeze": { ctx in ViewOp(.unsqueeze(ctx.opset < 13 ? try ctx.attrs.ints("axes") ?? [] : nil)) },
        "Identity": { _ in ViewOp(.identity) },
        "Dropout": { ctx in
            if try ctx.attrs.int("training_mode", default: 0) != 0 { throw ctx.unsupported("training_mode=1") }
            return ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty ? DropoutWithMaskOp() : ViewOp(.identity)
        },
        "Shape": { ShapeOp(start: try $0.attrs.int("start"), end: try $0.attrs.int("end")) },
        "Size": { _ in ShapeOp(start: nil, end: nil, size: true) },
        "ConstantOfShape": { try ConstantOfShapeOp($0) },
        "Cast": { try CastOp($0) },
        "Range": { _ in RangeOp() },
        "Transpose": { try TransposeOp($0) },
        "Concat": { try ConcatOp($0) },
        "Split": { try SplitOp($0) },
        "Slice": { try SliceOp($0) },
        "Pad": { try PadOp($0) },
        "Gather": { try GatherOp($0) },
        "Expand": { _ in ExpandOp(tile: false) },
        "Tile": { _ in ExpandOp(tile: true) },
    ]

    /// Every supported op type, sorted (Constant is folded at load and also supported).
    public static var supportedOps: [String] { (Array(builders.keys) + ["Constant"]).sorted() }

    static func make(_ node: IRNode, opset: Int, constants: [String: Tensor]) throws -> Operator {
        guard let b = builders[node.opType] else {
            throw StalwartError.unsupported("\(node.label): operator '\(node.opType)' is not supported")
        }
        do {
            return try b(OpBuildContext(node: node, opset: opset, constants: constants))
        } catch let e as StalwartError {
            throw e.message.contains(node.label) ? e : e.context(node.label)
        } catch {
            throw StalwartError.outOfMemory("\(node.label): \(error)")
        }
    }
}
