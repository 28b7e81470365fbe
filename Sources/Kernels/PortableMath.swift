/// Elementary functions computed with IEEE `+ − × ÷` only, so they give the same bits on every
/// platform (libm's `log` may differ in the last place between systems).
public enum PortableMath {
    /// Natural logarithm of a positive finite `x`, within about 2 ulp.
    ///
    /// With `x = m · 2^k`, `m ∈ [√½, √2)`, and `s = (m − 1)/(m + 1)` (so `|s| ≤ 0.172`):
    /// `ln x = k ln 2 + 2 (s + s³/3 + s⁵/5 + …)`, summed to `s²¹/21`, whose remainder is below 1e−17.
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "PortableMath.log needs a positive finite argument")
        var k = Int(x.exponent)
        var m = Double(sign: .plus, exponent: 0, significand: x.significand)  // [1, 2)
        if m > 1.4142135623730951 {
            m *= 0.5
            k += 1
        }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var term = s
        var sum = s
        var denominator = 1.0
        for _ in 0 ..< 10 {
            term *= s2
            denominator += 2
            sum += term / denominator
        }
        return Double(k) * 0.6931471805599453 + 2 * sum
    }
}
