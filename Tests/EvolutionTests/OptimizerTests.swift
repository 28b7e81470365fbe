import Foundation
import Testing

@testable import Evolution

struct OptimizerTests {
    let sphere: (Population) -> [Float] = { batch in
        (0..<batch.count).map { -Float(BenchmarkFunction.sphere.value(batch.row($0))) }
    }

    func optimizer(_ algorithm: Optimizer.Algorithm, seed: UInt64 = 3) -> Optimizer {
        Optimizer(algorithm: algorithm, dimension: 5, start: .uniform(low: -3, high: 3), seed: seed)
    }

    static let algorithms: [Optimizer.Algorithm] = [
        .genetic(GeneticAlgorithm(), populationSize: 12), .snes(populationSize: nil), .cmaes(populationSize: nil),
    ]

    @Test(arguments: algorithms)
    func sameSeedGivesSameRunBitForBit(algorithm: Optimizer.Algorithm) throws {
        let first = try optimizer(algorithm).run(stop: StopCriteria(maxGenerations: 15), fitness: sphere)
        let again = try optimizer(algorithm).run(stop: StopCriteria(maxGenerations: 15), fitness: sphere)
        let other = try optimizer(algorithm, seed: 4).run(stop: StopCriteria(maxGenerations: 15), fitness: sphere)
        #expect(first.bestGenome.map(\.bitPattern) == again.bestGenome.map(\.bitPattern))
        #expect(first.bestFitness.bitPattern == again.bestFitness.bitPattern)
        #expect(first.bestGenome != other.bestGenome)
        #expect(first.stopReason == .generations && first.progress.generations == 15)
    }

    @Test func evaluationsAreCountedAndBoundTheRun() throws {
        let result = try optimizer(.genetic(GeneticAlgorithm(elites: 2), populationSize: 10)).run(
            stop: StopCriteria(maxEvaluations: 50), fitness: sphere)
        // 10 for the first population, then 8 children per generation: 10 + 5 · 8 = 50.
        #expect(
            result.progress.evaluations == 50 && result.progress.generations == 5 && result.stopReason == .evaluations)
    }

    @Test func targetStopsTheRun() throws {
        let result = try optimizer(.cmaes(populationSize: nil)).run(
            stop: StopCriteria(maxGenerations: 1_000, targetFitness: -1e-3), fitness: sphere)
        #expect(
            result.stopReason == .targetReached && result.bestFitness >= -1e-3 && result.progress.generations < 1_000)
    }

    @Test func stagnationStopsARunThatCannotImprove() throws {
        let result = try optimizer(.snes(populationSize: nil)).run(
            stop: StopCriteria(maxGenerations: 100, maxStagnantGenerations: 4)
        ) { batch in
            [Float](repeating: 1, count: batch.count)
        }
        #expect(result.stopReason == .stagnation && result.progress.generations == 5)
    }

    @Test func wallTimeStopsTheRun() throws {
        let result = try optimizer(.snes(populationSize: nil)).run(
            stop: StopCriteria(maxSeconds: 0.05), fitness: sphere)
        #expect(result.stopReason == .wallTime && result.progress.elapsedSeconds >= 0.05)
    }

    @Test func onGenerationCanStopTheRunAndSeesProgress() throws {
        var seen: [Int] = []
        var bests: [Float] = []
        let result = try optimizer(.genetic(GeneticAlgorithm(), populationSize: 8)).run(
            stop: StopCriteria(maxGenerations: 100),
            onGeneration: { report in
                seen.append(report.progress.generations)
                bests.append(report.progress.bestFitness)
                #expect(report.population.count == 8 && report.generationBest <= report.progress.bestFitness)
                return report.progress.generations == 3 ? .stop : .continue
            },
            fitness: sphere)
        #expect(result.stopReason == .callback && seen == [1, 2, 3])
        #expect(zip(bests, bests.dropFirst()).allSatisfy { $0 <= $1 }, "with elitism the best never gets worse")
    }

    @Test func misuseIsReported() {
        #expect(throws: OptimizerError.unbounded) {
            try optimizer(.cmaes(populationSize: nil)).run(stop: StopCriteria(), fitness: sphere)
        }
        #expect(throws: OptimizerError.fitnessCount(expected: 12, got: 1)) {
            try optimizer(.genetic(GeneticAlgorithm(), populationSize: 12)).run(stop: StopCriteria(maxGenerations: 1)) {
                _ in [0]
            }
        }
        let wrongStart = Optimizer(
            algorithm: .snes(populationSize: nil), dimension: 5, start: .point(mean: [0, 0], spread: 1), seed: 1)
        #expect(throws: OptimizerError.self) {
            try wrongStart.run(stop: StopCriteria(maxGenerations: 1), fitness: sphere)
        }
    }

    @Test func stopCriteriaCombine() {
        let stop = StopCriteria(maxGenerations: 10, maxEvaluations: 100, targetFitness: 0)
        #expect(stop.reason(toStop: RunProgress(generations: 3, evaluations: 50, bestFitness: -1)) == nil)
        #expect(stop.reason(toStop: RunProgress(generations: 3, evaluations: 100, bestFitness: -1)) == .evaluations)
        #expect(stop.reason(toStop: RunProgress(generations: 10, evaluations: 50, bestFitness: -1)) == .generations)
        #expect(stop.reason(toStop: RunProgress(generations: 10, evaluations: 100, bestFitness: 0)) == .targetReached)
        var progress = RunProgress()
        progress.record(evaluated: 5, generationBest: 1, elapsedSeconds: 0.1)
        progress.record(evaluated: 5, generationBest: 1, elapsedSeconds: 0.2)
        progress.record(evaluated: 5, generationBest: 0.5, elapsedSeconds: 0.3)
        #expect(progress.stagnantGenerations == 2 && progress.bestFitness == 1 && progress.evaluations == 15)
    }
}
