import StalwartTensor

/// ONNX Gemm: Y = alpha · op(A) · op(B) + beta · C, C broadcast to [M, N].
final class GemmOp: Operator {
    let transA: Bool, transB: Bool
    let alpha: Float, beta: Float

    init(_ ctx: OpBuildContext) throws {
        let a = ctx.attrs
        try a.check(known: ["alpha", "beta", "transA", "transB", "broadcast"])
        transA = try a.int("transA", default: 0) != 0
        transB = try a.int("transB", default: 0) != 0
        alpha = try a.float("alpha", default: 1)
        beta = try a.float("beta", default: 1)
    }

    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 2, max: 3, "Gemm")
        guard let a = ins[0], let b = ins[1] else { return [] }
        try Check.float(a, "A"); try Check.float(b, "B")
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw StalwartError.shapeMismatch("A and B must be 2-D, got \(a.shape) and \(b.shape)")
        }
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard k == kb else { throw StalwartError.shapeMismatch("inner dimensions differ: A \(a.shape), B \(b.shape)") }
        if ins.count > 2, let c = ins[2] {
            try Check.float(c, "C")
            guard Shape.broadcast(c.shape, [m, n]) == [m, n] else {
                throw StalwartError.shapeMismatch("C \(c.shape) cannot be broadcast to [\(m), \(n)]")
            }
        }
        return [ValueInfo(.float32, [m, n])]
    }

    func execute(_ io: OpIO) throws {
        guard let a = io.inputInfo[0], let b = io.inputInfo[1] else { return }
        let m = io.outputInfo[0].shape[0], n = io.outputInfo[0].shape[1]
        let k = transA ? a.shape[0] : a.shape[1]
        let y = io.out(0)
        var effBeta: Float = 0
        if io.inputs.count > 2, let c = io.inputInfo[2], io.inputs[2] != nil, beta != 0 {
            let it = BroadcastIterator([m, n], c.shape, out: [m, n])
            let pc = io.f(2)
            for r in 0..<it.runs {
                let (_, ob) = it.offsets(run: r)
                for i in 0..<it.innerCount { y[r * it.innerCount + i] = pc[ob + i * it.innerB] }
            }
            effBeta = beta
        }
        Sgemm.run(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                  a: io.f(0), lda: a.shape[1], b: io.f(1), ldb: b.shape[1],
                  beta: effBeta, c: y, ldc: n, pool: io.pool)
    }
}

/// ONNX MatMul with NumPy semantics (1-D promotion, broadcast batch dimensions).
final class MatMulOp: Operator {
    func infer(_ ins: [ValueInfo?]) throws -> [ValueInfo] {
        try Check.inputs(ins, min: 2, max: 2, "MatMul")
        guard let a = ins[0], let b = ins[1] else { return [] }
        try Check.float(a, "A"); try Check.float(b, "B")
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw StalwartError.shapeMismatch("MatMul of a scalar") }
        let (pa, pb) = (promoteA(a.shape), promoteB(b.shape))
        guard pa[pa.count - 1] == pb[pb.count - 2] else {
            throw StalwartError.shapeMismatch("inner dimensions differ: \(a.shape) × \(b.shape)")
        }
        guard let batch = Shape.broadcast(Array(pa.dropLast(2)), Array(pb.dropLast(2))) else {
            throw StalwartError.shapeMismatch("batch dimensions cannot be broadcast: \(a.shape) × \(b.shape)")
        }
        var out = batch
        if a.shape.count > 1 { out.append(pa[pa.count - 2]) }
        if b.shape.count > 1 { out.append(pb[pb.count - 1]) }
        return [ValueInfo(.float32, out)]
    }

    private func promoteA(_ s: [Int]) -> [Int] { s.count == 1 ? [1, s[0]] : s }
    private func promoteB(_ s: [Int]) -> [Int] { s.count == 1 ? [s[0], 1] : s }

    func execute(_ io: OpIO) throws {
        guard let ai = io.inputInfo[0], let bi = io.inputInfo[1] else { return }
        let sa = promoteA(ai.shape), sb = promoteB(bi.shape)
        let m = sa[sa.count - 2], k = sa[sa.count - 1], n = sb[sb.count - 1]
        let a = io.f(0), b = io.f(1), y = io.out(0)
        let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
        // B shared by all batches: fold A's batch into M (one large GEMM).
        if batchB.reduce(1, *) == 1 {
            let rows = batchA.reduce(1, *) * m
            Sgemm.run(transA: false, transB: false, m: rows, n: n, k: k, alpha: 1, a: a, lda: k,
                      b: b, ldb: n, beta: 0, c: y, ldc: n, pool: io.pool)
            return
        }
        guard let batch = Shape.broadcast(batchA, batchB) else { return }
        let it = BroadcastIterator(batchA, batchB, out: batch)
        var idx = 0
        for r in 0..<it.runs {
            let (oa, ob) = it.offsets(run: r)
            for i in 0..<it.innerCount {
                let pa = a + (oa + i * it.innerA) * m * k
                let pb = b + (ob + i * it.innerB) * k * n
                Sgemm.run(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: pa, lda: k,
                          b: pb, ldb: n, beta: 0, c: y + idx * m * n, ldc: n, pool: io.pool)
                idx += 1
            }
        }
    }
}
