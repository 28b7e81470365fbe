import Evolution

/// What an island has seen: networks evaluated, the best genome so far, the archive of evaluated
/// genomes for the meta-learner, and the kind of candidate that scored best last.
///
/// Kept apart from the population and the algorithm so that an island's search can record while
/// it holds them (`IslandSearch.evaluate`).
public struct IslandHistory: Sendable {
    /// Networks evaluated on the island so far.
    public var evaluations = 0
    /// The best fitness the island has seen, and that genome.
    public var bestFitness = -Float.infinity
    public var bestGenome: [Float] = []
    /// Evaluated weight-space genomes for the meta-learner (`nil` when it is not trained).
    public var archive: Archive?
    /// The kind of candidate that scored best in the last generation, where the algorithm has
    /// kinds (`SubspaceSNES`: `full`, `latent`, `guided`, `center`, `decoded` or `focus`; PGPE and
    /// OpenAI-ES: `center`, their evaluated mean); `nil` otherwise.
    public var bestKind: String?

    /// Keeps the best of `count` evaluated weight-space genomes (`[count × D]`) if it beats the
    /// best so far, and adds them to the archive. With `resultRow`, that genome (the algorithm's
    /// evaluated mean) is the candidate instead of the best-scoring one.
    public mutating func record(weights: UnsafeBufferPointer<Float>, fitness: [Float], resultRow: Int? = nil) {
        archive?.append(genomes: weights, fitness: fitness)
        guard let i = resultRow ?? Population.ranking(fitness).first, fitness[i].isFinite else { return }
        if fitness[i] > bestFitness || bestGenome.isEmpty {
            let d = weights.count / fitness.count
            bestFitness = fitness[i]
            bestGenome = Array(weights[i * d..<(i + 1) * d])
        }
    }

    /// Whether `fitness` would replace the best so far (NaN ranks last).
    func isImprovement(_ fitness: Float) -> Bool {
        Population.rankingValue(fitness) > Population.rankingValue(bestFitness) || bestGenome.isEmpty
    }

    /// Takes the best of `immigrants` (evaluated weight-space genomes) as the best so far if it is
    /// better; unlike `record`, nothing goes into the archive.
    mutating func consider(_ immigrants: Population) {
        guard immigrants.count > 0 else { return }
        let i = immigrants.bestIndex
        if isImprovement(immigrants.fitness[i]) {
            bestFitness = immigrants.fitness[i]
            bestGenome = Array(immigrants.row(i))
        }
    }
}
