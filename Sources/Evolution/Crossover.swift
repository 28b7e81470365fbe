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
        let cuts = drawCuts(d: d, random: &random)
        apply(child: child, a: a, b: b, genes: 0..<d, cuts: cuts, random: &random)
    }

    /// The cut points of one child, drawn before its genes: genes `0 ..< first` and
    /// `second ..< d` come from `a`, `first ..< second` from `b` (`first = second = d` when the
    /// scheme has no cuts).
    func drawCuts(d: Int, random: inout RandomStream) -> (first: Int, second: Int) {
        switch self {
        case .onePoint where d > 1:
            return (1 + random.below(d - 1), d)
        case .twoPoint where d > 2:
            let first = 1 + random.below(d - 1)
            let second = 1 + random.below(d - 2)
            return second >= first ? (first, second + 1) : (second, first)
        default:
            return (d, d)
        }
    }

    /// Writes genes `genes` of the child. A child made in consecutive ranges (each starting at a
    /// multiple of 64) is identical to one made in a single call, so a long genome can be crossed
    /// and mutated chunk by chunk while the chunk is in cache.
    func apply(
        child: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, genes: Range<Int>,
        cuts: (first: Int, second: Int), random: inout RandomStream
    ) {
        switch self {
        case .none, .onePoint, .twoPoint:
            Self.copy(child, a, genes.clamped(to: 0..<cuts.first))
            Self.copy(child, b, genes.clamped(to: cuts.first..<max(cuts.first, cuts.second)))
            Self.copy(child, a, genes.clamped(to: max(cuts.first, cuts.second)..<max(genes.upperBound, cuts.second)))
        case .uniform:
            // One random word per 64 genes; bit s picks gene start + s from a (1) or b (0),
            // branch-free and eight genes at a time: each byte of the word selects a mask of
            // eight all-ones or all-zeros lanes m, and c = (a & m) | (b & ~m).
            precondition(genes.lowerBound % 64 == 0, "uniform crossover chunks must start at a multiple of 64")
            let masks = Self.byteMasks
            var start = genes.lowerBound
            while start < genes.upperBound {
                let bits = random.next()
                let end = min(genes.upperBound, start + 64)
                if end - start == 64 {
                    for group in 0..<8 {
                        let j = start + 8 * group
                        let mask = masks[Int(truncatingIfNeeded: bits >> UInt64(8 * group)) & 0xFF]
                        let fromA = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<UInt32>.self)
                        let fromB = UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<UInt32>.self)
                        UnsafeMutableRawPointer(child + j).storeBytes(
                            of: (fromA & mask) | (fromB & ~mask), as: SIMD8<UInt32>.self)
                    }
                } else {
                    for j in start..<end {
                        let mask = UInt32(truncatingIfNeeded: 0 &- ((bits >> UInt64(j - start)) & 1))
                        child[j] = Float(bitPattern: (a[j].bitPattern & mask) | (b[j].bitPattern & ~mask))
                    }
                }
                start = end
            }
        case .blend(let alpha):
            for j in genes {
                let low = min(a[j], b[j])
                let span = max(a[j], b[j]) - low
                child[j] = low - alpha * span + (1 + 2 * alpha) * span * random.uniformFloat()
            }
        case .simulatedBinary(let eta):
            let exponent = 1 / Double(eta + 1)
            for j in genes {
                let bits = random.next()
                let u = Double(bits >> 11) * 0x1.0p-53
                let beta = u <= 0.5 ? pow(2 * u, exponent) : pow(1 / (2 * (1 - u)), exponent)
                let sign: Double = bits & 1 == 0 ? 1 : -1
                let mid = 0.5 * (Double(a[j]) + Double(b[j]))
                child[j] = Float(mid + sign * beta * 0.5 * (Double(a[j]) - Double(b[j])))
            }
        }
    }

    /// `byteMasks[k]` has lane `s` all ones when bit `s` of `k` is set, else zero (8 KiB).
    private static let byteMasks: [SIMD8<UInt32>] = (0..<256).map { byte in
        SIMD8<UInt32>((0..<8).map { (byte >> $0) & 1 == 1 ? UInt32.max : 0 })
    }

    private static func copy(_ child: UnsafeMutablePointer<Float>, _ parent: UnsafePointer<Float>, _ genes: Range<Int>)
    {
        guard !genes.isEmpty else { return }
        (child + genes.lowerBound).update(from: parent + genes.lowerBound, count: genes.count)
    }
}
