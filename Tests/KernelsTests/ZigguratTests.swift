import Foundation
import Kernels
import Testing

/// The ziggurat sampler and `PortableMath.exp`: the distribution (moments, a χ² test over 40 bins,
/// the tail), its reproducibility, and the exponential against libm.
@Suite("Ziggurat")
struct ZigguratTests {
    /// Φ(x), the standard normal CDF (libm's erfc: the reference, not the code under test).
    static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    @Test("10⁶ draws: mean, variance, skewness and excess kurtosis of N(0, 1)")
    func moments() {
        var stream = RandomStream(seed: 5, purpose: "ziggurat-moments")
        let n = 1_000_000
        var s1 = 0.0
        var s2 = 0.0
        var s3 = 0.0
        var s4 = 0.0
        for _ in 0..<n {
            let x = stream.gaussianZiggurat()
            s1 += x
            s2 += x * x
            s3 += x * x * x
            s4 += x * x * x * x
        }
        let mean = s1 / Double(n)
        let variance = s2 / Double(n) - mean * mean
        // Standard errors at n = 10⁶: mean 0.001, variance 0.0014, skewness 0.0024, kurtosis 0.0049.
        #expect(abs(mean) < 0.005)
        #expect(abs(variance - 1) < 0.007)
        #expect(abs(s3 / Double(n)) < 0.012)
        #expect(abs(s4 / Double(n) - 3) < 0.025)
    }

    @Test("χ² over 40 equiprobable bins of N(0, 1) stays below the 0.999 quantile (χ²₃₉ = 72.1)")
    func chiSquare() {
        // Bin edges at Φ⁻¹(k/40), found by bisection on Φ.
        func quantile(_ p: Double) -> Double {
            var low = -10.0
            var high = 10.0
            for _ in 0..<100 {
                let mid = 0.5 * (low + high)
                if Self.cdf(mid) < p { low = mid } else { high = mid }
            }
            return 0.5 * (low + high)
        }
        let bins = 40
        let edges = (1..<bins).map { quantile(Double($0) / Double(bins)) }
        var counts = [Int](repeating: 0, count: bins)
        var stream = RandomStream(seed: 7, purpose: "ziggurat-chi2")
        let n = 400_000
        for _ in 0..<n {
            let x = stream.gaussianZiggurat()
            var low = 0
            var high = edges.count
            while low < high {
                let mid = (low + high) / 2
                if x < edges[mid] { high = mid } else { low = mid + 1 }
            }
            counts[low] += 1
        }
        let expected = Double(n) / Double(bins)
        let chi2 = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chi2 < 72.1, "χ² = \(chi2)")
    }

    @Test("the tail beyond r = 3.4426 and beyond 4 has the normal's mass")
    func tail() {
        var stream = RandomStream(seed: 11, purpose: "ziggurat-tail")
        let n = 2_000_000
        var beyondR = 0
        var beyond4 = 0
        var negative = 0
        for _ in 0..<n {
            let x = stream.gaussianZiggurat()
            if abs(x) > 3.442619855899 {
                beyondR += 1
                if x < 0 { negative += 1 }
            }
            if abs(x) > 4 { beyond4 += 1 }
        }
        let pR = 2 * (1 - Self.cdf(3.442619855899))
        let p4 = 2 * (1 - Self.cdf(4))  // 5.76e-4, 6.33e-5
        // Within 4 standard errors of the binomial counts.
        #expect(
            abs(Double(beyondR) - pR * Double(n)) < 4 * (pR * Double(n)).squareRoot(),
            "\(beyondR) beyond r, expected \(pR * Double(n))")
        #expect(
            abs(Double(beyond4) - p4 * Double(n)) < 4 * (p4 * Double(n)).squareRoot(),
            "\(beyond4) beyond 4, expected \(p4 * Double(n))")
        #expect(abs(Double(negative) - Double(beyondR) / 2) < 4 * (Double(beyondR) / 4).squareRoot())
    }

    @Test(
        "the same stream gives the same draws; the first draws are pinned (a change changes every PGPE and OpenAI-ES run)"
    )
    func reproducible() {
        var a = RandomStream(seed: 1, purpose: "pinned")
        var b = RandomStream(seed: 1, purpose: "pinned")
        let first = (0..<1000).map { _ in a.gaussianZiggurat() }
        #expect(first == (0..<1000).map { _ in b.gaussianZiggurat() })
        var buffer = [Float](repeating: 0, count: 4)
        var c = RandomStream(seed: 1, purpose: "pinned")
        buffer.withUnsafeMutableBufferPointer { c.fillGaussianZiggurat($0) }
        #expect(buffer == first.prefix(4).map { Float($0) })
        #expect(
            first.prefix(3).map(\.bitPattern) == [
                4_604_314_137_774_349_633, 13_800_199_158_647_362_202, 4_605_062_444_114_792_219,
            ])
    }

    @Test("PortableMath.exp agrees with libm within 4 ulp from −740 to 709")
    func exponential() {
        var x = -740.0
        while x < 709 {
            let ours = PortableMath.exp(x)
            let libm = Foundation.exp(x)
            #expect(abs(ours - libm) <= 4 * libm.ulp, "exp(\(x)): \(ours) vs \(libm)")
            x += 0.731
        }
        #expect(PortableMath.exp(0) == 1 && PortableMath.exp(-800) == 0 && PortableMath.exp(800) == .infinity)
    }
}
