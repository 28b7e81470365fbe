import Evolution

/// An island's algorithm in the form its candidates take, as `Island.evolve` drives it:
/// - genome rows (`GenomeSearch`: the GA and the evolution strategies);
/// - rows awaiting a decoded residual (`AnchoredSearch`: SNES in the anchored latent, whose
///   decoder rows get `D(ρ ⊙ w) − D(0)` from the meta-learner after the ask);
/// - low-rank codes (`CodeSearch`: EGGROLL), scored without ever being written out as genomes.
///
/// One generation: `ask` tells the algorithm the fitness of the evaluated population (migration
/// may have placed immigrants in it) and writes the next candidates into it; `evaluate` scores
/// the rows `ask` named and records them in the island's history. Only `RunConfig.islandSearch`
/// (and `RunConfig.readIslandSearch`, from a checkpoint) builds one from the config.
protocol IslandSearch: Sendable {
    /// The algorithm and its state, as a checkpoint stores it.
    var algorithm: any IslandAlgorithm { get }
    /// Tells the algorithm the fitness of `population` and asks it for the next candidates, in
    /// place (`scratch`: a second buffer for the GA).
    /// - Returns: the rows of `population` to evaluate.
    mutating func ask(
        _ population: inout Population, scratch: inout Population, key: StreamKey, with: CandidateEvaluator
    )
        throws -> Range<Int>
    /// Scores rows `rows` of `population` and records them in `history`.
    func evaluate(
        _ population: inout Population, rows: Range<Int>, history: inout IslandHistory, key: StreamKey,
        with: CandidateEvaluator) throws
    /// Genes of a migrant from `population`.
    func migrantDimension(of population: Population) -> Int
    /// `chosen` rows of the population as migrants.
    func migrants(_ chosen: Population) -> Population
    /// Places evaluated `immigrants` in `population` with `replacement`, or hands them to the
    /// algorithm.
    mutating func receive(
        _ immigrants: Population, into population: inout Population, replacement: ImmigrantReplacement)
    /// The search mean the meta-learner's records are deltas from (the anchored latent's anchor);
    /// `nil` for a search the meta-learner does not guide.
    var anchor: [Float]? { get }
    /// Takes up what a meta-learner round gives the island (the anchored latent's focus weights
    /// and residual step sizes).
    mutating func follow(_ guidance: MetaGuidance)
}

/// What a meta-learner round in the anchored latent gives an island's search.
struct MetaGuidance {
    /// Each neuron's weight for focused rows (the encoder's attention), and each gene's neuron.
    var focus: (weights: [Float], geneNeurons: [Int32])?
    /// `ρ`, the step sizes of the decoder rows' latents.
    var decoderStepSizes: [Float]?
}

extension IslandSearch {
    /// Genome rows: scored by the task as they are; the kind of the best row and, on a task that
    /// re-scores every generation, the algorithm's evaluated mean (`meanRow`) are recorded.
    func evaluate(
        _ population: inout Population, rows: Range<Int>, history: inout IslandHistory, key: StreamKey,
        with evaluator: CandidateEvaluator
    ) throws {
        try evaluator.evaluate(&population, rows: rows, key: key)
        history.evaluations += rows.count
        let fitness = population.fitness
        // The best row (NaN last; the lower index among equals).
        if let best = rows.max(by: { a, b in
            let (fa, fb) = (fitness[a].isNaN ? -.infinity : fitness[a], fitness[b].isNaN ? -.infinity : fitness[b])
            return fa != fb ? fa < fb : a > b
        }) {
            history.bestKind = algorithm.candidateKind(row: best)
        }
        let d = population.dimension
        let meanRow = evaluator.rescoresSurvivors ? algorithm.meanRow : nil
        population.genes.withUnsafeBufferPointer { genes in
            history.record(
                weights: UnsafeBufferPointer(rebasing: genes[rows.lowerBound * d..<rows.upperBound * d]),
                fitness: Array(fitness[rows]),
                resultRow: meanRow.flatMap { rows.contains($0) ? $0 - rows.lowerBound : nil })
        }
    }

    func migrantDimension(of population: Population) -> Int { population.dimension }

    func migrants(_ chosen: Population) -> Population { chosen }

    mutating func receive(
        _ immigrants: Population, into population: inout Population, replacement: ImmigrantReplacement
    ) {
        population.insert(immigrants: immigrants, replacement: replacement)
    }

    var anchor: [Float]? { nil }

    mutating func follow(_ guidance: MetaGuidance) {
        preconditionFailure("\(type(of: algorithm)) takes no guidance from the meta-learner")
    }
}

/// The GA or an evolution strategy on genome rows.
struct GenomeSearch: IslandSearch {
    var algorithm: any IslandAlgorithm

    init(_ algorithm: any IslandAlgorithm) {
        self.algorithm = algorithm
    }

    mutating func ask(
        _ population: inout Population, scratch: inout Population, key: StreamKey, with evaluator: CandidateEvaluator
    ) -> Range<Int> {
        algorithm.nextGeneration(&population, scratch: &scratch, key: key)
    }
}

extension Population {
    /// This population with new genes (of another dimension) and fitness; ids and step sizes kept.
    func replacingGenes(_ genes: [Float], dimension: Int, fitness: [Float]) -> Population {
        var result = Population(count: count, dimension: dimension)
        result.genes = genes
        result.fitness = fitness
        result.ids = ids
        result.stepSizes = stepSizes
        return result
    }
}
