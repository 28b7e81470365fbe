import Foundation
import Testing

@testable import Evolution

/// Evaluations CMA-ES needs to bring `function` from `start` (step size `sigma`) to f ≤ 1e-8,
/// for each seed; nil where the budget ran out.
func cmaesEvaluations(_ function: BenchmarkFunction, start: [Float], sigma: Float, seeds: ClosedRange<UInt64>, budget: Int) throws -> [Int?] {
    try seeds.map { seed in
        let optimizer = Optimizer(algorithm: .cmaes(populationSize: nil), dimension: start.count, start: .point(mean: start, spread: sigma), seed: seed)
        let result = try optimizer.run(stop: StopCriteria(maxEvaluations: budget, targetFitness: -1e-8)) { batch in
            (0 ..< batch.count).map { -Float(function.value(batch.row($0))) }
        }
        return result.stopReason == .targetReached ? result.progress.evaluations : nil
    }
}

func median(_ values: [Int]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? Double(sorted[sorted.count / 2]) : Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

struct CMAESTests {
    /// Reference: pycma 4.5.0, `cma.fmin(cma.ff.sphere, [1.0] * 10, 0.5, {'ftarget': 1e-8,
    /// 'CMA_active': False, 'seed': s})` for s = 1…20 (the same defaults as Hansen's tutorial, no
    /// negative weights): median 1,325 evaluations, range 1,120–1,431 (`res[2]`).
    @Test func reachesTargetOnTenDimensionalSphere() throws {
        let counts = try cmaesEvaluations(.sphere, start: Array(repeating: 1, count: 10), sigma: 0.5, seeds: 1 ... 5, budget: 10_000)
        print("CMA-ES 10-D sphere evaluations to 1e-8:", counts)
        let reached = counts.compactMap { $0 }
        #expect(reached.count == counts.count)
        #expect(median(reached) <= 1.25 * 1_325)
    }

    /// Reference: pycma 4.5.0, `cma.fmin(cma.ff.rosen, [0.1] * 10, 0.3, {'ftarget': 1e-8,
    /// 'CMA_active': False, 'seed': s})` for s = 1…20: median 5,921 evaluations, range
    /// 5,171–6,351, all 20 reaching the target (pycma's own doctest asserts < 8,000 for this start).
    @Test func reachesTargetOnTenDimensionalRosenbrock() throws {
        let counts = try cmaesEvaluations(.rosenbrock, start: Array(repeating: 0.1, count: 10), sigma: 0.3, seeds: 1 ... 5, budget: 30_000)
        print("CMA-ES 10-D Rosenbrock evaluations to 1e-8:", counts)
        let reached = counts.compactMap { $0 }
        #expect(reached.count >= 4)
        #expect(median(reached) <= 1.25 * 5_921)
    }
}
