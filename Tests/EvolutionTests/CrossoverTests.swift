import Foundation
import Kernels
import Testing

@testable import Evolution

struct CrossoverTests {
    let d = 10_000
    let a: [Float] = (0..<10_000).map { Float($0) }
    let b: [Float] = (0..<10_000).map { Float(-1 - $0) }

    func child(_ crossover: Crossover, a: [Float], b: [Float], seed: UInt64 = 3) -> [Float] {
        var out = [Float](repeating: .nan, count: a.count)
        var random = StreamKey(seed: seed, generation: 1).stream(.crossover, individual: 0)
        out.withUnsafeMutableBufferPointer { out in
            crossover.apply(child: out.baseAddress!, a: a, b: b, d: a.count, random: &random)
        }
        return out
    }

    @Test func uniformTakesEveryGeneFromOneParentHalfTheTime() {
        let c = child(.uniform, a: a, b: b)
        var fromA = 0
        for j in 0..<d {
            #expect(c[j] == a[j] || c[j] == b[j])
            if c[j] == a[j] { fromA += 1 }
        }
        // Binomial(10⁴, ½): standard deviation 50.
        #expect(abs(fromA - d / 2) < 250)
    }

    @Test func onePointCutsOnce() {
        let c = child(.onePoint, a: a, b: b)
        let cut = (0..<d).first { c[$0] != a[$0] }!
        #expect(cut >= 1)
        #expect((cut..<d).allSatisfy { c[$0] == b[$0] })
    }

    @Test func twoPointTakesTheMiddleFromTheSecondParent() {
        let c = child(.twoPoint, a: a, b: b)
        let first = (0..<d).first { c[$0] != a[$0] }!
        let second = (first..<d).first { c[$0] != b[$0] } ?? d
        #expect(first >= 1 && second > first)
        #expect((second..<d).allSatisfy { c[$0] == a[$0] })
    }

    @Test func noneCopiesTheFirstParent() {
        #expect(child(.none, a: a, b: b) == a)
    }

    @Test func blendStaysInTheWidenedIntervalAndUsesIt() {
        let alpha: Float = 0.5
        let c = child(.blend(alpha: alpha), a: a, b: b)
        var outside = 0
        for j in 0..<d {
            let low = min(a[j], b[j])
            let span = abs(a[j] - b[j])
            #expect(c[j] >= low - alpha * span - 1e-3 && c[j] <= low + (1 + alpha) * span + 1e-3)
            if c[j] < low || c[j] > low + span { outside += 1 }
        }
        // Half of the interval [m − αd, M + αd] lies outside [m, M] when α = ½.
        #expect(abs(Double(outside) / Double(d) - 0.5) < 0.03)
    }

    /// With parents 0 and 1, `|c − ½| = β/2`, and `P(β ≤ x) = ½ x^{η+1}` for `x ≤ 1`,
    /// `1 − ½ x^{−(η+1)}` above (Deb & Agrawal 1995).
    @Test func simulatedBinarySpreadFollowsEta() {
        let zeros = [Float](repeating: 0, count: d)
        let ones = [Float](repeating: 1, count: d)
        var previousMeanSpread = Double.infinity
        for eta: Float in [2, 5, 20] {
            let c = child(.simulatedBinary(eta: eta), a: zeros, b: ones)
            let beta = c.map { 2 * abs(Double($0) - 0.5) }
            for x in [0.5, 0.9, 1.1, 1.5] {
                let empirical = Double(beta.filter { $0 <= x }.count) / Double(d)
                let power = pow(x, Double(eta) + 1)
                let expected: Double = x <= 1 ? 0.5 * power : 1 - 0.5 / power
                #expect(abs(empirical - expected) < 0.02, "η=\(eta) P(β ≤ \(x)) = \(empirical), expected \(expected)")
            }
            let meanSpread = beta.reduce(0, +) / Double(d)
            #expect(meanSpread < previousMeanSpread)
            previousMeanSpread = meanSpread
            // Children lie on either side of the midpoint equally often.
            let above = c.filter { $0 > 0.5 }.count
            #expect(abs(above - d / 2) < 250)
        }
    }
}
