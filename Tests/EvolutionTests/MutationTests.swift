import Foundation
import Kernels
import Testing

@testable import Evolution

struct MutationTests {
    /// Mutates a row of zeros and returns it with the child's step size.
    func mutate(_ mutation: Mutation, d: Int, seed: UInt64, stepSize: Float = 0, belowMean: Bool = false) -> (
        row: [Float], stepSize: Float
    ) {
        var row = [Float](repeating: 0, count: d)
        var step = stepSize
        var random = StreamKey(seed: seed, generation: 1).stream(.mutation, individual: 0)
        row.withUnsafeMutableBufferPointer {
            mutation.apply(to: $0, stepSize: &step, belowMean: belowMean, random: &random)
        }
        return (row, step)
    }

    /// Geometric skips must give each gene an independent Bernoulli(p) chance: over many children
    /// the count per child has mean `pD` and variance `pD(1 − p)`, and every block of positions is
    /// hit equally often.
    @Test(arguments: [0.001, 0.03, 0.3])
    func perGeneRateHasBinomialStatistics(rate: Double) {
        let d = 20_000
        let children = 60
        var counts: [Double] = []
        var blocks = [Double](repeating: 0, count: 10)
        for seed in 0..<children {
            let row = mutate(Mutation(kind: .gaussian(sigma: 1), genes: .rate(rate)), d: d, seed: UInt64(seed)).row
            var count = 0.0
            for j in 0..<d where row[j] != 0 {
                count += 1
                blocks[j * 10 / d] += 1
            }
            counts.append(count)
        }
        let mean = counts.reduce(0, +) / Double(children)
        let variance = counts.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(children - 1)
        let expectedMean = rate * Double(d)
        let expectedVariance = rate * (1 - rate) * Double(d)
        #expect(abs(mean - expectedMean) < 4 * (expectedVariance / Double(children)).squareRoot())
        #expect(
            variance > 0.5 * expectedVariance && variance < 1.6 * expectedVariance,
            "variance \(variance), expected \(expectedVariance)")
        let perBlock = expectedMean * Double(children) / 10
        #expect(blocks.allSatisfy { abs($0 - perBlock) < 5 * perBlock.squareRoot() }, "\(blocks)")
    }

    @Test func rateOneMutatesEveryGene() {
        let row = mutate(Mutation(kind: .uniformShift(low: 1, high: 2), genes: .rate(1)), d: 1_000, seed: 1).row
        #expect(row.allSatisfy { $0 >= 1 && $0 < 2 })
    }

    @Test func gaussianStepsHaveTheGivenSigma() {
        let row = mutate(Mutation(kind: .gaussian(sigma: 0.5), genes: .rate(1)), d: 40_000, seed: 2).row
        let mean = row.reduce(0) { $0 + Double($1) } / 40_000
        let std = (row.reduce(0) { $0 + Double($1) * Double($1) } / 40_000 - mean * mean).squareRoot()
        #expect(abs(mean) < 0.01 && abs(std - 0.5) < 0.01)
    }

    @Test func countMutatesExactlyThatManyDistinctGenes() {
        for (seed, n) in [1, 17, 500, 999, 1_000].enumerated() {
            let row = mutate(
                Mutation(kind: .randomReplacement(low: 3, high: 4), genes: .count(n)), d: 1_000, seed: UInt64(seed)
            ).row
            #expect(row.filter { $0 != 0 }.count == n)
            #expect(row.allSatisfy { $0 == 0 || ($0 >= 3 && $0 < 4) })
        }
    }

    @Test func adaptiveUsesTheHigherRateBelowTheMean() {
        let mutation = Mutation(kind: .gaussian(sigma: 1), genes: .adaptiveCount(aboveMean: 3, belowMean: 40))
        #expect(mutate(mutation, d: 500, seed: 1, belowMean: true).row.filter { $0 != 0 }.count == 40)
        #expect(mutate(mutation, d: 500, seed: 1, belowMean: false).row.filter { $0 != 0 }.count == 3)
        let byRate = Mutation(kind: .gaussian(sigma: 1), genes: .adaptiveRate(aboveMean: 0.01, belowMean: 0.2))
        let weak = mutate(byRate, d: 10_000, seed: 4, belowMean: false).row.filter { $0 != 0 }.count
        let strong = mutate(byRate, d: 10_000, seed: 4, belowMean: true).row.filter { $0 != 0 }.count
        #expect(abs(weak - 100) < 50 && abs(strong - 2_000) < 200)
    }

    /// `ln(σ'/σ) = τ N(0, 1)` with `τ = 1/√D`, and the genes move with the new σ'.
    @Test func selfAdaptiveStepSizeIsLogNormal() {
        let d = 100
        var logs: [Double] = []
        for seed in 0..<2_000 {
            let (_, step) = mutate(
                Mutation(kind: .selfAdaptive(initialSigma: 0.2, learningRate: nil), genes: .count(1)), d: d,
                seed: UInt64(seed), stepSize: 0.4)
            logs.append(Foundation.log(Double(step) / 0.4))
        }
        let mean = logs.reduce(0, +) / 2_000
        let std = (logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 1_999).squareRoot()
        #expect(abs(mean) < 4 * 0.1 / 2_000.0.squareRoot())
        #expect(abs(std - 0.1) < 0.01)
        let (row, step) = mutate(
            Mutation(kind: .selfAdaptive(initialSigma: 0.2, learningRate: 0.5), genes: .rate(1)), d: 40_000, seed: 1)
        let spread = (row.reduce(0) { $0 + Double($1) * Double($1) } / 40_000).squareRoot()
        #expect(abs(spread / Double(step) - 1) < 0.02)
    }

    @Test func sameStreamGivesSameMutation() {
        let mutation = Mutation(kind: .gaussian(sigma: 1), genes: .rate(0.01))
        #expect(mutate(mutation, d: 5_000, seed: 8).row == mutate(mutation, d: 5_000, seed: 8).row)
        #expect(mutate(mutation, d: 5_000, seed: 8).row != mutate(mutation, d: 5_000, seed: 9).row)
    }
}
