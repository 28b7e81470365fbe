import Foundation
import Kernels

/// How two parents `a`, `b` (rows of `D` genes) make one child `c`.
///
/// Each call makes one child; a pair of parents that should give two children is simply called
/// twice with different streams (as PyGAD does, one child per pair).
public enum Crossover: Codable, Equatable, Sendable {
    /// `c = a`.
    case none
    /// A cut `k` uniform in `1 … D−1`: `c = a[0..<k] ++ b[k..<D]`.
    case onePoint
    /// Two cuts `k₁ < k₂` uniform in `1 … D−1`: `c = a[..<k₁] ++ b[k₁..<k₂] ++ a[k₂...]`.
    case twoPoint
    /// Each gene from `a` or `b` with probability ½ (one random bit per gene).
    case uniform
    /// BLX-α (Eshelman & Schaffer 1993): `cⱼ` uniform in `[mⱼ − α dⱼ, Mⱼ + α dⱼ]` with
    /// `mⱼ = min(aⱼ, bⱼ)`, `Mⱼ = max(aⱼ, bⱼ)`, `dⱼ = Mⱼ − mⱼ`.
    case blend(alpha: Float)
    /// Simulated binary crossover (Deb & Agrawal 1995) with distribution index `η`: for each gene,
    /// `u` uniform in `[0, 1)`, spread `β = (2u)^{1/(η+1)}` if `u ≤ ½`, else
    /// `(1 / (2(1 − u)))^{1/(η+1)}`, and `c = ½((1 + β) a + (1 − β) b)` or
    /// `½((1 − β) a + (1 + β) b)` with probability ½ each, so `|c − (a+b)/2| = β |a − b| / 2`.
    /// `P(β ≤ x) = ½ x^{η+1}` for `x ≤ 1`: a larger `η` keeps children closer to their parents.
    case simulatedBinary(eta: Float)

    /// Writes the child of `a` and `b` into `child` (all of length `d`, not overlapping).
    public func apply(
        child: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, d: Int,
        random: inout RandomStream
    ) {
        switch self {
        case .none:
            child.update(from: a, count: d)
        case .onePoint:
            guard d > 1 else { return child.update(from: a, count: d) }
            let cut = 1 + random.below(d - 1)
            child.update(from: a, count: cut)
            (child + cut).update(from: b + cut, count: d - cut)
        case .twoPoint:
            guard d > 2 else { return Crossover.onePoint.apply(child: child, a: a, b: b, d: d, random: &random) }
            var first = 1 + random.below(d - 1)
            var second = 1 + random.below(d - 2)
            if second >= first { second += 1 } else { swap(&first, &second) }
            child.update(from: a, count: first)
            (child + first).update(from: b + first, count: second - first)
            (child + second).update(from: a + second, count: d - second)
        case .uniform:
            // One random word per 64 genes; bit s picks gene start + s from a (1) or b (0),
            // branch-free: mask = all ones or all zeros, c = (a & mask) | (b & ~mask).
            var start = 0
            while start < d {
                let bits = random.next()
                let end = min(d, start + 64)
                for j in start ..< end {
                    let mask = UInt32(truncatingIfNeeded: 0 &- ((bits >> UInt64(j - start)) & 1))
                    child[j] = Float(bitPattern: (a[j].bitPattern & mask) | (b[j].bitPattern & ~mask))
                }
                start = end
            }
        case .blend(let alpha):
            for j in 0 ..< d {
                let low = min(a[j], b[j])
                let span = max(a[j], b[j]) - low
                child[j] = low - alpha * span + (1 + 2 * alpha) * span * random.uniformFloat()
            }
        case .simulatedBinary(let eta):
            let exponent = 1 / Double(eta + 1)
            for j in 0 ..< d {
                let bits = random.next()
                let u = Double(bits >> 11) * 0x1.0p-53
                let beta = u <= 0.5 ? pow(2 * u, exponent) : pow(1 / (2 * (1 - u)), exponent)
                let sign: Double = bits & 1 == 0 ? 1 : -1
                let mid = 0.5 * (Double(a[j]) + Double(b[j]))
                child[j] = Float(mid + sign * beta * 0.5 * (Double(a[j]) - Double(b[j])))
            }
        }
    }
}
