// MARK: - Score-row statistics (template: scripts/isa_templates/row_stats.swift)
//
// One pass over a row of k float32 scores for the robustness metrics: validity, argmax (first
// maximal index), the rank of the label (classes scoring strictly higher) and, for logits, the
// softmax sums Σ e^(z−m) and Σ e^(2(z−m)) with a float64 exp (max relative error ≈ 2 ulp) —
// IEEE add/mul/div and bit operations only, so every ISA instance gives the same bits.

/// e^x for SIMD8<Double> with x ≤ 0: x = n·ln2 + r (|r| ≤ ½ln2, ln2 split in two parts),
/// e^r by its Taylor series to r¹³, times 2ⁿ; x < −708 gives 0 (such terms are below 1e-307
/// of the row's largest term, which is 1).
@inline(__always)
func {p}ExpNonPositiveF64(_ x: SIMD8<Double>) -> SIMD8<Double> {
    let magic = SIMD8<Double>(repeating: 6_755_399_441_055_744.0)  // 1.5·2⁵²
    let xc = x.replacing(with: -708, where: x .< -708)
    let t = xc * 1.4426950408889634073599 + magic
    let n = t - magic
    let r = (xc - n * 0.693147180369123816490) - n * 1.90821492927058770002e-10
    var p = r * (1.0 / 6_227_020_800) + 1.0 / 479_001_600
    p = p * r + 1.0 / 39_916_800
    p = p * r + 1.0 / 3_628_800
    p = p * r + 1.0 / 362_880
    p = p * r + 1.0 / 40320
    p = p * r + 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let bits = (unsafeBitCast(t, to: SIMD8<UInt64>.self) &- 0x4338_0000_0000_0000 &+ 1023) &<< 52
    let e = p * unsafeBitCast(bits, to: SIMD8<Double>.self)
    return e.replacing(with: 0, where: x .< -708)
}

/// Statistics of `row[0..<k]` (k ≥ 1) with label `label` (0 ≤ label < k):
/// returns (valid: every value finite, argmax, rank, max, Σ e^(z−max), Σ e^(2(z−max))); the
/// exp sums are computed only when `logits` is true (else 0).
public func {p}ScoreRowStats(_ row: UnsafePointer<Float>, _ k: Int, _ label: Int, _ logits: Bool)
    -> (valid: Bool, argmax: Int, rank: Int, max: Float, sumExp: Double, sumExp2: Double) {
    var best = 0
    var m = row[0]
    var finite = true
    let ly = row[label]
    var rank = 0
    var j = 0
    while j < k {
        let v = row[j]
        if !(v - v == 0) { finite = false }
        if v > m { m = v; best = j }
        if v > ly { rank &+= 1 }
        j &+= 1
    }
    if !finite || !(m - m == 0) { return (false, 0, 0, 0, 0, 0) }
    guard logits else { return (true, best, rank, m, 0, 0) }
    let md = SIMD8<Double>(repeating: Double(m))
    var s1 = SIMD8<Double>(), s2 = SIMD8<Double>()
    j = 0
    while j &+ 8 <= k {
        let v = SIMD8<Float>(UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self))
        var d = SIMD8<Double>()
        d[0] = Double(v[0]); d[1] = Double(v[1]); d[2] = Double(v[2]); d[3] = Double(v[3])
        d[4] = Double(v[4]); d[5] = Double(v[5]); d[6] = Double(v[6]); d[7] = Double(v[7])
        let e = {p}ExpNonPositiveF64(d - md)
        s1 = s1 + e
        s2 = s2 + e * e
        j &+= 8
    }
    if j < k {
        var d = SIMD8<Double>(repeating: -1000)
        var i = 0
        while j &+ i < k { d[i] = Double(row[j &+ i]) - Double(m); i &+= 1 }
        let e = {p}ExpNonPositiveF64(d)
        s1 = s1 + e
        s2 = s2 + e * e
    }
    // A fixed reduction order (the same on every ISA).
    let t1 = ((s1[0] + s1[1]) + (s1[2] + s1[3])) + ((s1[4] + s1[5]) + (s1[6] + s1[7]))
    let t2 = ((s2[0] + s2[1]) + (s2[2] + s2[3])) + ((s2[4] + s2[5]) + (s2[6] + s2[7]))
    return (true, best, rank, m, t1, t2)
}
