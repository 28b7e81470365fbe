import Kernels

/// How an island picks the genomes it sends to its neighbours (pagmo's selection policy).
public enum EmigrantSelection: String, Codable, Sendable, CaseIterable {
    /// The `k` fittest, best first (ties broken by lower index).
    case best
    /// `k` distinct individuals drawn uniformly from the island's migration stream.
    case random

    /// Indices of `count` emigrants among individuals with `fitness` (higher is better).
    public func choose(_ count: Int, fitness: [Float], stream: inout RandomStream) -> [Int] {
        let k = min(count, fitness.count)
        switch self {
        case .best:
            return Array(rankedBestFirst(fitness).prefix(k))
        case .random:
            var indices = Array(fitness.indices)
            for i in 0 ..< k { indices.swapAt(i, i + stream.below(indices.count - i)) }
            return Array(indices.prefix(k))
        }
    }
}

/// How arriving migrants take places in an island's population (pagmo's replacement policy).
public enum ImmigrantReplacement: String, Codable, Sendable, CaseIterable {
    /// Immigrants replace the residents with the lowest fitness, whatever their own fitness.
    case worst
    /// pagmo's `fair_replace`: residents and immigrants compete, the best `P` of the union stay;
    /// an immigrant gets in only by beating a resident.
    case fair

    /// Pairs `(resident index, immigrant index)`: immigrant `j` overwrites resident `i`.
    ///
    /// - Parameters:
    ///   - residents: fitness of the island's individuals.
    ///   - immigrants: fitness of the arriving genomes, in arrival order.
    public func placements(residents: [Float], immigrants: [Float]) -> [(resident: Int, immigrant: Int)] {
        let worstFirst = Array(rankedBestFirst(residents).reversed())
        switch self {
        case .worst:
            return Array(zip(worstFirst, immigrants.indices).prefix(min(immigrants.count, residents.count)))
                .map { (resident: $0.0, immigrant: $0.1) }
        case .fair:
            var result: [(resident: Int, immigrant: Int)] = []
            var nextVictim = 0
            for j in rankedBestFirst(immigrants) where nextVictim < worstFirst.count {
                let victim = worstFirst[nextVictim]
                guard immigrants[j] > residents[victim] else { break }
                result.append((resident: victim, immigrant: j))
                nextVictim += 1
            }
            return result
        }
    }
}

/// Indices sorted by decreasing fitness; NaN counts as worst; ties keep the lower index first.
func rankedBestFirst(_ fitness: [Float]) -> [Int] {
    fitness.indices.sorted { a, b in
        let fa = fitness[a].isNaN ? -Float.infinity : fitness[a]
        let fb = fitness[b].isNaN ? -Float.infinity : fitness[b]
        return fa != fb ? fa > fb : a < b
    }
}
