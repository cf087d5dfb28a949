import Glibc

/// Poisson(λ) by inversion, tabulated: the smallest k with u ≤ Σ_{i≤k} e^{−λ}λⁱ/i! (terms by
/// the recurrence p_k = p_{k−1}·λ/k, summed in order), capped at ⌈10λ + 50⌉ — exactly the
/// values of the sequential search `sequential(λ, u)`, because the tables hold the same
/// floating-point partial sums. A guide table (Chen & Asau) per rate, `guides[64t + j]` = first
/// k with s_k ≥ j/64, starts each search at ⌊64u⌋ so it scans ~1 entry.
/// For rates 0 < λ ≤ 1000. Read-only after building: safe to sample from many threads.
struct PoissonTables {
    private var sums: [Double] = []
    private var offsets: [Int] = [], counts: [Int] = [], rates: [Double] = []
    private var guides: [Int] = []

    var count: Int { rates.count }

    /// Adds the table of rate `lam` and returns its index.
    mutating func add(_ lam: Double) -> Int {
        let offset = sums.count
        var k = 0.0, p = exp(-lam), s = p
        sums.append(s)
        // Past the mode the sums stop changing once an added term vanishes.
        while k < lam * 10 + 50 {
            k += 1; p *= lam / k
            let s2 = s + p
            if s2 == s && k > lam { break }
            s = s2
            sums.append(s)
        }
        let n = sums.count - offset
        var g = 0
        for j in 0..<64 {
            while g < n && sums[offset + g] < Double(j) / 64 { g += 1 }
            guides.append(g)
        }
        offsets.append(offset); counts.append(n); rates.append(lam)
        return rates.count - 1
    }

    /// The sample for uniform `u` ∈ [0, 1) from table `t`.
    @inline(__always)
    func sample(_ t: Int, _ u: Double) -> Double {
        let n = counts[t], start = offsets[t]
        var k = guides[64 * t + Int(u * 64)]
        return sums.withUnsafeBufferPointer { s in
            while k < n && s[start + k] < u { k += 1 }
            // Past the table (u above every reachable sum) the sequential search stops at the
            // cap, the first integer ≥ 10λ + 50.
            return k < n ? Double(k) : max(Double(n - 1), (rates[t] * 10 + 50).rounded(.up))
        }
    }

    /// The untabulated search (the definition the tables reproduce).
    static func sequential(_ lam: Double, _ u: Double) -> Double {
        var k = 0.0, p = exp(-lam), s = p
        while u > s && k < lam * 10 + 50 { k += 1; p *= lam / k; s += p }
        return k
    }
}
