// Number and text formatting without Foundation.

/// Fixed-decimal rendering: `format(0.123456, decimals: 3) == "0.123"`, rounding half away from zero
/// on the binary value. NaN → "n/a", ±infinity → "inf"/"-inf"; magnitudes ≥ 9e18 after scaling fall back
/// to the shortest round-trip form. Negative zero results print without a sign.
func format(_ value: Double, decimals: Int) -> String {
    if value.isNaN { return "n/a" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    let d = min(max(decimals, 0), 15)
    var scale = 1.0
    for _ in 0..<d { scale *= 10 }
    let scaled = (value.magnitude * scale).rounded(.toNearestOrAwayFromZero)
    guard scaled < 9.0e18 else { return value.description }
    let n = UInt64(scaled)
    var digits = String(n)
    if d > 0 {
        if digits.count < d + 1 { digits = String(repeating: "0", count: d + 1 - digits.count) + digits }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -d))
    }
    return (value < 0 && n != 0 ? "-" : "") + digits
}

/// A fraction as a percentage with `decimals` places ("76.13"); nil → "–", non-finite → "n/a".
func percent(_ value: Double?, decimals: Int = 2) -> String {
    guard let value else { return "–" }
    return value.isFinite ? format(value * 100, decimals: decimals) : "n/a"
}

/// A plain value with `decimals` places; nil → "–", non-finite → "n/a".
func plain(_ value: Double?, decimals: Int) -> String {
    guard let value else { return "–" }
    return value.isFinite ? format(value, decimals: decimals) : "n/a"
}

/// Shortest round-trip JSON number; non-finite → `null`.
func jsonNumber(_ value: Double) -> String { value.isFinite ? value.description : "null" }
