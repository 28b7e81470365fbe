import Foundation
import Testing

@testable import Evolution

struct SNESTests {
    /// Reference: SNES with the defaults of Schaul, Glasmachers & Schmidhuber (GECCO 2011,
    /// Algorithm 1; `λ = 10`, `η_σ = (3 + ln 10)/(5√10)` here) transcribed in numpy
    /// (scripts/fixtures/evolution_reference_counts.py), 10-D sphere from `[1]*10` with `σ₀ = 0.5` to
    /// f ≤ 1e-8, seeds 1…20: median 1,775 evaluations, range 1,610–1,860. For scale, pycma's CMA-ES
    /// needs a median of 1,325 on the same problem (see CMAESTests).
    @Test func reachesTargetOnTenDimensionalSphere() throws {
        var counts: [Int] = []
        for seed: UInt64 in 1...5 {
            let optimizer = Optimizer(
                algorithm: .snes(populationSize: nil), dimension: 10,
                start: .point(mean: Array(repeating: 1, count: 10), spread: 0.5), seed: seed)
            let result = try optimizer.run(stop: StopCriteria(maxEvaluations: 10_000, targetFitness: -1e-8)) { batch in
                (0..<batch.count).map { -Float(BenchmarkFunction.sphere.value(batch.row($0))) }
            }
            #expect(result.stopReason == .targetReached)
            counts.append(result.progress.evaluations)
        }
        print("SNES 10-D sphere evaluations to 1e-8:", counts)
        #expect(median(counts) <= 1.25 * 1_775)
    }

    /// With `evaluatesCenter`, row 0 is the mean exactly; it ranks with the others but moves
    /// nothing: the update equals SNES's formulas over rows 1… with the utilities of their ranks.
    @Test func centerRowIsTheMeanAndAddsNoGradient() {
        let d = 6
        var snes = SNES(mean: [Float](repeating: 1, count: d), stepSize: 0.4, populationSize: 8, evaluatesCenter: true)
        var population = Population(count: 8, dimension: d)
        for generation in 1...3 {
            if generation > 1 { snes.tell(population) }
            snes.ask(into: &population, key: StreamKey(seed: 2, generation: generation))
            for r in 0..<8 { population.fitness[r] = -Float(BenchmarkFunction.sphere.value(population.row(r))) }
        }
        #expect(Array(population.row(0)) == snes.mean)
        let before = snes
        var gradMean = [Double](repeating: 0, count: d)
        var gradSigma = [Double](repeating: 0, count: d)
        for (rank, r) in population.ranking().enumerated() where r != 0 {
            let u = Double(before.utilities[rank])
            for j in 0..<d {
                let z = (Double(population.genes[r * d + j]) - Double(before.mean[j])) / Double(before.sigma[j])
                gradMean[j] += u * z
                gradSigma[j] += u * (z * z - 1)
            }
        }
        #expect(population.ranking().firstIndex(of: 0)! < 7, "the center ranks among the samples")
        snes.tell(population)
        for j in 0..<d {
            let mean = Double(before.mean[j]) + Double(before.sigma[j]) * gradMean[j]
            let sigma = Double(before.sigma[j]) * exp(0.5 * Double(before.learningRateSigma) * gradSigma[j])
            #expect(
                abs(Double(snes.mean[j]) - mean) < 1e-5 && abs(Double(snes.sigma[j]) - sigma) < 1e-5 * sigma,
                "gene \(j)")
        }
    }

    @Test func defaultParametersFollowThePaper() {
        let snes = SNES(mean: Array(repeating: 0, count: 100), stepSize: 1)
        #expect(snes.populationSize == 4 + 13)  // 4 + ⌊3 ln 100⌋ = 4 + ⌊13.8⌋
        #expect(abs(Double(snes.learningRateSigma) - (3 + 4.605170186) / 50) < 1e-6)
        #expect(abs(snes.utilities.reduce(0, +)) < 1e-6)
        #expect(snes.utilities[0] > snes.utilities[1] && snes.utilities.last! == -1 / 17)
    }
}
