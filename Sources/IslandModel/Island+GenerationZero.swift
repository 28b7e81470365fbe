import Evolution
import Kernels
import Networks
import Tasks

/// Generation 0 of an island: every individual initialised as PyTorch initialises the network
/// (from the stream keyed by island, generation 0 and its index), then evaluated; the island's
/// algorithm starts from it (`RunConfig.islandSearch`).
extension Island {
    /// Generation 0 of island `index` of a run of `config`.
    static func generationZero(_ index: Int, config: RunConfig, evaluator: CandidateEvaluator) throws -> Island {
        if config.decodesCodes { return try codesGenerationZero(index, config: config, evaluator: evaluator) }
        let network = evaluator.network
        var population = Population(count: config.islands.population, dimension: network.parameterCount)
        for i in 0..<population.count {
            var stream = RandomStream(seed: config.seed, island: index, generation: 0, purpose: "initialization#\(i)")
            population.withRow(i) { network.initialize($0, stream: &stream) }
        }
        let key = StreamKey(seed: config.seed, island: index, generation: 0)
        population.assignIDs(key: key)
        try evaluator.evaluate(&population, rows: 0..<population.count, key: key)
        var island = Island(
            index: index, population: population,
            archive: config.latent.trainsMetaLearner
                ? Archive(capacity: config.meta.archiveSize, dimension: network.parameterCount) : nil,
            search: config.islandSearch(best: Array(population.row(population.bestIndex)), network: network))
        island.history.evaluations = population.count
        population.genes.withUnsafeBufferPointer { island.record(weights: $0, fitness: population.fitness) }
        return island
    }

    /// Generation 0 of an island whose rows are codes (`evolution.algorithm: eggroll`): the same
    /// networks as `generationZero` makes, evaluated `evolution.tile` at a time so that the
    /// population never exists as full genomes; the best becomes the first mean. The population is
    /// `P` codes of zeros with the initial networks' fitness (the first generation draws real codes).
    static func codesGenerationZero(_ index: Int, config: RunConfig, evaluator: CandidateEvaluator) throws -> Island {
        let network = evaluator.network
        let P = config.islands.population
        let T = min(config.evolution.tile, P)
        let key = StreamKey(seed: config.seed, island: index, generation: 0)
        var tile = Population(count: T, dimension: network.parameterCount)
        var fitness: [Float] = []
        var best: (fitness: Float, genome: [Float])?
        for t0 in stride(from: 0, to: P, by: T) {
            let t = min(T, P - t0)
            if tile.count != t { tile.resize(count: t) }
            for i in 0..<t {
                var stream = RandomStream(
                    seed: config.seed, island: index, generation: 0, purpose: "initialization#\(t0 + i)")
                tile.withRow(i) { network.initialize($0, stream: &stream) }
            }
            try evaluator.evaluate(&tile, rows: 0..<t, key: key)
            fitness += tile.fitness
            let i = tile.bestIndex
            if best == nil || Population.rankingValue(tile.fitness[i]) > Population.rankingValue(best!.fitness) {
                best = (tile.fitness[i], Array(tile.row(i)))
            }
        }
        let search = config.codeSearch(best: best!.genome, network: network)
        var codes = Population(count: P, dimension: search.lowRank.codeDimension)
        codes.fitness = fitness
        codes.assignIDs(key: key)
        var island = Island(index: index, population: codes, search: search)
        island.history.evaluations = P
        if best!.fitness.isFinite { (island.history.bestFitness, island.history.bestGenome) = best! }
        return island
    }
}
