import Evolution
import Kernels

/// How an island picks the genomes it sends to its neighbours (pagmo's selection policy). Where
/// they land is `Evolution.ImmigrantReplacement` (`replaceWorst` or pagmo's `fair`).
public enum EmigrantSelection: String, Codable, Sendable, CaseIterable {
    /// The `k` fittest, best first (ties broken by lower index, NaN last).
    case best
    /// `k` distinct individuals drawn uniformly from the island's migration stream.
    case random

    /// Indices of `count` emigrants among individuals with `fitness` (higher is better).
    public func choose(_ count: Int, fitness: [Float], stream: inout RandomStream) -> [Int] {
        let k = min(count, fitness.count)
        switch self {
        case .best:
            return Array(Population.ranking(fitness).prefix(k))
        case .random:
            var indices = Array(fitness.indices)
            for i in 0..<k { indices.swapAt(i, i + stream.below(indices.count - i)) }
            return Array(indices.prefix(k))
        }
    }

    /// The emigrants of `population` as a population of `count` rows (genes, fitness, ids, steps).
    public func emigrants(of population: Population, count: Int, stream: inout RandomStream) -> Population {
        let chosen = choose(count, fitness: population.fitness, stream: &stream)
        var result = Population(count: chosen.count, dimension: population.dimension)
        for (slot, index) in chosen.enumerated() { result.copyIndividual(index, of: population, to: slot) }
        return result
    }
}
