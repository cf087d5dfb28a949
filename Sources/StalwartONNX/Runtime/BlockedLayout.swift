import Glibc
import StalwartTensor

/// The plan rewrite that keeps activations channel-blocked (`ChannelBlocks`) between the
/// operators that have a blocked form: Conv (one group or depthwise, constant weights, 2-D),
/// MaxPool (2-D) and GlobalAveragePool. A blocked convolution's output stays blocked; a value
/// read by anything else (or returned, or viewed by Reshape/Flatten) gets an NCHW twin computed
/// right after it by a reorder step, and an NCHW value read by a blocked convolution gets a
/// blocked twin (a convolution with fewer than 16 input channels reads NCHW directly instead).
/// Tensor names, graph outputs and `embed` layers keep their NCHW meaning.
///
/// `STALWART_LAYOUT=nchw` in the environment turns the rewrite off (every operator then runs
/// on NCHW tensors, as before it existed).
enum BlockedLayoutPass {
    static let enabled: Bool = getenv("STALWART_LAYOUT").map { String(cString: $0).lowercased() != "nchw" } ?? true

    typealias Step = ExecutionPlan.Step

    /// Rewrites `steps` (and appends the twins to `infos`/`slots`, remaps `outputIDs` and
    /// `aliasOf`). Leaves everything unchanged when no step can run blocked.
    static func apply(steps: inout [Step], infos: inout [ValueInfo], slots: inout [ExecutionPlan.Slot?],
                      outputIDs: inout [Int], aliasOf: inout [Int: Int]) {
        guard enabled else { return }
        let n = infos.count
        // Who reads each value in NCHW no matter what: views, graph outputs.
        var nchwReaders = [Bool](repeating: false, count: n)
        for (v, a) in aliasOf where v >= 0 && a < n { nchwReaders[a] = true }
        for v in outputIDs where v < n { nchwReaders[v] = true }

        // Pass 1: decide which steps run blocked (in order: a step's decision needs its inputs').
        enum Mode { case nchw, conv(BlockedConv), maxPool, globalAverage }
        var blocked = [Bool](repeating: false, count: n)
        var modes: [Mode] = []
        for step in steps {
            var mode = Mode.nchw
            let in0 = step.inputs.first ?? -1
            let inBlocked = in0 >= 0 && blocked[in0]
            if let conv = step.op as? ConvOp, let x = step.inputInfo.first ?? nil {
                let residual = conv.hasResidual && step.inputs.count > 3 ? step.inputInfo[3] : nil
                // The blocked copies (up to 16× an NCHW tensor with few channels) must have a size.
                let sized = fitsBlocked(step.outputInfo[0]) && (inBlocked || fitsBlocked(x))
                    && (residual.map(fitsBlocked) ?? true)
                if sized, let b = conv.blockedForm(input: x, residual: residual, output: step.outputInfo[0], inputBlocked: inBlocked) {
                    mode = .conv(b)
                }
            } else if inBlocked, let pool = step.op as? PoolOp, pool.blockedCapable, step.outputs.count == 1,
                      fitsBlocked(step.outputInfo[0]) {
                mode = .maxPool
            } else if inBlocked, let gp = step.op as? GlobalPoolOp, !gp.max, step.inputInfo[0]?.shape.count == 4 {
                mode = .globalAverage
            }
            switch mode {
            case .conv, .maxPool: blocked[step.outputs[0]] = true
            default: break
            }
            modes.append(mode)
        }
        guard blocked.contains(true) else { return }

        // Pass 2: which blocked values some NCHW step reads.
        for (i, step) in steps.enumerated() {
            let readsBlocked: (Int) -> Bool
            switch modes[i] {
            case .nchw: readsBlocked = { _ in false }
            case .conv(let b): readsBlocked = { pos in pos == 3 || (pos == 0 && !b.planarInput) }
            case .maxPool, .globalAverage: readsBlocked = { pos in pos == 0 }
            }
            for (pos, v) in step.inputs.enumerated() where v >= 0 && v < n && blocked[v] && !readsBlocked(pos) {
                nchwReaders[v] = true
            }
        }

        // Pass 3: rebuild the step list with the blocked operators and the reorder steps.
        var nchwTwin: [Int: Int] = [:], blockedTwin: [Int: Int] = [:]
        func newValue(_ info: ValueInfo) -> Int {
            infos.append(info); slots.append(nil)
            return infos.count - 1
        }
        func blockedInfo(_ i: ValueInfo) -> ValueInfo { ValueInfo(.float32, ChannelBlocks.shape(i.shape)) }
        var out: [Step] = []
        var reversedImages = [Bool](repeating: false, count: n)  // written last image first
        for (i, step) in steps.enumerated() {
            var inputs = step.inputs, inInfo = step.inputInfo
            /// The blocked form of input `pos` (a reorder step the first time an NCHW value is needed).
            func useBlocked(_ pos: Int) {
                let v = inputs[pos]
                guard v >= 0, !blocked[v] else { return }
                let twin: Int
                if let t = blockedTwin[v] {
                    twin = t
                } else {
                    let info = infos[v]
                    twin = newValue(blockedInfo(info))
                    blockedTwin[v] = twin
                    out.append(Step(op: ReorderOp(toBlocked: true, shape: info.shape), node: reorderNode(step.node, input: pos), inputs: [v],
                                    outputs: [twin], inputInfo: [info], outputInfo: [infos[twin]]))
                }
                inputs[pos] = twin; inInfo[pos] = infos[twin]
            }
            var op: Operator = step.op
            switch modes[i] {
            case .nchw:
                for pos in inputs.indices where inputs[pos] >= 0 && inputs[pos] < n && blocked[inputs[pos]] {
                    guard let t = nchwTwin[inputs[pos]] else { continue }
                    inputs[pos] = t; inInfo[pos] = infos[t]
                }
            case .conv(let b):
                if !b.planarInput { useBlocked(0) }
                if inputs.count > 3 && inputs[3] >= 0 { useBlocked(3) }
                // Every other operator writes images first to last; a blocked convolution in the
                // opposite order of the one that wrote its input.
                let reverse = !(step.inputs[0] >= 0 && step.inputs[0] < n && reversedImages[step.inputs[0]])
                reversedImages[step.outputs[0]] = reverse
                op = BlockedConvOp(b, input: step.inputInfo[0]?.shape ?? [], output: step.outputInfo[0].shape,
                                   lastImageFirst: reverse)
            case .maxPool:
                if let p = step.op as? PoolOp { op = BlockedMaxPoolOp(p, input: step.inputInfo[0]?.shape ?? [], output: step.outputInfo[0].shape) }
            case .globalAverage:
                op = BlockedGlobalAverageOp(shape: step.inputInfo[0]?.shape ?? [])
            }
            var outInfo = step.outputInfo
            let producesBlocked = step.outputs.count == 1 && blocked[step.outputs[0]]
            if producesBlocked {
                let v = step.outputs[0]
                let logical = infos[v]
                infos[v] = blockedInfo(logical)
                outInfo = [infos[v]]
                out.append(Step(op: op, node: step.node, inputs: inputs, outputs: step.outputs, inputInfo: inInfo, outputInfo: outInfo))
                if nchwReaders[v] {
                    let twin = newValue(logical)
                    nchwTwin[v] = twin
                    out.append(Step(op: ReorderOp(toBlocked: false, shape: logical.shape), node: reorderNode(step.node, input: nil), inputs: [v],
                                    outputs: [twin], inputInfo: [infos[v]], outputInfo: [logical]))
                }
            } else {
                out.append(Step(op: op, node: step.node, inputs: inputs, outputs: step.outputs, inputInfo: inInfo, outputInfo: outInfo))
            }
        }
        for (k, v) in outputIDs.enumerated() where v < n && blocked[v] { if let t = nchwTwin[v] { outputIDs[k] = t } }
        for (v, a) in aliasOf where a < n && blocked[a] { if let t = nchwTwin[a] { aliasOf[v] = t } }
        steps = out
    }
    /// Whether the blocked form of a 4-D float tensor has a byte count (no overflow).
    static func fitsBlocked(_ i: ValueInfo) -> Bool {
        let s = i.shape
        guard s.count == 4, s.allSatisfy({ $0 >= 0 }) else { return false }
        return (try? Shape.byteCount(ChannelBlocks.shape(s), .float32)) != nil
    }

    /// A node for a reorder step's profile line and errors: "ToBlocked node 'conv input 3'"
    /// before `node` reads its input, "ToNCHW node 'conv output'" after it writes its output.
    static func reorderNode(_ node: IRNode, input: Int?) -> IRNode {
        let base = node.name.isEmpty ? (node.outputs.first ?? "?") : node.name
        return IRNode(opType: input == nil ? "ToNCHW" : "ToBlocked", name: base + (input.map { " input \($0)" } ?? " output"),
                      domain: "", inputs: [], outputs: [], attributes: node.attributes)
    }
}

/// A convolution on blocked tensors (see `BlockedLayoutPass`); shapes fixed by the plan.
final class BlockedConvOp: Operator {
    let conv: BlockedConv
    let inShape: [Int], outShape: [Int]
    /// Images last to first (see `BlockedConv.run`): set by the pass when the producer of the
    /// input wrote its images first to last, so that this layer starts on the one written last.
    let lastImageFirst: Bool

    init(_ conv: BlockedConv, input: [Int], output: [Int], lastImageFirst: Bool) {
        self.conv = conv; inShape = input; outShape = output; self.lastImageFirst = lastImageFirst
    }
    /// Dense tiles read their residual elements before storing the same elements, so the
    /// output may be the residual's buffer; the depthwise path adds the residual after storing.
    var overwritableInput: Int? { conv.isDepthwise ? nil : 3 }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        [ValueInfo(.float32, ChannelBlocks.shape(outShape))]
    }
    func execute(_ io: OpIO) throws {
        let residual = io.inputs.count > 3 ? io.inputs[3]?.assumingMemoryBound(to: Float.self) : nil
        guard conv.run(input: io.f(0), output: io.out(0), residual: residual, batch: inShape[0],
                       h: inShape[2], w: inShape[3], pool: io.pool, lastImageFirst: lastImageFirst) else {
            throw StalwartError.outOfMemory("no memory for the padded input copy of the convolution (\(inShape))")
        }
    }
}

/// NCHW ↔ blocked layout change of a 4-D tensor (`shape` is the NCHW shape).
final class ReorderOp: Operator {
    let toBlocked: Bool
    let shape: [Int]
    init(toBlocked: Bool, shape: [Int]) { self.toBlocked = toBlocked; self.shape = shape }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        [ValueInfo(.float32, toBlocked ? ChannelBlocks.shape(shape) : shape)]
    }
    func execute(_ io: OpIO) throws {
        let pixels = shape[2] * shape[3]
        if toBlocked {
            TensorOps.toBlocked(io.f(0), io.out(0), batch: shape[0], channels: shape[1], pixels: pixels, pool: io.pool)
        } else {
            TensorOps.fromBlocked(io.f(0), io.out(0), batch: shape[0], channels: shape[1], pixels: pixels, pool: io.pool)
        }
    }
}

/// MaxPool on blocked tensors (2-D; the same windows as `PoolOp`).
final class BlockedMaxPoolOp: Operator {
    let op: PoolOp
    let inShape: [Int], outShape: [Int]
    init(_ op: PoolOp, input: [Int], output: [Int]) { self.op = op; inShape = input; outShape = output }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        [ValueInfo(.float32, ChannelBlocks.shape(outShape))]
    }
    func execute(_ io: OpIO) throws {
        let (pb, pe, out) = try op.geometry(Array(inShape.dropFirst(2)))
        TensorOps.maxPoolBlocked(io.f(0), planes: inShape[0] * ChannelBlocks.count(inShape[1]), h: inShape[2], w: inShape[3],
                                 kernel: op.kernel, strides: op.strides, dilations: op.dilations, padsBegin: pb,
                                 padsEnd: pe, outH: out[0], outW: out[1], output: io.out(0), pool: io.pool)
    }
}

/// GlobalAveragePool of a blocked tensor into NCHW [N, C, 1, 1].
final class BlockedGlobalAverageOp: Operator {
    let shape: [Int]
    init(shape: [Int]) { self.shape = shape }
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] { [ValueInfo(.float32, [shape[0], shape[1], 1, 1])] }
    func execute(_ io: OpIO) throws {
        TensorOps.globalAveragePoolBlocked(io.f(0), batch: shape[0], channels: shape[1], pixels: shape[2] * shape[3],
                                           output: io.out(0), pool: io.pool)
    }
}
