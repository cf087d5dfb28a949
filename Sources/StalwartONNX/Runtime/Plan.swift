import Glibc
import StalwartTensor

/// An execution plan for one set of concrete input shapes.
///
/// Built from the prepared operators by propagating shapes, folding every node whose inputs
/// are known before running (so Shape → Gather → Concat → Reshape chains disappear even with
/// a dynamic batch), and assigning every intermediate a fixed offset in one arena, reusing
/// memory of values whose last reader has run (greedy first-fit over live ranges).
/// View operators (Reshape, Flatten, Squeeze, ...) share their input's bytes.
///
/// Thread-safety: immutable after init; `run` takes a per-call arena from a small pool.
final class ExecutionPlan {
    enum Slot {
        case input(Int)
        case constant(Tensor)
        case arena(Int)
    }

    struct Step {
        let op: Operator
        let node: IRNode
        let inputs: [Int]      // value ids, -1 = absent
        let outputs: [Int]
        let inputInfo: [ValueInfo?]
        let outputInfo: [ValueInfo]
    }

    let steps: [Step]
    let slots: [Slot]
    let infos: [ValueInfo]
    let outputIDs: [Int]
    let arenaBytes: Int
    let scratchBytes: Int

    private let lock = Lock()
    private var freeArenas: [UnsafeMutableRawPointer] = []

    deinit { for a in freeArenas { free(a) } }

    /// `ops[i]` is the prepared operator of `graph.nodes[i]`.
    /// `inputValues[i]` is non-nil for small integer inputs whose values shape the graph
    /// (plans are then specialized to those values, e.g. an Expand or Reshape target).
    /// `outputNames` nil plans the graph outputs; otherwise the named tensors (graph inputs or
    /// values some node produces), in that order, and only the steps they depend on run.
    init(graph: Graph, ops: [Operator], inputShapes: [[Int]], inputValues: [Tensor?], threads: Int,
         outputNames: [String]? = nil) throws {
        var ids: [String: Int] = [:]
        var infos: [ValueInfo] = []
        var slots: [Slot?] = []
        func newValue(_ name: String, _ info: ValueInfo, _ slot: Slot?) -> Int {
            let id = infos.count
            ids[name] = id; infos.append(info); slots.append(slot)
            return id
        }
        for (i, sig) in graph.inputs.enumerated() {
            _ = newValue(sig.name, ValueInfo(sig.dtype, inputShapes[i], constant: inputValues[i]), .input(i))
        }
        for (name, t) in graph.constants where ids[name] == nil {
            _ = newValue(name, ValueInfo(t), .constant(t))
        }

        var steps: [Step] = []
        var aliasOf: [Int: Int] = [:]  // value id → value whose bytes it shares
        for (n, node) in graph.nodes.enumerated() {
            let op = ops[n]
            var inIDs: [Int] = []
            var inInfo: [ValueInfo?] = []
            for name in node.inputs {
                if name.isEmpty { inIDs.append(-1); inInfo.append(nil); continue }
                guard let id = ids[name] else {
                    throw StalwartError.internal("\(node.label): input '\(name)' has no producer")
                }
                inIDs.append(id); inInfo.append(infos[id])
            }
            var outInfo: [ValueInfo]
            do { outInfo = try op.infer(inInfo) } catch let e as StalwartError {
                throw e.context(node.label)
            }
            guard outInfo.count >= node.outputs.count else {
                throw StalwartError.internal("\(node.label): operator produced \(outInfo.count) outputs, node has \(node.outputs.count)")
            }
            for o in outInfo {
                do { _ = try Shape.byteCount(o.shape, o.dtype) } catch {
                    throw StalwartError.outOfMemory("\(node.label): output \(error)")
                }
            }
            let allConstant = inInfo.allSatisfy { $0 == nil || $0?.constant != nil }
            if allConstant && outInfo.allSatisfy({ $0.constant == nil }) {
                // Fold now: run the operator on the constants.
                outInfo = try ExecutionPlan.evaluate(op, node: node, inInfo, outInfo)
            }
            if outInfo.allSatisfy({ $0.constant != nil }) {
                for (k, name) in node.outputs.enumerated() where !name.isEmpty {
                    if let c = outInfo[k].constant { _ = newValue(name, outInfo[k], .constant(c)) }
                }
                continue
            }
            var outIDs: [Int] = []
            for (k, name) in node.outputs.enumerated() {
                outIDs.append(name.isEmpty ? newValue("\u{0}unnamed\(n).\(k)", outInfo[k], nil) : newValue(name, outInfo[k], nil))
            }
            if let a = op.aliasInput, a < inIDs.count, inIDs[a] >= 0, outIDs.count == 1 {
                aliasOf[outIDs[0]] = inIDs[a]
                continue
            }
            steps.append(Step(op: op, node: node, inputs: inIDs, outputs: outIDs,
                              inputInfo: inInfo, outputInfo: Array(outInfo.prefix(outIDs.count))))
        }

        var outputIDs: [Int] = []
        if let outputNames {
            for name in outputNames {
                guard let id = ids[name] else {
                    throw StalwartError.invalidArgument("the model has no tensor named '\(name)'")
                }
                outputIDs.append(id)
            }
            // Keep only the steps the requested tensors depend on (views resolved to their source).
            var needed = Set<Int>()
            func need(_ v: Int) {
                var r = v
                while needed.insert(r).inserted, let a = aliasOf[r] { r = a }
            }
            for v in outputIDs { need(v) }
            var kept: [Step] = []
            for step in steps.reversed() where step.outputs.contains(where: { needed.contains($0) }) {
                for v in step.inputs where v >= 0 { need(v) }
                kept.append(step)
            }
            steps = kept.reversed()
        } else {
            for sig in graph.outputs {
                guard let id = ids[sig.name] else {
                    throw StalwartError.invalidModel("graph output '\(sig.name)' is never produced")
                }
                outputIDs.append(id)
            }
        }

        BlockedLayoutPass.apply(steps: &steps, infos: &infos, slots: &slots, outputIDs: &outputIDs, aliasOf: &aliasOf)

        // Resolve alias chains to their root value.
        func root(_ v: Int) -> Int {
            var r = v
            while let a = aliasOf[r] { r = a }
            return r
        }
        // Live ranges of arena values (by root): [first step writing, last step reading].
        let end = steps.count
        var lastUse = [Int](repeating: -1, count: infos.count)
        var firstDef = [Int](repeating: Int.max, count: infos.count)
        for (s, step) in steps.enumerated() {
            for v in step.inputs where v >= 0 { lastUse[root(v)] = max(lastUse[root(v)], s) }
            for v in step.outputs { firstDef[root(v)] = min(firstDef[root(v)], s); lastUse[root(v)] = max(lastUse[root(v)], s) }
        }
        for v in outputIDs { lastUse[root(v)] = end }

        // In place (`Operator.overwritableInput`): an output written over an input nothing reads
        // afterwards, saving a buffer and, on batches whose activations leave the caches, the
        // read-for-ownership of a cold output (ResNet-50's residual convolutions).
        for (s, step) in steps.enumerated() {
            guard let i = step.op.overwritableInput, i < step.inputs.count, step.inputs[i] >= 0,
                  let out = step.outputs.first, aliasOf[out] == nil else { continue }
            let r = root(step.inputs[i])
            let readsOtherwise = step.inputs.enumerated().contains { $0.offset != i && $0.element >= 0 && root($0.element) == r }
            guard r != out, slots[r] == nil, lastUse[r] == s, firstDef[out] == s,
                  infos[r].shape == infos[out].shape, infos[r].dtype == infos[out].dtype, !readsOtherwise else { continue }
            aliasOf[out] = r
            lastUse[r] = max(lastUse[r], lastUse[out])
        }

        // Greedy first-fit offset assignment in step order.
        var offsets = [Int](repeating: -1, count: infos.count)
        var live: [(offset: Int, size: Int, until: Int)] = []
        var arenaBytes = 0
        for (s, step) in steps.enumerated() {
            live.removeAll { $0.until < s }
            for v in step.outputs where root(v) == v && firstDef[v] == s && slots[v] == nil {
                let bytes = (try? Shape.byteCount(infos[v].shape, infos[v].dtype)) ?? 0
                let size = (max(bytes, 1) + 63) & ~63
                var candidate = 0
                for blk in live.sorted(by: { $0.offset < $1.offset }) {
                    if candidate + size <= blk.offset { break }
                    candidate = max(candidate, blk.offset + blk.size)
                }
                offsets[v] = candidate
                live.append((candidate, size, lastUse[v]))
                let (e, o) = candidate.addingReportingOverflow(size)
                if o { throw StalwartError.outOfMemory("activation memory overflows") }
                arenaBytes = max(arenaBytes, e)
            }
        }
        var finalSlots: [Slot] = []
        for v in 0..<infos.count {
            let r = root(v)
            if let s = slots[r] { finalSlots.append(s) } else { finalSlots.append(.arena(max(offsets[r], 0))) }
        }
        var scratch = 0
        for step in steps { scratch = max(scratch, step.op.scratchBytes(step.inputInfo, threads: threads)) }

        self.steps = steps
        self.slots = finalSlots
        self.infos = infos
        self.outputIDs = outputIDs
        self.arenaBytes = arenaBytes
        self.scratchBytes = (scratch + 63) & ~63
    }

    /// Runs `op` on constant inputs and returns output infos carrying the results.
    static func evaluate(_ op: Operator, node: IRNode, _ inInfo: [ValueInfo?], _ outInfo: [ValueInfo]) throws -> [ValueInfo] {
        var outs: [Tensor] = []
        for o in outInfo {
            do { outs.append(try Tensor(dtype: o.dtype, shape: o.shape)) } catch { throw StalwartError(error) }
        }
        let scratchBytes = op.scratchBytes(inInfo, threads: 1)
        let scratch = scratchBytes > 0 ? alignedAllocate(scratchBytes) : nil
        defer { free(scratch) }
        let io = OpIO(inputs: inInfo.map { $0?.constant.map { UnsafeRawPointer($0.data) } },
                      inputInfo: inInfo, outputs: outs.map { $0.data }, outputInfo: outInfo,
                      scratch: scratch, pool: ThreadPool.serial)
        do { try op.execute(io) } catch let e as StalwartError { throw e.context(node.label) }
        return outs.map { ValueInfo($0) }
    }

    /// Executes the plan. `inputs[i]` points to graph input i (already validated against the
    /// plan's shapes); outputs are copied into `outputs[k]` for graph output `k` when non-nil.
    func run(inputs: [UnsafeRawPointer], outputs: [UnsafeMutableRawPointer?], pool: ThreadPool) throws {
        let total = arenaBytes + scratchBytes
        let arena = try takeArena(total)
        defer { giveBack(arena) }
        let scratch = scratchBytes > 0 ? arena + arenaBytes : nil

        var ptr = [UnsafeMutableRawPointer?](repeating: nil, count: slots.count)
        for (v, s) in slots.enumerated() {
            switch s {
            case .input(let i): ptr[v] = UnsafeMutableRawPointer(mutating: inputs[i])
            case .constant(let t): ptr[v] = t.data
            case .arena(let off): ptr[v] = arena + off
            }
        }
        let profile = ExecutionPlan.profiling
        var times = profile ? [Double](repeating: 0, count: steps.count) : []
        for (index, step) in steps.enumerated() {
            let t0 = profile ? monotonicSeconds() : 0
            defer { if profile { times[index] = monotonicSeconds() - t0 } }
            var ins: [UnsafeRawPointer?] = []
            ins.reserveCapacity(step.inputs.count)
            for v in step.inputs { ins.append(v >= 0 ? ptr[v].map { UnsafeRawPointer($0) } : nil) }
            var outs: [UnsafeMutableRawPointer] = []
            for v in step.outputs {
                guard let p = ptr[v] else { throw StalwartError.internal("unassigned buffer") }
                outs.append(p)
            }
            let io = OpIO(inputs: ins, inputInfo: step.inputInfo, outputs: outs,
                          outputInfo: step.outputInfo, scratch: scratch, pool: pool)
            do { try step.op.execute(io) } catch let e as StalwartError { throw e.context(step.node.label) }
        }
        if profile { report(times) }
        for (k, v) in outputIDs.enumerated() {
            guard k < outputs.count, let dst = outputs[k], let src = ptr[v] else { continue }
            let bytes = (try? Shape.byteCount(infos[v].shape, infos[v].dtype)) ?? 0
            dst.copyMemory(from: src, byteCount: bytes)
        }
    }

    /// `STALWART_PROFILE=1` prints per-step times of every run to stderr.
    static let profiling: Bool = getenv("STALWART_PROFILE").map { String(cString: $0) == "1" } ?? false

    private func report(_ times: [Double]) {
        let total = times.reduce(0, +)
        var lines = ["stalwart profile: \(steps.count) steps, \(String(total * 1000, places: 3)) ms"]
        for (i, step) in steps.enumerated() {
            let shape = step.outputInfo.first.map { "\($0.shape)" } ?? ""
            lines.append("  \(String(times[i] * 1000, places: 3)) ms  \(String(100 * times[i] / max(total, 1e-12), places: 1))%  \(step.node.label) → \(shape)")
        }
        fputs(lines.joined(separator: "\n") + "\n", stderr)
    }

    private func takeArena(_ bytes: Int) throws -> UnsafeMutableRawPointer {
        lock.lock()
        if let a = freeArenas.popLast() { lock.unlock(); return a }
        lock.unlock()
        guard let a = alignedAllocate(bytes) else {
            throw StalwartError.outOfMemory("cannot allocate \(bytes) bytes of activation memory")
        }
        return a
    }

    private func giveBack(_ a: UnsafeMutableRawPointer) {
        lock.lock()
        if freeArenas.count < 4 { freeArenas.append(a); lock.unlock() } else { lock.unlock(); free(a) }
    }

    /// Output infos of the graph outputs.
    var outputInfos: [ValueInfo] { outputIDs.map { infos[$0] } }
}

extension ThreadPool {
    /// A single-threaded pool for load-time folding.
    static let serial = ThreadPool(threads: 1)
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

extension String {
    /// `value` with a fixed number of decimals (no Foundation formatting).
    init(_ value: Double, places: Int) {
        var p: Double = 1
        for _ in 0..<places { p *= 10 }
        let r = (value * p).rounded() / p
        var s = "\(r)"
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < places { s += String(repeating: "0", count: places - decimals) }
        }
        self = s
    }
}
