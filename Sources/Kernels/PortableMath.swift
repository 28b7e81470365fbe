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
        for _ in 0..<10 {
            term *= s2
            denominator += 2
            sum += term / denominator
        }
        return Double(k) * 0.6931471805599453 + 2 * sum
    }

    /// `eˣ` of a finite `x` (0 below −745, +∞ above 709.8), within about 2 ulp.
    ///
    /// With `k = round(x / ln 2)` and `r = x − k ln 2` (ln 2 split in a high and a low part, so
    /// `|r| ≤ ½ ln 2` is exact to a few ulp): `eˣ = 2ᵏ · Σₙ rⁿ/n!`, summed to `r¹⁷/17!`, whose
    /// remainder is below 1e−20.
    public static func exp(_ x: Double) -> Double {
        precondition(!x.isNaN, "PortableMath.exp needs a number")
        if x < -745.2 { return 0 }
        if x > 709.8 { return .infinity }
        let k = (x * 1.4426950408889634).rounded()
        let r = (x - k * 0.6931471803691238) - k * 1.9082149292705877e-10
        var term = 1.0
        var sum = 1.0
        for n in 1...17 {
            term *= r / Double(n)
            sum += term
        }
        // 2ᵏ in two steps, so that k down to −1074 (subnormal results) stays representable.
        let half = Int(k) / 2
        return sum * Double(sign: .plus, exponent: half, significand: 1)
            * Double(sign: .plus, exponent: Int(k) - half, significand: 1)
    }
}
