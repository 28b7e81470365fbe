import Foundation
import Kernels
import Testing

@testable import Evolution

struct ParentSelectionTests {
    /// Fitness `0, 1, …, p−1`: individual `i` has rank `i + 1`.
    let ladder: [Float] = (0..<20).map(Float.init)

    func frequencies(_ scheme: ParentSelection, fitness: [Float], draws: Int, seed: UInt64 = 1) -> [Double] {
        var random = StreamKey(seed: seed, generation: 0).stream(.selection)
        var counts = [Double](repeating: 0, count: fitness.count)
        for index in scheme.select(count: draws, fitness: fitness, random: &random) { counts[index] += 1 }
        return counts.map { $0 / Double(draws) }
    }

    @Test func tournamentPressureGrowsWithSize() {
        let p = Double(ladder.count)
        var previousMean = -1.0
        for size in [1, 2, 4, 8] {
            let share = frequencies(.tournament(size: size), fitness: ladder, draws: 40_000)
            // The best wins a tournament iff it is drawn at least once: 1 − (1 − 1/P)^K.
            let expectedBest = 1 - pow(1 - 1 / p, Double(size))
            let tolerance = 4 * (expectedBest * (1 - expectedBest) / 40_000).squareRoot()
            #expect(abs(share[ladder.count - 1] - expectedBest) < tolerance, "K=\(size)")
            let meanRank = share.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
            #expect(meanRank > previousMean + 1, "K=\(size) mean selected index \(meanRank)")
            previousMean = meanRank
        }
    }

    @Test func rankSelectionIsProportionalToRank() {
        let share = frequencies(.rank, fitness: ladder.map { $0 * $0 - 50 }, draws: 60_000)
        let total = Double(20 * 21 / 2)
        for i in [0, 9, 19] {
            let expected = Double(i + 1) / total
            #expect(abs(share[i] - expected) < 4 * (expected / 60_000).squareRoot() + 1e-3, "rank \(i + 1)")
        }
    }

    @Test func rouletteIsProportionalToFitnessAboveTheMinimum() {
        let fitness: [Float] = [-3, -1, 0, 5]  // weights 0, 2, 3, 8
        let share = frequencies(.rouletteWheel, fitness: fitness, draws: 60_000)
        for (i, weight) in [0.0, 2, 3, 8].enumerated() {
            #expect(abs(share[i] - weight / 13) < 0.01, "individual \(i)")
        }
    }

    @Test func stochasticUniversalSamplingGivesExpectedCountWithinOne() {
        var source = RandomStream(seed: 9, purpose: "fitness")
        for trial in 0..<50 {
            let fitness = (0..<13).map { _ in Float(source.uniform(-2, 5)) }
            let weights = ParentSelection.proportionateWeights(fitness)
            let total = weights.reduce(0, +)
            let n = 7 + trial % 30
            var random = StreamKey(seed: UInt64(trial), generation: trial).stream(.selection)
            var counts = [Int](repeating: 0, count: 13)
            for index in ParentSelection.stochasticUniversalSampling.select(count: n, fitness: fitness, random: &random)
            { counts[index] += 1 }
            for i in 0..<13 {
                let expected = Double(n) * weights[i] / total
                #expect(
                    Double(counts[i]) >= expected.rounded(.down) - 1e-9
                        && Double(counts[i]) <= expected.rounded(.up) + 1e-9,
                    "trial \(trial) individual \(i): \(counts[i]) for \(expected)")
            }
        }
    }

    @Test func steadyStateTakesTheBestInOrder() {
        var random = StreamKey(seed: 1, generation: 0).stream(.selection)
        let fitness: [Float] = [3, 9, 1, 7]
        #expect(ParentSelection.steadyState.select(count: 6, fitness: fitness, random: &random) == [1, 3, 0, 2, 1, 3])
    }

    @Test func truncationDrawsOnlyFromTheTopFraction() {
        let share = frequencies(.truncation(fraction: 0.25), fitness: ladder, draws: 20_000)
        #expect(share[0..<15].allSatisfy { $0 == 0 })
        #expect(share[15..<20].allSatisfy { abs($0 - 0.2) < 0.02 })
    }

    @Test func randomSelectionIsUniform() {
        let share = frequencies(.random, fitness: ladder, draws: 40_000)
        #expect(share.allSatisfy { abs($0 - 0.05) < 0.01 })
    }

    @Test func unevaluatedAndNaNCountAsWorst() {
        let fitness: [Float] = [.nan, 2, -.infinity, 1]
        let share = frequencies(.tournament(size: 4), fitness: fitness, draws: 10_000)
        #expect(share[1] > share[3] && share[3] > share[0] && share[3] > share[2])
    }

    @Test("+∞ fitness counts as worst too: never wins a tournament against a finite one, weight 0 in roulette")
    func positiveInfinityCountsAsWorst() {
        let fitness: [Float] = [.infinity, 2, 1]
        let tournament = frequencies(.tournament(size: 3), fitness: fitness, draws: 10_000)
        #expect(tournament[1] > tournament[2] && tournament[2] > tournament[0])
        #expect(frequencies(.rouletteWheel, fitness: fitness, draws: 10_000)[0] == 0)
        #expect(frequencies(.stochasticUniversalSampling, fitness: fitness, draws: 10_000)[0] == 0)
    }
}
